/**
 * Scenario, run INSIDE a network namespace (never in the root one: it multicasts):
 *   ip netns exec <ns> tsx test/discovery/scenarios/probe-many.ts --devices 50 --source sim|replay [--timeout 3000]
 * Starts N devices answering WS-Discovery on the multicast group, sends one probe (default interfaces:
 * in a namespace with only loopback that is 127.0.0.1), prints one JSON line with what was found.
 */
import { performance } from 'node:perf_hooks';
import { probe$, type DiscoveredDevice } from '../../../lib/discovery';
import { startSimulators } from '../../../lib/simulator';
import { cloneCapture, realCaptures, startReplayResponder, type ReplayResponder } from '../support';

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
  const devices = await startSimulators(n);
  return {
    endpoints: devices.map((d) => d.endpoint),
    stop: async () => {
      await Promise.all(devices.map((d) => d.stop()));
    },
  };
}

async function main(): Promise<void> {
  const n = Number(arg('devices', '50'));
  const source = arg('source', 'sim');
  const timeoutMs = Number(arg('timeout', '3000'));
  const started = source === 'replay' ? await startReplay(n) : await startSim(n);
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
