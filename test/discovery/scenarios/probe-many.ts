/**
 * Scenario, run INSIDE a network namespace (never in the root one: it multicasts):
 *   ip netns exec <ns> tsx test/discovery/scenarios/probe-many.ts --devices 50 --source sim|replay [--timeout 3000] [--rmem-max 212992]
 * Starts N devices answering WS-Discovery on the multicast group, sends one probe (default interfaces:
 * in a namespace with only loopback that is 127.0.0.1), prints one JSON line with what was found, the
 * receive buffer the kernel grants a discovery socket, and how many datagrams it dropped for lack of room.
 */
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { probe$, type DiscoveredDevice } from '../../../lib/discovery';
import { enlargeReceiveBuffer } from '../../../lib/discovery/receive';
import { startSimulators } from '../../../lib/simulator';
import { cloneCapture, realCaptures, startReplayResponder, emulateRmemMax, udpReceiveBufferDrops, type ReplayResponder } from '../support';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

interface Started {
  endpoints: string[];
  stop(): Promise<void>;
}

async function startReplay(n: number): Promise<Started> {
  const dahua = realCaptures('ProbeMatches').find(([f]) => f.startsWith('dahua'));
  if (!dahua) throw new Error('the Dahua ProbeMatches capture is missing (../shared/fixtures/real)');
  const rs: ReplayResponder[] = [];
  for (let i = 1; i <= n; i++) {
    rs.push(await startReplayResponder({
      replies: [cloneCapture(dahua[1], i, `http://127.0.0.1:${20000 + i}/onvif/device_service`)],
      multicastInterface: '127.0.0.1', port: 3702, once: true, delayMs: [0, 300],
    }));
  }
  return {
    endpoints: rs.map((_r, i) => `urn:uuid:00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`),
    stop: async () => {
      await Promise.all(rs.map((r) => r.close()));
    },
  };
}

async function startSim(n: number): Promise<Started> {
  // No periodic events: only discovery traffic in this measurement.
  const devices = await startSimulators(n, { processorUsageIntervalMs: 0 });
  return {
    endpoints: devices.map((d) => d.endpoint),
    stop: async () => {
      await Promise.all(devices.map((d) => d.stop()));
    },
  };
}

/** What the kernel grants a discovery socket here (the probe's sockets ask the same way). */
async function grantedReceiveBuffer(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const bytes = enlargeReceiveBuffer(s);
  s.close();
  return bytes;
}

async function main(): Promise<void> {
  const n = Number(arg('devices', '50'));
  const source = arg('source', 'sim');
  const timeoutMs = Number(arg('timeout', '3000'));
  // --rmem-max N: a kernel with that receive-buffer limit (212992 on a stock Linux), whatever this machine's is.
  const rmemMax = Number(arg('rmem-max', '0'));
  if (rmemMax > 0) emulateRmemMax(rmemMax);
  const started = source === 'replay' ? await startReplay(n) : await startSim(n);
  const receiveBufferBytes = await grantedReceiveBuffer();
  const dropsBefore = udpReceiveBufferDrops();
  const emitted: DiscoveredDevice[] = [];
  const times: number[] = [];
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    probe$({ timeoutMs }).subscribe({
      next: (d) => {
        emitted.push(d);
        times.push(performance.now() - t0);
      },
      error: reject,
      complete: resolve,
    });
  });
  const dropsAfter = udpReceiveBufferDrops();
  await started.stop();
  const unique = new Set(emitted.map((d) => d.endpoint));
  const expected = new Set(started.endpoints.map((e) => e.toLowerCase()));
  console.log(JSON.stringify({
    source,
    total: n,
    found: [...unique].filter((e) => expected.has(e)).length,
    emitted: emitted.length,
    unique: unique.size,
    missing: [...expected].filter((e) => !unique.has(e)),
    strangers: [...unique].filter((e) => !expected.has(e)),
    firstMs: times.length ? Math.round(times[0]) : undefined,
    lastMs: times.length ? Math.round(times[times.length - 1]) : undefined,
    receiveBufferBytes,
    kernelDrops: dropsBefore !== undefined && dropsAfter !== undefined ? dropsAfter - dropsBefore : undefined,
    sample: emitted[0],
  }));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`scenario failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
