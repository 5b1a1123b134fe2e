import { el, type XmlNode } from '../../xml/build';
import { NS } from '../../xml/namespaces';

/** Name and XML Schema type (a QName in the tt or xs namespace) of one message item. */
export type ItemDescription = [name: string, type: string];

/** One topic the simulated device can raise, as GetEventProperties describes it (Core §9.4.3, §9.6.2). */
export interface TopicDescription {
  /** 'tns1:RuleEngine/CellMotionDetector/Motion': root in the ONVIF topic namespace, children unqualified. */
  topic: string;
  isProperty: boolean;
  source: ItemDescription[];
  key?: ItemDescription[];
  data: ItemDescription[];
}

export interface PropertyInstance {
  source: Record<string, string>;
  data: Record<string, string>;
}

const token: ItemDescription = ['Token', 'tt:ReferenceToken'];
const status: ItemDescription[] = [['Status', 'xs:dateTime']];

/** The topic set: Profile Q monitoring (Core §8.9), hardware failures, motion and a digital input. */
export const TOPICS: readonly TopicDescription[] = [
  { topic: 'tns1:Monitoring/ProcessorUsage', isProperty: true, source: [token], data: [['Value', 'xs:float']] },
  { topic: 'tns1:Monitoring/OperatingTime/LastReset', isProperty: true, source: [], data: status },
  { topic: 'tns1:Monitoring/OperatingTime/LastReboot', isProperty: true, source: [], data: status },
  { topic: 'tns1:Monitoring/OperatingTime/LastClockSynchronization', isProperty: true, source: [], data: status },
  { topic: 'tns1:Monitoring/Backup/Last', isProperty: true, source: [], data: status },
  { topic: 'tns1:Device/HardwareFailure/FanFailure', isProperty: true, source: [token], data: [['Failed', 'xs:boolean']] },
  { topic: 'tns1:Device/HardwareFailure/PowerSupplyFailure', isProperty: true, source: [token], data: [['Failed', 'xs:boolean']] },
  { topic: 'tns1:Device/HardwareFailure/StorageFailure', isProperty: true, source: [token], data: [['Failed', 'xs:boolean']] },
  { topic: 'tns1:Device/HardwareFailure/TemperatureCritical', isProperty: true, source: [], data: [['Critical', 'xs:boolean']] },
  {
    topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
    isProperty: true,
    source: [['VideoSourceConfigurationToken', 'tt:ReferenceToken'], ['VideoAnalyticsConfigurationToken', 'tt:ReferenceToken'], ['Rule', 'xs:string']],
    data: [['IsMotion', 'xs:boolean']],
  },
  { topic: 'tns1:Advancedsecurity/Keystore/KeyStatus', isProperty: false, source: [['KeyID', 'tas:KeyID']], data: [['OldStatus', 'tas:KeyStatus'], ['NewStatus', 'tas:KeyStatus']] },
  { topic: 'tns1:Device/Trigger/DigitalInput', isProperty: true, source: [['InputToken', 'tt:ReferenceToken']], data: [['LogicalState', 'xs:boolean']] },
];

export const NEVER = '1970-01-01T00:00:00Z';
export const MOTION_SOURCE = { VideoSourceConfigurationToken: 'VideoSourceConfig0', VideoAnalyticsConfigurationToken: 'VideoAnalyticsConfig0', Rule: 'MotionDetectorRule' };

/** The properties alive after power-on; dates the device never saw are the epoch (Core §8.9.4). */
export function initialProperties(bootTime: string): Array<[string, PropertyInstance]> {
  return [
    ['tns1:Monitoring/ProcessorUsage', { source: { Token: 'cpu0' }, data: { Value: '12.5' } }],
    ['tns1:Monitoring/OperatingTime/LastReset', { source: {}, data: { Status: NEVER } }],
    ['tns1:Monitoring/OperatingTime/LastReboot', { source: {}, data: { Status: bootTime } }],
    ['tns1:Monitoring/OperatingTime/LastClockSynchronization', { source: {}, data: { Status: NEVER } }],
    ['tns1:Monitoring/Backup/Last', { source: {}, data: { Status: NEVER } }],
    ['tns1:Device/HardwareFailure/FanFailure', { source: { Token: 'fan0' }, data: { Failed: 'false' } }],
    ['tns1:Device/HardwareFailure/PowerSupplyFailure', { source: { Token: 'psu0' }, data: { Failed: 'false' } }],
    ['tns1:Device/HardwareFailure/StorageFailure', { source: { Token: 'sd0' }, data: { Failed: 'false' } }],
    ['tns1:Device/HardwareFailure/TemperatureCritical', { source: {}, data: { Critical: 'false' } }],
    ['tns1:RuleEngine/CellMotionDetector/Motion', { source: { ...MOTION_SOURCE }, data: { IsMotion: 'false' } }],
    ['tns1:Device/Trigger/DigitalInput', { source: { InputToken: 'DigitalInput0' }, data: { LogicalState: 'false' } }],
  ];
}

/** A topic as path segments; the root lives in `rootNs`, children are compared by local name. */
export interface TopicPath {
  rootNs: string;
  segments: string[];
}

/**
 * Read 'tns1:A/B/C' (the only prefix the simulator's own API accepts is tns1, or a Clark-style
 * '{uri}A/B/C'). Throws a plain Error for anything else.
 */
/** Paths parsed so far by topic text: a device raises the same few topics over and over. Shared, never changed. */
const parsedTopics = new Map<string, TopicPath>();

export function parseTopic(topic: string): TopicPath {
  const known = parsedTopics.get(topic);
  if (known) return known;
  const path = parseTopicText(topic);
  if (parsedTopics.size >= 1024) parsedTopics.clear();
  parsedTopics.set(topic, path);
  return path;
}

function parseTopicText(topic: string): TopicPath {
  const t = topic.trim();
  let rootNs: string = NS.tns1;
  let rest: string;
  const clark = /^\{([^}]+)\}(.+)$/.exec(t);
  if (clark) {
    rootNs = clark[1]!;
    rest = clark[2]!;
  } else if (t.startsWith('tns1:')) {
    rest = t.slice(5);
  } else {
    throw new Error(`The topic '${topic}' must start with tns1: (for example tns1:RuleEngine/CellMotionDetector/Motion).`);
  }
  const segments = rest.split('/');
  if (segments.some((s) => !/^[A-Za-z_][\w.-]*$/.test(s))) throw new Error(`The topic '${topic}' is not a concrete topic path (names separated by '/').`);
  return { rootNs, segments };
}

const topicKeys = new WeakMap<TopicPath, string>();

/** `{namespace}A/B/C`, worked out once per parsed path (a raise compares it with every live property's). */
export function topicKey(p: TopicPath): string {
  let k = topicKeys.get(p);
  if (k === undefined) {
    k = `{${p.rootNs}}${p.segments.join('/')}`;
    topicKeys.set(p, k);
  }
  return k;
}

export function describeTopic(topic: string, topics: readonly TopicDescription[]): TopicDescription | undefined {
  return topics.find((t) => t.topic === topic);
}

/** wstop:TopicSet for GetEventProperties: a tree of topic elements, leaves marked wstop:topic and described. */
export function topicSetElement(topics: readonly TopicDescription[]): XmlNode {
  interface Node { name: string; children: Map<string, Node>; description?: TopicDescription }
  const roots = new Map<string, Node>();
  for (const d of topics) {
    const { segments } = parseTopic(d.topic);
    let level = roots;
    let node: Node | undefined;
    for (const s of segments) {
      node = level.get(s);
      if (!node) {
        node = { name: s, children: new Map() };
        level.set(s, node);
      }
      level = node.children;
    }
    node!.description = d;
  }
  const items = (local: string, list: ItemDescription[] | undefined) =>
    list && list.length ? el(NS.tt, local, undefined, ...list.map(([Name, Type]) => el(NS.tt, 'SimpleItemDescription', { Name, Type }))) : undefined;
  const render = (n: Node, ns: string): XmlNode =>
    el(
      ns,
      n.name,
      n.description ? { [`{${NS.wstop}}topic`]: 'true' } : undefined,
      n.description
        ? el(NS.tt, 'MessageDescription', { IsProperty: n.description.isProperty }, items('Source', n.description.source), items('Key', n.description.key), items('Data', n.description.data))
        : undefined,
      ...[...n.children.values()].map((c) => render(c, '')),
    );
  // xs: and tt: appear inside Type attribute values, so they must be declared where they are read.
  const usesAns = topics.some((t) => [...t.source, ...(t.key ?? []), ...t.data].some(([, type]) => type.startsWith('ans:')));
  return el(NS.wstop, 'TopicSet', { 'xmlns:xs': NS.xs, 'xmlns:tt': NS.tt, ...(usesAns ? { 'xmlns:ans': NS.ans } : {}) }, ...[...roots.values()].map((r) => render(r, NS.tns1)));
}
