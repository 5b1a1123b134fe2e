/** A request's overall time limit; `fire` runs once it passes. */
export interface Deadline {
  at: number;
  fire(): void;
}

/**
 * The overall time limits of the requests in flight, on one timer armed for the earliest of them. A later deadline
 * (the usual case: calls one after another with the same timeout) leaves the timer as it is; when it fires, what is due
 * fires and it is armed again for the earliest left. So a request costs a Set entry rather than a timer of its own.
 * The timer holds the process open only while a request is in flight, as a timer per request did.
 */
export class Deadlines {
  private readonly pending = new Set<Deadline>();
  private timer?: NodeJS.Timeout;
  private armedFor = Infinity;

  add(ms: number, fire: () => void): Deadline {
    const d: Deadline = { at: performance.now() + ms, fire };
    this.pending.add(d);
    if (d.at < this.armedFor) this.arm(d.at);
    else if (this.pending.size === 1) this.timer?.ref();
    return d;
  }

  remove(d: Deadline): void {
    if (this.pending.delete(d) && this.pending.size === 0) this.timer?.unref();
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    // Rounded up: a timer never fires early, so nothing is found "not yet due" by a fraction of a millisecond.
    this.timer = setTimeout(() => this.due(), Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(at - performance.now()))));
  }

  private due(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const d of this.pending) {
      if (d.at <= now) {
        this.pending.delete(d);
        d.fire();
      } else if (d.at < next) next = d.at;
    }
    if (next < this.armedFor && this.pending.size > 0) this.arm(next);
  }
}

/** The deadlines of every request of this process. */
export const deadlines = new Deadlines();
/** setTimeout's longest wait; a later deadline is looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;
