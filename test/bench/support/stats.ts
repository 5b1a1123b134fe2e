import * as os from 'node:os';

/** Median of a list (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const s = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-th percentile of an already sorted list (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** `median (min–max)` of several rounds, with `digits` decimals. */
export function spread(values: number[], digits = 0): string {
  const f = (v: number) => v.toFixed(digits);
  const failed = values.filter((v) => Number.isNaN(v)).length;
  values = values.filter((v) => !Number.isNaN(v));
  if (values.length === 0) return 'failed';
  if (failed) return `${f(median(values))} (${f(Math.min(...values))}–${f(Math.max(...values))}; ${failed} failed)`;
  return `${f(median(values))} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
}

/** One goal's line: the figure next to its target, and whether it is met. */
export function goalLine(goal: string, figure: string, target: string, met: boolean): string {
  return `  GOAL ${goal.padEnd(46)} ${figure.padEnd(34)} target ${target.padEnd(16)} ${met ? 'met' : 'NOT met'}`;
}

/** What the machine was doing, for the figures to be read against (they are noisy on a shared machine). */
export function machineState(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, load average ${load}, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

/** Collect garbage (twice: weak references and finalisers get a second pass) and return the heap in use, bytes. */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench does) so heap figures exclude garbage');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
