/**
 * Waits until `probe` returns something truthy (and returns it), checking every few ms; fails after `timeoutMs`.
 * For conditions no event announces (a request the simulator recorded, a socket state): never a fixed sleep.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves once the local clock is past `time` (ms since epoch): for timestamps with whole-second resolution. */
export async function clockPast(time: number): Promise<void> {
  await waitFor(`the clock to pass ${new Date(time).toISOString()}`, () => Date.now() > time, Math.max(0, time - Date.now()) + 5000);
}
