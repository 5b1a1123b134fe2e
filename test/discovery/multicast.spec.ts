/**
 * Real multicast, inside a network namespace this test creates (the contract's network rule: in the root
 * namespace 239.255.255.250 routes out of the host). Each case runs a scenario script in the namespace
 * with `ip netns exec` and asserts on the JSON line it prints.
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { hasCommand, REPO, skipWith } from '../support/shared';
import { REAL, TSX, createNamespace, deleteNamespace, lastJson, namespaceUnavailable, runInNamespace, startCpuHogs } from './support';

const SCENARIOS = path.join(__dirname, 'scenarios');
/** The simulator's WS-Discovery responder (another engineer's work): use real simulated devices once it exists. */
const SIMULATOR_ANSWERS_PROBES = existsSync(path.join(REPO, 'lib/simulator/discovery'));

interface ProbeManyResult {
  source: string; total: number; found: number; emitted: number; unique: number; missing: string[]; strangers: string[];
  firstMs?: number; lastMs?: number; receiveBufferBytes?: number; kernelDrops?: number;
}
interface HelloBurstResult {
  total: number; heard: number; hellos: number; missing: number; firstMs?: number; lastMs?: number; receiveBufferBytes: number; kernelDrops?: number;
}
interface PresenceResult {
  expected: { type: string; endpoint: string }[];
  events: { type: string; endpoint: string; name?: string; xaddrs: string[] }[];
}

describe('discovery: multicast inside a network namespace', function () {
  this.timeout(120_000);
  let ns: string;

  before(function () {
    const why = namespaceUnavailable();
    if (why) skipWith(this, why);
    if (!existsSync(REAL)) skipWith(this, `skipped: ${REAL} not found (the team's shared real-device captures)`);
    ns = createNamespace('disc');
  });
  after(() => {
    if (ns) deleteNamespace(ns);
  });

  async function scenario<T>(file: string, args: string[]): Promise<T> {
    const r = await runInNamespace(ns, [TSX, path.join(SCENARIOS, file), ...args], { timeoutMs: 90_000 });
    assert.equal(r.code, 0, `scenario ${file} failed:\n${r.stderr}\n${r.stdout}`);
    return lastJson<T>(r.stdout);
  }

  it('50 simulated devices in one probe: all 50 found, none twice', async function () {
    const source = SIMULATOR_ANSWERS_PROBES ? 'sim' : 'replay';
    if (source === 'replay') console.log('      (lib/simulator/discovery not there yet: 50 responders replaying a real ProbeMatch instead)');
    const r = await scenario<ProbeManyResult>('probe-many.ts', ['--devices', '50', '--source', source, '--timeout', '3000']);
    assert.deepEqual(r.missing, []);
    assert.equal(r.found, 50);
    assert.equal(r.emitted, 50, 'each device emitted once');
    assert.deepEqual(r.strangers, []);
  });

  /** Both cores busy while `run` goes on, as on a loaded CI box; the spinning processes are killed by PID. */
  async function withBusyCores<T>(run: () => Promise<T>): Promise<T> {
    const hogs = startCpuHogs(2);
    try {
      return await run();
    } finally {
      hogs.stop();
    }
  }

  /**
   * Linux's stock net.core.rmem_max: what a CI box grants a socket asking for more (this machine may be tuned
   * higher). The scenarios emulate that limit so these tests mean the same everywhere.
   */
  const STOCK_RMEM_MAX = '212992';

  // Issue 10 item 15: one probe answered by 250 devices used to arrive as one burst and overflow the receive buffer.
  it('250 simulated devices answer one multicast probe, both cores busy, stock kernel buffer limit: all 250 found, none twice', async function () {
    if (!SIMULATOR_ANSWERS_PROBES) skipWith(this, 'skipped: needs the simulator\'s WS-Discovery responder');
    this.timeout(240_000);
    // An 8 s window: lost datagrams are never sent again (devices drop repeated probes), so a longer window
    // only absorbs a slow, busy machine (the last answer came after 2-4 s there); it cannot hide a loss.
    const r = await withBusyCores(() => scenario<ProbeManyResult>('probe-many.ts', ['--devices', '250', '--source', 'sim', '--timeout', '8000', '--rmem-max', STOCK_RMEM_MAX]));
    console.log(`      found ${r.found}/250, first after ${r.firstMs} ms, last after ${r.lastMs} ms; receive buffer ${r.receiveBufferBytes} bytes; ${r.kernelDrops} datagrams dropped by the kernel in the namespace`);
    assert.deepEqual(r.missing, []);
    assert.equal(r.found, 250);
    assert.equal(r.emitted, 250, 'each device emitted once');
    assert.deepEqual(r.strangers, []);
  });

  it('250 simulated devices starting at once (a power cut), both cores busy, stock kernel buffer limit: the listener hears all 250 Hellos', async function () {
    if (!SIMULATOR_ANSWERS_PROBES) skipWith(this, 'skipped: needs the simulator\'s WS-Discovery responder');
    this.timeout(240_000);
    const r = await withBusyCores(() => scenario<HelloBurstResult>('hello-burst.ts', ['--devices', '250', '--wait', '10000', '--rmem-max', STOCK_RMEM_MAX]));
    console.log(`      heard ${r.heard}/250 Hellos, first after ${r.firstMs} ms, last after ${r.lastMs} ms; listener receive buffer ${r.receiveBufferBytes} bytes; ${r.kernelDrops} datagrams dropped by the kernel in the namespace`);
    assert.equal(r.missing, 0, `${r.missing} of 250 Hellos never arrived`);
    assert.equal(r.heard, 250);
  });

  it('50 responders replaying a real capture (random reply delays, repeats dropped): all found, none twice', async function () {
    const r = await scenario<ProbeManyResult>('probe-many.ts', ['--devices', '50', '--source', 'replay', '--timeout', '2000']);
    assert.equal(r.found, 50);
    assert.equal(r.emitted, 50);
  });

  it('the listener reports a real Hello and a real Bye, ignores a Windows WSD Hello and junk, and drops the repeat', async function () {
    const r = await scenario<PresenceResult>('presence.ts', ['--source', 'replay']);
    assert.deepEqual(r.events.map((e) => ({ type: e.type, endpoint: e.endpoint })), r.expected);
    assert.equal(r.events[0].name, 'Dahua');
    assert.deepEqual(r.events[0].xaddrs, ['http://192.168.1.45/onvif/device_service']);
  });

  it('Hello on start and Bye on stop of a simulated device reach the DiscoveryListener', async function () {
    if (!SIMULATOR_ANSWERS_PROBES) skipWith(this, 'skipped: the simulator does not announce itself yet (lib/simulator/discovery missing)');
    const r = await scenario<PresenceResult>('presence.ts', ['--source', 'sim']);
    const mine = r.events.filter((e) => e.endpoint === r.expected[0].endpoint);
    assert.deepEqual(mine.map((e) => e.type), ['hello', 'bye']);
    assert.ok(mine[0].xaddrs[0].startsWith('http://127.0.0.1:'), mine[0].xaddrs.join(' '));
  });

  it("Debian's onvif-util -a (a prober written by others) finds a simulated device", async function () {
    if (!hasCommand('onvif-util')) skipWith(this, 'skipped: onvif-util missing (apt-get install onvif-tools)');
    const answer = SIMULATOR_ANSWERS_PROBES ? 'sim' : 'replay';
    if (answer === 'replay') console.log('      (simulator has no WS-Discovery responder yet: a replayed real ProbeMatch points onvif-util at the simulated device)');
    const r = await scenario<{ xaddr: string; endpoint: string; onvifUtil: { code: number; stdout: string; stderr: string }; ours: { endpoint: string; xaddrs: string[] }[] }>(
      'onvif-util.ts', ['--answer', answer],
    );
    assert.equal(r.onvifUtil.code, 0, r.onvifUtil.stderr);
    assert.match(r.onvifUtil.stdout, /Found 1 camera/);
    // onvif-util lists the address it found and the host name it then read from the device over HTTP.
    assert.match(r.onvifUtil.stdout, /^127\.0\.0\.1 \S+/m);
    assert.equal(r.ours.length, 1);
    assert.deepEqual(r.ours[0].xaddrs, [r.xaddr]);
  });
});
