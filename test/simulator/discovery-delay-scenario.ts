/**
 * The simulator's random waits (WS-Discovery APP_MAX_DELAY) measured on the wire, for discovery-multicast.spec.ts.
 * Runs INSIDE a network namespace the test created (only there does 239.255.255.250 stay on loopback).
 *
 * Usage: tsx discovery-delay-scenario.ts <port> <devices>
 * Starts the devices at once with the default delays, then sends one multicast Probe. Prints one JSON object:
 * { devices, helloWaits: ms from each device's start to its Hello, probeWaits: ms from the Probe to each ProbeMatches,
 *   stoppedEarly: what a device stopped before its Hello was due said (Bye only, never a Hello after it) }.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { SimulatedDevice } from '../../lib/simulator';
import { newMessageId, probeXml, summarize } from './discovery-client';

const GROUP = '239.255.255.250';
const port = Number(process.argv[2]);
const count = Number(process.argv[3]);
if (!port || !count) throw new Error('usage: discovery-delay-scenario.ts <port> <devices>');
/** Longest wait for the expected messages; they normally take about half a second. */
const DEADLINE_MS = 15_000;

function bind(s: Socket, p: number, address?: string): Promise<void> {
  return new Promise((resolve) => s.bind({ port: p, address }, () => resolve()));
}

/** Resolves once `done()` says so after a message, or at the deadline. */
function until(socket: Socket, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(finish, DEADLINE_MS);
    function finish() {
      clearTimeout(timer);
      socket.off('message', check);
      resolve();
    }
    function check() {
      if (done()) finish();
    }
    socket.on('message', check);
  });
}

async function main(): Promise<void> {
  const hellos = new Map<string, number>();
  const announced: { body?: string; endpoint?: string }[] = [];
  const listener = createSocket({ type: 'udp4', reuseAddr: true });
  listener.on('message', (m) => {
    const s = summarize(m.toString('utf8'));
    const endpoint = s.matches[0]?.endpoint;
    announced.push({ body: s.body, endpoint });
    if (s.body === 'Hello' && endpoint && !hellos.has(endpoint)) hellos.set(endpoint, performance.now());
  });
  await bind(listener, port);
  listener.addMembership(GROUP, '127.0.0.1');

  const prober = createSocket({ type: 'udp4' });
  const matches = new Map<string, number>();
  const messageId = newMessageId();
  prober.on('message', (m) => {
    const s = summarize(m.toString('utf8'));
    const endpoint = s.matches[0]?.endpoint;
    if (s.body === 'ProbeMatches' && s.relatesTo === messageId && endpoint && !matches.has(endpoint)) matches.set(endpoint, performance.now());
  });
  await bind(prober, 0, '127.0.0.1');
  prober.setMulticastInterface('127.0.0.1');

  const devices = Array.from({ length: count }, () => new SimulatedDevice({ discovery: { port }, processorUsageIntervalMs: 0 }));
  const started = new Map<string, number>();
  const allHellos = until(listener, () => hellos.size >= count);
  await Promise.all(devices.map((d) => d.start().then(() => started.set(d.endpoint, performance.now()))));
  await allHellos;

  const allMatches = until(prober, () => matches.size >= count);
  const sent = performance.now();
  prober.send(probeXml({ messageId, types: 'tds:Device' }), port, GROUP);
  await allMatches;

  await Promise.all(devices.map((d) => d.stop()));

  // A device stopped while its Hello still waits: Bye, and no Hello after it (listened for past the wait).
  const early = new SimulatedDevice({ discovery: { port }, discoveryDelayMs: [300, 300], processorUsageIntervalMs: 0 });
  const earlyEndpoint = early.endpoint;
  const bye = until(listener, () => announced.some((a) => a.body === 'Bye' && a.endpoint === earlyEndpoint));
  await early.start();
  await early.stop();
  await bye;
  await new Promise((r) => setTimeout(r, 600));
  const stoppedEarly = announced.filter((a) => a.endpoint === earlyEndpoint).map((a) => a.body);

  listener.close();
  prober.close();
  const round = (ms: number) => Math.round(ms * 10) / 10;
  process.stdout.write(`${JSON.stringify({
    devices: count,
    helloWaits: devices.filter((d) => hellos.has(d.endpoint)).map((d) => round(hellos.get(d.endpoint)! - started.get(d.endpoint)!)),
    probeWaits: [...matches.values()].map((at) => round(at - sent)),
    stoppedEarly,
  })}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
