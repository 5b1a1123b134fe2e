/**
 * The short seeded slice of the project fuzz test (test/fuzz/run.ts; `npm run fuzz` runs the long one).
 * It runs in a child process so its crash handlers and memory figures are its own; inside it, the library client
 * runs in a process of its own again, apart from the mutator and the hostile server, and that process's peak RSS
 * is the figure held to the goal.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { REPO } from '../support/shared';
import { RSS_GOAL_MB } from './monitor';
import type { Summary } from './run';

/** Seed and size of the slice: about 40 s on a quiet 2-core box, a minute or two on a busy one. */
const SLICE_SEED = 20260;
const SLICE_INPUTS = 3000;


function runSlice(): Promise<{ summary: Summary; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'test/fuzz/run.ts'), '--inputs', String(SLICE_INPUTS), '--seed', String(SLICE_SEED), '--json'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = output.split('\n').find((l) => l.startsWith('FUZZ_SUMMARY '));
      if (code !== 0 || !line) return reject(new Error(`the fuzz slice exited with ${code}:\n${output.slice(-3000)}`));
      resolve({ summary: JSON.parse(line.slice('FUZZ_SUMMARY '.length)) as Summary, output });
    });
  });
}

describe('fuzz: a short seeded slice of mutated captures and transport faults (npm run fuzz runs the long one)', function () {
  // Generous: on a 2-core machine shared with other jobs the slice has taken up to four minutes.
  this.timeout(600_000);

  it(`${SLICE_INPUTS} inputs (seed ${SLICE_SEED}) end without a crash, a hang or an unclear error, the library process under ${RSS_GOAL_MB} MB of RSS`, async function () {
    const { summary: s } = await runSlice();
    console.log(
      `      ${s.inputs} inputs in ${s.seconds} s: ok ${s.ok}, clear ${s.clear}, unclear ${s.unclear}, hangs ${s.hangs}, crashes ${s.crashes}, ` +
        `event loop stalls ${s.stalls} (longest ${s.longestStallMs} ms), peak RSS library ${s.peakRssMb} MB, harness ${s.harnessPeakRssMb} MB`,
    );
    const show = (outcome: string) =>
      s.classes
        .filter((c) => c.outcome === outcome)
        .slice(0, 5)
        .map((c) => `[${c.count}] ${c.key}\n    e.g. #${c.examples[0]?.index}: ${c.examples[0]?.message.split('\n')[0]}`)
        .join('\n');
    assert.equal(s.inputs, SLICE_INPUTS);
    assert.equal(s.crashes, 0, `crashes (replay with node --import tsx test/fuzz/run.ts --seed ${SLICE_SEED} --replay N):\n${show('crash')}`);
    assert.equal(s.hangs, 0, `hangs:\n${show('hang')}`);
    assert.equal(s.unclear, 0, `unclear errors:\n${show('unclear')}`);
    // Every path was exercised, and the undamaged inputs still read.
    for (const p of ['call', 'connect', 'events', 'discovery-parse', 'discovery-probe']) assert.ok(s.byPath[p]?.inputs, `no ${p} inputs`);
    assert.ok(s.ok > 0);
    const suspect = s.peakRssSuspect;
    assert.ok(
      s.peakRssMb > 0 && s.peakRssMb < RSS_GOAL_MB,
      `the library process peaked at ${s.peakRssMb} MB of RSS` + (suspect ? `; largest body in flight then: #${suspect.index} (${suspect.bytes} bytes, ${suspect.mutation}; transport ${suspect.fault})` : ''),
    );
  });
});
