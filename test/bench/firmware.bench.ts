/**
 * Benchmark: a firmware upgrade with a 200 MB image (issue 12). The simulated device runs in its own process
 * (onvifq-sim), so the figures are the client's: its RSS growth while it streams the image (goal < 50 MB),
 * and its upload throughput as a ratio to `curl --data-binary @file --digest` posting the same file to the
 * same kind of upload URI in the same run (goal ≥ 0.8). Best of `--rounds` (default 5) for each:
 * the machine's load varies, and the fastest run of each is the fairest comparison.
 *
 *   npm run bench -- --only firmware [--mb 200 --rounds 5]
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { upgradeFirmware } from '../../lib/firmware';
import { writeFirmware } from '../../lib/simulator/firmware/image';
import { sleep } from '../../lib/util/sleep';
import { hasCommand, REPO } from '../support/shared';
import { arg } from './args';

const TSX = path.join(REPO, 'node_modules/.bin/tsx');
const CREDENTIALS = { username: 'admin', password: 'Bench-pass1' };
const MB = 1024 * 1024;

/** One simulated device in a child process; resolves with its XAddr. */
async function startDevice(): Promise<{ child: ChildProcess; xaddr: string }> {
  const child = spawn(TSX, [path.join(REPO, 'lib/simulator/cli.ts'), '--username', CREDENTIALS.username, '--password', CREDENTIALS.password, '--no-discovery', '--firmware-downtime', '1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const xaddr = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve((JSON.parse(line) as { xaddr: string }).xaddr);
    });
    child.once('exit', (code) => reject(new Error(`onvifq-sim exited (${code})`)));
  });
  return { child, xaddr };
}

/** The device's firmware version once it answers again (after the restart that follows an upload). */
async function versionWhenBack(xaddr: string, want: string): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const d = new OnvifDevice({ address: xaddr, ...CREDENTIALS, timeoutMs: 2000 });
    try {
      const info = (await d.call('GetDeviceInformation')) as { FirmwareVersion: string };
      if (info.FirmwareVersion === want) return;
    } catch {
      // Still away.
    } finally {
      await d.close();
    }
    if (Date.now() > until) throw new Error(`the device did not come back with ${want}`);
    await sleep(300);
  }
}

/** curl posting the file to a fresh UploadUri with digest; seconds for the transfer. */
async function curlUpload(xaddr: string, file: string): Promise<number> {
  const d = new OnvifDevice({ address: xaddr, ...CREDENTIALS });
  const { UploadUri } = (await d.call('StartFirmwareUpgrade')) as { UploadUri: string };
  await d.close();
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      'curl',
      ['-sS', '--digest', '-u', `${CREDENTIALS.username}:${CREDENTIALS.password}`, '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${file}`, '-o', '/dev/null', '-w', '%{http_code} %{time_total}', UploadUri],
      { maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(`curl failed: ${stderr || err.message}`)) : resolve(stdout)),
    ),
  );
  const [code, seconds] = out.trim().split(' ');
  if (code !== '200') throw new Error(`curl got HTTP ${code}`);
  return Number(seconds);
}

/** Our client: the whole upgrade, with the client's RSS sampled while it runs. */
async function ourUpload(xaddr: string, file: string, version: string): Promise<{ seconds: number; rssGrowthMb: number }> {
  (global as { gc?: () => void }).gc?.();
  // memoryUsage.rss() is the cheap reading (no heap statistics), so sampling does not slow the upload down.
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  const d = new OnvifDevice({ address: xaddr, ...CREDENTIALS });
  try {
    const r = await upgradeFirmware(d, file, { expectVersion: version, timeouts: { goneWithinMs: 10_000 } });
    peak = Math.max(peak, process.memoryUsage.rss());
    return { seconds: r.uploadMs / 1000, rssGrowthMb: (peak - baseline) / MB };
  } finally {
    clearInterval(sampler);
    await d.close();
  }
}

export async function benchFirmware(): Promise<void> {
  if (!hasCommand('curl')) {
    console.log('skipped: curl is missing (apt-get install curl); the throughput goal is a ratio to curl');
    return;
  }
  const size = arg('mb', 200) * MB;
  const rounds = arg('rounds', 5);
  const dir = mkdtempSync(path.join(tmpdir(), 'onvifq-fw-bench-'));
  const { child, xaddr } = await startDevice();
  try {
    // Two images, taken in turn, so each upgrade changes the version (curl installs 2.0.0, ours 3.0.0).
    const curlFile = path.join(dir, 'fw-2.0.0.bin');
    const ourFile = path.join(dir, 'fw-3.0.0.bin');
    await writeFirmware(curlFile, { model: 'SimQ-1', version: '2.0.0', payloadBytes: size });
    await writeFirmware(ourFile, { model: 'SimQ-1', version: '3.0.0', payloadBytes: size });
    const curl: number[] = [];
    const ours: Array<{ seconds: number; rssGrowthMb: number }> = [];
    for (let round = 0; round < rounds; round++) {
      curl.push(await curlUpload(xaddr, curlFile));
      await versionWhenBack(xaddr, '2.0.0');
      ours.push(await ourUpload(xaddr, ourFile, '3.0.0'));
    }
    const mbps = (s: number) => size / MB / s;
    const bestCurl = Math.min(...curl);
    const bestOurs = Math.min(...ours.map((o) => o.seconds));
    const rss = Math.max(...ours.map((o) => o.rssGrowthMb));
    console.log(`Firmware upload of a ${(size / MB).toFixed(0)} MB image to a simulated device in another process on 127.0.0.1 (Node ${process.version}), best of ${rounds}`);
    console.log(`curl --data-binary --digest   ${mbps(bestCurl).toFixed(0).padStart(6)} MB/s   (${curl.map((s) => s.toFixed(2)).join(', ')} s)`);
    console.log(`@onvifq upgradeFirmware       ${mbps(bestOurs).toFixed(0).padStart(6)} MB/s   (${ours.map((o) => o.seconds.toFixed(2)).join(', ')} s; image bytes to the device's answer)`);
    console.log(`throughput ratio (ours / curl): ${(bestCurl / bestOurs).toFixed(2)}   (goal ≥ 0.8)`);
    console.log(`client RSS growth during the upgrade: ${rss.toFixed(1)} MB   (goal < 50 MB)`);
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
