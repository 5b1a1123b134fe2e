/**
 * onvifq-apps in the Node-RED test helper against simulated devices with App Management: list, an install whose
 * status goes through uploading and installing to Active, InstallationFailed to a Catch node with the step and the
 * device's Status, watch mode messages, bad input (missing package file, unknown action), a fleet of two with a
 * summary, and a redeploy that leaves no subscription behind.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppManager } from '../../lib/apps';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { makeLicense, SimulatedDevice, type SimulatorOptions } from '../../lib/simulator';
import deviceNode from '../../nodes/onvifq-device/onvifq-device';
import appsNode from '../../nodes/onvifq-apps/onvifq-apps';
import { counterPackage } from '../apps/support';
import { PASSWORD, USERNAME, type FlowNode, type TestFlows, helper, nextInput, startHelperServer, statuses, stopHelperServer, waitFor } from './support';

const NODES = [deviceNode, appsNode];
// The examples' own core nodes, so the flows run as a user imports them.
const functionNode = require('@node-red/nodes/core/function/10-function.js') as (typeof NODES)[number];
const switchNode = require('@node-red/nodes/core/function/10-switch.js') as (typeof NODES)[number];

function flow(sim: SimulatedDevice, settings: Record<string, unknown>): TestFlows {
  return [
    { id: 't', type: 'tab', label: 'test' },
    { id: 'dev', type: 'onvifq-device', name: 'Sim camera', address: sim.xaddr, auth: 'auto', timeout: 5 },
    { id: 'apps', type: 'onvifq-apps', z: 't', x: 100, y: 100, device: 'dev', name: '', ...settings, wires: [['out']] },
    { id: 'out', type: 'helper', z: 't', x: 100, y: 100 },
    { id: 'catch', type: 'catch', z: 't', x: 100, y: 100, scope: ['apps'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 't', x: 100, y: 100 },
  ] as FlowNode[];
}

const CREDENTIALS = { dev: { username: USERNAME, password: PASSWORD } };

function texts(nodeId: string): string[] {
  return statuses(helper.getNode(nodeId)).map((s) => String(s.text));
}

/** Every message the node receives from now on. */
function collect(nodeId: string): Array<Record<string, unknown>> {
  const got: Array<Record<string, unknown>> = [];
  helper.getNode(nodeId).on('input', (msg: Record<string, unknown>) => got.push(msg));
  return got;
}

describe('onvifq-apps node', function () {
  this.timeout(60000);
  const sims: SimulatedDevice[] = [];
  let dir: string;

  async function sim(options: SimulatorOptions = {}): Promise<SimulatedDevice> {
    const s = new SimulatedDevice({ username: USERNAME, password: PASSWORD, discovery: false, processorUsageIntervalMs: 0, ...options, apps: options.apps === false ? false : { installDelayMs: 150 } });
    await s.start();
    sims.push(s);
    return s;
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-apps-node-'));
    await startHelperServer();
  });
  afterEach(async () => {
    await stopHelperServer();
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('install from msg.payload: the status goes uploading %, installing…, Active; then list shows the app', async () => {
    const s = await sim();
    await helper.load(NODES, flow(s, { action: 'msg' }), CREDENTIALS);
    const out = helper.getNode('out');
    const installed = nextInput(out, 30000);
    helper.getNode('apps').receive({ action: 'install', payload: counterPackage('1.0.0') });
    const msg = await installed;
    const r = msg.payload as { appId: string; state: string; version: string; verified: boolean };
    assert.deepEqual([r.appId, r.state, r.version, r.verified], ['Counter', 'Active', '1.0.0', true]);
    assert.equal((msg.device as { name: string }).name, 'Sim camera');
    assert.equal(s.appStates.Counter, 'Active');
    const seen = texts('apps');
    const uploading = seen.findIndex((x) => /^uploading \d+ %$/.test(x));
    const installing = seen.indexOf('installing…');
    assert.ok(uploading >= 0 && installing > uploading, `status sequence: ${seen.join(' | ')}`);
    assert.equal(seen.at(-1), 'Active');
    assert.equal(statuses(helper.getNode('apps')).at(-1)!.fill, 'green');

    const listed = nextInput(out);
    helper.getNode('apps').receive({ topic: 'list' });
    assert.deepEqual((await listed).payload, { apps: [{ appId: 'Counter', name: 'People counter' }] });
    assert.equal(texts('apps').at(-1), '1 app(s)');
  });

  it('install from a { file } in the node settings; a missing file goes to Catch with step package and nothing is uploaded', async () => {
    const s = await sim();
    const file = path.join(dir, 'counter.app');
    fs.writeFileSync(file, counterPackage('2.0.0'));
    await helper.load(NODES, flow(s, { action: 'install', packageSource: 'file', source: file }), CREDENTIALS);
    const done = nextInput(helper.getNode('out'), 30000);
    helper.getNode('apps').receive({ payload: '' });
    assert.equal(((await done).payload as { version: string }).version, '2.0.0');

    const caught = nextInput(helper.getNode('caught'), 30000);
    const uploadsBefore = s.requests.filter((q) => q.method === 'POST' && !/soap|onvif\//i.test(q.path)).length;
    helper.getNode('apps').receive({ payload: { file: path.join(dir, 'no-such.app') } });
    const err = (await caught).error as { message: string; cause: { step: string; kind: string } };
    assert.match(err.message, /no-such\.app/);
    assert.equal(err.cause.step, 'package');
    assert.equal(s.requests.filter((q) => q.method === 'POST' && !/soap|onvif\//i.test(q.path)).length, uploadsBefore, 'nothing uploaded');
    assert.match(texts('apps').at(-1)!, /failed at package/);
    assert.equal(statuses(helper.getNode('apps')).at(-1)!.fill, 'red');
  });

  it('InstallationFailed goes to Catch with step install, the AppID and the device Status', async () => {
    const s = await sim();
    await helper.load(NODES, flow(s, { action: 'install' }), CREDENTIALS);
    const caught = nextInput(helper.getNode('caught'), 30000);
    helper.getNode('apps').receive({ payload: counterPackage('1.0.0').subarray(0, 400) });
    const err = (await caught).error as { message: string; cause: { step: string; appId: string; appStatus: string } };
    assert.equal(err.cause.step, 'install');
    assert.equal(err.cause.appId, 'Counter');
    assert.match(err.cause.appStatus, /truncated or damaged/);
    assert.match(err.message, /InstallationFailed/);
    assert.match(err.message, /Sim camera/, 'names the config node');
    assert.equal(texts('apps').at(-1), 'failed at install');
    assert.deepEqual(Object.keys(s.appStates), [], 'nothing installed');
  });

  it('bad input: an unknown action or none goes to Catch and sends nothing to the device', async () => {
    const s = await sim();
    await helper.load(NODES, flow(s, { action: 'msg' }), CREDENTIALS);
    const caught = helper.getNode('caught');
    let next = nextInput(caught);
    const before = s.requests.length;
    helper.getNode('apps').receive({ action: 'installEverything' });
    let err = (await next).error as { message: string; cause: { kind: string } };
    assert.match(err.message, /Unknown action 'installEverything' in msg.action\. The actions are list, info, install/);
    assert.equal(err.cause.kind, 'invalid-input');
    next = nextInput(caught);
    helper.getNode('apps').receive({ payload: 1 });
    err = (await next).error as { message: string; cause: { kind: string } };
    assert.match(err.message, /No action given: set msg\.action/);
    next = nextInput(caught);
    helper.getNode('apps').receive({ action: 'activate' });
    err = (await next).error as { message: string; cause: { kind: string } };
    assert.match(err.message, /activate needs appId/);
    // A connection may be made when the node starts; no app operation was sent for these messages.
    assert.ok(!s.requests.slice(before).some((q) => /Activate|Install/.test(JSON.stringify(q))), 'no app request');
  });

  it('watch mode: one message per app state change with topic onvifq/app-state; a redeploy removes the subscription', async () => {
    const s = await sim();
    const flows = flow(s, { action: 'msg' });
    flows.push({ id: 'watcher', type: 'onvifq-apps', z: 't', x: 100, y: 100, device: 'dev', action: 'list', watch: true, wires: [['states']] }, { id: 'states', type: 'helper', z: 't', x: 100, y: 100 });
    await helper.load(NODES, flows, CREDENTIALS);
    const states = collect('states');
    await waitFor('the watch subscribed', () => (s.pullPoints.length > 0 ? true : undefined), 20000);
    const done = nextInput(helper.getNode('out'), 30000);
    helper.getNode('apps').receive({ action: 'install', payload: counterPackage('1.0.0') });
    await done;
    const active = await waitFor('an Active state message', () => states.find((m) => (m.payload as { newState: string }).newState === 'Active'), 20000);
    assert.equal(active.topic, 'onvifq/app-state');
    const p = active.payload as { appId: string; name: string; oldState: string; newState: string };
    assert.equal(p.appId, 'Counter');
    assert.equal(p.name, 'People counter');
    assert.equal(p.oldState, 'Installing');
    assert.ok(states.some((m) => (m.payload as { newState: string }).newState === 'Installing'), 'Installing came first');
    assert.ok(states.every((m) => m.topic === 'onvifq/app-state'));
    await waitFor('the watcher status shows the app', () => (texts('watcher').at(-1) === 'People counter: Active' ? true : undefined));

    // Deactivate through the node: exactly one more change message, Active → Inactive.
    const count = states.length;
    const deactivated = nextInput(helper.getNode('out'), 30000);
    helper.getNode('apps').receive({ action: 'deactivate', payload: 'Counter' });
    assert.equal(((await deactivated).payload as { state: string }).state, 'Inactive');
    await waitFor('the Inactive message', () => states.slice(count).find((m) => (m.payload as { newState: string }).newState === 'Inactive'), 20000);

    await helper.unload();
    await waitFor('the pull point is gone after the redeploy', () => (s.pullPoints.length === 0 ? true : undefined), 20000);
  });

  it('backupConfig into msg.payload, restoreConfig from that Buffer with the AppID from the node; uninstall by a string payload', async () => {
    const s = await sim();
    await helper.load(NODES, flow(s, { action: 'msg', appId: 'Counter' }), CREDENTIALS);
    const out = helper.getNode('out');
    const apps = helper.getNode('apps');
    const send = async (msg: Record<string, unknown>) => {
      const next = nextInput(out, 30000);
      apps.receive(msg);
      return (await next).payload as Record<string, unknown>;
    };
    await send({ action: 'install', payload: counterPackage('1.0.0') });
    const backup = await send({ action: 'backupConfig' });
    assert.equal(backup.appId, 'Counter');
    assert.ok(Buffer.isBuffer(backup.buffer) && (backup.buffer as Buffer).length === backup.bytes, 'the configuration bytes');
    assert.deepEqual(JSON.parse((backup.buffer as Buffer).toString('utf8')).settings, { threshold: 5 });
    const restored = await send({ action: 'restoreConfig', payload: backup.buffer });
    assert.deepEqual(restored, { appId: 'Counter', bytes: backup.bytes });
    assert.equal((await send({ action: 'uninstall', payload: 'Counter' })).appId, 'Counter');
    assert.equal(texts('apps').at(-1), 'uninstalled');
    assert.deepEqual(Object.keys(s.appStates), []);
  });

  it('a fleet of two by msg.address: one message per device and a summary; a failed device goes to Catch', async () => {
    const a = await sim();
    const b = await sim();
    await helper.load(NODES, flow(a, { action: 'msg' }), CREDENTIALS);
    const got = collect('out');
    const caught = nextInput(helper.getNode('caught'), 30000);
    helper.getNode('apps').receive({ action: 'install', address: [a.xaddr, b.xaddr], payload: counterPackage('1.0.0') });
    const summary = await waitFor('the summary', () => got.find((m) => m.topic === 'onvifq/apps-summary'), 45000);
    const perDevice = got.filter((m) => m.topic !== 'onvifq/apps-summary');
    assert.deepEqual(perDevice.map((m) => [m.address, m.ok, (m.payload as { state: string }).state]), [[a.xaddr, true, 'Active'], [b.xaddr, true, 'Active']]);
    assert.deepEqual((summary.payload as { summary: unknown }).summary, { total: 2, ok: 2, failed: 0, text: 'install: 2 of 2 device(s) ok' });
    assert.equal(a.appStates.Counter, 'Active');
    assert.equal(b.appStates.Counter, 'Active');
    assert.equal(texts('apps').at(-1), '2 of 2 ok');

    // One device without App Management: its message carries the error, the summary counts it, Catch hears of it.
    const c = await sim({ apps: false });
    got.length = 0;
    helper.getNode('apps').receive({ action: 'list', address: [a.xaddr, c.xaddr] });
    const err = (await caught).error as { message: string; cause: { kind: string; failed: string[] } };
    assert.deepEqual(err.cause.failed, [c.xaddr]);
    const s2 = got.find((m) => m.topic === 'onvifq/apps-summary')!;
    assert.equal((s2.payload as { summary: { failed: number } }).summary.failed, 1);
    const failed = got.find((m) => m.address === c.xaddr)!;
    assert.equal(failed.ok, false);
    assert.ok(!JSON.stringify(got).includes(PASSWORD), 'no password in any message');
  });
});

describe('onvifq-apps examples', function () {
  this.timeout(60000);
  let s: SimulatedDevice;
  let dir: string;
  before(async () => {
    s = new SimulatedDevice({ username: USERNAME, password: PASSWORD, discovery: false, processorUsageIntervalMs: 0, apps: { installDelayMs: 150 } });
    await s.start();
  });
  after(() => s.stop());
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-apps-example-'));
    await startHelperServer();
  });
  afterEach(async () => {
    await stopHelperServer();
    delete process.env.ONVIF_APP_PACKAGE;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** An example flow on the simulator: the config node pointed at it, debug nodes as helpers (same ids). */
  function example(name: string): TestFlows {
    const nodes = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../examples', `${name}.json`), 'utf8')) as FlowNode[];
    return nodes
      .filter((n) => !['onvifq-discover', 'comment', 'inject'].includes(n.type))
      .map((n) => (n.type === 'onvifq-device' ? { ...n, address: s.xaddr } : n.type === 'debug' ? { id: n.id, type: 'helper', z: n.z, x: n.x, y: n.y } : n));
  }

  it('apps-install-fleet: the discovered devices get the package; one line per device and a summary', async () => {
    const file = path.join(dir, 'counter.app');
    fs.writeFileSync(file, counterPackage('3.1.0'));
    process.env.ONVIF_APP_PACKAGE = file;
    await helper.load([...NODES, functionNode, switchNode], example('apps-install-fleet'), { d0e0000000000001: { username: USERNAME, password: PASSWORD } });
    const perDevice = nextInput(helper.getNode('a9f000000000000b'), 30000);
    const summary = nextInput(helper.getNode('a9f0000000000009'), 30000);
    // What the discover node (left out here: no multicast in tests) sends with output "one list".
    helper.getNode('a9f0000000000006').receive({ payload: [{ xaddrs: [s.xaddr] }] });
    assert.equal((await perDevice).payload, `${s.xaddr}: People counter 3.1.0 Active`);
    assert.equal(((await summary).payload as { summary: { text: string } }).summary.text, 'install: 1 of 1 device(s) ok');
  });

  it('apps-license-report: the licenses that need attention, one line each, and the status counts them', async () => {
    const session = new OnvifDevice({ address: s.xaddr, username: USERNAME, password: PASSWORD });
    const apps = new AppManager(session, { events: false, pollIntervalMs: 100 });
    try {
      await apps.install(counterPackage('1.0.0'));
      const day = 24 * 3600_000;
      const deviceId = await apps.deviceId();
      await apps.installLicense('Counter', makeLicense({ app: 'Counter', device: deviceId, name: 'trial', validUntil: new Date(Date.now() + 10 * day + 3600_000).toISOString() }));
      await apps.installLicense('Counter', makeLicense({ app: 'Counter', device: deviceId, name: 'year', validUntil: new Date(Date.now() + 200 * day).toISOString() }));
    } finally {
      await apps.close();
      await session.close();
    }
    await helper.load([...NODES, functionNode], example('apps-license-report'), { d0e0000000000001: { username: USERNAME, password: PASSWORD } });
    const report = nextInput(helper.getNode('a9e0000000000007'), 30000);
    helper.getNode('a9e0000000000005').receive({ address: [s.xaddr] });
    assert.equal((await report).payload, `${s.xaddr} People counter: expiring (10 days left, until ${(await reportRow(s)).validUntil})`);
    await waitFor('the summary status', () => (texts('a9e0000000000005').at(-1) === '1 of 1 ok' ? true : undefined));
  });
});

/** The expiring row as the library reads it, for the expected text. */
async function reportRow(s: SimulatedDevice): Promise<{ validUntil?: string }> {
  const session = new OnvifDevice({ address: s.xaddr, username: USERNAME, password: PASSWORD });
  const apps = new AppManager(session, { events: false });
  try {
    return (await apps.licenseReport()).rows.find((r) => r.status === 'expiring')!;
  } finally {
    await apps.close();
    await session.close();
  }
}
