/**
 * Benchmark: events through the shared pull point (EventHub), the simulated devices in a process of their own
 * (support/sim-child.ts), which stamps every event with its raise time on the machine's monotonic clock.
 * - events per second through one pull point: a burst raised in the device process (in slices, so it serves pulls
 *   while raising), from the first raise to the last event leaving the hub;
 * - device→message latency (p50, p99) at a steady offered load (10 000 events/s by default);
 * - memory per live subscription on the client side only: 200 devices, heap after gc with every hub long-polling,
 *   minus the heap with the same sessions connected and no subscriptions.
 * Rounds (fresh device each), medians with the spread (min–max). A script that prints figures, not a test.
 *
 *   npm run bench -- --only events [--rounds 5 --burst 30000 --rate 10000 --seconds 3 --devices 200]
 */
import type { OnvifEvent } from '../../lib/events';
import { arg } from './args';
import { goalLine, heapAfterGc, machineState, median, percentile, spread } from './support/stats';
import { monotonicMs, SimProcess } from './support/sim-process';
import { built } from './support/built';

const { OnvifDevice } = built<typeof import('../../lib/device/onvif-device')>('device/onvif-device');
const { EventHub } = built<typeof import('../../lib/events')>('events/index');
type EventHub = InstanceType<typeof EventHub>;

const CREDENTIALS = { username: 'admin', password: 'Bench-pass1' };
const SIM = { ...CREDENTIALS, processorUsageIntervalMs: 0, discovery: false as const, maxQueuedEvents: 200_000 };

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Round {
  eventsPerSec: number;
  p50: number;
  p99: number;
  pacedPerSec: number;
}

/** Counts what leaves the hub and when, and resolves `reached(n)` from the subscriber itself (no polling in the measured path). */
class Receiver {
  count = 0;
  lastAt = 0;
  latencies: number[] = [];
  private target = Infinity;
  private onTarget?: () => void;

  take(e: OnvifEvent): void {
    const now = monotonicMs();
    this.count++;
    this.lastAt = now;
    this.latencies.push(now - Number(e.data.T));
    if (this.count >= this.target) {
      this.target = Infinity;
      this.onTarget?.();
    }
  }

  reset(): void {
    this.count = 0;
    this.latencies = [];
  }

  reached(n: number, timeoutMs = 120_000): Promise<void> {
    if (this.count >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out: ${this.count} of ${n} events arrived`)), timeoutMs);
      this.target = n;
      this.onTarget = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

async function oneRound(sim: SimProcess, burst: number, rate: number, seconds: number): Promise<Round> {
  const [address] = await sim.startSimulators(1, SIM);
  const device = new OnvifDevice({ address: address!, ...CREDENTIALS });
  const hub = new EventHub(async () => device);
  const rx = new Receiver();
  const sub = hub.events('tns1:Bench//.').subscribe((e) => rx.take(e));
  const pulling = async () => hub.state.status === 'active' && (await sim.send<number>({ cmd: 'pulling' })) === 1;
  try {
    await until('the pull point', pulling);
    // A short warm-up so the first figures are not the JIT's.
    await sim.send({ cmd: 'burst', count: 2000, chunk: 500 });
    await rx.reached(2000);

    rx.reset();
    await until('the long poll', pulling);
    const b = await sim.send<{ startedAt: number }>({ cmd: 'burst', count: burst, chunk: 500 });
    await rx.reached(burst);
    const eventsPerSec = (burst * 1000) / (rx.lastAt - b.startedAt);

    rx.reset();
    await until('the long poll', pulling);
    const t0 = monotonicMs();
    const p = await sim.send<{ raised: number }>({ cmd: 'paced', rate, ms: seconds * 1000 });
    await rx.reached(p.raised);
    const lat = rx.latencies.sort((x, y) => x - y);
    return { eventsPerSec, p50: percentile(lat, 50), p99: percentile(lat, 99), pacedPerSec: (p.raised * 1000) / (rx.lastAt - t0) };
  } finally {
    sub.unsubscribe();
    await hub.close();
    await device.close();
  }
}

/** Client-side heap per live subscription: `devices` sessions, then one hub each, long-polling. */
async function memoryPerSubscription(sim: SimProcess, devices: number): Promise<number> {
  const addresses = await sim.startSimulators(devices, SIM);
  const sessions = addresses.map((a) => new OnvifDevice({ address: a, ...CREDENTIALS }));
  const hubs: EventHub[] = [];
  try {
    await Promise.all(sessions.map((d) => d.connect()));
    const base = heapAfterGc();
    const subs = sessions.map((d) => {
      const hub = new EventHub(async () => d);
      hubs.push(hub);
      return hub.events().subscribe(() => undefined);
    });
    await until('every hub long-polling', async () => hubs.every((h) => h.state.status === 'active') && (await sim.send<number>({ cmd: 'pulling' })) === devices);
    const live = heapAfterGc();
    for (const s of subs) s.unsubscribe();
    return (live - base) / devices;
  } finally {
    await Promise.all(hubs.map((h) => h.close()));
    await Promise.all(sessions.map((d) => d.close()));
    await sim.send({ cmd: 'stop' });
  }
}

/** Run and print the figures. */
export async function benchEvents(): Promise<void> {
  const rounds = arg('rounds', 5);
  const burst = arg('burst', 30_000);
  const rate = arg('rate', 10_000);
  const seconds = arg('seconds', 3);
  const devices = arg('devices', 200);
  console.log(`Events through the shared pull point; devices in their own process; ${rounds} rounds, a fresh device each`);
  console.log(`machine: ${machineState()}`);
  const sim = await SimProcess.start();
  try {
    const all: Round[] = [];
    for (let r = 0; r < rounds; r++) all.push(await oneRound(sim, burst, rate, seconds));
    const memory: number[] = [];
    for (let r = 0; r < Math.min(rounds, arg('memory-rounds', 2)); r++) memory.push(await memoryPerSubscription(sim, devices));
    const eps = all.map((x) => x.eventsPerSec);
    const p99 = all.map((x) => x.p99);
    const kb = memory.map((b) => b / 1024);
    console.log(`\nmedian (min–max) over rounds`);
    console.log(`  burst of ${burst}: ${spread(eps)} events/s through one pull point`);
    console.log(
      `  steady ${rate} events/s offered for ${seconds} s: ${spread(all.map((x) => x.pacedPerSec))} delivered/s, ` +
        `device→message p50 ${spread(all.map((x) => x.p50), 2)} ms, p99 ${spread(p99, 2)} ms`,
    );
    console.log(`  ${devices} devices, one live subscription each: ${spread(kb, 1)} kB client heap per subscription (after gc; ${memory.length} rounds)`);
    console.log('\ngoals');
    console.log(goalLine('events/s through one pull point', spread(eps), '>= 10000', median(eps) >= 10_000));
    console.log(goalLine(`p99 device→message at ${rate} events/s`, `${spread(p99, 2)} ms`, '< 20 ms', median(p99) < 20));
    console.log(goalLine(`client heap per live subscription (${devices} devices)`, `${spread(kb, 1)} kB`, '<= 30 kB', median(kb) <= 30));
    console.log(`machine after: ${machineState()}`);
  } finally {
    await sim.close();
  }
}
