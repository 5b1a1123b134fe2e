import { el, type XmlNode } from '../../xml/build';
import { NS } from '../../xml/namespaces';
import type { XmlElement } from '../../xml/parse';
import { attr, child, text } from '../../xml/query';
import { accessClassOf } from '../access';
import { actionNotSupported } from '../faults';
import type { SimulatedService, SoapCall, SoapEndpoint } from '../service';
import { invalidArgs, invalidArgVal, pullMessagesFault, resourceUnknown, wsntFault } from './faults';
import { compileItemFilter, compileTopicExpression, CONCRETE_DIALECT, CONCRETE_SET_DIALECT, FilterError, ITEM_FILTER_DIALECT, type ItemMatcher, type TopicMatcher } from './filter';
import { makeEvent, type PropertyOperation, type RaisedEvent } from './notification';
import { PullPoint, type PullPointInfo } from './pull-point';
import { describeTopic, initialProperties, parseTopic, TOPICS, topicKey, topicSetElement, type PropertyInstance, type TopicDescription, type TopicPath } from './topics';
import { formatDuration, parseAbsoluteOrRelative, parseDuration, utc } from './time';

/** Where the event service listens (what GetServices / GetCapabilities report). */
export const EVENT_SERVICE_PATH = '/onvif/events_service';
/** Each pull point's own subscription manager address: PULL_POINT_PATH_PREFIX + id. */
export const PULL_POINT_PATH_PREFIX = '/onvif/pullpoint/';
/** With `referenceParameters`, every pull point shares this address and is told apart by a SOAP header, like Axis. */
export const SHARED_SUBSCRIPTION_PATH = '/onvif/subscription';
/** Namespace of the SubscriptionId reference parameter (Axis's, so clients built for Axis echo it). */
export const SUBSCRIPTION_ID_NS = 'http://www.axis.com/2009/event';
export const EVENT_SERVICE_VERSION = { major: 2, minor: 60 };
/** The most messages one PullMessagesResponse carries; larger MessageLimits just get fewer (Core §9.1.2). */
export const MAX_MESSAGE_LIMIT = 1000;
const DEFAULT_LEASE_MS = 60_000;

export interface EventServiceOptions {
  maxPullPoints: number;
  maxPullTimeoutS: number;
  maxQueuedEvents: number;
  referenceParameters: boolean;
  processorUsageIntervalMs: number;
  motionIntervalMs: number;
  /** The topic set GetEventProperties describes (default TOPICS); initial properties of topics not in it do not exist. */
  topics?: readonly TopicDescription[];
  /** Topics other services add while running (installed apps), described after `topics`. */
  extraTopics?: () => readonly TopicDescription[];
  deviceNow(): number;
}

/** One SOAP request to the event service or a subscription manager. */
export interface EventCall extends Pick<SoapCall, 'header' | 'path' | 'baseUrl' | 'signal'> {
  content: XmlElement;
}

/** What raiseEvent takes: items by name, values as they go on the wire. */
export interface EventItem {
  source?: Record<string, string>;
  data?: Record<string, string>;
  key?: Record<string, string>;
  operation?: PropertyOperation;
}

interface LiveProperty extends PropertyInstance {
  topic: string;
  path: TopicPath;
}

const tev = (local: string, ...kids: Array<XmlNode | string | number | undefined>) => el(NS.tev, local, undefined, ...kids);
const wsnt = (local: string, ...kids: Array<XmlNode | string | number | undefined>) => el(NS.wsnt, local, undefined, ...kids);

function propertyKey(path: TopicPath, source: Record<string, string>): string {
  return `${topicKey(path)}|${JSON.stringify(Object.entries(source).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
}

/**
 * The simulated event service (Core Ch. 9): live properties, pull points with leases and bounded
 * queues, topic and message-content filters, and the periodic monitoring events. Plugged into the
 * device's server as two endpoints: the event service and the pull points' subscription managers.
 */
export class EventService implements SimulatedService {
  readonly name = 'events';
  readonly endpoints: readonly SoapEndpoint[] = [
    {
      at: (path) => path === EVENT_SERVICE_PATH,
      operations: {
        GetServiceCapabilities: () => tev('GetServiceCapabilitiesResponse', this.capabilities()),
        GetEventProperties: () => this.getEventProperties(),
        CreatePullPointSubscription: (content, call) => this.createPullPoint({ ...call, content }),
      },
      accessClass: (operation) => accessClassOf(operation, 'events'),
      unsupported: (operation) => actionNotSupported(`The event service does not support ${operation} (only the real-time pull point interface).`),
      listing: { namespace: NS.tev, path: EVENT_SERVICE_PATH, version: EVENT_SERVICE_VERSION, capabilities: () => this.capabilities() },
    },
    {
      at: (path) => this.isSubscriptionPath(path),
      operations: {
        PullMessages: (content, call) => this.pullMessages(this.resolve(call), { ...call, content }),
        Renew: (content, call) => this.renew(this.resolve(call), content),
        Unsubscribe: (_content, call) => this.unsubscribe(this.resolve(call)),
        SetSynchronizationPoint: (_content, call) => {
          this.enqueueInitialized(this.resolve(call));
          return tev('SetSynchronizationPointResponse');
        },
      },
      accessClass: (operation) => accessClassOf(operation, 'events'),
      // An unknown pull point is reported before an unknown operation.
      unsupported: (operation, call) => {
        this.resolve(call);
        return actionNotSupported(`The subscription manager does not support ${operation}.`);
      },
    },
  ];

  private readonly properties = new Map<string, LiveProperty>();
  private readonly pullPoints = new Map<number, PullPoint>();
  private nextId = 1;
  private timers: NodeJS.Timeout[] = [];
  private cpu = 12.5;
  private readonly topics: readonly TopicDescription[];

  constructor(private readonly options: EventServiceOptions) {
    this.topics = options.topics ?? TOPICS;
    this.resetProperties();
  }

  private now(): number {
    return this.options.deviceNow();
  }

  private resetProperties(): void {
    this.properties.clear();
    for (const [topic, p] of initialProperties(utc(this.now()))) {
      if (!describeTopic(topic, this.topics)) continue;
      const path = parseTopic(topic);
      this.properties.set(propertyKey(path, p.source), { topic, path, source: p.source, data: p.data });
    }
  }

  // ------------------------------------------------------------------------------------ lifecycle

  /** Power on: LastReboot is now, periodic events run. */
  onStart(): void {
    this.stopTimers();
    this.setProperty('tns1:Monitoring/OperatingTime/LastReboot', {}, { Status: utc(this.now()) });
    const { processorUsageIntervalMs, motionIntervalMs } = this.options;
    if (processorUsageIntervalMs > 0) {
      this.every(processorUsageIntervalMs, () => {
        // A bounded random walk, like a lightly loaded camera.
        this.cpu = Math.min(95, Math.max(2, this.cpu + (Math.random() - 0.5) * 10));
        this.setProperty('tns1:Monitoring/ProcessorUsage', { Token: 'cpu0' }, { Value: this.cpu.toFixed(1) });
      });
    }
    if (motionIntervalMs > 0) {
      this.every(motionIntervalMs, () => {
        this.raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } });
        const off = setTimeout(() => this.raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'false' } }), Math.min(1000, motionIntervalMs / 2));
        off.unref();
        this.timers.push(off);
      });
    }
  }

  private every(ms: number, f: () => void): void {
    const t = setInterval(f, ms);
    t.unref();
    this.timers.push(t);
  }

  private stopTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  /** Power off: periodic events stop and every pull point is gone. */
  onStop(): void {
    this.stopTimers();
    this.dropAllPullPoints();
  }

  /** Pull points do not survive a power cycle (Core §9.1.6). */
  onReboot(): void {
    this.onStop();
  }

  onReady(): void {
    this.onStart();
  }

  dropAllPullPoints(): void {
    for (const pp of this.pullPoints.values()) pp.close();
    this.pullPoints.clear();
  }

  /** Device state changes that monitoring properties report (Core §8.9.4). */
  onChange(what: string): void {
    const now = utc(this.now());
    if (what === 'time' || what === 'ntp') this.setProperty('tns1:Monitoring/OperatingTime/LastClockSynchronization', {}, { Status: now });
    if (what.startsWith('factoryDefault')) this.setProperty('tns1:Monitoring/OperatingTime/LastReset', {}, { Status: now });
  }

  get pullPointInfo(): PullPointInfo[] {
    return [...this.pullPoints.values()].map((p) => p.info());
  }

  get liveProperties(): Array<{ topic: string; source: Record<string, string>; data: Record<string, string> }> {
    return [...this.properties.values()].map((p) => ({ topic: p.topic, source: { ...p.source }, data: { ...p.data } }));
  }

  // ------------------------------------------------------------------------------------ raising

  /**
   * Raise one event. On a property topic (or with an explicit operation) the live property is kept in
   * step, so later subscribers see it as Initialized; the Source defaults to the topic's only live
   * instance when not given.
   */
  raiseEvent(topic: string, item: EventItem = {}): void {
    const path = parseTopic(topic);
    const description = describeTopic(`tns1:${path.segments.join('/')}`, this.allTopics());
    let source = item.source;
    if (!source) {
      // The only live instance of this topic, if there is exactly one (without building a list per raise).
      const wanted = topicKey(path);
      let only: LiveProperty | undefined;
      let found = 0;
      for (const p of this.properties.values()) {
        if (topicKey(p.path) !== wanted) continue;
        only = p;
        if (++found > 1) break;
      }
      source = found === 1 ? { ...only!.source } : {};
    }
    const isProperty = item.operation !== undefined || (description?.isProperty ?? false);
    const operation = item.operation ?? (isProperty ? 'Changed' : undefined);
    let data = item.data ?? {};
    if (isProperty) {
      const k = propertyKey(path, source);
      if (operation === 'Deleted') this.properties.delete(k);
      else {
        const live = this.properties.get(k);
        data = { ...(live?.data ?? {}), ...data };
        this.properties.set(k, { topic, path, source: { ...source }, data: { ...data } });
      }
    }
    this.deliver(makeEvent(topic, path, this.now(), operation, source, item.key ?? {}, data));
  }

  /** Update a live property and raise Changed. */
  setProperty(topic: string, source: Record<string, string>, data: Record<string, string>): void {
    this.raiseEvent(topic, { source, data, operation: 'Changed' });
  }

  /**
   * Resolves once every pull point's queue is empty (what was raised has been pulled), or after `maxMs`: a device
   * about to restart gives its last events (ShutdownInitiated) a moment to reach the clients that are listening.
   */
  eventsPulled(maxMs: number): Promise<void> {
    const until = Date.now() + maxMs;
    return new Promise((resolve) => {
      const check = () => {
        const waiting = [...this.pullPoints.values()].some((pp) => pp.queueLength > 0);
        if (!waiting || Date.now() >= until) resolve();
        else setTimeout(check, 20);
      };
      check();
    });
  }

  private deliver(e: RaisedEvent): void {
    for (const pp of this.pullPoints.values()) if (pp.accepts(e)) pp.enqueue(e);
  }

  private enqueueInitialized(pp: PullPoint): void {
    const now = this.now();
    for (const p of this.properties.values()) {
      const e = makeEvent(p.topic, p.path, now, 'Initialized', p.source, {}, p.data);
      if (pp.accepts(e)) pp.enqueue(e);
    }
  }

  // ------------------------------------------------------------------------------------ event service

  capabilities(): XmlNode {
    return el(NS.tev, 'Capabilities', {
      WSSubscriptionPolicySupport: true,
      WSPausableSubscriptionManagerInterfaceSupport: false,
      MaxNotificationProducers: 0,
      MaxPullPoints: this.options.maxPullPoints,
      PersistentNotificationStorage: false,
      MaxEventBrokers: 0,
      MetadataOverMQTT: false,
    });
  }

  private allTopics(): readonly TopicDescription[] {
    const extra = this.options.extraTopics?.() ?? [];
    return extra.length ? [...this.topics, ...extra.filter((e) => !describeTopic(e.topic, this.topics))] : this.topics;
  }

  private getEventProperties(): XmlNode {
    return tev(
      'GetEventPropertiesResponse',
      tev('TopicNamespaceLocation', 'http://www.onvif.org/onvif/ver10/topics/topicns.xml'),
      wsnt('FixedTopicSet', 'true'),
      topicSetElement(this.allTopics()),
      wsnt('TopicExpressionDialect', CONCRETE_SET_DIALECT),
      wsnt('TopicExpressionDialect', CONCRETE_DIALECT),
      tev('MessageContentFilterDialect', ITEM_FILTER_DIALECT),
      tev('MessageContentSchemaLocation', 'http://www.onvif.org/onvif/ver10/schema/onvif.xsd'),
    );
  }

  private readFilter(filter: XmlElement | undefined): { topic?: TopicMatcher; items?: ItemMatcher; text?: { topic?: string; messageContent?: string } } {
    if (!filter) return {};
    const topics: TopicMatcher[] = [];
    const contents: ItemMatcher[] = [];
    const textOf: { topic?: string; messageContent?: string } = {};
    const now = this.now();
    try {
      for (const c of filter.children) {
        if (c.local === 'TopicExpression') {
          topics.push(compileTopicExpression(c, (attr(c, 'Dialect') ?? '').trim()));
          textOf.topic = [textOf.topic, c.text.trim()].filter(Boolean).join(' & ');
        } else if (c.local === 'MessageContent') {
          contents.push(compileItemFilter(c, (attr(c, 'Dialect') ?? '').trim()));
          textOf.messageContent = [textOf.messageContent, c.text.trim()].filter(Boolean).join(' & ');
        } else {
          throw new FilterError('InvalidFilterFault', `The filter element ${c.local} is not supported (TopicExpression and MessageContent are).`);
        }
      }
    } catch (e) {
      if (e instanceof FilterError) throw wsntFault(e.fault, e.message, now);
      throw e;
    }
    return {
      topic: topics.length ? (t) => topics.every((m) => m(t)) : undefined,
      items: contents.length ? (i) => contents.every((m) => m(i)) : undefined,
      text: topics.length || contents.length ? textOf : undefined,
    };
  }

  private createPullPoint(call: EventCall): XmlNode {
    const req = call.content;
    const now = this.now();
    const filter = this.readFilter(child(req, 'Filter'));
    const itt = child(req, 'InitialTerminationTime');
    let terminationTime = now + DEFAULT_LEASE_MS;
    if (itt && itt.text.trim() !== '') {
      const t = parseAbsoluteOrRelative(itt.text, now);
      if (t === undefined || t <= now) {
        throw wsntFault('UnacceptableInitialTerminationTimeFault', `InitialTerminationTime '${itt.text.trim()}' is neither a future UTC time nor a positive duration such as PT60S.`, now);
      }
      terminationTime = t;
    }
    const policy = child(req, 'SubscriptionPolicy');
    const changedOnlyEl = child(policy, 'ChangedOnly');
    const changedOnly = !!changedOnlyEl && text(changedOnlyEl) !== 'false';
    if (this.pullPoints.size >= this.options.maxPullPoints) {
      throw wsntFault(
        'SubscribeCreationFailedFault',
        `All ${this.options.maxPullPoints} pull points are in use. Unsubscribe one, or wait until one expires, then try again.`,
        now,
      );
    }
    const id = this.nextId++;
    const shared = this.options.referenceParameters;
    const address = `${call.baseUrl}${shared ? SHARED_SUBSCRIPTION_PATH : PULL_POINT_PATH_PREFIX + id}`;
    const pp = new PullPoint(id, address, now, terminationTime, terminationTime - now, filter.topic, filter.items, filter.text, changedOnly, this.options.maxQueuedEvents, shared);
    this.pullPoints.set(id, pp);
    this.armLease(pp);
    if (!changedOnly) this.enqueueInitialized(pp);
    return tev(
      'CreatePullPointSubscriptionResponse',
      tev(
        'SubscriptionReference',
        el(NS.wsa, 'Address', undefined, address),
        shared ? el(NS.wsa, 'ReferenceParameters', undefined, el(SUBSCRIPTION_ID_NS, 'SubscriptionId', undefined, String(id))) : undefined,
      ),
      wsnt('CurrentTime', utc(now)),
      wsnt('TerminationTime', utc(terminationTime)),
    );
  }

  private armLease(pp: PullPoint): void {
    pp.armLease(() => this.now(), () => {
      if (this.pullPoints.get(pp.id) === pp) this.pullPoints.delete(pp.id);
      pp.close();
    });
  }

  // ------------------------------------------------------------------------------------ subscription manager

  private isSubscriptionPath(path: string): boolean {
    return path === SHARED_SUBSCRIPTION_PATH || (path.startsWith(PULL_POINT_PATH_PREFIX) && /^\d+$/.test(path.slice(PULL_POINT_PATH_PREFIX.length)));
  }

  private resolve(call: Pick<SoapCall, 'path' | 'header'>): PullPoint {
    const now = this.now();
    let id: number;
    let viaShared = false;
    if (call.path === SHARED_SUBSCRIPTION_PATH) {
      viaShared = true;
      const header = call.header?.children.find((c) => c.local === 'SubscriptionId' && c.ns === SUBSCRIPTION_ID_NS);
      if (!header) {
        // Axis answers a missing reference parameter this way (QUIRKS.md §4).
        throw invalidArgs('The SubscriptionId reference parameter is missing: echo the ReferenceParameters of the SubscriptionReference as SOAP headers.');
      }
      id = Number(header.text.trim());
    } else {
      id = Number(call.path.slice(PULL_POINT_PATH_PREFIX.length));
    }
    const pp = this.pullPoints.get(id);
    if (!pp || pp.closed || pp.shared !== viaShared) {
      throw resourceUnknown('This pull point does not exist (it expired, was unsubscribed, or the device restarted). Create a new subscription.', now);
    }
    return pp;
  }

  private unsubscribe(pp: PullPoint): XmlNode {
    this.pullPoints.delete(pp.id);
    pp.close();
    return wsnt('UnsubscribeResponse');
  }

  private async pullMessages(pp: PullPoint, call: EventCall): Promise<XmlNode> {
    const req = call.content;
    const maxTimeout = formatDuration(this.options.maxPullTimeoutS * 1000);
    const timeoutText = text(req, 'Timeout');
    const timeoutMs = timeoutText === undefined ? undefined : parseDuration(timeoutText);
    if (timeoutMs === undefined || timeoutMs < 0) throw invalidArgVal(`Timeout '${timeoutText ?? ''}' is not a duration such as PT10S.`);
    if (timeoutMs > this.options.maxPullTimeoutS * 1000) throw pullMessagesFault(maxTimeout, MAX_MESSAGE_LIMIT, timeoutText!);
    const limitText = text(req, 'MessageLimit');
    if (limitText === undefined || !/^-?\d+$/.test(limitText)) throw invalidArgVal(`MessageLimit '${limitText ?? ''}' is not a whole number.`);
    const limit = Math.min(Math.max(Number(limitText), 1), MAX_MESSAGE_LIMIT);
    if (pp.pulling) {
      throw wsntFault('UnableToGetMessagesFault', 'Another PullMessages is already waiting on this pull point; send one at a time.', this.now());
    }
    // Never expire while a pull is outstanding.
    pp.terminationTime = Math.max(pp.terminationTime, this.now() + timeoutMs);
    if (pp.queueLength === 0 && timeoutMs > 0) await pp.wait(timeoutMs, call.signal);
    if (pp.closed) throw resourceUnknown('The pull point was closed while the request waited (unsubscribed or the device restarted).', this.now());
    const messages = pp.take(limit);
    const now = this.now();
    // Pulling keeps the pull point alive for at least its lease from now (Core §9.1.1).
    pp.terminationTime = Math.max(pp.terminationTime, now + Math.max(timeoutMs, pp.leaseMs));
    this.armLease(pp);
    const response = tev('PullMessagesResponse', tev('CurrentTime', utc(now)), tev('TerminationTime', utc(pp.terminationTime)));
    // Each message is serialised once, with its own namespace declarations, and shared by all pull points.
    response.raw = messages.map((m) => m.xml).join('');
    return response;
  }

  private renew(pp: PullPoint, req: XmlElement): XmlNode {
    const now = this.now();
    const tt = child(req, 'TerminationTime');
    let terminationTime = now + pp.leaseMs;
    if (tt && tt.text.trim() !== '') {
      const t = parseAbsoluteOrRelative(tt.text, now);
      if (t === undefined || t <= now) {
        throw wsntFault('UnacceptableTerminationTimeFault', `TerminationTime '${tt.text.trim()}' is neither a future UTC time nor a positive duration such as PT60S.`, now);
      }
      terminationTime = t;
    }
    pp.terminationTime = terminationTime;
    pp.leaseMs = terminationTime - now;
    this.armLease(pp);
    return wsnt('RenewResponse', wsnt('TerminationTime', utc(terminationTime)), wsnt('CurrentTime', utc(now)));
  }
}

