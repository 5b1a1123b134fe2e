/**
 * What the fuzz run measures about a process: its peak RSS and its event-loop stalls, each with the input in flight
 * that most likely caused it (the one with the largest body). Used in the library process for the figures that
 * count, and in the harness for its own peak.
 */

/** Goal for the library process's peak RSS over a fuzz run (issue 10), in MB. */
export const RSS_GOAL_MB = 300;

/** The least an in-flight input must tell: which one it is and how large its damaged body is. */
export interface Sized {
  index: number;
  bytes: number;
}

const largest = <T extends Sized>(items: Iterable<T>): T | undefined => [...items].sort((a, b) => b.bytes - a.bytes)[0];

/** Peak RSS of this process in bytes (the kernel's high-water mark, which also catches peaks between samples). */
export const maxRssBytes = (): number => process.resourceUsage().maxRSS * 1024;

/**
 * Samples RSS; at each new high, notes the input in flight with the largest body (the likely cause) and tells
 * `onPeak` (when given).
 */
export function startRssSampler<T extends Sized>(inFlight: Map<number, T>, onPeak?: (bytes: number, suspect?: T) => void): { stop(): { bytes: number; suspect?: T } } {
  let peak = process.memoryUsage.rss();
  let suspect: T | undefined;
  let lastMaxRss = maxRssBytes();
  const t = setInterval(() => {
    // maxRSS also catches peaks between samples: a rise since the last sample counts as a new high.
    const maxRss = maxRssBytes();
    const rss = Math.max(process.memoryUsage.rss(), maxRss > lastMaxRss ? maxRss : 0);
    lastMaxRss = maxRss;
    if (rss > peak) {
      peak = rss;
      suspect = largest(inFlight.values());
      onPeak?.(peak, suspect);
    }
  }, 100);
  t.unref();
  return {
    stop() {
      clearInterval(t);
      peak = Math.max(peak, maxRssBytes());
      return { bytes: peak, suspect };
    },
  };
}

/**
 * Notices the event loop blocked for a second or more (a long synchronous parse) and names the likely culprit:
 * the input in flight, or ended just now, with the largest body (a blocking parse ends before the heartbeat that
 * notices the stall runs).
 */
export class StallWatch<T extends Sized> {
  private readonly recent: Array<{ at: number; item: T }> = [];
  private readonly timer: NodeJS.Timeout;
  private beat = Date.now();

  constructor(
    private readonly inFlight: Map<number, T>,
    onStall: (ms: number, suspect?: T) => void,
  ) {
    this.timer = setInterval(() => {
      const now = Date.now();
      const gap = now - this.beat;
      if (gap >= 1000) {
        const candidates = [...this.inFlight.values(), ...this.recent.filter((x) => x.at >= this.beat - 50).map((x) => x.item)];
        onStall(gap, largest(candidates));
      }
      this.beat = now;
      while (this.recent.length && this.recent[0]!.at < now - 200) this.recent.shift();
    }, 50);
    this.timer.unref();
  }

  /** An input settled: it stays a suspect for a moment. */
  ended(item: T): void {
    this.recent.push({ at: Date.now(), item });
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
