/**
 * Benchmark: events through the shared pull point, against simulated devices on 127.0.0.1.
 * - latency from sim.raiseEvent() to the event leaving the hub's Observable (p50, p99), one event at a time;
 * - events per second through one pull point (a burst raised at once, MessageLimit 100);
 * - memory per live subscription with 200 simulated devices (heap delta / 200; the simulators' own pull
 *   points live in the same process and are included, so this is an upper bound for the client side).
 * A script that prints figures, not a test with a time limit.
 *
 *   npm run bench -- --only events [--latency-events 500] [--burst 20000] [--devices 200]
 */
import { performance } from 'node:perf_hooks';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { EventHub, type OnvifEvent } from '../../lib/events';
import { SimulatedDevice, startSimulators } from '../../lib/simulator';
import { arg } from './args';

const CREDENTIALS = { username: 'admin', password: 'Bench-pass1' };
const SIM = { ...CREDENTIALS, processorUsageIntervalMs: 0, discovery: false as const, maxQueuedEvents: 200_000 };

function until(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (probe()) return resolve();
      if (Date.now() > end) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 1);
    };
    tick();
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1048576;
}

async function oneDevice(): Promise<void> {
  const latencyEvents = arg('latency-events', 500);
  const burst = arg('burst', 20_000);
  const sim = new SimulatedDevice(SIM);
  await sim.start();
  const device = new OnvifDevice({ address: sim.xaddr, ...CREDENTIALS });
  const hub = new EventHub(async () => device);
  try {
    let received: OnvifEvent | undefined;
    let receivedAt = 0;
    let count = 0;
    const sub = hub.events('tns1:Bench//.').subscribe((e) => {
      received = e;
      receivedAt = performance.now();
      count++;
    });
    await until('active', () => hub.state.status === 'active' && sim.pullPoints[0]?.pulling === true);

    const lat: number[] = [];
    for (let i = 0; i < latencyEvents; i++) {
      received = undefined;
      // Raise only while the long poll waits, as a real event would arrive.
      await until('pulling', () => sim.pullPoints[0]?.pulling === true);
      const t0 = performance.now();
      sim.raiseEvent('tns1:Bench/Latency', { data: { Seq: String(i) } });
      await until('event', () => received?.data.Seq === i);
      lat.push(receivedAt - t0);
    }
    lat.sort((a, b) => a - b);
    console.log(`latency raise → subscriber, ${latencyEvents} events one at a time: p50 ${pct(lat, 50).toFixed(2)} ms   p99 ${pct(lat, 99).toFixed(2)} ms`);

    await until('pulling', () => sim.pullPoints[0]?.pulling === true);
    const before = count;
    const t0 = performance.now();
    for (let i = 0; i < burst; i++) sim.raiseEvent('tns1:Bench/Burst', { data: { Seq: String(i) } });
    const raisedMs = performance.now() - t0;
    await until('burst', () => count - before >= burst, 120_000);
    const ms = performance.now() - t0;
    console.log(
      `throughput through one pull point: ${burst} events in ${ms.toFixed(0)} ms = ${((burst * 1000) / ms).toFixed(0)} events/s ` +
        `(raising took ${raisedMs.toFixed(0)} ms; ${sim.requests.filter((r) => r.operation === 'PullMessages').length} PullMessages so far)`,
    );
    sub.unsubscribe();
  } finally {
    await hub.close();
    await device.close();
    await sim.stop();
  }
}

async function manyDevices(): Promise<void> {
  const n = arg('devices', 200);
  const sims = await startSimulators(n, SIM);
  const devices = sims.map((s) => new OnvifDevice({ address: s.xaddr, ...CREDENTIALS }));
  const hubs: EventHub[] = [];
  try {
    // Baseline: simulators up and client sessions connected, no subscriptions.
    await Promise.all(devices.map((d) => d.connect()));
    const base = heapMb();
    const t0 = performance.now();
    const subs = devices.map((d) => {
      const hub = new EventHub(async () => d);
      hubs.push(hub);
      return hub.events().subscribe(() => undefined);
    });
    await until('all active', () => hubs.every((h) => h.state.status === 'active') && sims.every((s) => s.pullPoints[0]?.pulling === true), 120_000);
    const upMs = performance.now() - t0;
    const live = heapMb();
    const gcNote = (globalThis as { gc?: () => void }).gc ? 'after gc' : 'no --expose-gc: heap figures include garbage';
    console.log(
      `${n} devices, one live subscription each (all long-polling after ${upMs.toFixed(0)} ms): heap ${base.toFixed(1)} → ${live.toFixed(1)} MB, ` +
        `${(((live - base) * 1024) / n).toFixed(1)} kB per subscription incl. the simulator's pull point (${gcNote}); rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB`,
    );
    for (const s of subs) s.unsubscribe();
    await until('all unsubscribed', () => sims.every((s) => s.pullPoints.length === 0), 30_000);
  } finally {
    await Promise.all(hubs.map((h) => h.close()));
    await Promise.all(devices.map((d) => d.close()));
    await Promise.all(sims.map((s) => s.stop()));
  }
}

/** Run and print the figures. */
export async function benchEvents(): Promise<void> {
  console.log(`Events through the shared pull point, simulator on 127.0.0.1 (Node ${process.version})`);
  await oneDevice();
  await manyDevices();
}
