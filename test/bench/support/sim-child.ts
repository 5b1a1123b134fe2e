/**
 * The device side of the benchmarks, in a process of its own, so its CPU and memory are not counted as the
 * client's: simulated devices (fresh ones on every `start`) or a fixed-answer server. Driven over the IPC channel
 * by sim-process.ts; events it raises carry their raise time (process.hrtime, the machine's monotonic clock, the
 * same in every process) so the client can tell device→message latency.
 */
import { createServer, type Server } from 'node:http';
import type { SimulatedDevice, SimulatorOptions } from '../../../lib/simulator';
import { built } from './built';

// The simulator as `onvifq-sim` runs it (compiled).
const { startSimulators } = built<typeof import('../../../lib/simulator')>('simulator/index');

export type ChildCommand =
  | { cmd: 'start'; count: number; options: SimulatorOptions }
  | { cmd: 'stop' }
  | { cmd: 'fixed'; answer: string }
  | { cmd: 'requestsEach' }
  | { cmd: 'pulling' }
  | { cmd: 'burst'; count: number; chunk: number }
  | { cmd: 'paced'; rate: number; ms: number }
  | { cmd: 'cpu' };

let sims: SimulatedDevice[] = [];
let fixed: Server | undefined;

/** The monotonic clock in ms, as a Number (exact to the microsecond for years of uptime). */
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

function raise(sim: SimulatedDevice, seq: number): void {
  sim.raiseEvent('tns1:Bench/Load', { data: { Seq: String(seq), T: monotonicMs().toFixed(3) } });
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function stopAll(): Promise<void> {
  await Promise.all(sims.map((s) => s.stop()));
  sims = [];
  if (fixed) await new Promise<void>((resolve) => fixed!.close(() => resolve()));
  fixed?.closeAllConnections();
  fixed = undefined;
}

/**
 * A server that answers every request at once: a digest challenge when it carries no Authorization, the fixed
 * answer when it does (unchecked). What a client costs against it is the client's own cost.
 */
function startFixed(answer: string): Promise<string> {
  const challenge = 'Digest realm="bench", qop="auth", algorithm=SHA-256, nonce="6e6f6e63652d666f722d62656e6368", opaque="0a1b2c3d"';
  const body = Buffer.from(answer);
  fixed = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (!req.headers.authorization) {
        res.writeHead(401, { 'WWW-Authenticate': challenge, 'Content-Length': 0 });
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': body.length });
      res.end(body);
    });
  });
  fixed.keepAliveTimeout = 60_000;
  return new Promise((resolve) => fixed!.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(fixed!.address() as { port: number }).port}/onvif/device_service`)));
}

async function handle(m: ChildCommand): Promise<unknown> {
  switch (m.cmd) {
    case 'start':
      await stopAll();
      sims = await startSimulators(m.count, m.options);
      return sims.map((s) => s.xaddr);
    case 'stop':
      await stopAll();
      return null;
    case 'fixed':
      await stopAll();
      return startFixed(m.answer);
    case 'cpu': {
      // The device process's CPU so far (µs, user + system): the bench takes differences around a measured run.
      const c = process.cpuUsage();
      return c.user + c.system;
    }
    case 'requestsEach':
      return sims.map((s) => s.stats.httpRequests);
    case 'pulling':
      return sims.filter((s) => s.pullPoints.some((p) => p.pulling)).length;
    case 'burst': {
      // In slices, one per turn of the event loop, so the device serves pulls while it raises.
      const sim = sims[0]!;
      const t0 = monotonicMs();
      for (let seq = 0; seq < m.count; ) {
        const end = Math.min(m.count, seq + m.chunk);
        for (; seq < end; seq++) raise(sim, seq);
        await nextTurn();
      }
      return { startedAt: t0, raisedMs: monotonicMs() - t0 };
    }
    case 'paced': {
      // A steady rate: every millisecond or so, raise what the rate calls for by now (a late tick catches up).
      const sim = sims[0]!;
      const t0 = monotonicMs();
      let seq = 0;
      for (;;) {
        const elapsed = monotonicMs() - t0;
        const due = Math.min(Math.floor((elapsed * m.rate) / 1000), Math.floor((m.ms * m.rate) / 1000));
        for (; seq < due; seq++) raise(sim, seq);
        if (elapsed >= m.ms) break;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return { raised: seq, ms: monotonicMs() - t0 };
    }
  }
}

process.on('message', (msg: { id: number } & ChildCommand) => {
  handle(msg).then(
    (result) => process.send!({ id: msg.id, result }),
    (e: Error) => process.send!({ id: msg.id, error: e.message }),
  );
});
process.on('disconnect', () => void stopAll().then(() => process.exit(0)));
process.send!({ ready: true });
