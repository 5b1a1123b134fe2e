/**
 * Benchmark: an app install round trip (upload of a 50 MB package, Installing, Active) against a simulated device
 * running in a child process (`onvifq-sim`), so the figures are the client's own:
 * - time for the round trip and the upload rate;
 * - client RSS growth during the install (peak minus the level after connecting; goal < 20 MB: the package is
 *   streamed from the file, never held in memory).
 * A script that prints figures, not a test with a time limit.
 *
 *   npm run bench -- --only apps [--mb 50]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { AppManager } from '../../lib/apps';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { writeAppPackage } from '../../lib/simulator';
import { arg } from './args';

const CREDENTIALS = { username: 'admin', password: 'Bench-pass1' };
const MB = 1024 * 1024;

function rssMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / MB;
}

/** Start onvifq-sim in a child process; resolves with its device service address. */
async function startSimulator(): Promise<{ xaddr: string; stop(): void }> {
  const cli = path.join(__dirname, '../../lib/simulator/cli.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--no-discovery', '--username', CREDENTIALS.username, '--password', CREDENTIALS.password], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`onvifq-sim exited (${code}) before listening`)));
  });
  return { xaddr: (JSON.parse(line) as { xaddr: string }).xaddr, stop: () => child.kill('SIGTERM') };
}

export async function benchApps(): Promise<void> {
  const mb = arg('mb', 50);
  const dir = mkdtempSync(path.join(tmpdir(), 'onvifq-bench-apps-'));
  const file = path.join(dir, 'big.app');
  const sim = await startSimulator();
  const device = new OnvifDevice({ address: sim.xaddr, ...CREDENTIALS });
  const apps = new AppManager(device);
  try {
    const bytes = await writeAppPackage(file, { id: 'BigApp', name: 'Big app', version: '1.0.0' }, mb * MB);
    // A small install first, so code loading and the first connections are not counted as growth.
    await writeAppPackage(path.join(dir, 'small.app'), { id: 'SmallApp', name: 'Small app', version: '1.0.0' }, 64 * 1024);
    await apps.install({ file: path.join(dir, 'small.app') });
    const base = rssMb();
    let peak = base;
    let atPeak = process.memoryUsage();
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      if (m.rss / MB > peak) atPeak = m;
      peak = Math.max(peak, m.rss / MB);
    }, 10);
    const started = Date.now();
    let uploadedAt = 0;
    const r = await apps.install({ file }, {
      onProgress: (p) => {
        if (p.phase === 'installing' && !uploadedAt) uploadedAt = Date.now();
      },
    });
    const total = Date.now() - started;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss / MB);
    const growth = peak - base;
    const uploadS = ((uploadedAt || Date.now()) - started) / 1000;
    console.log(`install of a ${(bytes / MB).toFixed(1)} MB package: ${r.state} via ${r.via} in ${total} ms (upload ${uploadS.toFixed(2)} s, ${(bytes / MB / uploadS).toFixed(0)} MB/s)`);
    console.log(`at the peak: heap ${(atPeak.heapUsed / MB).toFixed(1)} MB, external ${(atPeak.external / MB).toFixed(1)} MB, array buffers ${(atPeak.arrayBuffers / MB).toFixed(1)} MB`);
    console.log(`client RSS: ${base.toFixed(1)} MB before, peak ${peak.toFixed(1)} MB: growth ${growth.toFixed(1)} MB (goal < 20 MB) ${growth < 20 ? 'ok' : 'OVER'}`);
  } finally {
    await apps.close();
    await device.close();
    sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
