/** A timer as Clock.setTimeout returns it; Node's Timeout is one (unref: the timer alone does not keep the process alive). */
export interface TimerHandle {
  unref?(): unknown;
}

/**
 * The time source of the timer-driven code (lease renewals, retry delays). The system clock by default; a program
 * that runs its own scheduler, or a test that steps time, passes another.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Date.now and Node's timers, looked up at each call (so node:test's mock.timers applies too). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
