/**
 * The retry countdown under a node. Every node of one device counts down to the same moment (the link's
 * `retryAt`) and ticks on the whole seconds before it, so all of them show the same number at the same time,
 * however long after the state change each one started counting.
 */
export class RetryCountdown {
  private timer?: NodeJS.Timeout;
  private target?: number;

  /** `onTick` re-renders the status; it reads the time itself (secondsLeft). */
  constructor(private readonly onTick: () => void) {}

  /** Count down to `retryAt` (ms, Date.now() clock); undefined stops counting. */
  follow(retryAt: number | undefined): void {
    if (retryAt === this.target) return;
    this.stop();
    this.target = retryAt;
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.target = undefined;
  }

  private schedule(): void {
    const target = this.target;
    if (target === undefined) return;
    const left = target - Date.now();
    if (left <= 1000) return; // "1s" stays until the attempt changes the state
    // The next moment the whole-second count drops, +1 ms so ceil() has dropped by then.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onTick();
      this.schedule();
    }, (left % 1000 || 1000) + 1);
    this.timer.unref?.();
  }
}

/** Whole seconds until `retryAt`, at least 1 (the attempt is due). */
export function secondsLeft(retryAt: number, now = Date.now()): number {
  return Math.max(1, Math.ceil((retryAt - now) / 1000));
}
