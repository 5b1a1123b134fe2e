import * as fs from 'node:fs';
import * as path from 'node:path';

/** ONVIFQ_BENCH_DIST=<dir>/dist/lib measures another build (before/after comparisons); the simulator process follows it. */
const DIST = process.env.ONVIFQ_BENCH_DIST ?? path.join(__dirname, '..', '..', '..', 'dist', 'lib');

/**
 * A module of the library as users run it: compiled by tsc into dist/ (`npm run bench` builds first), typed by its
 * source. Loading the sources through tsx would measure tsx's output instead, which adds a helper call to every
 * function it compiles (a few % of a call's CPU).
 */
export function built<T>(module: string): T {
  const file = path.join(DIST, `${module}.js`);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run build first (npm run bench does)`);
  return require(file) as T;
}
