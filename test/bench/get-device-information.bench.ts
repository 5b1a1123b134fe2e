/**
 * Benchmark: GetDeviceInformation round trips, the device side always in a process of its own (support/sim-child.ts).
 * - client CPU per call (process.cpuUsage around the loop) against a fixed-answer server, for this library and for
 *   a bare keep-alive node:http client that computes the same digest and sends a prebuilt request;
 * - operations per second against a fresh simulated device each, for this library, npm `onvif` (the most used JS
 *   ONVIF client; WS-UsernameToken, its default) and the bare client;
 * - 8 concurrent calls on one digest session: HTTP requests per call (a nonce count arriving out of order must not
 *   cost a new challenge).
 * The contenders are interleaved in blocks of 100 calls in rotated order, so the machine's changing load falls on all
 * alike; several rounds (fresh devices each); medians with the spread (min–max) over rounds; ratios within each round.
 * A script that prints figures, not a test with a time limit.
 *
 *   npm run bench -- --only get-device-information [--rounds 5 --calls 2000 --warmup 1000]
 */
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';
import { buildEnvelope } from '../../lib/soap/envelope';
import { el } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import { arg } from './args';
import { goalLine, machineState, median, percentile, spread } from './support/stats';
import { SimProcess } from './support/sim-process';
import { built } from './support/built';

const { OnvifDevice } = built<typeof import('../../lib/device/onvif-device')>('device/onvif-device');

const { Cam } = require('onvif') as { Cam: new (o: Record<string, unknown>, cb?: (e?: Error) => void) => OnvifCam };
interface OnvifCam {
  getSystemDateAndTime(cb: (err: Error | null) => void): void;
  getDeviceInformation(cb: (err: Error | null, info?: Record<string, unknown>) => void): void;
}

const CREDENTIALS = { username: 'admin', password: 'Bench-pass1' };
/** Simulator defaults (auth 'any': digest and WS-UsernameToken, as most cameras), minus multicast and timers. */
const SIM = { ...CREDENTIALS, discovery: false as const, processorUsageIntervalMs: 0 };
/** What the fixed-answer server sends: the simulator's answer, byte for byte in shape. */
const FIXED_ANSWER =
  `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="${NS.soap}" xmlns:tds="${NS.tds}"><env:Body><tds:GetDeviceInformationResponse>` +
  '<tds:Manufacturer>onvifq</tds:Manufacturer><tds:Model>Simulated Profile Q Device</tds:Model><tds:FirmwareVersion>1.0.0</tds:FirmwareVersion>' +
  '<tds:SerialNumber>SIM-0001</tds:SerialNumber><tds:HardwareId>onvifq-sim</tds:HardwareId></tds:GetDeviceInformationResponse></env:Body></env:Envelope>';

interface Figures {
  opsPerSec: number;
  cpuUsPerCall: number;
  /** CPU the device process spent per call (against the simulator). */
  deviceCpuUsPerCall?: number;
  p50: number;
  p99: number;
  requestsPerCall?: number;
  /** Why the measurement failed (the figures are then NaN). */
  error?: string;
}

const FAILED = (e: unknown): Figures => ({ opsPerSec: NaN, cpuUsPerCall: NaN, p50: NaN, p99: NaN, requestsPerCall: NaN, error: (e as Error).message });

/** A client under test: one call, and closing it. */
interface Contender {
  once(): Promise<unknown>;
  close(): Promise<void> | void;
}

/** What one contender is measured with: its client, and how many calls it keeps in flight. */
interface Entry {
  client: Contender;
  parallel: number;
  /** Calls made so far, warm-up included. */
  made?: number;
}

/**
 * Measure several contenders interleaved: blocks of `block` calls, each block in a rotated order, so a change in the
 * machine's load (other builds, other tests) falls on all of them alike and ratios stay meaningful. Time and client
 * CPU are taken around each block only; latency per call (per batch of `parallel` calls).
 */
async function interleaved(entries: Record<string, Entry>, calls: number, warmup: number, deviceCpuUs?: () => Promise<number>, block = 100): Promise<Record<string, Figures>> {
  const names = Object.keys(entries);
  /** `n` calls (a last batch of fewer than `parallel` when it does not divide). */
  const run = async (e: Entry, n: number, lat?: number[]) => {
    for (let i = 0; i < n; i += e.parallel) {
      const batch = Math.min(e.parallel, n - i);
      const s = performance.now();
      await Promise.all(Array.from({ length: batch }, () => e.client.once()));
      lat?.push(performance.now() - s);
      e.made = (e.made ?? 0) + batch;
    }
  };
  // A contender that fails is reported as failed and left out of the rest; the others go on.
  const failed = new Map<string, unknown>();
  const attempt = async (name: string, n: number, lat?: number[]) => {
    if (failed.has(name)) return;
    try {
      await run(entries[name]!, n, lat);
    } catch (e) {
      failed.set(name, e);
    }
  };
  for (let done = 0; done < warmup; done += block) for (const name of names) await attempt(name, Math.min(block, warmup - done));
  const tally = Object.fromEntries(names.map((n) => [n, { ms: 0, cpuUs: 0, deviceUs: 0, lat: [] as number[] }]));
  for (let b = 0, done = 0; done < calls; b++, done += block) {
    const n = Math.min(block, calls - done);
    for (let k = 0; k < names.length; k++) {
      const name = names[(b + k) % names.length]!;
      const t = tally[name]!;
      // The device process's CPU is read outside the timed part (an IPC round trip each way).
      const device0 = await deviceCpuUs?.();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await attempt(name, n, t.lat);
      t.ms += performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      t.cpuUs += cpu.user + cpu.system;
      if (device0 !== undefined) t.deviceUs += (await deviceCpuUs!()) - device0;
    }
  }
  const out: Record<string, Figures> = {};
  for (const name of names) {
    if (failed.has(name)) {
      out[name] = FAILED(failed.get(name));
      continue;
    }
    const t = tally[name]!;
    const lat = t.lat.sort((a, b) => a - b);
    out[name] = {
      opsPerSec: (calls * 1000) / t.ms,
      cpuUsPerCall: t.cpuUs / calls,
      ...(deviceCpuUs ? { deviceCpuUsPerCall: t.deviceUs / calls } : {}),
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
    };
  }
  return out;
}

/** One POST of the prebuilt request on a kept-alive connection: the answer's status and digest challenges, body read whole. */
type Post = (authorization?: string) => Promise<{ status: number; challenges: string[] }>;

/** The HTTP stacks the bare client runs on: Node's own, and undici (issue 15: choose the client's stack by figures). */
type Stack = 'node:http' | 'undici';

function nodeHttpPost(url: URL, body: Buffer): { post: Post; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const post: Post = (authorization) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': body.length };
      if (authorization) headers.Authorization = authorization;
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, challenges: res.headersDistinct['www-authenticate'] ?? [] });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  return { post, close: () => agent.destroy() };
}

function undiciPost(url: URL, body: Buffer): { post: Post; close(): Promise<void> } {
  // A devDependency: measured here, not shipped (see the README's Performance section for the choice).
  const { Client } = require('undici') as typeof import('undici');
  const client = new Client(url.origin, { pipelining: 1 });
  const post: Post = async (authorization) => {
    const headers: Record<string, string> = { 'content-type': 'application/soap+xml; charset=utf-8', 'content-length': String(body.length) };
    if (authorization) headers.authorization = authorization;
    const res = await client.request({ path: url.pathname, method: 'POST', headers, body });
    await res.body.arrayBuffer();
    const www = res.headers['www-authenticate'];
    return { status: res.statusCode, challenges: www === undefined ? [] : Array.isArray(www) ? www : [www] };
  };
  return { post, close: () => client.close() };
}

/**
 * The baseline: a bare keep-alive client that computes the same digest (SHA-256, qop=auth, a random cnonce, all
 * three hashes every call, as a plain implementation does), sends a prebuilt request and reads the whole answer.
 */
async function bareDigestClient(address: string, stack: Stack = 'node:http'): Promise<Contender> {
  const url = new URL(address);
  const body = Buffer.from(buildEnvelope(el(NS.tds, 'GetDeviceInformation')));
  const { post, close } = stack === 'undici' ? undiciPost(url, body) : nodeHttpPost(url, body);
  const first = await post();
  const challenge = first.challenges.find((c) => /algorithm="?SHA-256"?(,|$)/i.test(c)) ?? first.challenges[0] ?? '';
  const param = (name: string) => new RegExp(`${name}="?([^",]*)"?`, 'i').exec(challenge)?.[1] ?? '';
  const [realm, nonce, opaque] = [param('realm'), param('nonce'), param('opaque')];
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
  let nc = 0;
  return {
    async once() {
      const count = (++nc).toString(16).padStart(8, '0');
      const cnonce = randomBytes(16).toString('hex');
      const ha1 = sha256(`${CREDENTIALS.username}:${realm}:${CREDENTIALS.password}`);
      const ha2 = sha256(`POST:${url.pathname}`);
      const response = sha256(`${ha1}:${nonce}:${count}:${cnonce}:auth:${ha2}`);
      const { status } = await post(
        `Digest username="${CREDENTIALS.username}", realm="${realm}", nonce="${nonce}", uri="${url.pathname}", algorithm=SHA-256, ` +
          `response="${response}", opaque="${opaque}", qop=auth, nc=${count}, cnonce="${cnonce}"`,
      );
      if (status !== 200) throw new Error(`bare ${stack} client: HTTP ${status}`);
    },
    close,
  };
}

/** This library, the way a user calls it. `direct`: no connect sequence (the fixed-answer server only knows one operation). */
async function ours(address: string, direct = false): Promise<Contender> {
  const device = new OnvifDevice({ address, ...CREDENTIALS });
  if (!direct) await device.connect();
  const options = direct ? { url: address } : undefined;
  return { once: () => device.call('GetDeviceInformation', undefined, options), close: () => device.close() };
}

async function npmOnvif(address: string): Promise<Contender> {
  const url = new URL(address);
  const cam = new Cam({ hostname: url.hostname, port: Number(url.port), path: url.pathname, ...CREDENTIALS, autoconnect: false });
  // Its WS-UsernameToken timestamps are only right after getSystemDateAndTime (its connect() does this too).
  await new Promise<void>((resolve, reject) => cam.getSystemDateAndTime((err) => (err ? reject(err) : resolve())));
  return {
    once: () => new Promise<unknown>((resolve, reject) => cam.getDeviceInformation((err, info) => (err ? reject(err) : resolve(info)))),
    close: () => undefined,
  };
}

/** Run and print the figures. */
export async function benchGetDeviceInformation(): Promise<void> {
  const rounds = arg('rounds', 5);
  const calls = arg('calls', 2000);
  const warmup = arg('warmup', 1000);
  console.log(`GetDeviceInformation; device side in its own process; ${rounds} rounds, ${calls} calls each after ${warmup} warm-up, contenders interleaved in blocks of 100 in rotated order`);
  console.log(`machine: ${machineState()}`);
  const sim = await SimProcess.start();
  try {
    // 1. Client CPU per call against a fixed-answer server (the server's cost is not in it).
    const fixedUrl = await sim.send<string>({ cmd: 'fixed', answer: FIXED_ANSWER });
    const cpuRounds: Array<Record<string, Figures>> = [];
    for (let r = 0; r < rounds; r++) {
      const ourClient = await ours(fixedUrl, true);
      const bare = await bareDigestClient(fixedUrl);
      const bareUndici = await bareDigestClient(fixedUrl, 'undici');
      try {
        cpuRounds.push(
          await interleaved(
            { ours: { client: ourClient, parallel: 1 }, bare: { client: bare, parallel: 1 }, undici: { client: bareUndici, parallel: 1 } },
            calls,
            warmup,
            () => sim.send<number>({ cmd: 'cpu' }),
          ),
        );
      } finally {
        await ourClient.close();
        await bare.close();
        await bareUndici.close();
      }
    }
    const cpu = (name: string) => cpuRounds.map((r) => r[name]!.cpuUsPerCall);
    const cpuRatio = cpuRounds.map((r) => r.ours!.cpuUsPerCall / r.bare!.cpuUsPerCall);
    const server = (name: string) => spread(cpuRounds.map((r) => r[name]!.deviceCpuUsPerCall!));
    console.log('\nclient CPU per call, fixed-answer server (µs, median (min–max) over rounds; the server\'s own CPU per call after it)');
    console.log(`  @onvifq  OnvifDevice.call  ${spread(cpu('ours'))} µs   ${spread(cpuRounds.map((r) => r.ours!.opsPerSec))} ops/s   server ${server('ours')} µs`);
    console.log(`  bare node:http + digest    ${spread(cpu('bare'))} µs   ${spread(cpuRounds.map((r) => r.bare!.opsPerSec))} ops/s   server ${server('bare')} µs`);
    console.log(`  bare undici + digest       ${spread(cpu('undici'))} µs   ${spread(cpuRounds.map((r) => r.undici!.opsPerSec))} ops/s   server ${server('undici')} µs`);

    // 2. Sequential ops/s against a fresh simulated device each; 3. eight at once on one digest session. Interleaved,
    // each contender with a device of its own (fresh every round), so the request counts are each one's own.
    const contenders = ['ours', 'npm onvif', 'bare', 'undici', 'ours x8'];
    const opsRounds: Array<Record<string, Figures>> = [];
    for (let r = 0; r < rounds; r++) {
      const addresses = await sim.startSimulators(contenders.length, SIM);
      const clients: Record<string, Entry> = {};
      try {
        for (const [i, name] of contenders.entries()) {
          const a = addresses[i]!;
          const client = name === 'npm onvif' ? await npmOnvif(a) : name === 'bare' ? await bareDigestClient(a) : name === 'undici' ? await bareDigestClient(a, 'undici') : await ours(a);
          clients[name] = { client, parallel: name === 'ours x8' ? 8 : 1 };
        }
        const before = await sim.send<number[]>({ cmd: 'requestsEach' });
        const figures = await interleaved(clients, calls, warmup, () => sim.send<number>({ cmd: 'cpu' }));
        const after = await sim.send<number[]>({ cmd: 'requestsEach' });
        for (const [i, name] of contenders.entries()) {
          if (!figures[name]!.error) figures[name]!.requestsPerCall = (after[i]! - before[i]!) / clients[name]!.made!;
        }
        opsRounds.push(figures);
      } finally {
        for (const c of Object.values(clients)) await c.client.close();
      }
    }
    const ops = (name: string) => opsRounds.map((r) => r[name]!.opsPerSec);
    const labels: Record<string, string> = {
      ours: '@onvifq (digest)',
      'npm onvif': 'npm onvif 0.8 (WS-UsernameToken)',
      bare: 'bare node:http + digest',
      undici: 'bare undici 7 + digest',
      'ours x8': '@onvifq, 8 concurrent (digest)',
    };
    console.log('\nagainst the simulator, a fresh device per contender and round (median (min–max) over rounds)');
    for (const name of contenders) {
      const f = opsRounds.map((r) => r[name]!);
      for (const [round, x] of f.entries()) if (x.error) console.log(`  ${labels[name]} failed in round ${round + 1}: ${x.error}`);
      console.log(
        `  ${labels[name]!.padEnd(34)} ${spread(ops(name)).padEnd(20)} ops/s   p50 ${spread(f.map((x) => x.p50), 2)} ms   p99 ${spread(f.map((x) => x.p99), 2)} ms   ` +
          `${spread(f.map((x) => x.requestsPerCall!), 3)} HTTP requests per call   client CPU ${spread(f.map((x) => x.cpuUsPerCall))} µs/call   ` +
          `device CPU ${spread(f.map((x) => x.deviceCpuUsPerCall!))} µs/call`,
      );
    }
    const vsOnvif = opsRounds.map((r) => r.ours!.opsPerSec / r['npm onvif']!.opsPerSec);
    const vsBare = opsRounds.map((r) => r.ours!.opsPerSec / r.bare!.opsPerSec);
    const perCall = opsRounds.map((r) => r['ours x8']!.requestsPerCall!);
    console.log('\ngoals (ratios taken within each round; median (min–max))');
    console.log(goalLine('client CPU per call / bare client', `x${spread(cpuRatio, 2)}`, '<= x2', median(cpuRatio) <= 2));
    console.log(goalLine('ops/s / npm onvif', `x${spread(vsOnvif, 2)}`, '>= x3', median(vsOnvif) >= 3));
    console.log(goalLine('ops/s / bare client', `x${spread(vsBare, 2)}`, '>= x0.8', median(vsBare) >= 0.8));
    console.log(goalLine('8 concurrent calls: HTTP requests per call', spread(perCall, 3), '<= 1.01', median(perCall) <= 1.01));
    // The HTTP stack choice: what the same bare client costs and does on undici, relative to node:http.
    const undiciCpu = cpuRounds.map((r) => r.undici!.cpuUsPerCall / r.bare!.cpuUsPerCall);
    const undiciOps = opsRounds.map((r) => r.undici!.opsPerSec / r.bare!.opsPerSec);
    console.log('\nHTTP stack (the same bare digest client; ratios undici / node:http within each round)');
    console.log(`  client CPU per call x${spread(undiciCpu, 2)}   ops/s against the simulator x${spread(undiciOps, 2)}`);
    console.log(`machine after: ${machineState()}`);
  } finally {
    await sim.close();
  }
}
