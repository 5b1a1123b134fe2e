import { decodeAs } from '../schema';
import { namedType } from '../schema/compiled';
import { decodeElement } from '../schema';
import { putOwn } from '../schema/decode';
import { parseDateTime } from '../schema/values';
import { NS } from '../xml/namespaces';
import type { XmlElement } from '../xml/parse';
import { attr, child, children, descendant, resolveQName } from '../xml/query';
import { topicSetEntries } from './topic-set';
import { canonicalTopic } from './topics';

export type PropertyOperation = 'Initialized' | 'Changed' | 'Deleted';

/** One notification, as an events node sends it on. */
export interface OnvifEvent {
  /** Canonical: `tns1:` for ONVIF topics whatever prefix the device used; vendor namespaces keep their usual prefix. */
  topic: string;
  /** SimpleItems typed, ElementItems kept as objects. */
  source: Record<string, unknown>;
  key: Record<string, unknown>;
  data: Record<string, unknown>;
  operation?: PropertyOperation;
  /** ISO-8601 UTC. When the device's UtcTime could not be read: the time it was received, and `rawTime` holds the text. */
  time: string;
  rawTime?: string;
}

/** The declared type of one message item (from GetEventProperties). */
export interface ItemType {
  ns: string;
  local: string;
  element: boolean;
}

/** Item types per topic, keyed by topicKey(topic), then by item name. */
export type EventTypes = Map<string, Map<string, ItemType>>;

/** Lookup key that ignores prefixes: the TopicSet writes children unqualified, notifications sometimes qualify them. */
export function topicKey(topic: string): string {
  return topic
    .split('/')
    .map((s) => s.slice(s.indexOf(':') + 1))
    .join('/');
}

/**
 * Item types from a GetEventPropertiesResponse (Core §9.7, §9.6.2): every element of wstop:TopicSet marked
 * `wstop:topic="true"` is a topic; its tt:MessageDescription lists SimpleItemDescription/ElementItemDescription
 * with a QName Type. Unreadable parts are skipped; the result may be empty.
 */
/**
 * Event types read so far, by content. Devices of one model (and firmware) declare the same topic set: 200 such
 * cameras share one copy instead of holding 200. Held weakly, so a model no longer watched is not kept.
 */
const sharedEventTypes = new Map<string, WeakRef<EventTypes>>();

/** The one copy of `types` (read-only from here on) among the event types in use, by content. */
export function shareEventTypes(types: EventTypes): EventTypes {
  if (types.size === 0) return types;
  const key = JSON.stringify([...types].map(([topic, items]) => [topic, [...items]]));
  const known = sharedEventTypes.get(key)?.deref();
  if (known) return known;
  if (sharedEventTypes.size >= 64) for (const [k, ref] of sharedEventTypes) if (!ref.deref()) sharedEventTypes.delete(k);
  sharedEventTypes.set(key, new WeakRef(types));
  return types;
}

export function readEventTypes(response: XmlElement): EventTypes {
  const types: EventTypes = new Map();
  const topicSet = descendant(response, 'TopicSet');
  if (!topicSet) return types;
  for (const { topic, description } of topicSetEntries(topicSet)) {
    if (!description) continue;
    const items = new Map<string, ItemType>();
    for (const group of ['Source', 'Key', 'Data']) {
      const g = child(description, group);
      for (const d of g?.children ?? []) {
        const name = attr(d, 'Name')?.trim();
        const type = attr(d, 'Type')?.trim();
        if (!name || !type || (d.local !== 'SimpleItemDescription' && d.local !== 'ElementItemDescription')) continue;
        const q = resolveQName(d, type);
        items.set(name, { ns: q.ns, local: q.local, element: d.local === 'ElementItemDescription' });
      }
    }
    types.set(topicKey(topic), items);
  }
  return types;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);
const PLAIN_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** Lenient xs:boolean: firmware sends `true`, `True`, `FALSE`, `1`/`0`. Anything else stays a string. */
export function lenientBoolean(raw: string): boolean | string {
  const l = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(l)) return true;
  if (FALSE_WORDS.has(l)) return false;
  return raw;
}

/** A SimpleItem value with a declared type. */
function typedValue(raw: string, type: ItemType): unknown {
  const t = namedType(type.ns, type.local);
  if (!t || t.kind !== 'simple' || t.list || t.union) return raw.trim();
  const v = raw.trim();
  switch (t.prim) {
    case 'boolean':
      return lenientBoolean(v);
    case 'int':
      return /^[+-]?\d+$/.test(v) ? Number(v) : v;
    case 'float':
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) ? Number(v) : v;
    case 'dateTime':
      return parseDateTime(v) ?? v;
    default:
      return v;
  }
}

/**
 * A SimpleItem value without a declared type: only Data gets guessed, and only the unambiguous cases
 * (true/false in any case, plain decimal numbers without leading zeros). Source and Key items are
 * identifiers (`000`, `VideoSource_1`) and stay strings.
 */
function guessedValue(raw: string, group: 'Source' | 'Key' | 'Data'): unknown {
  const v = raw.trim();
  if (group !== 'Data') return v;
  const l = v.toLowerCase();
  if (l === 'true') return true;
  if (l === 'false') return false;
  if (PLAIN_NUMBER.test(v)) return Number(v);
  return v;
}

/** Item names are the device's: `__proto__` or `constructor` become own keys of a plain object like any other name. */
function readItems(groupEl: XmlElement | undefined, group: 'Source' | 'Key' | 'Data', types: Map<string, ItemType> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of groupEl?.children ?? []) {
    const name = attr(item, 'Name')?.trim();
    if (!name) continue;
    const type = types?.get(name);
    if (item.local === 'SimpleItem') {
      const raw = attr(item, 'Value') ?? '';
      putOwn(out, name, type && !type.element ? typedValue(raw, type) : guessedValue(raw, group));
    } else if (item.local === 'ElementItem') {
      const decode = (c: XmlElement) => (type?.element ? decodeAs(c, type) : decodeElement(c));
      const kids = item.children;
      putOwn(out, name, kids.length === 1 ? decode(kids[0]!) : kids.length === 0 ? {} : kids.map(decode));
    }
  }
  return out;
}

/**
 * One wsnt:NotificationMessage → event, or undefined for a degenerate message (empty Topic or Message,
 * seen on Dahua firmware). `received` is used when the device's UtcTime cannot be read.
 */
export function parseNotification(message: XmlElement, eventTypes?: EventTypes, received: Date = new Date()): OnvifEvent | undefined {
  return readNotification(message, eventTypes, received);
}

/** The topic last read, with the text and in-scope namespaces it was read from. */
interface TopicRead {
  text: string;
  namespaces: XmlElement['namespaces'];
  topic: string;
  /** Its item types, once looked up. */
  types?: Map<string, ItemType>;
  typesRead: boolean;
}

function readNotification(message: XmlElement, eventTypes: EventTypes | undefined, received: Date, last?: TopicRead): OnvifEvent | undefined {
  const topicEl = child(message, 'Topic');
  let topic = '';
  // The messages of one answer mostly repeat a topic, written in the same scope: read it (and its types) once.
  const repeated = topicEl !== undefined && last !== undefined && last.text === topicEl.text && last.namespaces === topicEl.namespaces;
  if (repeated) topic = last.topic;
  else if (topicEl) {
    topic = canonicalTopic(topicEl.text, topicEl);
    if (last) Object.assign(last, { text: topicEl.text, namespaces: topicEl.namespaces, topic, types: undefined, typesRead: false });
  }
  const msg = child(child(message, 'Message'), 'Message');
  if (!topic || !msg) return undefined;
  let types: Map<string, ItemType> | undefined;
  if (repeated && last.typesRead) types = last.types;
  else {
    types = eventTypes?.get(topicKey(topic));
    if (last) Object.assign(last, { types, typesRead: true });
  }
  const rawTime = attr(msg, 'UtcTime')?.trim() ?? '';
  const time = parseDateTime(rawTime);
  const op = attr(msg, 'PropertyOperation')?.trim();
  const event: OnvifEvent = {
    topic,
    source: readItems(child(msg, 'Source'), 'Source', types),
    key: readItems(child(msg, 'Key'), 'Key', types),
    data: readItems(child(msg, 'Data'), 'Data', types),
    time: time ?? received.toISOString(),
  };
  if (op === 'Initialized' || op === 'Changed' || op === 'Deleted') event.operation = op;
  if (time === undefined) event.rawTime = rawTime;
  return event;
}

/**
 * The events in a PullMessagesResponse (or any element holding wsnt:NotificationMessage children, such as
 * a Notify body), in document order. Degenerate messages are skipped, never fatal.
 */
export function parseNotifications(response: XmlElement, eventTypes?: EventTypes, received: Date = new Date()): OnvifEvent[] {
  const out: OnvifEvent[] = [];
  const last: TopicRead = { text: '', namespaces: {}, topic: '', typesRead: false };
  for (const m of children(response, 'NotificationMessage', NS.wsnt)) {
    const e = readNotification(m, eventTypes, received, last);
    if (e) out.push(e);
  }
  return out;
}
