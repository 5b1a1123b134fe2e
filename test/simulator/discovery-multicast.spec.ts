/**
 * The simulator's multicast side of WS-Discovery (Hello on start and on changes, Bye on stop and reboot,
 * probes to 239.255.255.250), run in a network namespace this test creates: only there does multicast
 * stay on loopback (the project's network rule). Skips when `ip netns` is not permitted.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUTPUT, REPO, skipWith, validateFiles, validationUnavailable } from '../support/shared';
import { summarize, WSD, type Summary } from './discovery-client';

interface ScenarioOutput {
  endpoints: [string, string];
  xaddrs: [string, string];
  steps: Record<string, string[]>;
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Run a scenario script in a network namespace of its own (created, given a multicast route on loopback, and
 * removed again) and return the last line it printed, parsed. Skips the suite when namespaces are not permitted.
 */
function runScenarioInNamespace<T>(ctx: Mocha.Context, prefix: string, script: string, args: string[]): T {
  const ns = `${prefix}-${randomBytes(3).toString('hex')}`;
  try {
    ip(['netns', 'add', ns]);
  } catch (e) {
    skipWith(ctx, `skipped: cannot create a network namespace (${((e as { stderr?: Buffer }).stderr ?? '').toString().trim() || (e as Error).message}); needs root and iproute2`);
  }
  try {
    ip(['netns', 'exec', ns, 'sh', '-c', 'ip link set lo up && ip link set lo multicast on && ip route add 239.0.0.0/8 dev lo']);
    const run = spawnSync('ip', ['netns', 'exec', ns, join(REPO, 'node_modules', '.bin', 'tsx'), join(__dirname, script), ...args], {
      cwd: REPO, encoding: 'utf8', timeout: 80_000,
    });
    assert.equal(run.status, 0, `scenario failed: ${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').pop()!) as T;
  } finally {
    try {
      ip(['netns', 'del', ns]);
    } catch {
      // Already gone.
    }
  }
}

describe('simulator: WS-Discovery multicast (in a network namespace)', function () {
  this.timeout(90_000);
  let out: ScenarioOutput;
  let raw: Record<string, string[]>;
  let steps: Record<string, Summary[]>;

  before(function () {
    out = runScenarioInNamespace<ScenarioOutput>(this, 'onvifq-simdisc', 'discovery-netns-scenario.ts', ['3702']);
    raw = out.steps;
    steps = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.map(summarize)]));
  });

  const kinds = (step: string) => steps[step]!.map((s) => `${s.body} ${s.matches[0]?.endpoint}`).sort();
  /** The device the scenario changes; the other one stays as it started. */
  const A = 0;

  it('both devices say Hello on start, with their scopes, XAddrs and MetadataVersion', () => {
    assert.deepEqual(kinds('start'), out.endpoints.map((e) => `Hello ${e}`).sort());
    for (const s of steps.start!) {
      assert.equal(s.action, `${WSD}/Hello`);
      assert.equal(s.to, 'urn:schemas-xmlsoap-org:ws:2005:04:discovery');
      const m = s.matches[0]!;
      assert.deepEqual(m.xaddrs, [out.xaddrs[out.endpoints.indexOf(m.endpoint!)]]);
      assert.ok(m.scopes.includes('onvif://www.onvif.org/Profile/Q/FactoryDefault'));
      assert.equal(m.metadataVersion, 1);
    }
  });

  it('both devices answer one multicast Probe (one shared socket per port) by unicast, with RelatesTo', () => {
    assert.deepEqual(kinds('probe-all'), out.endpoints.map((e) => `ProbeMatches ${e}`).sort());
    assert.deepEqual(kinds('probe-scope-a'), out.endpoints.map((e) => `ProbeMatches ${e}`).sort());
    const ids = new Set(steps['probe-all']!.map((s) => s.relatesTo));
    assert.equal(ids.size, 1, 'both relate to the same probe');
  });

  it('a scope change sends Hello with a higher MetadataVersion', () => {
    const [hello] = steps['add-scope']!;
    assert.equal(steps['add-scope']!.length, 1);
    assert.equal(hello!.body, 'Hello');
    assert.equal(hello!.matches[0]!.endpoint, out.endpoints[A]);
    assert.ok(hello!.matches[0]!.scopes.includes('onvif://www.onvif.org/location/floor/R5'));
    assert.equal(hello!.matches[0]!.metadataVersion, 2);
  });

  it('NonDiscoverable: no answer to a matching Probe, no Hello on a scope change; Discoverable again says Hello', () => {
    assert.deepEqual(steps['non-discoverable'], []);
    assert.deepEqual(steps['probe-while-non-discoverable'], [], 'the only device with that scope is NonDiscoverable');
    assert.deepEqual(steps['scope-change-while-non-discoverable'], []);
    assert.deepEqual(kinds('discoverable-again'), [`Hello ${out.endpoints[A]}`]);
    const hello = steps['discoverable-again']![0]!.matches[0]!;
    assert.ok(!hello.scopes.includes('onvif://www.onvif.org/location/floor/R5'), 'announces the scopes as they are now');
    assert.equal(hello.metadataVersion, 3, 'the scope change made while silent still counts');
  });

  it('an unknown MatchBy rule over multicast gets no fault (Core §7.3.6: no packet storms)', () => {
    assert.deepEqual(steps['probe-unsupported-rule'], []);
  });

  it('a reboot says Bye, then Hello with a new AppSequence instance', () => {
    assert.deepEqual(steps.reboot!.map((s) => `${s.body} ${s.matches[0]?.endpoint}`), [`Bye ${out.endpoints[A]}`, `Hello ${out.endpoints[A]}`]);
    const [bye, hello] = steps.reboot!;
    assert.ok(hello!.appSequence!.instanceId > bye!.appSequence!.instanceId);
    assert.equal(hello!.appSequence!.messageNumber, 1);
  });

  it('commissioning (an Administrator with a password) sends Hello with the Operational scope', () => {
    assert.deepEqual(kinds('commission'), [`Hello ${out.endpoints[A]}`]);
    const m = steps.commission![0]!.matches[0]!;
    assert.ok(m.scopes.includes('onvif://www.onvif.org/Profile/Q/Operational'));
    assert.ok(!m.scopes.includes('onvif://www.onvif.org/Profile/Q/FactoryDefault'));
    assert.equal(m.metadataVersion, 4);
    assert.deepEqual(kinds('probe-operational'), [`ProbeMatches ${out.endpoints[A]}`]);
  });

  it('both devices say Bye on stop', () => {
    assert.deepEqual(kinds('stop'), out.endpoints.map((e) => `Bye ${e}`).sort());
    for (const s of steps.stop!) assert.equal(s.action, `${WSD}/Bye`);
  });

  it('AppSequence MessageNumber grows with every message of a device instance', () => {
    const seen = new Map<string, number>();
    for (const step of Object.values(steps)) {
      for (const s of step) {
        const key = `${s.matches[0]?.endpoint} ${s.appSequence!.instanceId}`;
        const last = seen.get(key) ?? 0;
        assert.ok(s.appSequence!.messageNumber > last, `${key}: ${s.appSequence!.messageNumber} after ${last}`);
        seen.set(key, s.appSequence!.messageNumber);
      }
    }
  });

  it('Hello, Bye and ProbeMatches validate against the WS-Discovery schema', function () {
    const why = validationUnavailable();
    if (why) skipWith(this, why);
    const dir = join(OUTPUT, 'simulator-discovery-multicast');
    mkdirSync(dir, { recursive: true });
    const files = [
      ['Hello', raw.start![0]!],
      ['Bye', raw.stop![0]!],
      ['ProbeMatches', raw['probe-all']![0]!],
    ].map(([name, xml]) => {
      const f = join(dir, `${name}.xml`);
      writeFileSync(f, xml!);
      return f;
    });
    const { code, output } = validateFiles(files);
    assert.equal(code, 0, output);
  });

});

// Issue 10 item 15: WS-Discovery's APP_MAX_DELAY (500 ms). Each device waits a random time in [0, 500] ms before
// answering a multicast Probe and before its Hello, so many devices never answer in one burst.
describe('simulator: WS-Discovery random waits before ProbeMatches and Hello (in a network namespace)', function () {
  this.timeout(90_000);
  const DEVICES = 50;
  let waits: { devices: number; helloWaits: number[]; probeWaits: number[]; stoppedEarly: string[] };

  before(function () {
    waits = runScenarioInNamespace<typeof waits>(this, 'onvifq-simwait', 'discovery-delay-scenario.ts', ['3702', String(DEVICES)]);
  });

  const spread = (ms: number[]) => Math.max(...ms) - Math.min(...ms);
  const show = (ms: number[]) => `${Math.min(...ms).toFixed(0)}-${Math.max(...ms).toFixed(0)} ms`;
  // Timers fire late on a busy machine, never early: only the spread and a generous upper bound are asserted.
  // 50 waits drawn from [0, 500] ms span more than 300 ms but for a vanishing chance (0.6^49 * 50).
  const MIN_SPREAD_MS = 300;
  const LATE_SLACK_MS = 1500;

  it(`${DEVICES} devices answer one multicast Probe after waits that vary within [0, 500] ms`, () => {
    assert.equal(waits.probeWaits.length, DEVICES, 'every device answered');
    console.log(`      ProbeMatches after ${show(waits.probeWaits)}`);
    assert.ok(spread(waits.probeWaits) > MIN_SPREAD_MS, `the answers are spread out: ${show(waits.probeWaits)}`);
    assert.ok(Math.max(...waits.probeWaits) < 500 + LATE_SLACK_MS, `no answer waits much longer than 500 ms: ${show(waits.probeWaits)}`);
  });

  it(`${DEVICES} devices starting at once say Hello after waits that vary within [0, 500] ms`, () => {
    assert.equal(waits.helloWaits.length, DEVICES, 'every device said Hello');
    console.log(`      Hello after ${show(waits.helloWaits)}`);
    assert.ok(spread(waits.helloWaits) > MIN_SPREAD_MS, `the Hellos are spread out: ${show(waits.helloWaits)}`);
    assert.ok(Math.max(...waits.helloWaits) < 500 + LATE_SLACK_MS, `no Hello waits much longer than 500 ms: ${show(waits.helloWaits)}`);
  });

  it('a device stopped while its Hello still waits says Bye and never Hello after it', () => {
    assert.deepEqual(waits.stoppedEarly, ['Bye']);
  });
});
