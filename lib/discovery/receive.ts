/**
 * Receiving bursts of WS-Discovery datagrams without losing them. Hundreds of devices answer one probe
 * (or announce themselves after a power cut) within about half a second; whatever the kernel cannot hold
 * in the socket's receive buffer while the process is busy is dropped, and UDP never resends it.
 * So: ask for a large receive buffer, and keep the 'message' handler cheap (it only queues the raw
 * datagram); parsing happens in short slices in between, so the event loop returns to the socket often.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';

/** Room for a few thousand replies (about 2.3 kB of kernel memory each on Linux). */
export const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
/** Longest stretch spent parsing before the event loop gets back to the sockets. */
const PARSE_SLICE_MS = 4;

/**
 * Ask for a large receive buffer on a bound socket; best effort. Returns the size the kernel granted, 0 when
 * unknown. Linux caps the request at net.core.rmem_max (212992 on a stock kernel), for root too: Node only has
 * SO_RCVBUF, not SO_RCVBUFFORCE. It reports double the size asked for (its bookkeeping overhead).
 */
export function enlargeReceiveBuffer(socket: Socket, bytes = RECEIVE_BUFFER_BYTES): number {
  try {
    socket.setRecvBufferSize(bytes);
  } catch {
    // Refused (not bound yet, or a platform without the option): the default buffer still works, only smaller.
  }
  try {
    return socket.getRecvBufferSize();
  } catch {
    return 0;
  }
}

/** Raw datagrams queued as they arrive, handed to `handle` in time-limited slices. */
export class DatagramQueue {
  private items: [Buffer, RemoteInfo, number][] = [];
  private next = 0;
  private scheduled?: NodeJS.Immediate;

  /** `receivedAt`: Date.now() when the datagram came off the socket. */
  constructor(private readonly handle: (datagram: Buffer, from: RemoteInfo, receivedAt: number) => void) {}

  /** The socket's 'message' listener: queue only, no parsing here. */
  readonly push = (datagram: Buffer, from: RemoteInfo): void => {
    this.items.push([datagram, from, Date.now()]);
    this.scheduled ??= setImmediate(this.slice);
  };

  /** Handle everything queued now (e.g. when the collection window closes). */
  flush(): void {
    this.cancel();
    this.run(Infinity);
  }

  /** Forget what is queued. */
  clear(): void {
    this.cancel();
    this.items = [];
    this.next = 0;
  }

  private readonly slice = (): void => {
    this.scheduled = undefined;
    this.run(performance.now() + PARSE_SLICE_MS);
    if (this.next < this.items.length) this.scheduled ??= setImmediate(this.slice);
  };

  private run(until: number): void {
    // `handle` may clear() or flush() the queue (a consumer that stops the search): re-check each round.
    while (this.next < this.items.length) {
      const [datagram, from, receivedAt] = this.items[this.next]!;
      this.items[this.next++] = undefined as never; // let the buffer go
      this.handle(datagram, from, receivedAt);
      if (performance.now() >= until) break;
    }
    if (this.next >= this.items.length) {
      this.items = [];
      this.next = 0;
    }
  }

  private cancel(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }
}
