import { strict as assert } from 'node:assert';
import { run } from '../../lib/cli/onvifq';
import { SimulatedDevice } from '../../lib/simulator';

const ADMIN = { username: 'admin', password: 'Adm1n-secret' };

describe('onvifq events', function () {
  this.timeout(20_000);
  let sim: SimulatedDevice | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('prints one JSON line per matching event and stops after --count, unsubscribing', async () => {
    sim = new SimulatedDevice({ ...ADMIN, processorUsageIntervalMs: 0 });
    await sim.start();
    const lines: string[] = [];
    await run(['events', sim.xaddr, '-u', ADMIN.username, '-p', ADMIN.password, '--filter', 'tns1:Monitoring/OperatingTime//.', '--count', '3'], (s) => lines.push(s));
    assert.equal(lines.length, 3);
    for (const l of lines) {
      const e = JSON.parse(l);
      assert.match(e.topic, /^tns1:Monitoring\/OperatingTime\//);
      assert.equal(e.operation, 'Initialized');
    }
    assert.equal(sim.pullPoints.length, 0);
  });

  it('Ctrl-C (the abort signal) unsubscribes, then returns', async () => {
    sim = new SimulatedDevice({ ...ADMIN, processorUsageIntervalMs: 0 });
    await sim.start();
    const lines: string[] = [];
    const abort = new AbortController();
    const done = run(['events', sim.xaddr, '-u', ADMIN.username, '-p', ADMIN.password, '--filter', 'tns1:RuleEngine//.'], (s) => lines.push(s), abort.signal);
    const until = Date.now() + 5000;
    while (!sim.pullPoints[0]?.pulling && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    sim.raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } });
    while (!lines.some((l) => JSON.parse(l).operation === 'Changed') && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    abort.abort();
    await done;
    const changed = lines.map((l) => JSON.parse(l)).find((e) => e.operation === 'Changed');
    assert.deepEqual(changed.data, { IsMotion: true });
    assert.equal(sim.pullPoints.length, 0);
    assert.equal(sim.requests.filter((r) => r.operation === 'Unsubscribe' && r.status === 200).length, 1);
  });

  it('rejected credentials end the command with the reason', async () => {
    sim = new SimulatedDevice({ ...ADMIN, processorUsageIntervalMs: 0 });
    await sim.start();
    await assert.rejects(run(['events', sim.xaddr, '-u', 'admin', '-p', 'nope'], () => undefined), (e: Error & { kind?: string }) => e.kind === 'auth' && !/nope/.test(e.message));
  });
});
