/**
 * The short seeded slice of the project fuzz test (test/fuzz/run.ts; `npm run fuzz` runs the long one).
 * It runs in a child process so its crash handlers and memory figure are its own.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { REPO } from '../support/shared';
import type { Summary } from './run';

/** Seed and size of the slice: about 40 s on a quiet 2-core box, a minute or two on a busy one. */
const SLICE_SEED = 20260;
const SLICE_INPUTS = 3000;

/**
 * Unclear errors this slice finds before the fixes of issue 10 are merged (measured: 199-201 with the real
 * captures, 219 with the project seeds alone; the count moves by one or two with socket timing): Node HTTP parser
 * codes (HPE_*) in "could not be reached" messages, device text with control characters or over 600 characters
 * in parse and fault messages. FLIP BOTH TO 0 once the error-message fixes (items 2, 3, 7) are merged: 0 is the
 * goal this assertion states.
 */
const UNCLEAR_BUDGET = { withRealCaptures: 205, projectSeedsOnly: 225 };
/**
 * Hangs this slice finds before the fix (measured: 33, every time): a device that answers NotAuthorized (or a
 * bare 401) to GetSystemDateAndTime as well makes the client re-measure its clock without end, hundreds of
 * requests a second. FLIP TO 0 with that fix.
 */
const HANG_BUDGET = 33;

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
  this.timeout(300_000);

  it(`${SLICE_INPUTS} inputs (seed ${SLICE_SEED}) end without a crash; hangs and unclear errors stay within their budgets (goal: none)`, async function () {
    const { summary: s } = await runSlice();
    console.log(
      `      ${s.inputs} inputs in ${s.seconds} s: ok ${s.ok}, clear ${s.clear}, unclear ${s.unclear}, hangs ${s.hangs}, crashes ${s.crashes}, ` +
        `event loop stalls ${s.stalls} (longest ${s.longestStallMs} ms), peak RSS ${s.peakRssMb} MB`,
    );
    const show = (outcome: string) =>
      s.classes
        .filter((c) => c.outcome === outcome)
        .slice(0, 5)
        .map((c) => `[${c.count}] ${c.key}\n    e.g. #${c.examples[0]?.index}: ${c.examples[0]?.message.split('\n')[0]}`)
        .join('\n');
    assert.equal(s.inputs, SLICE_INPUTS);
    assert.equal(s.crashes, 0, `crashes (replay with node --import tsx test/fuzz/run.ts --seed ${SLICE_SEED} --replay N):\n${show('crash')}`);
    assert.ok(s.hangs <= HANG_BUDGET, `${s.hangs} hangs, budget ${HANG_BUDGET}:\n${show('hang')}`);
    const unclearBudget = s.realCaptures ? UNCLEAR_BUDGET.withRealCaptures : UNCLEAR_BUDGET.projectSeedsOnly;
    assert.ok(s.unclear <= unclearBudget, `${s.unclear} unclear errors, budget ${unclearBudget}:\n${show('unclear')}`);
    // Every path was exercised, and the undamaged inputs still read.
    for (const p of ['call', 'connect', 'events', 'discovery-parse', 'discovery-probe']) assert.ok(s.byPath[p]?.inputs, `no ${p} inputs`);
    assert.ok(s.ok > 0);
  });
});
