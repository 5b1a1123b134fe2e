/**
 * onvifq-configure tasks in the Node-RED test helper against real simulated devices: commission (with the
 * password from the node's credentials), the credentials warning, backup into msg.payload / a file, restore
 * from a backup Buffer, inventory, syncTime; progress in the status.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SinonSpy } from 'sinon';
import { OnvifDevice } from '../../lib/device/onvif-device';
import type { OnvifError } from '../../lib/errors';
import { SimulatedDevice } from '../../lib/simulator';
import deviceNode from '../../nodes/onvifq-device/onvifq-device';
import configureNode from '../../nodes/onvifq-configure/onvifq-configure';
import { CATALOGUE } from '../../nodes/onvifq-configure/operations';
import { PASSWORD, USERNAME, type FlowNode, type TestFlows, helper, loggedTexts, nextInput, startHelperServer, statuses, stopHelperServer, waitFor } from './support';

const NODES = [deviceNode, configureNode];
const NEW_ADMIN_PASSWORD = 'Fr3sh-Adm1n-zz';

function configNode(id: string, xaddr: string, name: string): FlowNode {
  return { id, type: 'onvifq-device', name, address: xaddr, auth: 'auto', timeout: 5 };
}

function configure(id: string, device: string, settings: Record<string, unknown>, out: string): FlowNode[] {
  return [
    { id, type: 'onvifq-configure', z: 't', x: 100, y: 100, name: '', device, ...settings, wires: [[out]] },
    { id: out, type: 'helper', z: 't', x: 100, y: 100 },
  ];
}

function withCatch(nodes: FlowNode[], scope: string[]): TestFlows {
  return [
    { id: 't', type: 'tab', label: 'test' },
    ...nodes,
    { id: 'catch', type: 'catch', z: 't', x: 100, y: 100, scope, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 't', x: 100, y: 100 },
  ];
}

function warnings(nodeId: string): string[] {
  const n = helper.getNode(nodeId);
  return (n.warn as unknown as SinonSpy).getCalls().filter((c) => c.thisValue === n).map((c) => String(c.args[0]));
}

function texts(nodeId: string): string[] {
  return statuses(helper.getNode(nodeId)).map((s) => String(s.text));
}

describe('onvifq-configure: tasks', function () {
  this.timeout(60000);
  const sims: SimulatedDevice[] = [];
  const sessions: OnvifDevice[] = [];
  let dir: string;

  async function sim(options: ConstructorParameters<typeof SimulatedDevice>[0] = {}): Promise<SimulatedDevice> {
    const s = new SimulatedDevice({ discovery: false, rebootDowntimeMs: 500, ...options });
    await s.start();
    sims.push(s);
    return s;
  }
  function session(s: SimulatedDevice, creds: { username?: string; password?: string }): OnvifDevice {
    const d = new OnvifDevice({ address: s.xaddr, ...creds });
    sessions.push(d);
    return d;
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-node-tasks-'));
    await startHelperServer();
  });
  afterEach(async () => {
    await stopHelperServer();
    await Promise.all(sessions.splice(0).map((d) => d.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function run(nodeId: string, outId: string, msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    const got = nextInput(helper.getNode(outId), 45000);
    helper.getNode(nodeId).receive(msg);
    return got;
  }

  it('commission: Factory Default -> Operational with the password from the node credentials; warns to store it; progress in the status', async () => {
    const s = await sim();
    assert.equal(s.profileQState, 'FactoryDefault');
    await helper.load(
      NODES,
      withCatch([configNode('dev', s.xaddr, 'New camera'), ...configure('cfg', 'dev', { operation: 'commission', params: JSON.stringify({ username: 'admin', hostname: 'lobby-cam' }) }, 'out')], ['cfg']),
      { dev: {}, cfg: { password: NEW_ADMIN_PASSWORD } },
    );
    const msg = await run('cfg', 'out', { payload: 1700000000000 });
    const result = msg.payload as { steps: Array<{ step: string; ok: boolean }>; state: string; username: string };
    assert.deepEqual(result.steps.map((x) => [x.step, x.ok]), [['admin', true], ['hostname', true]]);
    assert.equal(result.state, 'Operational');
    assert.equal(s.profileQState, 'Operational');

    const shown = texts('cfg');
    assert.ok(shown.some((t) => /^commission: admin/.test(t)), shown.join(' | '));
    assert.ok(shown.some((t) => /^commission: hostname/.test(t)), shown.join(' | '));
    assert.equal(shown[shown.length - 1], 'commissioned');
    const warned = warnings('cfg');
    assert.ok(warned.some((w) => /stored password of 'New camera' needs updating/.test(w)), warned.join(' | '));

    const everything = [...warned, ...shown, ...loggedTexts(), JSON.stringify(msg.payload)];
    assert.ok(everything.every((t) => !t.includes(NEW_ADMIN_PASSWORD)), 'the new password appears nowhere');
    await assert.rejects(session(s, {}).call('GetUsers'), (e: OnvifError) => e.kind === 'auth');
    assert.equal((await session(s, { username: 'admin', password: NEW_ADMIN_PASSWORD }).call('GetHostname')).HostnameInformation.Name, 'lobby-cam');
  });

  it("the commission example (help, 'Use the example', the example flow) commissions a device that ships with 'root'", async () => {
    // Naming 'admin' there would be refused on such a device: commissioning sets the existing administrator's password.
    const flowFile = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../examples/commission-factory-default.json'), 'utf8')) as FlowNode[];
    const inFlow = flowFile.find((n) => n.type === 'onvifq-configure' && n.operation === 'commission')!;
    // The catalogue's example goes in msg.payload (it holds passwords); the example flow's parameters stay in the node.
    const cases = [
      { where: 'catalogue', params: {}, payload: CATALOGUE.find((e) => e.name === 'commission')!.example },
      { where: 'example flow', params: JSON.parse(String(inFlow.params)) as Record<string, unknown>, payload: 1700000000000 },
    ];
    for (const { where, params, payload } of cases) {
      const s = await sim({ defaultAdmin: 'root' });
      await helper.load(NODES, withCatch([configNode('dev', s.xaddr, 'New camera'), ...configure('cfg', 'dev', { operation: 'commission', params: JSON.stringify(params) }, 'out')], ['cfg']), {
        dev: {},
        cfg: { password: NEW_ADMIN_PASSWORD },
      });
      const caught = nextInput(helper.getNode('caught'), 45000).then((m) => assert.fail(`${where}: ${(m.error as Error).message}`));
      const msg = await Promise.race([run('cfg', 'out', { payload }), caught]);
      const result = msg.payload as { state: string; username: string };
      assert.equal(result.username, 'root', where);
      assert.equal(result.state, 'Operational', where);
      await helper.unload();
    }
  });

  it('commission that fails at a step: the Catch node gets what was done (steps) and why', async () => {
    const s = await sim();
    await helper.load(NODES, withCatch([configNode('dev', s.xaddr, 'New camera'), ...configure('cfg', 'dev', { operation: 'commission' }, 'out')], ['cfg']), { dev: {} });
    const caught = nextInput(helper.getNode('caught'), 45000);
    helper.getNode('cfg').receive({ payload: { password: NEW_ADMIN_PASSWORD, hostname: '-not_a host-' } });
    const err = (await caught) as { error: { message: string; cause?: { kind: string; subcodes?: string[]; steps?: Array<{ step: string; ok: boolean; detail?: string }> } } };
    assert.match(err.error.message, /stopped at step 'hostname'/);
    assert.match(err.error.message, /Done: admin/);
    assert.deepEqual(err.error.cause?.steps?.map((x) => [x.step, x.ok]), [['admin', true], ['hostname', false]]);
    assert.ok(err.error.cause?.subcodes?.some((c) => /InvalidHostname/.test(c)), JSON.stringify(err.error.cause));
    assert.ok(!JSON.stringify(err.error).includes(NEW_ADMIN_PASSWORD), 'no password in the error');
    assert.equal(s.profileQState, 'Operational', 'the admin step stays done');
  });

  it('msg.address: commissions a factory-default device found elsewhere, with a fleet config node', async () => {
    const known = await sim({ username: USERNAME, password: PASSWORD });
    const fresh = await sim();
    await helper.load(NODES, withCatch([configNode('dev', known.xaddr, 'Fleet'), ...configure('cfg', 'dev', { operation: 'commission' }, 'out')], ['cfg']), {
      dev: { username: USERNAME, password: PASSWORD },
    });
    const msg = await run('cfg', 'out', { address: fresh.xaddr, payload: { password: NEW_ADMIN_PASSWORD } });
    assert.equal((msg.payload as any).state, 'Operational');
    assert.equal(fresh.profileQState, 'Operational');
    assert.equal((msg.device as any).xaddr, fresh.xaddr);
    const warned = warnings('cfg');
    assert.ok(warned.some((w) => w.includes(`'Fleet' does not fit`) && w.includes('127.0.0.1')), warned.join(' | '));
  });

  it("SetUser on the session's own user: later calls use the new password, and the node warns the stored one needs updating", async () => {
    const s = await sim({ username: USERNAME, password: PASSWORD });
    await helper.load(
      NODES,
      withCatch(
        [
          configNode('dev', s.xaddr, 'Porch'),
          ...configure('cfg', 'dev', { operation: 'SetUser', params: JSON.stringify({ User: [{ Username: USERNAME, UserLevel: 'Administrator' }] }) }, 'out'),
          ...configure('users', 'dev', { operation: 'GetUsers' }, 'out2'),
        ],
        ['cfg', 'users'],
      ),
      { dev: { username: USERNAME, password: PASSWORD }, cfg: { password: NEW_ADMIN_PASSWORD } },
    );
    await run('cfg', 'out', {});
    const warned = warnings('cfg');
    assert.ok(warned.some((w) => /The stored password of 'Porch' needs updating/.test(w)), warned.join(' | '));
    // The device now only knows the new password; the other node on the same config node still works.
    const users = await run('users', 'out2', {});
    assert.ok((users.payload as any).User.some((u: any) => u.Username === USERNAME));
    await assert.rejects(session(s, { username: USERNAME, password: PASSWORD }).call('GetUsers'), (e: OnvifError) => e.kind === 'auth');
    assert.ok([...warned, ...loggedTexts()].every((t) => !t.includes(NEW_ADMIN_PASSWORD) && !t.includes(PASSWORD)));
  });

  it('backup into msg.payload as a Buffer, then restore that Buffer onto another device: it takes the configuration', async () => {
    const a = await sim({ username: USERNAME, password: PASSWORD });
    const b = await sim({ username: USERNAME, password: PASSWORD });
    await session(a, { username: USERNAME, password: PASSWORD }).call('SetHostname', { Name: 'device-a-config' });
    await helper.load(
      NODES,
      withCatch(
        [
          configNode('devA', a.xaddr, 'A'),
          configNode('devB', b.xaddr, 'B'),
          ...configure('backup', 'devA', { operation: 'backup' }, 'out'),
          ...configure('restore', 'devB', { operation: 'restore' }, 'out2'),
        ],
        ['backup', 'restore'],
      ),
      { devA: { username: USERNAME, password: PASSWORD }, devB: { username: USERNAME, password: PASSWORD } },
    );
    const backup = await run('backup', 'out', { topic: 'nightly' });
    assert.ok(Buffer.isBuffer(backup.payload), `payload is ${typeof backup.payload}`);
    const bytes = (backup.payload as Buffer).length;
    assert.ok(bytes > 100);
    assert.equal((backup.backup as any).bytes, bytes);
    assert.equal(backup.topic, 'nightly');
    const backupTexts = texts('backup');
    assert.ok(backupTexts.some((t) => t.startsWith('backup:')), backupTexts.join(' | '));
    assert.match(backupTexts[backupTexts.length - 1]!, /^backup \d/);

    const restored = await run('restore', 'out2', { payload: backup.payload });
    const r = restored.payload as { bytes: number; reconnected: boolean; downtimeMs: number };
    assert.equal(r.bytes, bytes);
    assert.equal(r.reconnected, true);
    assert.equal(b.state.hostname.name, 'device-a-config');
    const restoreTexts = texts('restore');
    assert.ok(restoreTexts.some((t) => t.startsWith('restore: restarting')), restoreTexts.join(' | '));
    assert.ok(restoreTexts.includes('reconnected'), restoreTexts.join(' | '));
    assert.equal(restoreTexts[restoreTexts.length - 1], 'restored');
  });

  it('a redeploy during a restore does not wait for the device to come back', async () => {
    const s = await sim({ username: USERNAME, password: PASSWORD, rebootDowntimeMs: 8000 });
    const backup = await session(s, { username: USERNAME, password: PASSWORD }).download(
      (await session(s, { username: USERNAME, password: PASSWORD }).call('GetSystemUris')).SystemBackupUri!,
      { to: 'buffer' },
    );
    await helper.load(NODES, withCatch([configNode('dev', s.xaddr, 'Porch'), ...configure('cfg', 'dev', { operation: 'restore' }, 'out')], ['cfg']), {
      dev: { username: USERNAME, password: PASSWORD },
    });
    const cfg = helper.getNode('cfg');
    cfg.receive({ payload: backup.buffer });
    await waitFor('restore restarting', () => texts('cfg').some((t) => t.startsWith('restore: restarting')), 15000);
    const started = Date.now();
    await helper.unload();
    assert.ok(Date.now() - started < 3000, `closing took ${Date.now() - started} ms`);
  });

  it('backup into a file named in the node; msg.payload.file overrides it', async () => {
    const s = await sim({ username: USERNAME, password: PASSWORD });
    const nodeFile = path.join(dir, 'node.bin');
    const msgFile = path.join(dir, 'msg.bin');
    await helper.load(NODES, withCatch([configNode('dev', s.xaddr, 'Porch'), ...configure('cfg', 'dev', { operation: 'backup', params: JSON.stringify({ file: nodeFile }) }, 'out')], ['cfg']), {
      dev: { username: USERNAME, password: PASSWORD },
    });
    const first = await run('cfg', 'out', {});
    assert.deepEqual(first.payload, { bytes: fs.statSync(nodeFile).size, file: nodeFile, contentType: 'application/octet-stream' });
    const second = await run('cfg', 'out', { payload: { file: msgFile } });
    assert.equal((second.payload as any).file, msgFile);
    assert.ok(fs.statSync(msgFile).size > 100);
  });

  it('inventory: one object for fleet reports', async () => {
    const s = await sim({ username: USERNAME, password: PASSWORD, deviceInformation: { SerialNumber: 'INV-7' } });
    await helper.load(NODES, withCatch([configNode('dev', s.xaddr, 'Porch'), ...configure('cfg', 'dev', { operation: 'inventory' }, 'out')], ['cfg']), {
      dev: { username: USERNAME, password: PASSWORD },
    });
    const msg = await run('cfg', 'out', {});
    const inv = msg.payload as any;
    assert.equal(inv.deviceInformation.serialNumber, 'INV-7');
    assert.equal(inv.profileQState, 'Operational');
    assert.ok(inv.services.some((x: any) => x.name === 'device' && x.xaddr === s.xaddr), JSON.stringify(inv.services));
    assert.equal(typeof inv.network.hostname, 'string');
    assert.equal(texts('cfg').pop(), 'inventory read');
  });

  it("syncTime: sets a skewed device clock from this host's", async () => {
    const s = await sim({ username: USERNAME, password: PASSWORD, clockSkewMs: -3_600_000 });
    await helper.load(NODES, withCatch([configNode('dev', s.xaddr, 'Porch'), ...configure('cfg', 'dev', { operation: 'syncTime' }, 'out')], ['cfg']), {
      dev: { username: USERNAME, password: PASSWORD },
    });
    const msg = await run('cfg', 'out', { payload: { timeZone: 'UTC0' } });
    const r = msg.payload as { offsetBeforeMs: number; offsetAfterMs: number };
    assert.ok(r.offsetBeforeMs < -3_500_000, `before ${r.offsetBeforeMs}`);
    assert.ok(Math.abs(r.offsetAfterMs) < 3000, `after ${r.offsetAfterMs}`);
    assert.match(texts('cfg').pop()!, /^clock ±/);
  });
});
