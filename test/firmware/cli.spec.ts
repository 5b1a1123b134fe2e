/**
 * `onvifq firmware` as a user runs it (a child process): progress on stderr, the result as JSON on stdout,
 * one-line errors, --dry-run that changes nothing, and Ctrl-C that cancels safely.
 */
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { makeFirmware, SimulatedDevice, type SimulatorOptions } from '../../lib/simulator';
import { REPO } from '../support/shared';

const TSX = path.join(REPO, 'node_modules/.bin/tsx');
const CLI = path.join(REPO, 'lib/cli/onvifq.ts');
const ENV = { ONVIFQ_USER: 'admin', ONVIFQ_PASSWORD: 'Adm1n-secret' };

function onvifq(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [CLI, ...args], { env: { ...process.env, ...ENV }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('onvifq firmware (CLI)', function () {
  this.timeout(90_000);
  let dir: string;
  let file: string;
  const sims: SimulatedDevice[] = [];
  const start = async (o: SimulatorOptions = {}) => {
    const sim = new SimulatedDevice({ username: 'admin', password: 'Adm1n-secret', discovery: false, processorUsageIntervalMs: 0, firmwareFlashMs: 100, firmwareDownTimeMs: 1500, ...o });
    await sim.start();
    sims.push(sim);
    return sim;
  };
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'onvifq-fw-cli-'));
    file = path.join(dir, 'SimQ-1-2.0.0.fw');
    writeFileSync(file, makeFirmware({ model: 'SimQ-1', version: '2.0.0', payloadBytes: 1024 * 1024 }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  it('upgrades: progress lines on stderr ("uploading 100 %", "flashing…", "v2.0.0"), the result as JSON on stdout, the backup in a file', async () => {
    const sim = await start();
    const backupFile = path.join(dir, 'backup.bin');
    const r = await onvifq(['firmware', sim.xaddr, file, '--expect-version', '2.0.0', '--backup-first', backupFile]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split('\n');
    for (const expected of ['checking', 'starting', 'uploading 100 %', 'flashing…', 'rebooting…', 'verifying', 'v2.0.0']) assert.ok(lines.includes(expected), `stderr has "${expected}":\n${r.stderr}`);
    const result = JSON.parse(r.stdout);
    assert.equal(result.before.firmwareVersion, '1.0.0');
    assert.equal(result.after.firmwareVersion, '2.0.0');
    assert.equal(result.backup.file, backupFile);
    assert.equal(sim.state.deviceInformation.FirmwareVersion, '2.0.0');
  });

  it('--device-events: the device\'s own account on stderr ("the device reports that the upload began", "… announced its restart")', async () => {
    const sim = await start();
    const r = await onvifq(['firmware', sim.xaddr, file, '--expect-version', '2.0.0', '--device-events']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split('\n');
    for (const expected of [/^the device reports that the upload began/, /^the device reports that it received the whole image/, /^the device announced its restart/]) {
      assert.ok(lines.some((l) => expected.test(l)), `stderr matches ${expected}:\n${r.stderr}`);
    }
    assert.ok(sim.requests.some((q) => q.operation === 'CreatePullPointSubscription'));
    assert.equal(JSON.parse(r.stdout).after.firmwareVersion, '2.0.0');
  });

  it('--dry-run says "Would upgrade …" and changes nothing', async () => {
    const sim = await start();
    const r = await onvifq(['firmware', sim.xaddr, file, '--dry-run', '--expect-version', '2.0.0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Would upgrade 127\.0\.0\.1:\d+ \(SimQ-1, 1\.0\.0 → 2\.0\.0\) by HTTP POST/m);
    assert.equal(JSON.parse(r.stdout).action, 'upgrade');
    assert.ok(sim.requests.every((x) => /^Get/.test(x.operation ?? '')), 'only reads');
  });

  it('a failure is one line on stderr and exit code 1: "rejected the image (HTTP 415)"', async () => {
    const sim = await start({ deviceInformation: { Model: 'OtherCam' } });
    const r = await onvifq(['firmware', sim.xaddr, file]);
    assert.equal(r.code, 1);
    const last = r.stderr.trim().split('\n').at(-1)!;
    assert.match(last, /^onvifq: The device at 127\.0\.0\.1:\d+ rejected the image \(HTTP 415\): it is not valid for this model \(OtherCam\)\./);
    assert.equal(r.stdout, '');
    const usage = await onvifq(['firmware', sim.xaddr]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^onvifq: firmware needs the image: a file path or an http\(s\) URL$/m);
  });

  it('Ctrl-C while waiting for UploadDelay: "Cancelled before the upload … no image was sent", exit 1, nothing uploaded', async () => {
    const sim = await start({ firmwareUploadDelayMs: 30_000 });
    const child = spawn(TSX, [CLI, 'firmware', sim.xaddr, file], { env: { ...process.env, ...ENV } });
    let stderr = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (/^waiting \d+ s$/m.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', resolve);
    });
    assert.equal(code, 1, stderr);
    assert.match(stderr, /cancelling…/);
    assert.match(stderr, /onvifq: Cancelled before the upload to 127\.0\.0\.1:\d+: no image was sent, the device keeps its firmware\./);
    assert.equal(sim.requests.filter((x) => x.path.startsWith('/onvifq/firmware/')).length, 0);
  });
});
