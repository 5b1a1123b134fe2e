/**
 * Benchmark: GetDeviceInformation round trips against one simulated device with credentials, for this library
 * and for the npm `onvif` client (the most used JS ONVIF client). Prints operations per second, p50/p99 latency
 * and their ratio. A script that prints figures, not a test with a time limit.
 *
 *   npm run bench [-- --calls 2000 --warmup 100]
 */
import { performance } from 'node:perf_hooks';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { SimulatedDevice } from '../../lib/simulator';
import { arg } from './args';

const { Cam } = require('onvif') as { Cam: new (o: Record<string, unknown>, cb?: (e?: Error) => void) => OnvifCam };
interface OnvifCam {
  getSystemDateAndTime(cb: (err: Error | null) => void): void;
  getDeviceInformation(cb: (err: Error | null, info?: Record<string, unknown>) => void): void;
}


interface Result {
  label: string;
  opsPerSec: number;
  p50: number;
  p99: number;
  requests?: number;
  rssMb: number;
}

async function measure(label: string, calls: number, warmup: number, once: () => Promise<unknown>, requests?: () => number): Promise<Result> {
  for (let i = 0; i < warmup; i++) await once();
  const r0 = requests?.();
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    const s = performance.now();
    await once();
    lat.push(performance.now() - s);
  }
  const total = performance.now() - t0;
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];
  return {
    label,
    opsPerSec: (calls * 1000) / total,
    p50: pct(50),
    p99: pct(99),
    requests: r0 === undefined ? undefined : requests!() - r0,
    rssMb: process.memoryUsage().rss / 1048576,
  };
}

/** Run and print the figures. */
export async function benchGetDeviceInformation(): Promise<void> {
  const calls = arg('calls', 2000);
  const warmup = arg('warmup', 100);
  const credentials = { username: 'admin', password: 'Bench-pass1' };
  // auth 'any': the device accepts digest and WS-UsernameToken, as most cameras do; each client uses its default.
  const sim = new SimulatedDevice({ ...credentials, auth: 'any' });
  await sim.start();
  const port = Number(new URL(sim.xaddr).port);
  try {
    const device = new OnvifDevice({ address: sim.xaddr, ...credentials });
    const session = await device.connect();
    const ours = await measure(`@onvifq (${session.authMethod})`, calls, warmup, () => device.call('GetDeviceInformation'), () => sim.stats.httpRequests);
    await device.close();

    const cam = new Cam({ hostname: '127.0.0.1', port, path: '/onvif/device_service', ...credentials, autoconnect: false });
    // Its WS-UsernameToken timestamps are only right after getSystemDateAndTime (its connect() does this too).
    await new Promise<void>((resolve, reject) => cam.getSystemDateAndTime((err) => (err ? reject(err) : resolve())));
    const theirsOnce = () =>
      new Promise<unknown>((resolve, reject) => cam.getDeviceInformation((err, info) => (err ? reject(err) : resolve(info))));
    const theirs = await measure('npm onvif 0.8 (WS-UsernameToken)', calls, warmup, theirsOnce, () => sim.stats.httpRequests);

    const line = (r: Result) =>
      `${r.label.padEnd(36)} ${r.opsPerSec.toFixed(0).padStart(7)} ops/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(6)} ms   ` +
      `${r.requests ?? '?'} HTTP requests for ${calls} calls   rss ${r.rssMb.toFixed(0)} MB`;
    console.log(`GetDeviceInformation, ${calls} sequential calls after ${warmup} warm-up, simulator on 127.0.0.1 (Node ${process.version})`);
    console.log(line(ours));
    console.log(line(theirs));
    console.log(`ratio (ours / npm onvif): throughput x${(ours.opsPerSec / theirs.opsPerSec).toFixed(2)}, p50 x${(ours.p50 / theirs.p50).toFixed(2)}, p99 x${(ours.p99 / theirs.p99).toFixed(2)}`);
  } finally {
    await sim.stop();
  }
}
