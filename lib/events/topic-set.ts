import { OnvifError } from '../../lib/errors';
import { TOPIC_PREFIXES } from '../../lib/events';
import type { OnvifDevice } from '../../lib/device/onvif-device';
import { el } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import type { XmlElement } from '../../lib/xml/parse';
import { attr, child, children, resolveQName } from '../../lib/xml/query';

/** One item (Source, Key or Data) a topic's messages carry, as GetEventProperties describes it. */
export interface TopicItem {
  name: string;
  /** The declared type as written, e.g. `xs:boolean`, `tt:ReferenceToken`. */
  type?: string;
}

/** One entry of the editor's topic picker. */
export interface TopicInfo {
  /** Canonical topic, as msg.topic carries it and the filter matches it: `tns1:RuleEngine/CellMotionDetector/Motion`. */
  topic: string;
  /** A property (has a state: Initialized / Changed / Deleted) rather than a plain event. */
  isProperty: boolean;
  source: TopicItem[];
  key: TopicItem[];
  data: TopicItem[];
}

const MAX_TOPICS = 5000;

/** Ask the device which event topics it offers (GetEventProperties) and list them for the picker, sorted. */
export async function listEventTopics(device: OnvifDevice): Promise<TopicInfo[]> {
  await device.connect();
  const url = device.serviceAddress(NS.tev);
  if (!url) {
    throw new OnvifError('unsupported', `The device at ${device.displayAddress} offers no event service, so it has no event topics to pick from.`);
  }
  const res = await device.send(url, el(NS.tev, 'GetEventProperties'), {
    operation: 'GetEventProperties',
    action: `${NS.tev}/EventPortType/GetEventPropertiesRequest`,
  });
  const topicSet = res.content ? child(res.content, 'TopicSet') : undefined;
  if (!topicSet) throw new OnvifError('bad-response', 'The device answered GetEventProperties without a topic set.');
  return readTopicSet(topicSet);
}

/**
 * The real topics of a wstop:TopicSet tree. Segments are elements; the root of each tree names its namespace
 * (children are often unqualified), a segment in another namespace starts a new prefix. Real topics carry
 * wstop:topic="true" or a MessageDescription.
 */
export function readTopicSet(topicSet: XmlElement): TopicInfo[] {
  const out: TopicInfo[] = [];
  const walk = (node: XmlElement, parentPath: string, parentNs: string): void => {
    if (out.length >= MAX_TOPICS) return;
    const ns = node.ns || parentNs;
    const segment = ns !== parentNs || !parentPath ? `${topicPrefix(node, ns)}:${node.local}` : node.local;
    const topicPath = parentPath ? `${parentPath}/${segment}` : segment;
    const description = child(node, 'MessageDescription', NS.tt) ?? child(node, 'MessageDescription');
    const flagged = (attr(node, 'topic', NS.wstop) ?? attr(node, 'topic') ?? '').trim() === 'true';
    if (flagged || description) {
      out.push({
        topic: topicPath,
        isProperty: (attr(description, 'IsProperty') ?? '').trim() === 'true',
        source: items(child(description, 'Source')),
        key: items(child(description, 'Key')),
        data: items(child(description, 'Data')),
      });
    }
    for (const c of node.children) {
      if (c.local === 'MessageDescription') continue;
      walk(c, topicPath, ns);
    }
  };
  for (const root of topicSet.children) walk(root, '', '');
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
