/**
 * Parse one large answer in a process of its own and print what it cost, as one JSON line:
 *   node --expose-gc --import tsx test/support/parse-child.ts <shape> <bytes>
 *   node --expose-gc --import tsx test/support/parse-child.ts deep <depth>
 * One process per answer, its peak RSS mark reset after the answer is built, so the peak belongs to the parse alone.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseEnvelope } from '../../lib/soap/envelope';
import type { XmlElement } from '../../lib/xml/parse';
import { buildAnswer, buildDeepAnswer } from './large-answers';

export interface ParseCost {
  shape: string;
  bytes: number;
  elements?: number;
  ms: number;
  /** Peak RSS during the parse minus the RSS before it (the answer itself already in memory), in MB. */
  peakRssGrowthMb: number;
  /** Heap still held by the parsed tree after a full GC, in MB. */
  retainedHeapMb: number;
  error?: string;
}

const MB = 1024 * 1024;

/**
 * Start the peak-RSS mark afresh from the current RSS (Linux: writing 5 to clear_refs resets VmHWM), so the peak
 * read after the parse is the parse's own, not the peak of building the answer before it. False where not possible.
 */
function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak RSS in bytes since start, or since resetPeakRss(). */
function peakRssBytes(): number {
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(fs.existsSync('/proc/self/status') ? fs.readFileSync('/proc/self/status', 'utf8') : '');
  return hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with node --expose-gc');
  collect();
  collect();
}

function count(el: XmlElement): number {
  // Iterative: the tree may be deeper than the stack allows recursion.
  let n = 0;
  const todo = [el];
  while (todo.length) {
    const e = todo.pop()!;
    n++;
    for (const c of e.children) todo.push(c);
  }
  return n;
}

function main(): void {
  const [shape, sizeArg] = process.argv.slice(2);
  const answer = shape === 'deep' ? buildDeepAnswer(Number(sizeArg)) : buildAnswer(shape!, Number(sizeArg));
  gc();
  resetPeakRss();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  const cost: ParseCost = { shape: shape!, bytes: answer.length, ms: 0, peakRssGrowthMb: 0, retainedHeapMb: 0 };
  let parsed: ReturnType<typeof parseEnvelope> | undefined;
  const t0 = performance.now();
  try {
    parsed = parseEnvelope(answer);
  } catch (e) {
    cost.error = `${(e as Error).name}: ${(e as Error).message}`;
  }
  cost.ms = Math.round(performance.now() - t0);
  const peakRss = peakRssBytes();
  gc();
  cost.retainedHeapMb = +((process.memoryUsage().heapUsed - heapBefore) / MB).toFixed(1);
  cost.peakRssGrowthMb = +(Math.max(0, peakRss - rssBefore) / MB).toFixed(1);
  if (parsed) cost.elements = count(parsed.envelope);
  process.stdout.write(JSON.stringify(cost) + '\n');
}

main();
