/**
 * Hello and Bye: devices announce themselves on the WS-Discovery multicast group when they come online
 * or leave (Core §7.2, §7.3.5). The listener joins the group on port 3702 with address reuse, so it
 * coexists with other WS-Discovery software on the host, and never answers anything.
 */
import { createSocket, type Socket } from 'node:dgram';
import { Observable, Subject } from 'rxjs';
import { OnvifError } from '../errors';
import { DISCOVERY_MULTICAST_ADDRESS, DISCOVERY_PORT, messageIdKey, parseDiscoveryMessage, type DiscoveredDevice } from './messages';
import { DatagramQueue, enlargeReceiveBuffer } from './receive';
import { selectInterfaces } from './targets';
import { localNetworks } from './xaddrs';

export interface PresenceEvent {
  type: 'hello' | 'bye';
  device: DiscoveredDevice;
  /** ISO-8601 time the message arrived. */
  at: string;
}

export interface DiscoveryListenerOptions {
  /** Interface names or IPv4 addresses to join the group on; default: every non-internal IPv4 interface (loopback if there is none). */
  interfaces?: string[];
  /** Default 3702. */
  port?: number;
}

/** Repeated sends of one announcement share a MessageID; remember this many to drop the repeats. */
const REMEMBERED_MESSAGES = 512;

export class DiscoveryListener {
  private readonly subject = new Subject<PresenceEvent>();
  /** Devices going online ('hello') and offline ('bye'), as they announce it. Does not complete on stop(). */
  readonly events$: Observable<PresenceEvent> = this.subject.asObservable();
  private socket?: Socket;
  private inbox?: DatagramQueue;
  private readonly seen: string[] = [];
  private bufferBytes = 0;

  constructor(private readonly options: DiscoveryListenerOptions = {}) {}

  /**
   * The socket's receive buffer as the kernel granted it, bytes (0 until started). Linux caps the 4 MiB
   * asked for at net.core.rmem_max; raise that sysctl if Hellos get lost when many devices start at once.
   */
  get receiveBufferBytes(): number {
    return this.bufferBytes;
  }

  async start(): Promise<void> {
    if (this.socket) return;
    const port = this.options.port ?? DISCOVERY_PORT;
    const interfaces = selectInterfaces(this.options.interfaces);
    const networks = localNetworks();
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        socket.close();
        reject(new OnvifError('unreachable', `cannot listen for WS-Discovery announcements on UDP port ${port} (${e.code ?? e.message}); another program may hold the port without sharing it`, { cause: e }));
      };
      socket.once('error', onError);
      socket.bind({ port, exclusive: false }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    const joined: string[] = [];
    const failed: string[] = [];
    for (const itf of interfaces) {
      try {
        socket.addMembership(DISCOVERY_MULTICAST_ADDRESS, itf.address);
        joined.push(itf.address);
      } catch (e) {
        failed.push(`${itf.name} (${itf.address}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    if (!joined.length) {
      socket.close();
      throw new OnvifError('unreachable', `cannot join the WS-Discovery multicast group ${DISCOVERY_MULTICAST_ADDRESS} on any interface (${failed.join('; ')})`);
    }
    socket.on('error', () => undefined); // a late socket error must not take the process down
    // Many devices back from a power cut say Hello within APP_MAX_DELAY (500 ms) of each other.
    this.bufferBytes = enlargeReceiveBuffer(socket);
    const inbox = new DatagramQueue((msg, rinfo, receivedAt) => {
      const parsed = parseDiscoveryMessage(msg, `${rinfo.address}:${rinfo.port}`, networks);
      if (!parsed || (parsed.kind !== 'Hello' && parsed.kind !== 'Bye')) return;
      if (parsed.messageId) {
        const key = messageIdKey(parsed.messageId);
        if (this.seen.includes(key)) return;
        this.seen.push(key);
        if (this.seen.length > REMEMBERED_MESSAGES) this.seen.shift();
      }
      const at = new Date(receivedAt).toISOString();
      for (const device of parsed.devices) this.subject.next({ type: parsed.kind === 'Hello' ? 'hello' : 'bye', device, at });
    });
    socket.on('message', inbox.push);
    this.inbox = inbox;
    this.socket = socket;
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    this.inbox?.clear();
    this.inbox = undefined;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
