import type { ItemMatcher, TopicMatcher } from './filter';
import type { RaisedEvent } from './notification';

/** What a pull point reports about itself (SimulatedDevice.pullPoints, GET /onvifq/state). */
export interface PullPointInfo {
  id: number;
  /** Subscription manager address as handed out (host of the request that created it). */
  address: string;
  createdAt: string;
  terminationTime: string;
  queueLength: number;
  /** Messages dropped because the queue was full (oldest first). */
  dropped: number;
  delivered: number;
  /** A PullMessages request is waiting on this pull point right now. */
  pulling: boolean;
  filter?: { topic?: string; messageContent?: string };
  changedOnly: boolean;
}

/**
 * One pull point: a bounded FIFO of events (shared event objects, so each queued message costs one
 * reference), at most one waiting PullMessages, and a lease.
 */
export class PullPoint {
  private items: RaisedEvent[] = [];
  private head = 0;
  dropped = 0;
  delivered = 0;
  /** Wakes the waiting PullMessages (new messages or the end of the pull point). */
  private wake?: () => void;
  private leaseTimer?: NodeJS.Timeout;
  closed = false;

  constructor(
    readonly id: number,
    readonly address: string,
    readonly createdAt: number,
    /** Device time (ms) after which the pull point is gone. */
    public terminationTime: number,
    /** The lease a pull or renew extends to, ms. */
    public leaseMs: number,
    readonly topicMatcher: TopicMatcher | undefined,
    readonly itemMatcher: ItemMatcher | undefined,
    readonly filterText: { topic?: string; messageContent?: string } | undefined,
    readonly changedOnly: boolean,
    private readonly capacity: number,
    /** Reached through the shared address plus a SubscriptionId header (referenceParameters mode). */
    readonly shared: boolean,
  ) {}

  get queueLength(): number {
    return this.items.length - this.head;
  }

  get pulling(): boolean {
    return this.wake !== undefined;
  }

  accepts(e: RaisedEvent): boolean {
    if (this.topicMatcher && !this.topicMatcher(e.path)) return false;
    if (this.itemMatcher && !this.itemMatcher(e.items)) return false;
    return true;
  }

  enqueue(e: RaisedEvent): void {
    if (this.closed) return;
    if (this.queueLength >= this.capacity) {
      this.head++;
      this.dropped++;
    }
    this.items.push(e);
    if (this.wake) {
      // Wake on the next turn so events raised together in one burst go out in one response.
      const w = this.wake;
      this.wake = undefined;
      setImmediate(w);
    }
  }

  take(limit: number): RaisedEvent[] {
    const out = this.items.slice(this.head, this.head + limit);
    this.head += out.length;
    this.delivered += out.length;
    // Compact now and then instead of shifting on every take.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Wait until a message is queued, the pull point closes, `ms` pass, or `signal` aborts. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const onAbort = () => done();
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', onAbort);
      this.wake = done;
    });
  }

  /** (Re)arm the lease timer; `onExpire` runs once the device clock passes terminationTime. */
  armLease(deviceNow: () => number, onExpire: () => void): void {
    if (this.leaseTimer) clearTimeout(this.leaseTimer);
    const remaining = this.terminationTime - deviceNow();
    // setTimeout cannot wait longer than ~24.8 days; re-check then.
    this.leaseTimer = setTimeout(() => {
      if (this.closed) return;
      if (this.pulling || deviceNow() < this.terminationTime) this.armLease(deviceNow, onExpire);
      else onExpire();
    }, Math.min(Math.max(remaining, this.pulling ? 100 : 0) + 5, 2 ** 31 - 1));
    this.leaseTimer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.leaseTimer) clearTimeout(this.leaseTimer);
    this.items = [];
    this.head = 0;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  info(): PullPointInfo {
    return {
      id: this.id,
      address: this.address,
      createdAt: new Date(this.createdAt).toISOString(),
      terminationTime: new Date(this.terminationTime).toISOString(),
      queueLength: this.queueLength,
      dropped: this.dropped,
      delivered: this.delivered,
      pulling: this.pulling,
      filter: this.filterText,
      changedOnly: this.changedOnly,
    };
  }
}
