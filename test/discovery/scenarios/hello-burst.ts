/**
 * Scenario, run INSIDE a network namespace (devices multicast Hello):
 *   ip netns exec <ns> tsx test/discovery/scenarios/hello-burst.ts --devices 250 [--wait 10000] [--rmem-max 212992]
 * A DiscoveryListener watches the group while N simulated devices start at the same moment, as after a
 * power cut. Prints one JSON line: how many distinct Hellos it heard, the receive buffer the listener got,
 * and how many datagrams the kernel dropped for lack of room.
 */
import { performance } from 'node:perf_hooks';
import { DiscoveryListener } from '../../../lib/discovery';
import { SimulatedDevice } from '../../../lib/simulator';
import { emulateRmemMax, udpReceiveBufferDrops } from '../support';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const n = Number(arg('devices', '250'));
  // How long to keep listening for missing Hellos once every device has started (a lost datagram never comes).
  const waitMs = Number(arg('wait', '10000'));
  // --rmem-max N: a kernel with that receive-buffer limit (212992 on a stock Linux), whatever this machine's is.
  const rmemMax = Number(arg('rmem-max', '0'));
  if (rmemMax > 0) emulateRmemMax(rmemMax);
  const listener = new DiscoveryListener();
  const devices = Array.from({ length: n }, () => new SimulatedDevice({ processorUsageIntervalMs: 0 }));
  const expected = new Set(devices.map((d) => d.endpoint.toLowerCase()));
  const heard = new Set<string>();
  const times: number[] = [];
  let hellos = 0;
  let allHeard!: () => void;
  const done = new Promise<void>((r) => (allHeard = r));
  listener.events$.subscribe((e) => {
    if (e.type !== 'hello' || !expected.has(e.device.endpoint)) return;
    hellos++;
    if (heard.has(e.device.endpoint)) return;
    heard.add(e.device.endpoint);
    times.push(performance.now() - t0);
    if (heard.size === n) allHeard();
  });
  await listener.start();
  const dropsBefore = udpReceiveBufferDrops();
  const t0 = performance.now();
  await Promise.all(devices.map((d) => d.start()));
  const startedMs = performance.now() - t0;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
  clearTimeout(timer);
  const dropsAfter = udpReceiveBufferDrops();
  await listener.stop();
  await Promise.all(devices.map((d) => d.stop()));
  console.log(JSON.stringify({
    total: n,
    heard: heard.size,
    hellos,
    missing: [...expected].filter((e) => !heard.has(e)).length,
    startedMs: Math.round(startedMs),
    firstMs: times.length ? Math.round(times[0]!) : undefined,
    lastMs: times.length ? Math.round(times[times.length - 1]!) : undefined,
    receiveBufferBytes: listener.receiveBufferBytes,
    kernelDrops: dropsBefore !== undefined && dropsAfter !== undefined ? dropsAfter - dropsBefore : undefined,
  }));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`scenario failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
