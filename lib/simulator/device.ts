import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { buildEnvelope, NotSoapError, parseEnvelope, type ParsedEnvelope } from '../soap/envelope';
import type { XmlNode } from '../xml/build';
import { sleep } from '../util/sleep';
import { NS, UNDECLARED_NS_PREFIX } from '../xml/namespaces';
import { XmlParseError, type XmlElement } from '../xml/parse';
import { randomBytes } from 'node:crypto';
import { accessClassOf, levelMayUse, parseAccessPolicy, type AccessPolicyTable } from './access';
import { BACKUP_CONTENT_TYPE, configurationOf, makeBackup, restoredState } from './backup';
import { utc } from './events/time';
import { DigestServer, findUsernameToken, parseDigestAuthorization, UsernameTokenVerifier, type DigestAlgorithm } from './auth';
import { allScopes, DEVICE_OPERATIONS, type DeviceServiceContext } from './device-service';
import { EventFault } from './events/faults';
import type { PullPointInfo } from './events/pull-point';
import type { TopicDescription } from './events/topics';
import { EVENT_SERVICE_PATH, EVENT_SERVICE_VERSION, EventService, type EventCall, type EventItem } from './events/service';
import { canDiscoverOn, DiscoveryResponder } from './discovery';
import { faultElement, notAuthorized, SimFault } from './faults';
import { factoryState, loadState, saveState, type DeviceState, type SimulatedUser } from './state';

export type { DeviceState } from './state';

export interface SimulatorOptions {
  /** Address to listen on (default '127.0.0.1'). */
  host?: string;
  /** Port (default 0 = ephemeral). */
  port?: number;
  /** When given: an Administrator with these credentials exists, and the device starts Operational (non-empty password). */
  username?: string;
  password?: string;
  /**
   * Strict mode: ship (and come back after a hard factory default) with this Administrator and an empty
   * password, e.g. 'root', as many cameras do. Profile Q §9 applies to the letter: Factory Default State lasts
   * until SetUser gives an Administrator a password (CreateUsers of another Administrator does not end it),
   * and once Operational an empty password never signs in.
   */
  defaultAdmin?: string;
  /** Restart (rebootDowntimeMs) right after leaving Factory Default State, as Profile Q §9 allows. */
  rebootOnCommission?: boolean;
  /** Mechanisms accepted once Operational (default 'any'). */
  auth?: 'digest' | 'ws-security' | 'any' | 'none';
  /** Digest algorithms offered, in this order (default ['SHA-256', 'MD5']); one WWW-Authenticate header each. */
  digestAlgorithms?: Array<'MD5' | 'SHA-256'>;
  /** Device clock = host clock + skew. */
  clockSkewMs?: number;
  /** Added before each answer. */
  latencyMs?: number;
  /** Loaded at start when present, saved after every change (JSON). */
  stateFile?: string;
  /** Endpoint urn:uuid (generated when absent; kept from the state file when it has one). */
  uuid?: string;
  deviceInformation?: Partial<{ Manufacturer: string; Model: string; FirmwareVersion: string; SerialNumber: string; HardwareId: string }>;
  /** Accepted |Created - device time| for WS-UsernameToken, ms (default 5 min). */
  usernameTokenWindowMs?: number;
  /** Default 10. */
  maxUsers?: number;
  /** How long SystemReboot keeps the device unreachable, ms (default 2000). */
  rebootDowntimeMs?: number;
  /** How long a digest nonce stays valid before the device answers stale=true, ms (default 5 min). */
  digestNonceLifetimeMs?: number;
  /**
   * WS-Discovery responder (on by default): UDP port for unicast and multicast (default 3702) and the
   * interface address for the multicast group and Hello/Bye (default: host). false turns discovery off.
   */
  discovery?: false | { port?: number; multicastInterface?: string };
  /**
   * Random wait before answering a multicast Probe/Resolve and before each Hello, ms [min, max] (default
   * [0, 500], WS-Discovery's APP_MAX_DELAY); a unicast probe only one device hears is answered at once.
   */
  discoveryDelayMs?: [number, number];
  /** Event service: how many pull points may exist at once (default 2, as Profile Q devices often allow). */
  maxPullPoints?: number;
  /** How often tns1:Monitoring/ProcessorUsage changes, ms (default 5000; 0 = never). */
  processorUsageIntervalMs?: number;
  /** Raise CellMotionDetector motion (IsMotion true, then false) this often, ms (default 0 = never). */
  motionIntervalMs?: number;
  /** The event topics GetEventProperties describes (default TOPICS), e.g. what another firmware of the device offers. */
  eventTopics?: readonly TopicDescription[];
  /**
   * Axis-style subscription references: every pull point shares one address and is told apart by a
   * SubscriptionId reference parameter the client must echo as a SOAP header (default false).
   */
  referenceParameters?: boolean;
  /** Longest PullMessages Timeout accepted, seconds (default 60); longer ones get PullMessagesFaultResponse. */
  maxPullTimeoutS?: number;
  /** Messages a pull point holds before the oldest are dropped (default 20000). */
  maxQueuedEvents?: number;
  /**
   * GET /onvifq/state without credentials even when Operational (default false: open only in Factory
   * Default, then for Administrators with HTTP digest).
   */
  exposeState?: boolean;
  /** How long a StartSystemRestore upload URI stays usable, ms (default 5 min). */
  restoreUploadLifetimeMs?: number;
  /** Largest restore upload accepted, bytes (default 4 MiB; a backup is a few kB). */
  maxRestoreBytes?: number;
}

export interface SimulatedRequest {
  time: string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Request body with the content of every Password element replaced by '***'. */
  body: string;
  operation?: string;
  /** HTTP status sent, 0 when the connection was dropped. */
  status: number;
}

export interface InjectedFault {
  kind: 'drop' | 'http500' | 'malformed' | 'html' | 'delay';
  operation?: string;
  times?: number;
  delayMs?: number;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[]>;
  body: string | Buffer;
  after?: Array<() => void>;
}

const DEVICE_PATH = '/onvif/device_service';
/** Live state as JSON (pull points, users without passwords, scopes, ...), for tests and curious users. */
export const STATE_PATH = '/onvifq/state';
/** HTTP GET: the configuration backup (GetSystemUris SystemBackupUri). */
export const BACKUP_PATH = '/onvifq/backup';
/** HTTP POST here + token: a restore upload (StartSystemRestore UploadUri). */
export const RESTORE_PATH_PREFIX = '/onvifq/restore/';
const MAX_REQUEST_BYTES = 1024 * 1024;
const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';
const REALM = 'ONVIF-Q-Simulator';

/** Read a request body up to `max` bytes; undefined when it is larger (the rest is discarded, not buffered). */
function readCapped(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      if (!over) chunks.push(c);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}


function redactPasswords(body: string): string {
  return body.replace(/(<(?:[\w.-]+:)?Password\b[^>]*>)[^<]*(<\/)/g, '$1***$2');
}

/**
 * A simulated ONVIF Profile Q device: the device service over SOAP 1.2/HTTP with real state, the
 * Factory Default → Operational transition, digest and UsernameToken authentication, the default
 * access policy, persistence, and fault injection for tests.
 */
export class SimulatedDevice extends EventEmitter {
  state: DeviceState;
  readonly requests: SimulatedRequest[] = [];
  readonly stats: { httpRequests: number; byOperation: Record<string, number>; unauthorized: number } = { httpRequests: 0, byOperation: {}, unauthorized: 0 };

  private readonly options: Required<Pick<SimulatorOptions, 'host' | 'auth' | 'latencyMs' | 'usernameTokenWindowMs' | 'maxUsers' | 'rebootDowntimeMs'>> & SimulatorOptions;
  private readonly digest: DigestServer;
  private readonly usernameTokens: UsernameTokenVerifier;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private listenPort = 0;
  private freshState: boolean;
  private faults: Array<InjectedFault & { remaining: number }> = [];
  private rebootTimer?: NodeJS.Timeout;
  /** Open restore uploads: token → expiry (host ms). Single use; a reboot forgets them. */
  private readonly restoreUploads = new Map<string, number>();
  private policyCache?: { data: string; table?: AccessPolicyTable };
  private stopped = false;
  private discovery?: DiscoveryResponder;
  private discoveryFailure?: string;
  private readonly events: EventService;
  /** Path → SOAP service, with the access-policy table its operations use. */
  private readonly services: Array<{
    name: 'device' | 'events' | 'subscription';
    at(path: string): boolean;
    policy: 'device' | 'events';
    call(req: IncomingMessage, path: string, parsed: ParsedEnvelope, content: XmlElement, signal: AbortSignal): Promise<Reply> | Reply;
  }>;

  constructor(options: SimulatorOptions = {}) {
    super();
    this.options = {
      host: '127.0.0.1',
      auth: 'any',
      latencyMs: 0,
      usernameTokenWindowMs: 5 * 60_000,
      maxUsers: 10,
      rebootDowntimeMs: 2000,
      ...options,
    };
    this.digest = new DigestServer(REALM, options.digestNonceLifetimeMs ?? 5 * 60_000, options.defaultAdmin === undefined);
    this.usernameTokens = new UsernameTokenVerifier(this.options.usernameTokenWindowMs, options.defaultAdmin === undefined);
    const loaded = options.stateFile ? loadState(options.stateFile) : undefined;
    this.freshState = !loaded;
    this.state = loaded ?? this.factory(options.uuid);
    if (loaded) {
      if (options.uuid) this.state.uuid = options.uuid;
      if (options.clockSkewMs !== undefined) this.state.time.offsetMs = options.clockSkewMs;
      if (options.deviceInformation) Object.assign(this.state.deviceInformation, options.deviceInformation);
    }
    if (options.username !== undefined) this.ensureAdministrator(options.username, options.password ?? '');
    this.events = new EventService({
      maxPullPoints: options.maxPullPoints ?? 2,
      maxPullTimeoutS: options.maxPullTimeoutS ?? 60,
      maxQueuedEvents: options.maxQueuedEvents ?? 20_000,
      referenceParameters: options.referenceParameters ?? false,
      processorUsageIntervalMs: options.processorUsageIntervalMs ?? 5000,
      motionIntervalMs: options.motionIntervalMs ?? 0,
      topics: options.eventTopics,
      deviceNow: () => this.deviceNow(),
    });
    const eventCall = (req: IncomingMessage, path: string, parsed: ParsedEnvelope, content: XmlElement, signal: AbortSignal): EventCall => ({
      content, header: parsed.header, path, baseUrl: this.baseUrl(req), signal,
    });
    this.services = [
      { name: 'device', at: (p) => p === DEVICE_PATH, policy: 'device', call: (req, _path, _parsed, content) => this.callDevice(req, content) },
      {
        name: 'events', at: (p) => p === EVENT_SERVICE_PATH, policy: 'events',
        call: async (req, path, parsed, content, signal) => this.soapReply(200, await this.events.handleService(content.local, eventCall(req, path, parsed, content, signal))),
      },
      {
        name: 'subscription', at: (p) => this.events.isSubscriptionPath(p), policy: 'events',
        call: async (req, path, parsed, content, signal) => this.soapReply(200, await this.events.handleSubscription(content.local, eventCall(req, path, parsed, content, signal))),
      },
    ];
  }

  /** Raise an event, e.g. raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } }). */
  raiseEvent(topic: string, item: EventItem = {}): void {
    this.events.raiseEvent(topic, item);
  }

  /** Update a live property (topic + source) and raise Changed. */
  setProperty(topic: string, source: Record<string, string>, data: Record<string, string>): void {
    this.events.setProperty(topic, source, data);
  }

  /** The pull points that exist now. */
  get pullPoints(): PullPointInfo[] {
    return this.events.pullPointInfo;
  }

  /** 'http://host:port' as the caller reached us (Host header), so addresses work behind NAT too. */
  private baseUrl(req: IncomingMessage): string {
    return req.headers.host ? `http://${req.headers.host}` : this.xaddr.slice(0, -DEVICE_PATH.length);
  }

  private factory(uuid: string | undefined): DeviceState {
    const state = factoryState({
      uuid,
      httpPort: this.listenPort || 80,
      listenAddress: this.options.host,
      deviceInformation: this.options.deviceInformation,
      digestAlgorithms: this.options.digestAlgorithms ?? ['SHA-256', 'MD5'],
      clockSkewMs: this.options.clockSkewMs ?? 0,
    });
    if (this.options.defaultAdmin !== undefined) state.users.push({ username: this.options.defaultAdmin, password: '', level: 'Administrator' });
    return state;
  }

  private ensureAdministrator(username: string, password: string): void {
    const existing = this.state.users.find((u) => u.username === username);
    if (existing) {
      existing.password = password;
      existing.level = 'Administrator';
    } else {
      this.state.users.push({ username, password, level: 'Administrator' });
    }
    if (password !== '') this.state.factoryDefault = false;
  }

  get port(): number {
    return this.listenPort;
  }

  get xaddr(): string {
    const h = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `http://${h}:${this.listenPort}${DEVICE_PATH}`;
  }

  get endpoint(): string {
    return `urn:uuid:${this.state.uuid}`;
  }

  get profileQState(): 'FactoryDefault' | 'Operational' {
    return this.state.factoryDefault ? 'FactoryDefault' : 'Operational';
  }

  /** 'udp://host:port' where the WS-Discovery responder answers, undefined when discovery is off. */
  get discoveryAddress(): string | undefined {
    return this.discovery?.address;
  }

  /** Why default discovery is not running (its UDP port was taken), undefined when it runs or was turned off. */
  get discoveryProblem(): string | undefined {
    return this.discoveryFailure;
  }

  /** Answers probes from now on and says Hello; after the HTTP server listens, so the XAddr works. */
  private async startDiscovery(): Promise<void> {
    const d = this.options.discovery;
    // IPv4 only: with an IPv6 host the device simply has no discovery.
    if (d === false || this.discovery || !canDiscoverOn(this.options.host)) return;
    let responder: DiscoveryResponder | undefined;
    try {
      // The constructor refuses bad settings; start() fails when the UDP port is taken.
      responder = new DiscoveryResponder(this, { host: this.options.host, port: d?.port, multicastInterface: d?.multicastInterface, delayMs: this.options.discoveryDelayMs });
      await responder.start();
    } catch (e) {
      // Bad settings, or asked-for discovery that cannot run, fail the start; default discovery is a convenience the device can do without.
      if (d || !responder) {
        await this.closeServer();
        throw e;
      }
      this.discoveryFailure = (e as Error).message;
      return;
    }
    this.discoveryFailure = undefined;
    this.discovery = responder;
  }

  /** Device clock, ms since epoch. */
  deviceNow(): number {
    return Date.now() + this.state.time.offsetMs;
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  injectFault(fault: InjectedFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.listen(this.options.port ?? 0);
    if (this.freshState) {
      // The HTTP port a fresh device reports is the one it really listens on.
      const http = this.state.protocols.find((p) => p.name === 'HTTP');
      if (http) http.ports = [this.listenPort];
      this.freshState = false;
    }
    this.saveState();
    await this.startDiscovery();
    this.events.start();
  }

  private listen(port: number): Promise<void> {
    const server = createServer((req, res) => void this.onRequest(req, res));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.host, () => {
        server.off('error', reject);
        this.listenPort = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  private closeServer(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (!server || !server.listening) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Bye goes out while the device is still there.
    await this.discovery?.stop();
    this.discovery = undefined;
    if (this.rebootTimer) clearTimeout(this.rebootTimer);
    this.rebootTimer = undefined;
    this.events.stop();
    await this.closeServer();
  }

  /** Goes away for rebootDowntimeMs (connections refused), then listens again on the same port. */
  private reboot(): void {
    if (this.rebootTimer || this.stopped) return;
    this.emit('reboot');
    // Pull points do not survive a power cycle (Core §9.1.6).
    this.events.stop();
    void this.closeServer();
    this.digest.reset();
    this.usernameTokens.reset();
    this.restoreUploads.clear();
    this.rebootTimer = setTimeout(() => {
      this.rebootTimer = undefined;
      if (this.stopped) return;
      this.listen(this.listenPort).then(
        () => {
          this.events.start();
          this.emit('ready');
        },
        (e) => this.emit('error', e),
      );
    }, this.options.rebootDowntimeMs);
  }

  private factoryReset(kind: 'Hard' | 'Soft'): void {
    const old = this.state;
    const fresh = this.factory(old.uuid);
    fresh.deviceInformation = old.deviceInformation;
    fresh.discoveryMetadataVersion = old.discoveryMetadataVersion;
    fresh.protocols.find((p) => p.name === 'HTTP')!.ports = [this.listenPort];
    if (kind === 'Soft') {
      // Core §8.3.8: a soft reset keeps the device reachable where it was; we also keep the accounts so
      // it does not fall back to open anonymous access. Hostname, NTP, time zone, scopes, discovery mode
      // and the access policy return to their defaults.
      Object.assign(fresh, {
        networkInterface: old.networkInterface, gateway: old.gateway, dns: old.dns, protocols: old.protocols,
        zeroConfiguration: old.zeroConfiguration, users: old.users, factoryDefault: old.factoryDefault, hashingAlgorithms: old.hashingAlgorithms,
      });
    }
    const wasFactoryDefault = old.factoryDefault;
    this.state = fresh;
    this.changed(`factoryDefault:${kind}`);
    if (wasFactoryDefault !== fresh.factoryDefault) this.emit('profileQState', this.profileQState);
  }

  /** Write the state file, when there is one (also for changes made outside a request, e.g. MetadataVersion). */
  saveState(): void {
    if (this.options.stateFile) saveState(this.options.stateFile, this.state);
  }

  private changed(what: string): void {
    this.saveState();
    this.events.onDeviceChange(what);
    this.emit('change', what);
  }

  // ------------------------------------------------------------------------------------------ HTTP

  /** The access policy in force (the stored file, parsed once per change). */
  private get policy(): AccessPolicyTable | undefined {
    const data = this.state.accessPolicy?.data;
    if (!data) return undefined;
    if (this.policyCache?.data !== data) {
      const table = parseAccessPolicy(Buffer.from(data, 'base64'));
      // A file that no longer parses (hand-edited state file) falls back to the default policy.
      this.policyCache = { data, table: typeof table === 'string' ? undefined : table };
    }
    return this.policyCache.table;
  }

  private readBody(req: IncomingMessage): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_REQUEST_BYTES) {
          resolve(undefined);
          req.resume();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(size > MAX_REQUEST_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  // ------------------------------------------------------------------------------------------ backup and restore

  private openRestoreUpload(): { path: string; downtimeMs: number } {
    const now = Date.now();
    for (const [t, until] of this.restoreUploads) if (until < now) this.restoreUploads.delete(t);
    const token = randomBytes(16).toString('hex');
    this.restoreUploads.set(token, now + (this.options.restoreUploadLifetimeMs ?? 5 * 60_000));
    return { path: `${RESTORE_PATH_PREFIX}${token}`, downtimeMs: this.options.rebootDowntimeMs };
  }

  /**
   * File transfers use HTTP digest whatever the SOAP mechanisms are (WS-UsernameToken cannot travel
   * with a GET or a binary POST), and need an Administrator: a backup holds every account's password and a
   * restore replaces the whole configuration (READ_SYSTEM_SECRET and UNRECOVERABLE). Undefined = allowed.
   */
  private transferRefusal(req: IncomingMessage): Reply | undefined {
    if (this.state.factoryDefault || this.options.auth === 'none') return undefined;
    const text = (status: number, body: string, headers: Record<string, string | string[]> = {}): Reply => ({
      status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, body,
    });
    const challenge = (stale = false) =>
      text(401, 'Authentication required: send HTTP digest credentials of an Administrator.\n', {
        'WWW-Authenticate': this.digest.challenges(this.state.hashingAlgorithms as DigestAlgorithm[], stale),
      });
    const params = parseDigestAuthorization(req.headers.authorization);
    if (!params) return challenge();
    const r = this.digest.verify(params, req.method ?? 'GET', req.url ?? '/', this.state.users, this.state.hashingAlgorithms as DigestAlgorithm[]);
    if (!r.ok) return challenge(r.stale);
    if (r.user.level !== 'Administrator') return text(403, `The user level ${r.user.level} may not transfer the configuration; an Administrator may.\n`);
    return undefined;
  }

  private async onTransfer(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const record: SimulatedRequest = {
      time: new Date().toISOString(), method: req.method ?? '', path, headers: { ...req.headers }, body: '', status: 0,
    };
    this.requests.push(record);
    let after: (() => void) | undefined;
    let reply: Reply;
    try {
      if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
      if (path === BACKUP_PATH) reply = this.backupReply(req);
      else {
        const r = await this.restoreReply(req, path.slice(RESTORE_PATH_PREFIX.length), record);
        reply = r.reply;
        after = r.after;
      }
    } catch {
      reply = { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'The simulated device failed internally.\n' };
    }
    if (res.destroyed) return;
    // An unread upload body must not be left in the socket when we answer early (refusal before the data).
    if (!req.complete) res.setHeader('Connection', 'close');
    record.status = reply.status;
    res.on('finish', () => {
      this.emit('request', record);
      if (after) setImmediate(after);
    });
    const body = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
    res.writeHead(reply.status, { ...reply.headers, 'Content-Length': body.length });
    res.end(body);
    if (!req.complete) req.resume();
  }

  private backupReply(req: IncomingMessage): Reply & { body: string | Buffer } {
    if (req.method !== 'GET') return { status: 405, headers: { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET' }, body: 'Use GET to download the backup.\n' };
    const refused = this.transferRefusal(req);
    if (refused) return refused;
    const file = makeBackup(this.state, this.deviceNow());
    this.events.setProperty('tns1:Monitoring/Backup/Last', {}, { Status: utc(this.deviceNow()) });
    this.emit('backup', file.length);
    return {
      status: 200,
      headers: { 'Content-Type': BACKUP_CONTENT_TYPE, 'Content-Disposition': `attachment; filename="${this.state.deviceInformation.Model.replace(/[^\w.-]/g, '_')}-backup.json"` },
      body: file,
    };
  }

  /** Core §8.3.5: 415 for a file that is not a backup, 200 then apply and reboot. */
  private async restoreReply(req: IncomingMessage, token: string, record: SimulatedRequest): Promise<{ reply: Reply; after?: () => void }> {
    const text = (status: number, body: string, headers: Record<string, string> = {}): { reply: Reply } => ({
      reply: { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, body },
    });
    if (req.method !== 'POST') return text(405, 'Use POST with the backup file as application/octet-stream.\n', { Allow: 'POST' });
    const refused = this.transferRefusal(req);
    if (refused) return { reply: refused };
    const until = this.restoreUploads.get(token);
    if (until === undefined || until < Date.now()) {
      this.restoreUploads.delete(token);
      return text(404, 'This restore upload URI is unknown, used or expired: call StartSystemRestore for a new one.\n');
    }
    // Single use: whatever happens to this upload, the next one needs a new StartSystemRestore.
    this.restoreUploads.delete(token);
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/octet-stream') return text(415, `Send the backup as application/octet-stream (got '${type || 'no Content-Type'}').\n`);
    const max = this.options.maxRestoreBytes ?? 4 * 1024 * 1024;
    const bytes = await readCapped(req, max);
    record.body = bytes === undefined ? `<more than ${max} bytes>` : `<${bytes.length} bytes>`;
    if (bytes === undefined) return text(413, `The file is larger than ${max} bytes: it is not a backup of this device.\n`);
    const next = restoredState(bytes, this.state);
    if (typeof next === 'string') return text(415, `The file was not restored: ${next}.\n`);
    const wasFactoryDefault = this.state.factoryDefault;
    this.state = next;
    this.changed('restore');
    if (wasFactoryDefault !== next.factoryDefault) this.emit('profileQState', this.profileQState);
    return { ...text(200, 'The configuration was restored; the device restarts now.\n'), after: () => this.reboot() };
  }

  private takeFault(operation: string | undefined): (InjectedFault & { remaining: number }) | undefined {
    const f = this.faults.find((x) => x.remaining > 0 && (!x.operation || x.operation === operation));
    if (!f) return undefined;
    f.remaining--;
    this.faults = this.faults.filter((x) => x.remaining > 0);
    return f;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.httpRequests++;
    const requestPath = (req.url ?? '/').split('?')[0]!;
    // Backup and restore move files: they are streamed, never read into a SOAP request string.
    if (requestPath === BACKUP_PATH || requestPath.startsWith(RESTORE_PATH_PREFIX)) return this.onTransfer(req, res, requestPath);
    let body = '';
    try {
      body = (await this.readBody(req)) ?? '';
    } catch {
      req.socket.destroy();
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const service = this.services.find((s) => s.at(path));
    let parsed: ParsedEnvelope | undefined;
    let parseError: unknown;
    if (req.method === 'POST' && service) {
      try {
        parsed = parseEnvelope(body);
      } catch (e) {
        parseError = e;
      }
    }
    const operation = parsed?.content?.local;
    const record: SimulatedRequest = {
      time: new Date().toISOString(), method: req.method ?? '', path, headers: { ...req.headers }, body: redactPasswords(body), operation, status: 0,
    };
    if (operation) this.stats.byOperation[operation] = (this.stats.byOperation[operation] ?? 0) + 1;
    this.requests.push(record);

    const injected = this.takeFault(operation);
    if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
    if (injected?.kind === 'delay') await sleep(injected.delayMs ?? 1000);
    if (injected?.kind === 'drop') {
      req.socket.destroy();
      this.emit('request', record);
      return;
    }

    // A waiting PullMessages ends when its caller hangs up.
    const hangUp = new AbortController();
    res.on('close', () => hangUp.abort());
    let reply: Reply;
    try {
      reply = injected && injected.kind !== 'delay' ? this.injectedReply(injected.kind) : await this.answer(req, path, body, parsed, parseError, operation, hangUp.signal);
    } catch (e) {
      if (e instanceof SimFault) reply = this.faultReply(e);
      else
      reply = this.faultReply(new SimFault('Receiver', ['Action'], 'The simulated device failed internally.'));
    }
    if (res.destroyed) {
      this.emit('request', record);
      return;
    }
    record.status = reply.status;
    if (reply.status === 401 || /NotAuthorized/.test(String(reply.body))) this.stats.unauthorized++;
    res.on('finish', () => {
      this.emit('request', record);
      // Let the bytes leave before a reboot or reset tears things down.
      for (const a of reply.after ?? []) setImmediate(a);
    });
    res.writeHead(reply.status, { ...reply.headers, 'Content-Length': Buffer.byteLength(reply.body) });
    res.end(reply.body);
  }

  private injectedReply(kind: 'http500' | 'malformed' | 'html'): Reply {
    if (kind === 'http500') return this.faultReply(new SimFault('Receiver', ['Action'], 'Injected failure: the device had an internal error.', 500));
    if (kind === 'malformed') {
      return {
        status: 200,
        headers: { 'Content-Type': SOAP_CONTENT_TYPE },
        body: `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="${NS.soap}" xmlns:tds="${NS.tds}"><env:Body><tds:GetDeviceInformationResponse><tds:Manufacturer>onvifq</tds:Manufact`,
      };
    }
    return {
      status: 200,
      headers: { 'Content-Type': 'text/html; charset=utf-8' },
      body: '<!DOCTYPE html><html><head><title>Web login</title></head><body><h1>Please log in</h1><form method="post"><input name="user"></form></body></html>',
    };
  }

  private soapReply(status: number, content: XmlNode, after?: Array<() => void>): Reply {
    return { status, headers: { 'Content-Type': SOAP_CONTENT_TYPE }, body: buildEnvelope(content), after };
  }

  private faultReply(f: SimFault, extraHeaders: Record<string, string | string[]> = {}): Reply {
    const r = this.soapReply(f.httpStatus, f instanceof EventFault ? f.toElement() : faultElement(f));
    Object.assign(r.headers, extraHeaders);
    return r;
  }

  private get acceptsDigest(): boolean {
    return this.options.auth === 'digest' || this.options.auth === 'any';
  }

  private get acceptsUsernameToken(): boolean {
    return this.options.auth === 'ws-security' || this.options.auth === 'any';
  }

  private challenge(stale = false): Reply {
    const f = notAuthorized('Authentication required: send HTTP digest credentials.');
    return {
      status: 401,
      headers: { 'Content-Type': SOAP_CONTENT_TYPE, 'WWW-Authenticate': this.digest.challenges(this.state.hashingAlgorithms as DigestAlgorithm[], stale) },
      body: buildEnvelope(faultElement(f)),
    };
  }

  /** Who is calling: a user, 'anonymous' (allowed without credentials), or the reply refusing them. */
  private authenticate(req: IncomingMessage, parsed: ParsedEnvelope | undefined, policy: 'device' | 'events' = 'device'): SimulatedUser | 'anonymous' | Reply {
    if (this.state.factoryDefault || this.options.auth === 'none') return 'anonymous';
    let user: SimulatedUser | undefined;
    const digestParams = this.acceptsDigest ? parseDigestAuthorization(req.headers.authorization) : undefined;
    // Core §5.9.1: HTTP-level credentials are checked first, then the WS level.
    if (digestParams) {
      const r = this.digest.verify(digestParams, req.method ?? 'POST', req.url ?? DEVICE_PATH, this.state.users, this.state.hashingAlgorithms as DigestAlgorithm[]);
      if (!r.ok) return this.challenge(r.stale);
      user = r.user;
    }
    const token = this.acceptsUsernameToken && parsed ? findUsernameToken(parsed.header) : undefined;
    if (token) {
      const r = this.usernameTokens.verify(token, this.state.users, this.deviceNow());
      if (!r.ok) return this.faultReply(notAuthorized('The WS-UsernameToken was not accepted.'));
      user = r.user;
    }
    if (user) return user;
    const cls = accessClassOf(parsed?.content?.local, policy);
    if (levelMayUse('Anonymous', cls, this.policy)) return 'anonymous';
    return this.acceptsDigest ? this.challenge() : this.faultReply(notAuthorized('Authentication required: send a WS-UsernameToken.'));
  }

  private async answer(
    req: IncomingMessage, path: string, _body: string, parsed: ParsedEnvelope | undefined, parseError: unknown, operation: string | undefined, signal: AbortSignal,
  ): Promise<Reply> {
    if (path === STATE_PATH && req.method === 'GET') return this.stateReply(req);
    const service = this.services.find((s) => s.at(path));
    if (!service) return { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: `No service at ${path}. The device service is at ${DEVICE_PATH}.\n` };
    if (req.method !== 'POST') return { status: 405, headers: { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'POST' }, body: 'Use POST.\n' };
    if (!parsed) {
      const why = parseError instanceof XmlParseError || parseError instanceof NotSoapError ? parseError.message : 'empty or unreadable request';
      return this.faultReply(new SimFault('Sender', ['WellFormed'], `The request is not a well-formed SOAP envelope: ${why || 'empty body'}.`));
    }
    if (parsed.soapVersion === '1.1') return this.faultReply(new SimFault('VersionMismatch', [], 'This device speaks SOAP 1.2 only.'));
    if (!parsed.content || !operation) return this.faultReply(new SimFault('Sender', ['WellFormed'], 'The SOAP Body is empty.'));

    const who = this.authenticate(req, parsed, service.policy);
    if (typeof who === 'object' && 'status' in who) return who;
    const cls = accessClassOf(operation, service.policy);
    if (who !== 'anonymous' && !levelMayUse(who.level, cls, this.policy)) {
      return this.faultReply(notAuthorized(`The user level ${who.level} may not call ${operation}.`));
    }
    return service.call(req, path, parsed, parsed.content, signal);
  }

  private callDevice(req: IncomingMessage, content: XmlElement): Reply {
    const operation = content.local;
    const isDeviceNs = content.ns === NS.tds || content.ns.startsWith(UNDECLARED_NS_PREFIX) || content.ns === '';
    const handler = isDeviceNs ? DEVICE_OPERATIONS[operation] : undefined;
    if (!handler) return this.faultReply(new SimFault('Receiver', ['ActionNotSupported'], `The device service does not support ${operation}.`));

    const after: Array<() => void> = [];
    const base = this.baseUrl(req);
    const ctx: DeviceServiceContext = {
      state: this.state,
      deviceNow: () => this.deviceNow(),
      xaddr: `${base}${DEVICE_PATH}`,
      baseUrl: base,
      backupPath: BACKUP_PATH,
      startRestore: () => this.openRestoreUpload(),
      endpoint: this.endpoint,
      acceptsDigest: this.acceptsDigest,
      acceptsUsernameToken: this.acceptsUsernameToken,
      maxUsers: this.options.maxUsers,
      strictFactoryDefault: this.options.defaultAdmin !== undefined,
      changed: (what) => this.changed(what),
      afterResponse: (a) => after.push(a),
      reboot: () => this.reboot(),
      factoryReset: (kind) => this.factoryReset(kind),
      events: { xaddr: `${base}${EVENT_SERVICE_PATH}`, version: EVENT_SERVICE_VERSION, capabilities: () => this.events.capabilities() },
    };
    const wasFactoryDefault = this.state.factoryDefault;
    // Handlers validate before they change anything; a snapshot makes "all or nothing" hold even if one forgets.
    const snapshot = JSON.stringify(this.state);
    try {
      const response = handler(content, ctx);
      if (wasFactoryDefault !== this.state.factoryDefault) this.emit('profileQState', this.profileQState);
      if (wasFactoryDefault && !this.state.factoryDefault && this.options.rebootOnCommission) after.push(() => this.reboot());
      return this.soapReply(200, response, after);
    } catch (e) {
      if (e instanceof SimFault) {
        this.state = JSON.parse(snapshot) as DeviceState;
        return this.faultReply(e);
      }
      throw e;
    }
  }

  /** The live state, for tests and curious users. Never passwords. */
  stateSnapshot(): Record<string, unknown> {
    const s = this.state;
    return {
      endpoint: this.endpoint,
      xaddr: this.xaddr,
      profileQState: this.profileQState,
      hostname: s.hostname.fromDHCP ? s.hostname.dhcpName : s.hostname.name,
      time: { device: new Date(this.deviceNow()).toISOString(), type: s.time.type, timeZone: s.time.timeZone, offsetMs: s.time.offsetMs },
      scopes: allScopes(s),
      discoveryMode: s.discoveryMode,
      users: s.users.map((u) => ({ username: u.username, level: u.level })),
      network: {
        hostname: s.hostname, dns: s.dns, ntp: s.ntp, networkInterface: s.networkInterface, protocols: s.protocols,
        gateway: s.gateway, zeroConfiguration: s.zeroConfiguration,
      },
      /** Exactly what a backup carries, without passwords: equal on two devices after a backup of one was restored onto the other. */
      configuration: configurationOf(s, false),
      events: { xaddr: this.xaddr.replace(DEVICE_PATH, EVENT_SERVICE_PATH), maxPullPoints: this.options.maxPullPoints ?? 2, properties: this.events.liveProperties },
      pullPoints: this.events.pullPointInfo,
    };
  }

  /**
   * GET /onvifq/state: open while Factory Default (there are no credentials yet) or with exposeState;
   * once Operational only for an Administrator, with the same digest as SOAP.
   */
  private stateReply(req: IncomingMessage): Reply {
    if (!this.options.exposeState && !this.state.factoryDefault && this.options.auth !== 'none') {
      const digestParams = this.acceptsDigest ? parseDigestAuthorization(req.headers.authorization) : undefined;
      if (!digestParams) {
        return this.acceptsDigest ? this.challenge() : { status: 403, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'The state needs HTTP digest, which this device has turned off; start it with exposeState.\n' };
      }
      const r = this.digest.verify(digestParams, 'GET', req.url ?? STATE_PATH, this.state.users, this.state.hashingAlgorithms as DigestAlgorithm[]);
      if (!r.ok) return this.challenge(r.stale);
      if (r.user.level !== 'Administrator') return { status: 403, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Only an Administrator may read the device state.\n' };
    }
    return { status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: `${JSON.stringify(this.stateSnapshot(), null, 2)}\n` };
  }
}

/** Start `count` devices, each with its own port (options.port + i when given) and urn:uuid. */
export async function startSimulators(count: number, options: SimulatorOptions = {}): Promise<SimulatedDevice[]> {
  const devices: SimulatedDevice[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const stateFile = options.stateFile && i > 0 ? options.stateFile.replace(/(\.json)?$/, `-${i}$1`) : options.stateFile;
      const d = new SimulatedDevice({
        ...options,
        port: options.port ? options.port + i : 0,
        uuid: i === 0 ? options.uuid : undefined,
        stateFile,
      });
      await d.start();
      devices.push(d);
    }
  } catch (e) {
    await Promise.all(devices.map((d) => d.stop()));
    throw e;
  }
  return devices;
}
