import type { OnvifDevice } from '../device/onvif-device';
import { OnvifError } from '../errors';
import { encodeElement, findOperation } from '../schema';
import { NS } from '../xml/namespaces';
import type { XmlElement } from '../xml/parse';
import { attr, child, children, resolveQName } from '../xml/query';
import { TOPIC_PREFIXES } from './topics';

/** One item (Source, Key or Data) a topic's messages carry, as GetEventProperties describes it. */
export interface TopicItem {
  name: string;
  /** The declared type as written, e.g. `xs:boolean`, `tt:ReferenceToken`. */
  type?: string;
}

/** One topic a device offers, as a topic picker lists it. */
export interface TopicInfo {
  /** Canonical topic, as msg.topic carries it and the filter matches it: `tns1:RuleEngine/CellMotionDetector/Motion`. */
  topic: string;
  /** A property (has a state: Initialized / Changed / Deleted) rather than a plain event. */
  isProperty: boolean;
  source: TopicItem[];
  key: TopicItem[];
  data: TopicItem[];
}

/** One element of a wstop:TopicSet tree. */
export interface TopicSetEntry {
  element: XmlElement;
  /** Canonical topic of the element: `tns1:RuleEngine/CellMotionDetector/Motion`. */
  topic: string;
  /** Its tt:MessageDescription, if any. */
  description?: XmlElement;
  /** Marked `wstop:topic="true"`. */
  flagged: boolean;
}

const MAX_TOPICS = 5000;
const GET_EVENT_PROPERTIES = findOperation('events.GetEventProperties')!;

/**
 * Send GetEventProperties (Core §9.7) and return the response body, which holds the wstop:TopicSet.
 * The device must be connected; throws `unsupported` when it offers no event service.
 */
export async function getEventProperties(
  device: OnvifDevice,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<XmlElement | undefined> {
  const url = device.serviceAddress(NS.tev);
  if (!url) {
    throw new OnvifError('unsupported', `The device at ${device.displayAddress} offers no event service, so it has no event topics.`);
  }
  const res = await device.send(url, encodeElement(NS.tev, 'GetEventProperties', {}), {
    action: GET_EVENT_PROPERTIES.action,
    operation: 'GetEventProperties',
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  return res.content;
}

/** Ask the device which event topics it offers (GetEventProperties) and list them, sorted by topic. */
export async function listEventTopics(device: OnvifDevice): Promise<TopicInfo[]> {
  await device.connect();
  const content = await getEventProperties(device);
  const topicSet = content ? child(content, 'TopicSet') : undefined;
  if (!topicSet) throw new OnvifError('bad-response', 'The device answered GetEventProperties without a topic set.');
  return readTopicSet(topicSet);
}

/**
 * Every element of a wstop:TopicSet tree with its canonical topic, depth first. Segments are elements; the root
 * of each tree names its namespace (children are often unqualified), a segment in another namespace starts a
 * new prefix. MessageDescription and Documentation elements are not segments.
 */
export function* topicSetEntries(topicSet: XmlElement): Generator<TopicSetEntry> {
  function* walk(node: XmlElement, parentPath: string, parentNs: string): Generator<TopicSetEntry> {
    const ns = node.ns || parentNs;
    const segment = ns !== parentNs || !parentPath ? `${topicPrefix(node, ns)}:${node.local}` : node.local;
    const topic = parentPath ? `${parentPath}/${segment}` : segment;
    const description = child(node, 'MessageDescription', NS.tt) ?? child(node, 'MessageDescription');
    const flagged = (attr(node, 'topic', NS.wstop) ?? attr(node, 'topic') ?? '').trim() === 'true';
    yield { element: node, topic, description, flagged };
    for (const c of node.children) {
      if (c.local === 'MessageDescription' || c.local === 'Documentation') continue;
      yield* walk(c, topic, ns);
    }
  }
  for (const root of topicSet.children) {
    if (root.local === 'Documentation') continue;
    yield* walk(root, '', '');
  }
}

/** The real topics of a wstop:TopicSet: those marked wstop:topic="true" or carrying a MessageDescription. */
export function readTopicSet(topicSet: XmlElement): TopicInfo[] {
  const out: TopicInfo[] = [];
  for (const { topic, description, flagged } of topicSetEntries(topicSet)) {
    if (out.length >= MAX_TOPICS) break;
    if (!flagged && !description) continue;
    out.push({
      topic,
      isProperty: (attr(description, 'IsProperty') ?? '').trim() === 'true',
      source: items(child(description, 'Source')),
      key: items(child(description, 'Key')),
      data: items(child(description, 'Data')),
    });
  }
  return out.sort((a, b) => a.topic.localeCompare(b.topic));
}

function topicPrefix(node: XmlElement, ns: string): string {
  // The same prefixes the event stream's canonical topics use, so a picked topic matches what arrives.
  if (TOPIC_PREFIXES[ns]) return TOPIC_PREFIXES[ns];
  if (node.prefix) return node.prefix;
  // A default-namespace root: fall back to the prefix the document declares for that URI.
  const declared = Object.entries(node.namespaces).find(([p, uri]) => p && uri === ns);
  return declared ? declared[0] : 'ns';
}

function items(group: XmlElement | undefined): TopicItem[] {
  if (!group) return [];
  const out: TopicItem[] = [];
  for (const d of [...children(group, 'SimpleItemDescription'), ...children(group, 'ElementItemDescription')]) {
    const name = attr(d, 'Name')?.trim();
    if (!name) continue;
    const rawType = attr(d, 'Type')?.trim();
    let type = rawType;
    if (rawType) {
      // Name the type by its usual prefix, whatever the device declared (xsd:int and xs:int are the same).
      const q = resolveQName(d, rawType);
      const known = q.ns === NS.xs ? 'xs' : q.ns === NS.tt ? 'tt' : undefined;
      type = known ? `${known}:${q.local}` : rawType;
    }
    out.push(type ? { name, type } : { name });
  }
  return out;
}
