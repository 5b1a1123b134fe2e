import { escapeAttr, escapeText } from '../../xml/build';
import { NS } from '../../xml/namespaces';
import { CONCRETE_SET_DIALECT, type FilterItem } from './filter';
import type { TopicPath } from './topics';
import { utcPrecise } from './time';

export type PropertyOperation = 'Initialized' | 'Changed' | 'Deleted';

/** One notification, built once and shared by every pull point that queues it. */
export interface RaisedEvent {
  /** As written in wsnt:Topic, e.g. 'tns1:RuleEngine/CellMotionDetector/Motion'. */
  topic: string;
  path: TopicPath;
  utcTime: number;
  operation?: PropertyOperation;
  source: Record<string, string>;
  key: Record<string, string>;
  data: Record<string, string>;
  items: FilterItem[];
  /** The serialised wsnt:NotificationMessage, namespaces declared on itself. */
  xml: string;
}

/** `<tt:Source>` (or Key, Data) with one SimpleItem per entry; nothing for no entries. */
function itemGroup(local: string, items: Record<string, string>): string {
  let out = '';
  for (const name in items) out += `<tt:SimpleItem Name="${escapeAttr(name)}" Value="${escapeAttr(items[name]!)}"/>`;
  return out ? `<tt:${local}>${out}</tt:${local}>` : '';
}

const MESSAGE_START = `<wsnt:NotificationMessage xmlns:wsnt="${NS.wsnt}" xmlns:tt="${NS.tt}"><wsnt:Topic Dialect="${escapeAttr(CONCRETE_SET_DIALECT)}" `;

/**
 * One event, with its wsnt:NotificationMessage serialised once. Written directly rather than through serializeXml:
 * the shape never changes, and raising is most of what the device side does in a burst of events.
 */
export function makeEvent(
  topic: string,
  path: TopicPath,
  utcTime: number,
  operation: PropertyOperation | undefined,
  source: Record<string, string>,
  key: Record<string, string>,
  data: Record<string, string>,
): RaisedEvent {
  // The topic text is a QName path, so its root prefix is declared on the Topic element itself.
  const rootPrefix = path.rootNs === NS.tns1 ? 'tns1' : 'tnsx';
  const topicText = `${rootPrefix}:${path.segments.join('/')}`;
  const groups = `${itemGroup('Source', source)}${itemGroup('Key', key)}${itemGroup('Data', data)}`;
  const xml =
    `${MESSAGE_START}xmlns:${rootPrefix}="${escapeAttr(path.rootNs)}">${escapeText(topicText)}</wsnt:Topic><wsnt:Message>` +
    `<tt:Message UtcTime="${utcPrecise(utcTime)}"${operation ? ` PropertyOperation="${operation}"` : ''}${groups ? `>${groups}</tt:Message>` : '/>'}` +
    '</wsnt:Message></wsnt:NotificationMessage>';
  const items: FilterItem[] = [];
  for (const g of [source, key, data]) for (const name in g) items.push({ kind: 'SimpleItem', name, value: g[name]! });
  return { topic: topicText, path, utcTime, operation, source, key, data, items, xml };
}
