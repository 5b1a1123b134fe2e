/**
 * The one retry policy of the library: DeviceLink reconnecting to a device that is away and EventHub recreating a
 * lost pull point both wait this long between attempts.
 */
export interface BackoffOptions {
  /** Delay before the first retry, ms (default 1000). */
  initialMs?: number;
  /** Longest delay, ms (default 60 000): a device that stays away is tried about once per maxMs. */
  maxMs?: number;
}

/** Added on top of the nominal delay, as a fraction of it. */
const JITTER = 0.2;

/**
 * Delay before retry number `attempt` (1 = after the first failure): initialMs, doubled per failure up to maxMs.
 * The jitter spreads the retries of many nodes (or many devices after a power cut) apart. It only lengthens (up to
 * 20 %), so a device is never tried sooner than the doubling allows, and never past maxMs: the cap is both the
 * longest wait a status countdown shows and the slowest retry rate. At the cap the retries keep the phase the
 * jitter gave them on the way up, so devices stay spread.
 * `random` returns [0, 1) like Math.random (a seeded one in tests).
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initialMs = options.initialMs ?? 1000;
  const maxMs = options.maxMs ?? 60_000;
  // Capping the exponent keeps 2 ** n finite for any attempt count.
  const nominal = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return Math.round(Math.min(maxMs, nominal * (1 + random() * JITTER)));
}
