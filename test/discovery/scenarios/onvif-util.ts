/**
 * Scenario, run INSIDE a network namespace (onvif-util -a probes on every interface it sees):
 *   ip netns exec <ns> tsx test/discovery/scenarios/onvif-util.ts [--answer sim|replay]
 * Starts a SimulatedDevice and runs Debian's `onvif-util -a` (libonvif, a prober written by others) against it.
 *   sim:    the simulator answers the probe itself (its WS-Discovery responder);
 *   replay: the simulator serves HTTP and a responder answers the probe with a real capture pointing at it.
 * Our own probe runs as well, for comparison. Prints one JSON line.
 */
import { spawn } from 'node:child_process';
import { probe } from '../../../lib/discovery';
import { SimulatedDevice } from '../../../lib/simulator';
import { cloneCapture, realCaptures, startReplayResponder } from '../support';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function main(): Promise<void> {
  const answer = arg('answer', 'sim');
  // onvif-util listens for answers only briefly after its probe: a device waiting up to WS-Discovery's 500 ms on a
  // busy machine was sometimes missed (Found 0 cameras). What is tested is that it reads our ProbeMatch, so answer soon.
  const device = new SimulatedDevice(answer === 'replay' ? { discovery: false } : { discoveryDelayMs: [0, 50] });
  await device.start();
  const stops: (() => Promise<void>)[] = [() => device.stop()];
  if (answer === 'replay') {
    const dahua = realCaptures('ProbeMatches').find(([f]) => f.startsWith('dahua'));
    if (!dahua) throw new Error('the Dahua ProbeMatches capture is missing (../shared/fixtures/real)');
    const r = await startReplayResponder({ replies: [cloneCapture(dahua[1], 1, device.xaddr)], multicastInterface: '127.0.0.1', port: 3702 });
    stops.push(() => r.close());
  }
  const util = await run('onvif-util', ['-a'], 20000);
  const ours = await probe({ timeoutMs: 1500 });
  for (const stop of stops) await stop();
  console.log(JSON.stringify({ answer, xaddr: device.xaddr, endpoint: device.endpoint, onvifUtil: util, ours: ours.map((d) => ({ endpoint: d.endpoint, xaddrs: d.xaddrs })) }));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`scenario failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
