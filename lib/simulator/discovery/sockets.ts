/**
 * The UDP sockets of WS-Discovery, shared by every simulated device of this process, so hundreds of devices
 * cost a handful of sockets:
 * - one unicast socket per host:port (bound to the host address, so only probes sent to it arrive),
 * - one multicast socket per port (bound to the group address, so only multicast arrives; joined on each
 *   device's multicast interface),
 * - one announcing socket per multicast interface for Hello/Bye (bound to that interface's address and
 *   with it as IP_MULTICAST_IF, so announcements stay on that interface: the project's network rule).
 * A request is parsed once per socket and offered to every device that shares it; what goes out is paced
 * across all devices (the outbox below).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { parseDiscoveryRequest, WSD_MULTICAST_ADDRESS, type DiscoveryRequest } from './messages';

/** SOAP-over-UDP repeats a message with the same MessageID; copies seen within this window are dropped. */
const DUPLICATE_WINDOW_MS = 10_000;
/** Receive buffer asked for on the shared multicast socket (the kernel may grant less). */
const GROUP_RECEIVE_BUFFER_BYTES = 2 * 1024 * 1024;

export type Via = 'unicast' | 'multicast';

export interface Member {
  /** `audience`: how many devices of this process heard the same datagram. */
  onRequest(req: DiscoveryRequest, from: RemoteInfo, via: Via, audience: number): void;
}

/** One UDP socket shared by every device of this process that needs it, closed with the last one. */
export class SharedSocket {
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

export function release(shared: SharedSocket, member: Member): void {
  shared.members.delete(member);
  if (shared.members.size > 0) return;
  if (sharedSockets.get(shared.key) === shared) sharedSockets.delete(shared.key);
  try {
    shared.socket.close();
  } catch {
    // Never bound or already closed.
  }
}

export function unicastSocket(host: string, port: number, member: Member): Promise<SharedSocket> {
  const key = `unicast ${host}:${port}`;
  return acquire(key, member, () => new SharedSocket(key, createSocket({ type: 'udp4', reuseAddr: true }), bindSocket(host, port), 'unicast'));
}

export function multicastSocket(port: number, member: Member): Promise<SharedSocket> {
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

export function announceSocket(iface: string | undefined, member: Member): Promise<SharedSocket> {
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

export function send(socket: Socket, xml: string, port: number, address: string): Promise<void> {
  return new Promise((sent) => {
    outbox.push({ socket, xml, port, address, sent });
    if (!outboxScheduled) {
      outboxScheduled = true;
      setImmediate(sendSome);
    }
  });
}
