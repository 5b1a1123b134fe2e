/**
 * Probe and Resolve: send WS-Discovery probes (multicast on every chosen IPv4 interface, and/or directed
 * unicast to given addresses), then collect the ProbeMatches that come back for a time window.
 * One socket per interface so a multi-homed host finds devices on every network; each probe is
 * resent with growing random gaps (SOAP-over-UDP), and replies are de-duplicated by endpoint.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { Observable } from 'rxjs';
import { OnvifError } from '../errors';
import {
  DISCOVERY_MULTICAST_ADDRESS,
  DISCOVERY_PORT,
  buildProbe,
  buildResolve,
  canonicalEndpoint,
  messageIdKey,
  newMessageId,
  parseDiscoveryMessage,
  type DiscoveredDevice,
} from './messages';
import { DatagramQueue, enlargeReceiveBuffer } from './receive';
import { scopesMatch } from './scopes';
import { expandTargets, selectInterfaces, type ProbeInterface, type UnicastTarget } from './targets';
import { localNetworks, rankXAddrs } from './xaddrs';

export interface ProbeOptions {
  /** Collection window in ms (default 3000). */
  timeoutMs?: number;
  /** Interface names or IPv4 addresses to probe on; default: every non-internal IPv4 interface. */
  interfaces?: string[];
  /** Unicast probe to these: 'a.b.c.d', 'a.b.c.d:port', 'a.b.c.d-e' (last-octet range), 'a.b.c.0/24' (at most /22). */
  targets?: string[];
  /** Multicast too; default true without targets, false with targets. */
  multicast?: boolean;
  /** Sends of each probe per destination, jittered (default 3). */
  repeats?: number;
  /** Destination port (default 3702). */
  port?: number;
  /** Only devices with these scopes (rfc3986 rule: whole-segment prefix). */
  scopes?: string[];
  /** Abort ends the window early; what was found so far is the result. */
  signal?: AbortSignal;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 3000;
export const DEFAULT_PROBE_REPEATS = 3;
/** The two probes we send: devices match a probe only if they list every type in it, and some list only one. */
const PROBE_TYPES = ['dn:NetworkVideoTransmitter', 'tds:Device'];
// SOAP-over-UDP retransmission: first resend after 50-250 ms, then double the gap, capped at 500 ms.
const UDP_MIN_DELAY = 50;
const UDP_MAX_DELAY = 250;
const UDP_UPPER_DELAY = 500;

interface SessionHooks {
  /** A device seen for the first time. */
  found(device: DiscoveredDevice): void;
  /** The window closed (or was stopped); `error` when nothing could be sent at all. */
  ended(devices: DiscoveredDevice[], error?: OnvifError): void;
  /** Resolve mode: only this endpoint counts. */
  endpoint?: string;
}

interface Outgoing {
  messageId: string;
  xml: Buffer;
}

function bindSocket(address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4' });
    const onError = (e: Error) => {
      socket.close();
      reject(e);
    };
    socket.once('error', onError);
    socket.bind({ port: 0, address }, () => {
      socket.off('error', onError);
      // Hundreds of replies can arrive within APP_MAX_DELAY (500 ms) of a probe.
      enlargeReceiveBuffer(socket);
      resolve(socket);
    });
  });
}

function randomBetween(min: number, max: number): number {
  return min + Math.random() * (max - min);
}

/** One search: sockets, sends, collection, and the end of the window. */
class ProbeSession {
  private readonly devices = new Map<string, DiscoveredDevice>();
  private readonly ourIds = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly sockets: Socket[] = [];
  private readonly networks = localNetworks();
  private sendsOk = 0;
  private lastSendError?: Error;
  private ended = false;
  /** Replies are queued as they arrive and parsed in slices, so a burst is read off the socket promptly. */
  private readonly inbox = new DatagramQueue((msg, rinfo) => this.receive(msg, rinfo));
  private readonly onAbort = () => this.close();

  constructor(
    private readonly options: ProbeOptions,
    private readonly hooks: SessionHooks,
  ) {}

  async start(): Promise<void> {
    const o = this.options;
    const port = o.port ?? DISCOVERY_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new OnvifError('invalid-input', `discovery port ${port} is not a port number (1-65535)`);
    const timeoutMs = o.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    if (!(timeoutMs > 0)) throw new OnvifError('invalid-input', `discovery timeout ${timeoutMs} ms must be positive`);
    const repeats = Math.max(1, Math.min(10, Math.floor(o.repeats ?? DEFAULT_PROBE_REPEATS)));
    const targets = expandTargets(o.targets ?? [], port);
    const multicast = o.multicast ?? targets.length === 0;
    const interfaces = multicast ? selectInterfaces(o.interfaces) : [];
    if (!multicast && !targets.length) throw new OnvifError('invalid-input', 'nothing to probe: multicast is off and no unicast targets were given');
    if (o.signal?.aborted) return this.finish();

    const outgoing: Outgoing[] = [];
    const add = (id: string, xml: string) => {
      this.ourIds.add(messageIdKey(id));
      outgoing.push({ messageId: id, xml: Buffer.from(xml) });
    };
    if (this.hooks.endpoint) {
      const id = newMessageId();
      add(id, buildResolve(id, this.hooks.endpoint));
    }
    for (const type of PROBE_TYPES) {
      const id = newMessageId();
      add(id, buildProbe(id, type, o.scopes));
    }

    const plan: { socket: Socket; to: UnicastTarget[] }[] = [];
    const failures: string[] = [];
    for (const itf of interfaces) {
      try {
        const socket = await this.open(itf.address);
        socket.setMulticastInterface(itf.address);
        plan.push({ socket, to: [{ address: DISCOVERY_MULTICAST_ADDRESS, port }] });
      } catch (e) {
        failures.push(`${describe(itf)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    if (targets.length) {
      try {
        plan.push({ socket: await this.open('0.0.0.0'), to: targets });
      } catch (e) {
        failures.push(`unicast: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    if (!plan.length) {
      this.closeSockets();
      throw new OnvifError('unreachable', `could not open a UDP socket for WS-Discovery (${failures.join('; ')}); check the interface and that UDP is allowed`);
    }
    if (this.ended) return; // stopped while the sockets were opening

    o.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.timers.push(setTimeout(() => this.close(), timeoutMs));
    // Send now, then resend with growing random gaps, all inside the window.
    let at = 0;
    let gap = randomBetween(UDP_MIN_DELAY, UDP_MAX_DELAY);
    for (let i = 0; i < repeats && at < timeoutMs; i++) {
      const when = at;
      this.timers.push(setTimeout(() => this.sendRound(plan, outgoing), when));
      at += gap;
      gap = Math.min(gap * 2, UDP_UPPER_DELAY);
    }
  }

  /** End of the window (or abort): replies that arrived in time but wait in the queue still count. */
  private close(): void {
    if (this.ended) return;
    this.inbox.flush();
    this.finish();
  }

  /** Stop now (unsubscribe, resolve found its device, failure to start). */
  finish(error?: OnvifError): void {
    if (this.ended) return;
    this.ended = true;
    this.inbox.clear();
    for (const t of this.timers) clearTimeout(t);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.closeSockets();
    const err = error ?? (this.sendsOk === 0 && this.lastSendError
      ? new OnvifError('unreachable', `the WS-Discovery probe could not be sent (${(this.lastSendError as NodeJS.ErrnoException).code ?? this.lastSendError.message}); check the interface, its route for ${DISCOVERY_MULTICAST_ADDRESS}, or the target addresses`, { cause: this.lastSendError })
      : undefined);
    this.hooks.ended([...this.devices.values()], err);
  }

  private async open(address: string): Promise<Socket> {
    const socket = await bindSocket(address);
    if (this.ended) {
      socket.close(); // stopped while binding
      throw new Error('stopped');
    }
    this.sockets.push(socket);
    socket.on('message', this.inbox.push);
    // A socket-level error (e.g. ICMP unreachable surfaced late) must not end the search or the process.
    socket.on('error', () => undefined);
    return socket;
  }

  private sendRound(plan: { socket: Socket; to: UnicastTarget[] }[], outgoing: Outgoing[]): void {
    for (const { socket, to } of plan) {
      for (const target of to) {
        for (const m of outgoing) {
          try {
            socket.send(m.xml, target.port, target.address, (err) => {
              if (err) this.lastSendError = err;
              else this.sendsOk++;
            });
          } catch (e) {
            this.lastSendError = e as Error; // socket closed meanwhile
          }
        }
      }
    }
  }

  private receive(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.ended) return;
    const parsed = parseDiscoveryMessage(msg, `${rinfo.address}:${rinfo.port}`, this.networks);
    if (!parsed || (parsed.kind !== 'ProbeMatches' && parsed.kind !== 'ResolveMatches')) return;
    // A reply to someone else's probe is not ours; some firmware sends no RelatesTo at all, which we accept.
    if (parsed.relatesTo && !this.ourIds.has(messageIdKey(parsed.relatesTo))) return;
    for (const device of parsed.devices) {
      if (this.options.scopes?.length && !scopesMatch(this.options.scopes, device.scopes)) continue;
      if (this.hooks.endpoint && device.endpoint !== canonicalEndpoint(this.hooks.endpoint)) continue;
      const known = this.devices.get(device.endpoint);
      if (known) {
        // The same device again (another interface, another probe): keep every address it gave.
        const merged = [...known.xaddrs, ...device.xaddrs.filter((x) => !known.xaddrs.includes(x))];
        known.xaddrs = rankXAddrs(merged, this.networks, known.from.slice(0, known.from.lastIndexOf(':')));
        known.lastSeen = device.lastSeen;
        continue;
      }
      this.devices.set(device.endpoint, device);
      this.hooks.found({ ...device, xaddrs: [...device.xaddrs] });
      if (this.ended) return;
    }
  }

  private closeSockets(): void {
    for (const s of this.sockets.splice(0)) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
  }
}

function describe(itf: ProbeInterface): string {
  return `${itf.name} (${itf.address})`;
}

function run(options: ProbeOptions, hooks: SessionHooks): ProbeSession {
  const session = new ProbeSession(options, hooks);
  session.start().catch((e: unknown) => {
    const err = e instanceof OnvifError ? e : new OnvifError('unreachable', `WS-Discovery failed: ${(e as Error).message}`, { cause: e });
    session.finish(err);
  });
  return session;
}

/** Each ONVIF device once, as its first reply arrives; completes at the end of the window. */
export function probe$(options: ProbeOptions = {}): Observable<DiscoveredDevice> {
  return new Observable<DiscoveredDevice>((subscriber) => {
    const session = run(options, {
      found: (d) => subscriber.next(d),
      ended: (_all, error) => (error ? subscriber.error(error) : subscriber.complete()),
    });
    return () => session.finish();
  });
}

/** Every ONVIF device that answered within the window (addresses merged across replies), in the order found. */
export function probe(options: ProbeOptions = {}): Promise<DiscoveredDevice[]> {
  return new Promise((resolve, reject) => {
    run(options, {
      found: () => undefined,
      ended: (all, error) => (error ? reject(error) : resolve(all)),
    });
  });
}

/**
 * Find a known endpoint ('urn:uuid:…' or 'uuid:…'): sends a Resolve and, because Resolve is optional
 * for ONVIF devices, the usual probes too. Resolves as soon as the device answers, or undefined at the
 * end of the window.
 */
export function resolve(endpoint: string, options: ProbeOptions = {}): Promise<DiscoveredDevice | undefined> {
  return new Promise((done, reject) => {
    let session: ProbeSession | undefined = undefined;
    let result: DiscoveredDevice | undefined;
    session = run(options, {
      endpoint: canonicalEndpoint(endpoint),
      found: (d) => {
        result = d;
        queueMicrotask(() => session?.finish());
      },
      ended: (all, error) => (result || all[0] ? done(result ?? all[0]) : error ? reject(error) : done(undefined)),
    });
  });
}
