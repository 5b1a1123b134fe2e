/**
 * Benchmark: what parsing a large answer costs. Each answer (10 MB by default, under the 10 MB response cap)
 * is parsed in a child process of its own, so one case's memory does not pollute the next. Prints the
 * parse time (the event loop is blocked for all of it), the peak RSS growth during the parse, and the heap the
 * parsed tree keeps, for answers refused by the element limit too. A script that prints figures, not a test with a time limit.
 *
 *   npm run bench -- --only parse [--mb 10] [--depth 100000]
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { SHAPES } from '../support/large-answers';
import type { ParseCost } from '../support/parse-child';
import { arg } from './args';

const CHILD = path.join(__dirname, '..', 'support', 'parse-child.ts');

function runCase(shape: string, size: number): ParseCost {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, shape, String(size)], {
    encoding: 'utf8',
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as ParseCost;
}

export async function benchParse(): Promise<void> {
  const mb = arg('mb', 10);
  const depth = arg('depth', 100_000);
  const rows: string[][] = [['shape', 'MB', 'elements', 'parse ms', 'ms/MB', 'peak RSS +MB', 'kept heap MB', 'result']];
  const cases: Array<[string, number]> = [
    ...Object.keys(SHAPES).map((s): [string, number] => [s, Math.floor(mb * 1024 * 1024)]),
    // Dense answers that stay within the default element limit (200 000 elements and attributes), parsed in full.
    ['users', 5 * 1024 * 1024],
    ['events', 4 * 1024 * 1024],
    ['deep', depth],
  ];
  for (const [shape, size] of cases) {
    const c = runCase(shape, size);
    const mbs = c.bytes / (1024 * 1024);
    rows.push([
      shape === 'deep' ? `deep ${depth}` : shape,
      mbs.toFixed(2),
      String(c.elements ?? '-'),
      String(c.ms),
      (c.ms / mbs).toFixed(0),
      c.peakRssGrowthMb.toFixed(1),
      c.retainedHeapMb.toFixed(1),
      c.error ? c.error.slice(0, 70) : 'ok',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((v, i) => (i === 0 || i === r.length - 1 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  '));
}
