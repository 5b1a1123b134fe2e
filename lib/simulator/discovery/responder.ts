/**
 * The simulated device's WS-Discovery target service, one per device: answers Probe and Resolve by
 * unicast after the random APP_MAX_DELAY wait, multicasts Hello and Bye, and goes quiet when NonDiscoverable.
 * Messages are built in messages.ts and travel through the process-wide sockets of sockets.ts.
 */
import type { RemoteInfo } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { allScopes } from '../device-service';
import type { DeviceState } from '../state';
import {
  byeMessage, DEVICE_TYPES, helloMessage, matchingRuleFaultMessage, probeMatchesMessage, resolveMatchesMessage, sameEndpoint, scopeMatches,
  SUPPORTED_MATCHING_RULES, WSD_MULTICAST_ADDRESS, WSD_PORT, type AppSequence, type DeviceDescription, type DiscoveryRequest,
} from './messages';
import { announceSocket, multicastSocket, release, send, unicastSocket, type Member, type SharedSocket, type Via } from './sockets';

/**
 * WS-Discovery APP_MAX_DELAY: a target service waits a random time up to this long before it answers a
 * multicast Probe or Resolve and before it says Hello, so hundreds of devices do not answer in one burst
 * that overflows the client's receive buffer.
 */
export const APP_MAX_DELAY_MS = 500;

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
