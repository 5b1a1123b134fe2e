/** `onvifq discover` as a user runs it, against responders that replay real ProbeMatches on 127.0.0.1. */
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { REPO, skipWith } from '../support/shared';
import { REAL, TSX, realCaptures, startReplayResponder, type ReplayResponder } from './support';

const CLI = path.join(REPO, 'lib/cli/onvifq.ts');

function onvifq(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('onvifq discover', function () {
  const responders: ReplayResponder[] = [];
  before(async function () {
    if (!existsSync(REAL)) skipWith(this, `skipped: ${REAL} not found (the team's shared real-device captures)`);
    for (const [, bytes] of realCaptures('ProbeMatches')) responders.push(await startReplayResponder({ replies: [bytes] }));
  });
  after(async () => {
    await Promise.all(responders.map((r) => r.close()));
  });

  it('--target 127.0.0.1:<port> --timeout 1 prints one JSON line per device', async function () {
    const targets = responders.flatMap((r) => ['--target', `127.0.0.1:${r.port}`]);
    const r = await onvifq(['discover', ...targets, '--timeout', '1']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, responders.length);
    const devices = lines.map((l) => JSON.parse(l) as { endpoint: string; name?: string; hardware?: string; xaddrs: string[] });
    assert.equal(new Set(devices.map((d) => d.endpoint)).size, responders.length);
    const axis = devices.find((d) => d.hardware === 'M2025-LE');
    assert.equal(axis?.name, 'AXIS M2025-LE');
    assert.equal(axis?.xaddrs.length, 4);
  });

  it('Ctrl-C (SIGINT) ends a long search cleanly with what was found', async function () {
    const p = spawn(TSX, [CLI, 'discover', '--target', `127.0.0.1:${responders[0].port}`, '--timeout', '60']);
    let stdout = '';
    p.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('\n')) p.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
    assert.equal(code, 0);
    assert.equal(stdout.trim().split('\n').length, 1);
  });

  it('a bad target is a usage error (exit 2) that says what is accepted', async function () {
    const r = await onvifq(['discover', '--target', '10.0.0.0/8', '--timeout', '1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^onvifq: discovery target "10\.0\.0\.0\/8" .*a\.b\.c\.d/);
  });

  it('--help lists the discover command and its options', async function () {
    const r = await onvifq(['--help']);
    assert.match(r.stdout, /onvifq discover \[--timeout S\] \[--interface IF\] \[--target ADDR\.\.\.\]/);
    assert.match(r.stdout, /--target, -t ADDR/);
  });
});
