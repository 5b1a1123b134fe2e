import type { Clock, TimerHandle } from '../../lib/util/clock';

interface Pending {
  at: number;
  delay: number;
  fn: () => void;
}

/**
 * A clock that moves only when the test says so, for the lease, renew and retry timers of EventHub and DeviceLink
 * (their `clock` option). Everything else (the simulator, sockets, request timeouts) keeps real time.
 */
export class ManualClock implements Clock {
  private time: number;
  private readonly timers = new Map<TimerHandle, Pending>();
  private waiters: Array<() => void> = [];

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = {};
    this.timers.set(handle, { at: this.time + Math.max(0, ms), delay: ms, fn });
    for (const w of this.waiters.splice(0)) w();
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle);
  }

  /** Delays of the timers still pending, earliest first. */
  get pending(): number[] {
    return [...this.timers.values()].sort((a, b) => a.at - b.at).map((p) => p.delay);
  }

  /** Resolves once a timer is pending (the code under test has scheduled its next step); fails after `timeoutMs` real time. */
  async nextTimer(what = 'a timer', timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.timers.size === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} to be scheduled`);
      await new Promise<void>((resolve) => {
        const guard = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(guard);
          resolve();
        });
      });
    }
    return this.pending[0]!;
  }

  /** Moves time to the earliest pending timer and runs it; returns how far time moved. */
  fireNext(): number {
    const [handle, p] = [...this.timers.entries()].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
    if (!handle || !p) throw new Error('no timer pending');
    this.timers.delete(handle);
    const moved = p.at - this.time;
    this.time = Math.max(this.time, p.at);
    p.fn();
    return moved;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, p]) => p.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].fn();
    }
    this.time = end;
  }
}

/** A seeded random source in [0, 1) (mulberry32), so jittered sequences repeat. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
