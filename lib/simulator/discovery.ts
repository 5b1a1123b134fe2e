/**
 * The simulated device's WS-Discovery target service (WS-Discovery 2005/04 as profiled by ONVIF Core §7):
 * answers Probe and Resolve by unicast, multicasts Hello and Bye, and goes quiet when NonDiscoverable.
 *
 * Written independently of lib/discovery (the client side) on purpose: the two meet only on the wire.
 *
 * Sockets are shared per process so hundreds of simulated devices cost a handful of sockets:
 * - one unicast socket per host:port (bound to the host address, so only probes sent to it arrive),
 * - one multicast socket per port (bound to the group address, so only multicast arrives; joined on each
 *   device's multicast interface),
 * - one announcing socket per multicast interface for Hello/Bye (bound to that interface's address and
 *   with it as IP_MULTICAST_IF, so announcements stay on that interface: the project's network rule).
 * A request is parsed once per socket and offered to every device that shares it.
 */
import { randomUUID } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { parseEnvelope } from '../soap/envelope';
import { el, serializeXml, type XmlContent, type XmlNode } from '../xml/build';
import { NS } from '../xml/namespaces';
import type { XmlElement } from '../xml/parse';
import { attr, child, resolveQName, text } from '../xml/query';
import { allScopes } from './device-service';
import type { DeviceState } from './state';

export const WSD_PORT = 3702;
export const WSD_MULTICAST_ADDRESS = '239.255.255.250';
/** wsa:To of multicast messages (Hello, Bye, Probe). */
const DISCOVERY_URN = 'urn:schemas-xmlsoap-org:ws:2005:04:discovery';
const ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';
const action = (name: string) => `${NS.wsd}/${name}`;

export const MATCH_BY_RFC3986 = `${NS.wsd}/rfc3986`;
/** The WS-Discovery default when MatchBy is absent; ONVIF reads it as rfc3986 (Core §7.3.3). */
export const MATCH_BY_RFC2396 = `${NS.wsd}/rfc2396`;
export const MATCH_BY_STRCMP0 = `${NS.wsd}/strcmp0`;
export const SUPPORTED_MATCHING_RULES = [MATCH_BY_RFC3986, MATCH_BY_RFC2396, MATCH_BY_STRCMP0];

/** Types this device advertises and matches, by namespace URI and local name. */
const DEVICE_TYPES = [
  { ns: NS.dn, local: 'NetworkVideoTransmitter' },
  { ns: NS.tds, local: 'Device' },
];
const DEVICE_TYPES_TEXT = 'dn:NetworkVideoTransmitter tds:Device';

/** UDP datagrams cannot be larger than this; anything claiming to be bigger is junk. */
const MAX_DATAGRAM = 65_536;
/** SOAP-over-UDP repeats a message with the same MessageID; copies seen within this window are dropped. */
const DUPLICATE_WINDOW_MS = 10_000;
/**
 * WS-Discovery APP_MAX_DELAY: a target service waits a random time up to this long before it answers a
 * multicast Probe or Resolve and before it says Hello, so hundreds of devices do not answer in one burst
 * that overflows the client's receive buffer.
 */
export const APP_MAX_DELAY_MS = 500;
/** Receive buffer asked for on the shared multicast socket (the kernel may grant less). */
const GROUP_RECEIVE_BUFFER_BYTES = 2 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------- scope matching

interface SplitUri {
  scheme: string;
  authority: string | undefined;
  segments: string[];
  query: string | undefined;
  fragment: string | undefined;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** RFC 3986 §6.2.2 normalisation of one segment: upper-case hex, decode percent-encoded unreserved characters. */
function normaliseSegment(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`;
  });
}

/** RFC 3986 Appendix B split; undefined for something that is not an absolute URI. */
function splitUri(uri: string): SplitUri | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(uri.trim());
  if (!m) return undefined;
  const path = m[3]!;
  const segments = (path.startsWith('/') ? path.slice(1) : path).split('/').map(normaliseSegment);
  // A trailing slash ('…/location/') adds no segment, and an empty path has none.
  if (segments[segments.length - 1] === '') segments.pop();
  return { scheme: m[1]!.toLowerCase(), authority: m[2]?.toLowerCase(), segments, query: m[4], fragment: m[5] };
}

/**
 * Does the probe scope match the device scope under this rule? rfc3986 (and rfc2396, which ONVIF treats
 * the same): scheme and authority equal ignoring case, and the probe's path is a prefix of the device's
 * path by whole segments, compared case-sensitively; so `…/hardware/D1` does not match `…/hardware/D1-566`.
 * strcmp0: the two strings are equal.
 */
export function scopeMatches(probeScope: string, deviceScope: string, rule: string = MATCH_BY_RFC3986): boolean {
  if (rule === MATCH_BY_STRCMP0) return probeScope.trim() === deviceScope.trim();
  const p = splitUri(probeScope);
  const d = splitUri(deviceScope);
  if (!p || !d) return false;
  if (p.scheme !== d.scheme || p.authority !== d.authority) return false;
  // WS-Discovery: a '.' or '..' segment on either side never matches.
  if ([...p.segments, ...d.segments].some((s) => s === '.' || s === '..')) return false;
  if (p.segments.length > d.segments.length) return false;
  if (!p.segments.every((s, i) => s === d.segments[i])) return false;
  if (p.query !== undefined && p.query !== d.query) return false;
  if (p.fragment !== undefined && p.fragment !== d.fragment) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------- incoming requests

interface QNameRef {
  ns: string;
  local: string;
}

/** A Probe or Resolve as the device needs it. */
export interface DiscoveryRequest {
  kind: 'Probe' | 'Resolve';
  messageId: string;
  /** Probe: wanted types (empty: any). */
  types: QNameRef[];
  /** Probe: wanted scopes (empty: any). */
  scopes: string[];
  /** Probe: the matching rule, MATCH_BY_RFC2396 when the probe names none. */
  matchBy: string;
  /** Resolve: the endpoint asked for. */
  endpoint?: string;
}

const isDiscoveryNs = (e: XmlElement) => e.ns === NS.wsd || e.ns.startsWith('urn:onvifq:undeclared:');

/** Parse a datagram; undefined for anything that is not a Probe or Resolve we should look at (never throws). */
export function parseDiscoveryRequest(datagram: Buffer): DiscoveryRequest | undefined {
  if (datagram.length > MAX_DATAGRAM) return undefined;
  let parsed;
  try {
    parsed = parseEnvelope(datagram, { maxBytes: MAX_DATAGRAM });
  } catch {
    return undefined;
  }
  const content = parsed.content;
  if (!content || !isDiscoveryNs(content) || (content.local !== 'Probe' && content.local !== 'Resolve')) return undefined;
  // Without a MessageID there is nothing to relate a reply to (SOAP-over-UDP requires one).
  const messageId = text(parsed.header, 'MessageID');
  if (!messageId) return undefined;
  if (content.local === 'Resolve') {
    const endpoint = text(child(content, 'EndpointReference'), 'Address');
    return endpoint ? { kind: 'Resolve', messageId, types: [], scopes: [], matchBy: MATCH_BY_RFC2396, endpoint } : undefined;
  }
  const typesEl = child(content, 'Types');
  const types = typesEl ? typesEl.text.split(/\s+/).filter(Boolean).map((q) => resolveQName(typesEl, q)) : [];
  const scopesEl = child(content, 'Scopes');
  const scopes = scopesEl ? scopesEl.text.split(/\s+/).filter(Boolean) : [];
  const matchBy = (scopesEl && attr(scopesEl, 'MatchBy')?.trim()) || MATCH_BY_RFC2396;
  return { kind: 'Probe', messageId, types, scopes, matchBy };
}

/** Same endpoint? 'uuid:x' and 'urn:uuid:x' name the same device; uuids compare case-insensitively. */
function sameEndpoint(a: string, b: string): boolean {
  const canon = (s: string) => {
    const t = s.trim();
    const m = /^(?:urn:)?uuid:([0-9a-f-]+)$/i.exec(t);
    return m ? `urn:uuid:${m[1]!.toLowerCase()}` : t;
  };
  return canon(a) === canon(b);
}

// ---------------------------------------------------------------------------------------------- outgoing messages

const wsa = (local: string, ...kids: XmlContent[]): XmlNode => el(NS.wsa2004, local, undefined, ...kids);
const d = (local: string, attrs?: XmlNode['attrs'], ...kids: XmlContent[]): XmlNode => el(NS.wsd, local, attrs, ...kids);

interface Headers {
  action: string;
  to: string;
  relatesTo?: string;
  appSequence: { instanceId: number; messageNumber: number };
}

/** The envelope declares dn and tds because d:Types names them in QName text, as real devices do. */
function message(h: Headers, body: XmlNode): string {
  return serializeXml(
    el(
      NS.soap,
      'Envelope',
      { 'xmlns:dn': NS.dn, 'xmlns:tds': NS.tds },
      el(
        NS.soap,
        'Header',
        undefined,
        wsa('MessageID', `urn:uuid:${randomUUID()}`),
        h.relatesTo !== undefined ? wsa('RelatesTo', h.relatesTo) : undefined,
        wsa('To', h.to),
        wsa('Action', h.action),
        d('AppSequence', { InstanceId: h.appSequence.instanceId, MessageNumber: h.appSequence.messageNumber }),
      ),
      el(NS.soap, 'Body', undefined, body),
    ),
  );
}

/** What a device announces about itself. */
export interface DeviceDescription {
  endpoint: string;
  scopes: string[];
  xaddrs: string[];
  metadataVersion: number;
}

function matchContent(desc: DeviceDescription): XmlContent[] {
  return [
    wsa('EndpointReference', wsa('Address', desc.endpoint)),
    d('Types', undefined, DEVICE_TYPES_TEXT),
    d('Scopes', undefined, desc.scopes.join(' ')),
    d('XAddrs', undefined, desc.xaddrs.join(' ')),
    d('MetadataVersion', undefined, desc.metadataVersion),
  ];
}

type AppSequence = Headers['appSequence'];

export function probeMatchesMessage(desc: DeviceDescription, relatesTo: string, seq: AppSequence): string {
  return message({ action: action('ProbeMatches'), to: ANONYMOUS, relatesTo, appSequence: seq }, d('ProbeMatches', undefined, d('ProbeMatch', undefined, ...matchContent(desc))));
}

export function resolveMatchesMessage(desc: DeviceDescription, relatesTo: string, seq: AppSequence): string {
  return message({ action: action('ResolveMatches'), to: ANONYMOUS, relatesTo, appSequence: seq }, d('ResolveMatches', undefined, d('ResolveMatch', undefined, ...matchContent(desc))));
}

export function helloMessage(desc: DeviceDescription, seq: AppSequence): string {
  return message({ action: action('Hello'), to: DISCOVERY_URN, appSequence: seq }, d('Hello', undefined, ...matchContent(desc)));
}

export function byeMessage(endpoint: string, seq: AppSequence): string {
  return message({ action: action('Bye'), to: DISCOVERY_URN, appSequence: seq }, d('Bye', undefined, wsa('EndpointReference', wsa('Address', endpoint))));
}

/** Core §7.3.6: the unicast answer to a Probe whose MatchBy rule the device does not know. */
export function matchingRuleFaultMessage(rule: string, relatesTo: string, seq: AppSequence): string {
  const fault = el(
    NS.soap,
    'Fault',
    undefined,
    el(NS.soap, 'Code', undefined, el(NS.soap, 'Value', undefined, 'env:Sender'), el(NS.soap, 'Subcode', undefined, el(NS.soap, 'Value', undefined, 'd:MatchingRuleNotSupported'))),
    el(NS.soap, 'Reason', undefined, el(NS.soap, 'Text', { 'xml:lang': 'en' }, `The matching rule ${rule} is not supported; use one of the SupportedMatchingRules.`)),
    el(NS.soap, 'Detail', undefined, d('SupportedMatchingRules', undefined, SUPPORTED_MATCHING_RULES.join(' '))),
  );
  return message({ action: action('fault'), to: ANONYMOUS, relatesTo, appSequence: seq }, fault);
}

// ---------------------------------------------------------------------------------------------- shared sockets

type Via = 'unicast' | 'multicast';

interface Member {
  /** `audience`: how many devices of this process heard the same datagram. */
  onRequest(req: DiscoveryRequest, from: RemoteInfo, via: Via, audience: number): void;
}

/** One UDP socket shared by every device of this process that needs it, closed with the last one. */
class SharedSocket {
  readonly members = new Set<Member>();
  private readonly seen = new Map<string, number>();
  private readonly memberships = new Map<string, number>();
  ready: Promise<void>;

  constructor(
    readonly key: string,
    readonly socket: Socket,
    bind: (s: Socket) => Promise<void>,
    private readonly via: Via | undefined,
  ) {
    // A socket error (e.g. ICMP port unreachable reported late) must never take the process down.
    socket.on('error', () => undefined);
    if (via) socket.on('message', (buf, from) => this.dispatch(buf, from));
    this.ready = bind(socket);
  }

  private dispatch(buf: Buffer, from: RemoteInfo): void {
    if (this.members.size === 0) return;
    // The group also carries every device's Hello and Bye: skip those without parsing, so a burst of them
    // costs little and the socket is read again quickly.
    if (!buf.includes('Probe') && !buf.includes('Resolve')) return;
    const req = parseDiscoveryRequest(buf);
    if (!req) return;
    const now = Date.now();
    for (const [k, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(k);
    }
    const key = `${from.address}:${from.port} ${req.messageId}`;
    if (this.seen.has(key)) return;
    this.seen.set(key, now + DUPLICATE_WINDOW_MS);
    for (const m of this.members) m.onRequest(req, from, this.via!, this.members.size);
  }

  /** Join the group on an interface, counting users; failures (no multicast there) are silent. */
  join(iface: string | undefined): void {
    const k = iface ?? '';
    const n = this.memberships.get(k) ?? 0;
    this.memberships.set(k, n + 1);
    if (n > 0) return;
    try {
      this.socket.addMembership(WSD_MULTICAST_ADDRESS, iface);
    } catch {
      // No multicast on this interface: unicast discovery still works.
    }
  }

  leave(iface: string | undefined): void {
    const k = iface ?? '';
    const n = (this.memberships.get(k) ?? 0) - 1;
    if (n > 0) {
      this.memberships.set(k, n);
      return;
    }
    this.memberships.delete(k);
    try {
      this.socket.dropMembership(WSD_MULTICAST_ADDRESS, iface);
    } catch {
      // Already gone.
    }
  }
}

const sharedSockets = new Map<string, SharedSocket>();

function bindSocket(address: string | undefined, port: number, after?: (s: Socket) => void) {
  return (s: Socket) =>
    new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      s.once('error', onError);
      s.bind({ address, port, exclusive: false }, () => {
        s.off('error', onError);
        try {
          after?.(s);
        } catch {
          // Socket options that the interface does not support are not fatal.
        }
        resolve();
      });
    });
}

async function acquire(key: string, member: Member, make: () => SharedSocket): Promise<SharedSocket> {
  let shared = sharedSockets.get(key);
  if (!shared) {
    shared = make();
    sharedSockets.set(key, shared);
  }
  shared.members.add(member);
  try {
    await shared.ready;
  } catch (e) {
    release(shared, member);
    throw e;
  }
  return shared;
}

function release(shared: SharedSocket, member: Member): void {
  shared.members.delete(member);
  if (shared.members.size > 0) return;
  if (sharedSockets.get(shared.key) === shared) sharedSockets.delete(shared.key);
  try {
    shared.socket.close();
  } catch {
    // Never bound or already closed.
  }
}

function unicastSocket(host: string, port: number, member: Member): Promise<SharedSocket> {
  const key = `unicast ${host}:${port}`;
  return acquire(key, member, () => new SharedSocket(key, createSocket({ type: 'udp4', reuseAddr: true }), bindSocket(host, port), 'unicast'));
}

function multicastSocket(port: number, member: Member): Promise<SharedSocket> {
  const key = `multicast ${port}`;
  return acquire(key, member, () => {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    // Bound to the group address, the socket sees multicast only (Linux), never unicast meant for someone else.
    // Room for a burst of Hellos from other devices, so a Probe arriving among them is not dropped.
    const roomy = (s: Socket) => s.setRecvBufferSize(GROUP_RECEIVE_BUFFER_BYTES);
    const bind = (s: Socket) => bindSocket(WSD_MULTICAST_ADDRESS, port, roomy)(s).catch(() => bindSocket(undefined, port, roomy)(s));
    return new SharedSocket(key, socket, bind, 'multicast');
  });
}

function announceSocket(iface: string | undefined, member: Member): Promise<SharedSocket> {
  const key = `announce ${iface ?? 'default'}`;
  return acquire(key, member, () => {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    return new SharedSocket(
      key,
      socket,
      bindSocket(iface, 0, (s) => {
        if (iface) s.setMulticastInterface(iface);
        s.setMulticastTTL(1);
        s.setMulticastLoopback(true);
      }),
      undefined,
    );
  });
}

interface Outgoing {
  socket: Socket;
  xml: string;
  port: number;
  address: string;
  sent: () => void;
}

/**
 * Sends of every device of this process, at most SENDS_PER_TURN per event-loop turn. Real devices answer
 * independently; devices simulated in one process would otherwise let every answer that fell due while the
 * process was busy go out in one burst, which the prober cannot read fast enough (it may be in this very
 * process, reading between these turns).
 */
const SENDS_PER_TURN = 8;
const outbox: Outgoing[] = [];
let outboxScheduled = false;

function sendSome(): void {
  outboxScheduled = false;
  for (const o of outbox.splice(0, SENDS_PER_TURN)) {
    try {
      // Send errors (EADDRNOTAVAIL, ENETUNREACH where multicast is not routed) are swallowed: discovery is best effort.
      o.socket.send(Buffer.from(o.xml, 'utf8'), o.port, o.address, () => o.sent());
    } catch {
      o.sent(); // socket closed meanwhile
    }
  }
  if (outbox.length && !outboxScheduled) {
    outboxScheduled = true;
    setImmediate(sendSome);
  }
}

function send(socket: Socket, xml: string, port: number, address: string): Promise<void> {
  return new Promise((sent) => {
    outbox.push({ socket, xml, port, address, sent });
    if (!outboxScheduled) {
      outboxScheduled = true;
      setImmediate(sendSome);
    }
  });
}

// ---------------------------------------------------------------------------------------------- the responder

/** What the responder needs from its device. */
export interface DiscoverableDevice {
  readonly state: DeviceState;
  readonly endpoint: string;
  readonly xaddr: string;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  saveState?(): void;
}

export interface DiscoveryResponderOptions {
  /** Address the device listens on; unicast probes are received there. */
  host: string;
  /** UDP port for unicast and multicast (default 3702). */
  port?: number;
  /** Interface address for joining the group and sending Hello/Bye (default: host). */
  multicastInterface?: string;
  /**
   * Random wait before answering a multicast Probe or Resolve and before each Hello, ms (default
   * [0, APP_MAX_DELAY_MS]). A unicast request is answered at once (WS-Discovery asks for the wait on
   * multicast only), unless other devices of this process share the unicast socket and heard it too:
   * then they are as many answering one request as on multicast, and wait the same way.
   */
  delayMs?: [number, number];
}

let lastInstanceId = 0;

/** AppSequence InstanceId: must grow with every (re)start of a device, even twice in one second. */
function nextInstanceId(): number {
  lastInstanceId = Math.max(lastInstanceId + 1, Math.floor(Date.now() / 1000));
  return lastInstanceId;
}

const isLoopback = (a: string) => a.startsWith('127.');
const isWildcard = (a: string) => a === '0.0.0.0';

/** WS-Discovery here is IPv4 (239.255.255.250); a device listening on an IPv6 address has none. */
export function canDiscoverOn(host: string): boolean {
  return isIPv4(host);
}

export class DiscoveryResponder implements Member {
  readonly port: number;
  private readonly host: string;
  private readonly iface: string | undefined;
  private readonly delay: [number, number];
  private instanceId = 0;
  private messageNumber = 0;
  private online = false;
  private unicast?: SharedSocket;
  private multicast?: SharedSocket;
  private announce?: SharedSocket;
  private readonly pending = new Set<NodeJS.Timeout>();
  private helloPending = false;
  private announcedScopes = '';
  private announcedMode: DeviceState['discoveryMode'] = 'Discoverable';
  private checkQueued = false;

  constructor(
    private readonly device: DiscoverableDevice,
    options: DiscoveryResponderOptions,
  ) {
    if (!isIPv4(options.host)) throw new Error(`WS-Discovery needs an IPv4 host address; '${options.host}' is not one.`);
    this.host = options.host;
    this.port = options.port ?? WSD_PORT;
    const iface = options.multicastInterface ?? options.host;
    this.iface = isWildcard(iface) ? undefined : iface;
    const [min, max] = options.delayMs ?? [0, APP_MAX_DELAY_MS];
    if (!(min >= 0 && max >= min && Number.isFinite(max))) throw new Error(`discoveryDelayMs must be [min, max] with 0 <= min <= max, got [${min}, ${max}].`);
    this.delay = [min, max];
  }

  /** WS-Discovery MetadataVersion: bumped whenever the announced scopes change; kept in the device state. */
  get metadataVersion(): number {
    return this.device.state.discoveryMetadataVersion ?? 1;
  }

  /** 'udp://host:port' where unicast probes are answered. */
  get address(): string {
    return `udp://${this.host}:${this.port}`;
  }

  private get discoverable(): boolean {
    return this.device.state.discoveryMode !== 'NonDiscoverable';
  }

  private currentScopes(): string[] {
    return allScopes(this.device.state);
  }

  private description(): DeviceDescription {
    return { endpoint: this.device.endpoint, scopes: this.currentScopes(), xaddrs: [this.device.xaddr], metadataVersion: this.metadataVersion };
  }

  private nextSequence(): AppSequence {
    return { instanceId: this.instanceId, messageNumber: ++this.messageNumber };
  }

  private readonly onChange = () => {
    // Deferred: a handler that faults restores the state right after; only what stays is announced.
    if (this.checkQueued) return;
    this.checkQueued = true;
    setImmediate(() => {
      this.checkQueued = false;
      this.checkForChanges();
    });
  };

  private readonly onReboot = () => {
    if (!this.online) return;
    void this.bye();
    this.goOffline();
  };

  private readonly onReady = () => {
    this.goOnline();
  };

  /** Bind the shared sockets and say Hello. Call after the device's HTTP server listens. */
  async start(): Promise<void> {
    try {
      this.unicast = await unicastSocket(this.host, this.port, this);
      this.multicast = await multicastSocket(this.port, this);
      this.multicast.join(this.iface);
      this.announce = await announceSocket(this.iface, this).catch(() => undefined);
    } catch (e) {
      this.releaseSockets();
      throw new Error(`WS-Discovery could not use UDP port ${this.port} on ${this.host}: ${(e as Error).message}. Pick another discovery port or turn discovery off.`);
    }
    this.device.on('change', this.onChange);
    this.device.on('reboot', this.onReboot);
    this.device.on('ready', this.onReady);
    this.goOnline();
  }

  /** Say Bye (when discoverable) and let go of the sockets. */
  async stop(): Promise<void> {
    this.device.off('change', this.onChange);
    this.device.off('reboot', this.onReboot);
    this.device.off('ready', this.onReady);
    // Offline first: a Hello still waiting must not follow the Bye.
    const wasOnline = this.online;
    this.goOffline();
    if (wasOnline) await this.bye();
    this.releaseSockets();
  }

  private goOnline(): void {
    this.instanceId = nextInstanceId();
    this.messageNumber = 0;
    this.online = true;
    this.announcedScopes = this.currentScopes().join(' ');
    this.announcedMode = this.device.state.discoveryMode;
    this.scheduleHello();
  }

  private goOffline(): void {
    this.online = false;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    this.helloPending = false;
  }

  /** Run `action` after a random wait in the delay range, unless the device goes offline first. */
  private afterRandomDelay(action: () => void): void {
    const [min, max] = this.delay;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      action();
    }, min + Math.random() * (max - min));
    this.pending.add(timer);
  }

  /** Hello after a random wait; one pending Hello covers further changes (it says what is current when sent). */
  private scheduleHello(): void {
    if (!this.discoverable || this.helloPending) return;
    this.helloPending = true;
    this.afterRandomDelay(() => {
      this.helloPending = false;
      if (this.online) void this.hello();
    });
  }

  private releaseSockets(): void {
    if (this.multicast) this.multicast.leave(this.iface);
    for (const s of [this.unicast, this.multicast, this.announce]) if (s) release(s, this);
    this.unicast = this.multicast = this.announce = undefined;
  }

  private checkForChanges(): void {
    if (!this.online) return;
    const scopes = this.currentScopes().join(' ');
    const mode = this.device.state.discoveryMode;
    const scopesChanged = scopes !== this.announcedScopes;
    const becameDiscoverable = mode === 'Discoverable' && this.announcedMode === 'NonDiscoverable';
    if (scopesChanged) {
      this.device.state.discoveryMetadataVersion = this.metadataVersion + 1;
      this.device.saveState?.();
    }
    this.announcedScopes = scopes;
    this.announcedMode = mode;
    if ((scopesChanged || becameDiscoverable) && this.discoverable) this.scheduleHello();
  }

  private async multicastMessage(xml: string): Promise<void> {
    if (!this.announce) return;
    await send(this.announce.socket, xml, this.port, WSD_MULTICAST_ADDRESS);
  }

  private hello(): Promise<void> {
    if (!this.discoverable) return Promise.resolve();
    return this.multicastMessage(helloMessage(this.description(), this.nextSequence()));
  }

  private bye(): Promise<void> {
    if (!this.discoverable) return Promise.resolve();
    return this.multicastMessage(byeMessage(this.device.endpoint, this.nextSequence()));
  }

  /** A loopback device answers only loopback senders: nothing it says may leave the host. */
  private accepts(from: RemoteInfo): boolean {
    return !isLoopback(this.host) || isLoopback(from.address);
  }

  private probeMatches(req: DiscoveryRequest): boolean {
    for (const want of req.types) {
      if (!DEVICE_TYPES.some((t) => t.ns === want.ns && t.local === want.local)) return false;
    }
    if (req.scopes.length === 0) return true;
    const mine = this.currentScopes();
    return req.scopes.every((s) => mine.some((m) => scopeMatches(s, m, req.matchBy)));
  }

  onRequest(req: DiscoveryRequest, from: RemoteInfo, via: Via, audience: number): void {
    if (!this.online || !this.discoverable || !this.accepts(from)) return;
    let reply: (() => string) | undefined;
    if (req.kind === 'Resolve') {
      if (req.endpoint && sameEndpoint(req.endpoint, this.device.endpoint)) reply = () => resolveMatchesMessage(this.description(), req.messageId, this.nextSequence());
    } else if (!SUPPORTED_MATCHING_RULES.includes(req.matchBy)) {
      // Core §7.3.6: a fault for unicast only; a multicast fault from every device would be a packet storm.
      if (via === 'unicast') reply = () => matchingRuleFaultMessage(req.matchBy, req.messageId, this.nextSequence());
    } else if (this.probeMatches(req)) {
      reply = () => probeMatchesMessage(this.description(), req.messageId, this.nextSequence());
    }
    if (!reply) return;
    const answer = () => {
      // The device may have gone away or become non-discoverable while waiting.
      if (!this.online || !this.discoverable || !this.unicast) return;
      void send(this.unicast.socket, reply!(), from.port, from.address);
    };
    if (via === 'unicast' && audience === 1) answer();
    else this.afterRandomDelay(answer);
  }
}
