import { el, serializeXml, type XmlNode } from '../../xml/build';
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

function itemGroup(local: string, items: Record<string, string>): XmlNode | undefined {
  const entries = Object.entries(items);
  return entries.length ? el(NS.tt, local, undefined, ...entries.map(([Name, Value]) => el(NS.tt, 'SimpleItem', { Name, Value }))) : undefined;
}

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
  const node = el(
    NS.wsnt,
    'NotificationMessage',
    undefined,
    el(NS.wsnt, 'Topic', { Dialect: CONCRETE_SET_DIALECT, [`xmlns:${rootPrefix}`]: path.rootNs }, topicText),
    el(
      NS.wsnt,
      'Message',
      undefined,
      el(NS.tt, 'Message', { UtcTime: utcPrecise(utcTime), PropertyOperation: operation }, itemGroup('Source', source), itemGroup('Key', key), itemGroup('Data', data)),
    ),
  );
  const items: FilterItem[] = [source, key, data].flatMap((g) => Object.entries(g).map(([name, value]): FilterItem => ({ kind: 'SimpleItem', name, value })));
  return { topic: topicText, path, utcTime, operation, source, key, data, items, xml: serializeXml(node, { declaration: false }) };
}
