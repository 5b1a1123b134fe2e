/** onvifq-events against the real simulator's event service, in the Node-RED test helper. */
import { strict as assert } from 'node:assert';
import type { Node } from 'node-red';
import { SimulatedDevice } from '../../lib/simulator';
import deviceNode from '../../nodes/onvifq-device/onvifq-device';
import eventsNode from '../../nodes/onvifq-events/onvifq-events';
import type { DeviceConfigNode } from '../../nodes/shared/device-config';
import {
  PASSWORD, USERNAME, type FlowNode, type TestFlows, helper, loggedTexts, nextInput, nothingWithin, startHelperServer, statuses,
  stopHelperServer, waitFor, waitForStatus,
} from './support';

const NODES = [deviceNode, eventsNode];
const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';
const CPU = 'tns1:Monitoring/ProcessorUsage';
const MOTION_SOURCE = { VideoSourceConfigurationToken: 'vsc0', VideoAnalyticsConfigurationToken: 'vac0', Rule: 'MyMotionDetectorRule' };
const CREDS = { dev: { username: USERNAME, password: PASSWORD } };
/** No periodic ProcessorUsage: the tests count the events they raise. */
const SIM_OPTIONS = { username: USERNAME, password: PASSWORD, processorUsageIntervalMs: 0 };

type EventsOptions = Partial<{ filter: string; dropInitialized: boolean; dropDeleted: boolean; onlyChanges: boolean; statusOutput: boolean }>;

/** A config node, events nodes (id → options), each wired to a helper `<id>-out` (and `<id>-status` with the status output). */
function flow(address: string, nodes: Record<string, EventsOptions>, name = 'Porch'): TestFlows {
  const out: FlowNode[] = [
    { id: 'dev', type: 'onvifq-device', name, address, auth: 'auto', timeout: 3 },
    { id: 't', type: 'tab', label: 'test' },
    { id: 'catch', type: 'catch', z: 't', x: 100, y: 100, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 't', x: 100, y: 100 },
  ];
  for (const [id, o] of Object.entries(nodes)) {
    const wires = o.statusOutput ? [[`${id}-out`], [`${id}-status`]] : [[`${id}-out`]];
    out.push({ id, type: 'onvifq-events', z: 't', x: 100, y: 100, device: 'dev', filter: '', ...o, outputs: o.statusOutput ? 2 : 1, wires });
    out.push({ id: `${id}-out`, type: 'helper', z: 't', x: 100, y: 100 });
    if (o.statusOutput) out.push({ id: `${id}-status`, type: 'helper', z: 't', x: 100, y: 100 });
  }
  return out;
}

/** The simulator's live pull points, however it lists them. */
function livePullPoints(sim: SimulatedDevice): number {
  const p = (sim as unknown as { pullPoints: unknown }).pullPoints;
  if (Array.isArray(p)) return p.length;
  if (p instanceof Map || p instanceof Set) return p.size;
  if (typeof p === 'number') return p;
  throw new Error(`sim.pullPoints is ${typeof p}`);
}

/** Collects every msg a helper node receives, in arrival order. */
function collect(node: Node): Array<Record<string, unknown>> {
  const got: Array<Record<string, unknown>> = [];
  node.on('input', (msg: Record<string, unknown>) => got.push(msg));
  return got;
}

function isGreen(node: Node) {
  return waitForStatus(node, (s) => s.fill === 'green', 'green (subscribed)');
}

describe('onvifq-events', function () {
  this.timeout(60000);
  let sim: SimulatedDevice;

  /**
   * Raises one more event (on `topic`, from a source no test uses) and waits until every list has it, then takes it
   * out again. Events arrive in order, so whatever the events raised before it would bring has arrived by then.
   */
  async function untilLast(lists: Array<Array<Record<string, unknown>>>, topic = MOTION): Promise<void> {
    const isLast = (m: Record<string, unknown>) => ((m.event as any).source.Rule ?? (m.event as any).source.Token) === 'last';
    if (topic === CPU) sim.raiseEvent(CPU, { source: { Token: 'last' }, data: { Value: '0' } });
    else sim.raiseEvent(topic, { source: { ...MOTION_SOURCE, Rule: 'last' }, data: { IsMotion: 'true' }, operation: 'Changed' });
    await waitFor('the last event everywhere', () => lists.every((l) => l.some(isLast)));
    for (const l of lists) l.splice(l.findIndex(isLast), 1);
  }

  beforeEach(async () => {
    sim = new SimulatedDevice(SIM_OPTIONS);
    await sim.start();
    await startHelperServer();
  });
  afterEach(async () => {
    await stopHelperServer();
    await sim.stop();
  });

  it('a raised motion event: msg.topic, typed msg.payload and msg.event as documented; status shows the last event', async () => {
    await helper.load(NODES, flow(sim.xaddr, { ev: { filter: MOTION, dropInitialized: true } }), CREDS);
    const ev = helper.getNode('ev');
    const st = await isGreen(ev);
    assert.equal(st.text, 'connected');
    const got = nextInput(helper.getNode('ev-out'));
    sim.raiseEvent(MOTION, { source: MOTION_SOURCE, data: { IsMotion: 'true' } });
    const msg = await got;
    assert.equal(msg.topic, MOTION);
    assert.deepEqual(msg.payload, { IsMotion: true });
    const event = msg.event as Record<string, unknown>;
    assert.equal(event.topic, MOTION);
    assert.deepEqual(event.source, MOTION_SOURCE);
    assert.deepEqual(event.data, { IsMotion: true });
    assert.deepEqual(event.key, {});
    assert.equal(event.operation, 'Changed');
    assert.match(String(event.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.ok(Math.abs(Date.parse(String(event.time)) - Date.now()) < 10000, `event time ${event.time}`);
    assert.deepEqual(event.device, { name: 'Porch', xaddr: sim.xaddr, endpoint: sim.endpoint });
    // payload and event.data are separate copies: changing one in a flow does not change the other.
    (msg.payload as Record<string, unknown>).IsMotion = 'edited';
    assert.equal((event.data as Record<string, unknown>).IsMotion, true);
    const last = await waitForStatus(ev, (s) => /^last event \d\d:\d\d:\d\d$/.test(String(s.text)), 'last event time');
    assert.equal(last.fill, 'green');
    assert.ok(last.text!.length < 20);
  });

  it('Initialized states arrive at subscription, and are dropped with the option', async () => {
    sim.setProperty(MOTION, MOTION_SOURCE, { IsMotion: 'false' });
    await helper.load(NODES, flow(sim.xaddr, { all: { filter: MOTION }, quiet: { filter: MOTION, dropInitialized: true } }), CREDS);
    const all = collect(helper.getNode('all-out'));
    // The simulator has its own motion rule too; ours is the one with our source.
    const initial = await waitFor('our Initialized motion state', () => all.find((m) => (m.event as any).source.Rule === MOTION_SOURCE.Rule));
    assert.equal(initial.topic, MOTION);
    assert.ok(all.every((m) => (m.event as any).operation === 'Initialized'), 'only Initialized states at subscription');
    assert.equal((initial.event as Record<string, unknown>).operation, 'Initialized');
    assert.deepEqual(initial.payload, { IsMotion: false });
    assert.deepEqual((initial.event as Record<string, unknown>).source, MOTION_SOURCE);

    const quietOut = helper.getNode('quiet-out');
    const quietGot = collect(quietOut);
    await isGreen(helper.getNode('quiet'));
    const next = nextInput(quietOut);
    sim.raiseEvent(MOTION, { source: MOTION_SOURCE, data: { IsMotion: 'true' }, operation: 'Changed' });
    const changed = await next;
    assert.equal((changed.event as Record<string, unknown>).operation, 'Changed');
    assert.deepEqual(changed.payload, { IsMotion: true });
    // Events arrive in order: the states sent at subscription came before this one, and were dropped.
    assert.deepEqual(quietGot, [changed], 'Initialized dropped');
  });

  it('Deleted passes by default and is dropped with the option', async () => {
    await helper.load(NODES, flow(sim.xaddr, { keep: { filter: MOTION, dropInitialized: true }, drop: { filter: MOTION, dropInitialized: true, dropDeleted: true } }), CREDS);
    await isGreen(helper.getNode('keep'));
    await isGreen(helper.getNode('drop'));
    const kept = collect(helper.getNode('keep-out'));
    const dropped = collect(helper.getNode('drop-out'));
    sim.raiseEvent(MOTION, { source: MOTION_SOURCE, data: { IsMotion: 'false' }, operation: 'Deleted' });
    sim.raiseEvent(MOTION, { source: MOTION_SOURCE, data: { IsMotion: 'true' }, operation: 'Changed' });
    await untilLast([kept, dropped]);
    assert.deepEqual(kept.map((m) => (m.event as any).operation), ['Deleted', 'Changed']);
    assert.deepEqual(dropped.map((m) => (m.event as any).operation), ['Changed']);
  });

  it('only changes of value: per topic and source, a repeated value is dropped', async () => {
    await helper.load(NODES, flow(sim.xaddr, { ev: { filter: MOTION, onlyChanges: true, dropInitialized: true } }), CREDS);
    await isGreen(helper.getNode('ev'));
    const got = collect(helper.getNode('ev-out'));
    const other = { ...MOTION_SOURCE, Rule: 'Second' };
    const sequence: Array<[Record<string, string>, boolean]> = [
      [MOTION_SOURCE, true], [MOTION_SOURCE, true], [other, true], [MOTION_SOURCE, false], [other, true], [MOTION_SOURCE, false], [MOTION_SOURCE, true],
    ];
    for (const [source, IsMotion] of sequence) sim.raiseEvent(MOTION, { source, data: { IsMotion: String(IsMotion) } });
    await untilLast([got]);
    assert.deepEqual(
      got.map((m) => `${(m.event as any).source.Rule}=${(m.payload as any).IsMotion}`),
      ['MyMotionDetectorRule=true', 'Second=true', 'MyMotionDetectorRule=false', 'MyMotionDetectorRule=true'],
    );
  });

  it('three onvifq-events nodes on one device use one pull point; filters select topics locally', async () => {
    await helper.load(
      NODES,
      flow(sim.xaddr, {
        motion: { filter: 'tns1:RuleEngine//.', dropInitialized: true },
        monitoring: { filter: 'tns1:Monitoring//.', dropInitialized: true },
        both: { filter: `${MOTION}|${CPU}`, dropInitialized: true },
      }),
      CREDS,
    );
    for (const id of ['motion', 'monitoring', 'both']) await isGreen(helper.getNode(id));
    assert.equal(livePullPoints(sim), 1, 'one pull point for three nodes');
    const motion = collect(helper.getNode('motion-out'));
    const monitoring = collect(helper.getNode('monitoring-out'));
    const both = collect(helper.getNode('both-out'));
    sim.raiseEvent(MOTION, { source: MOTION_SOURCE, data: { IsMotion: 'true' } });
    sim.raiseEvent(CPU, { source: { Token: 'cpu0' }, data: { Value: '42.5' } });
    sim.raiseEvent('tns1:Device/Trigger/DigitalInput', { source: { InputToken: 'in0' }, data: { LogicalState: 'true' } });
    await untilLast([motion, both]);
    await untilLast([monitoring, both], CPU);
    assert.deepEqual(motion.map((m) => m.topic), [MOTION]);
    assert.deepEqual(monitoring.map((m) => m.topic), [CPU]);
    assert.deepEqual(monitoring[0].payload, { Value: 42.5 }, 'typed float');
    assert.deepEqual(both.map((m) => m.topic), [MOTION, CPU]);
    assert.equal(livePullPoints(sim), 1);
  });

  it('100 redeploys leave at most one live pull point, and events still arrive', async function () {
    this.timeout(180000);
    const nodes = { a: { filter: MOTION }, b: { filter: CPU } };
    await helper.load(NODES, flow(sim.xaddr, nodes), CREDS);
    await isGreen(helper.getNode('a'));
    let most = 0;
    for (let i = 0; i < 100; i++) {
      // Alternate a full redeploy (new config node, new link) and a modified-nodes one (config node kept).
      const f = flow(sim.xaddr, { a: { filter: i % 2 ? MOTION : `${MOTION}|tns1:VideoSource//.` }, b: { filter: CPU } });
      await helper.setFlows(f, i % 2 ? 'full' : 'nodes', CREDS);
      most = Math.max(most, livePullPoints(sim));
      if (i % 10 === 9) await isGreen(helper.getNode('a'));
    }
    await isGreen(helper.getNode('a'));
    await waitFor('exactly one live pull point', () => livePullPoints(sim) === 1, 10000);
    // A create still on its way could add one later: wait until the device answered every create.
    await waitFor('every create answered', () => sim.requests.every((r) => r.operation !== 'CreatePullPointSubscription' || r.status !== 0), 10000);
    assert.equal(livePullPoints(sim), 1, 'no pull point leaked');
    assert.ok(most <= 2, `at most the device limit at any time (saw ${most})`);
    const got = nextInput(helper.getNode('a-out'));
    sim.raiseEvent(MOTION, { source: MOTION_SOURCE, data: { IsMotion: 'true' } });
    assert.equal((await got).topic, MOTION);
    await helper.unload();
    await waitFor('no live pull point after the flow stopped', () => livePullPoints(sim) === 0, 10000);
  });

  it('a burst of 10 000 events reaches the flow complete, in order, without duplicates', async function () {
    this.timeout(120000);
    await helper.load(NODES, flow(sim.xaddr, { ev: { filter: CPU, dropInitialized: true } }), CREDS);
    await isGreen(helper.getNode('ev'));
    const seen: number[] = [];
    helper.getNode('ev-out').on('input', (msg: Record<string, unknown>) => seen.push((msg.payload as { Value: number }).Value));
    const N = 10_000;
    for (let i = 1; i <= N; i++) sim.raiseEvent(CPU, { source: { Token: 'cpu0' }, data: { Value: String(i) } });
    // One more after the burst: events arrive in order, so once it is here any duplicate would be too.
    sim.raiseEvent(CPU, { source: { Token: 'cpu0' }, data: { Value: String(N + 1) } });
    await waitFor(`${N + 1} events (have ${seen.length})`, () => seen.includes(N + 1), 90000);
    assert.equal(seen.pop(), N + 1);
    assert.equal(seen.length, N, 'no duplicates');
    const outOfOrder = seen.findIndex((v, i) => v !== i + 1);
    assert.equal(outOfOrder, -1, `in order (first wrong at index ${outOfOrder}: ${seen[outOfOrder]})`);
  });

  it('status: retrying in Ns when the device goes away, then green again with events when it is back', async () => {
    const port = sim.port;
    await helper.load(NODES, flow(sim.xaddr, { ev: { filter: MOTION, statusOutput: true, dropInitialized: true } }), CREDS);
    const ev = helper.getNode('ev');
    await isGreen(ev);
    const states = collect(helper.getNode('ev-status'));
    await sim.stop();
    const st = await waitForStatus(ev, (s) => s.fill === 'yellow', 'yellow', 30000);
    assert.match(st.text!, /^retrying in \d+(s|min): (unreachable|no answer)$/);
    const retrying = await waitFor('a retrying msg on the status output', () => states.find((m) => (m.payload as any).status === 'retrying'));
    assert.equal(retrying.topic, 'onvifq/status');
    assert.equal(typeof (retrying.payload as any).retryInMs, 'number');
    assert.ok(String((retrying.payload as any).error).length > 10, 'says why');

    sim = new SimulatedDevice({ ...SIM_OPTIONS, port });
    await sim.start();
    await waitForStatus(ev, (s) => s.fill === 'green', 'green again', 60000);
    await waitFor('active again on the status output', () => states.slice(states.indexOf(retrying)).find((m) => (m.payload as any).status === 'active'));
    const got = nextInput(helper.getNode('ev-out'));
    sim.raiseEvent(MOTION, { source: MOTION_SOURCE, data: { IsMotion: 'true' } });
    assert.deepEqual((await got).payload, { IsMotion: true });
    assert.equal(livePullPoints(sim), 1);
  });

  it('the status output carries every state change of the subscription', async () => {
    await helper.load(NODES, flow(sim.xaddr, { ev: { statusOutput: true } }), CREDS);
    const states = collect(helper.getNode('ev-status'));
    await isGreen(helper.getNode('ev'));
    const active = await waitFor('an active state msg', () => states.find((m) => (m.payload as any).status === 'active'));
    assert.equal(active.topic, 'onvifq/status');
    const payload = active.payload as Record<string, unknown>;
    assert.equal(payload.subscribers, 1);
    assert.equal(typeof payload.eventsDelivered, 'number');
    assert.deepEqual(active.device, { name: 'Porch', xaddr: sim.xaddr, endpoint: sim.endpoint });
    // Events themselves do not appear on the status output.
    const before = states.length;
    const evOut = nextInput(helper.getNode('ev-out'));
    sim.raiseEvent(MOTION, { source: MOTION_SOURCE, data: { IsMotion: 'true' } });
    await evOut;
    // A state message caused by that event would be sent before the next event is.
    const evOut2 = nextInput(helper.getNode('ev-out'));
    sim.raiseEvent(MOTION, { source: MOTION_SOURCE, data: { IsMotion: 'false' } });
    await evOut2;
    assert.equal(states.length, before, 'an event is not a state change');
    assert.ok(states.every((m) => m.topic === 'onvifq/status'));
  });

  it('wrong password: red "auth failed", a Catch node hears why, and the password is in no text', async () => {
    const wrong = 'Wr0ng-Secret-77';
    await helper.load(NODES, flow(sim.xaddr, { ev: {} }), { dev: { username: USERNAME, password: wrong } });
    const ev = helper.getNode('ev');
    const caught = nextInput(helper.getNode('caught'));
    const st = await waitForStatus(ev, (s) => s.fill === 'red', 'red');
    assert.equal(st.text, 'auth failed');
    const err = (await caught) as { error: { message: string } };
    assert.match(err.error.message, /username and password|credentials/i);
    assert.match(err.error.message, /Porch/);
    const texts = [JSON.stringify(err), ...statuses(ev).map((s) => JSON.stringify(s)), ...loggedTexts()];
    for (const t of texts) assert.ok(!t.includes(wrong), `password leaked: ${t}`);
    assert.equal(livePullPoints(sim), 0);
  });

  it('closing is quick even when the device stopped answering', async () => {
    await helper.load(NODES, flow(sim.xaddr, { ev: {} }), CREDS);
    await isGreen(helper.getNode('ev'));
    await sim.stop();
    const started = Date.now();
    await helper.unload();
    assert.ok(Date.now() - started < 5000, `close took ${Date.now() - started} ms`);
  });

  it('no device selected: red "no device", nothing sent', async () => {
    const f = flow(sim.xaddr, { ev: {} }).map((n) => (n.id === 'ev' ? { ...n, device: '' } : n));
    await helper.load(NODES, f, CREDS);
    const st = await waitForStatus(helper.getNode('ev'), (s) => s.fill === 'red', 'red');
    assert.equal(st.text, 'no device');
    assert.equal(await nothingWithin(helper.getNode('ev-out'), 200), true);
  });

  describe('topic picker (GET /onvifq-events/topics/:id)', () => {
    it("lists the device's topics with their data items", async () => {
      await helper.load(NODES, flow(sim.xaddr, {}), CREDS);
      const res = await helper.request().get('/onvifq-events/topics/dev');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const topics = res.body.topics as Array<{ topic: string; data: Array<{ name: string; type?: string }>; isProperty: boolean }>;
      const motion = topics.find((t) => t.topic === MOTION);
      assert.ok(motion, `motion topic listed among ${topics.map((t) => t.topic).join(', ')}`);
      assert.deepEqual(motion.data, [{ name: 'IsMotion', type: 'xs:boolean' }]);
      assert.equal(motion.isProperty, true);
      const cpu = topics.find((t) => t.topic === CPU);
      assert.ok(cpu, 'ProcessorUsage listed (Profile Q)');
      assert.equal(cpu.data[0]?.name, 'Value');
      assert.ok(topics.every((t) => t.topic.startsWith('tns1:') || /^[a-z0-9]+:/i.test(t.topic)));
    });

    it('refuses a config node that is not deployed, and reports a rejected password without it', async () => {
      const wrong = 'Picker-Wr0ng-1';
      await helper.load(NODES, flow(sim.xaddr, {}), { dev: { username: USERNAME, password: wrong } });
      const missing = await helper.request().get('/onvifq-events/topics/nope');
      assert.equal(missing.status, 404);
      assert.match(missing.body.message, /Deploy/);
      const rejected = await helper.request().get('/onvifq-events/topics/dev');
      assert.equal(rejected.status, 502);
      assert.equal(rejected.body.kind, 'auth');
      assert.ok(!JSON.stringify(rejected.body).includes(wrong));
    });
  });

  it('config node: one link and one hub, whatever the number of events nodes', async () => {
    await helper.load(NODES, flow(sim.xaddr, { a: {}, b: {} }), CREDS);
    const dev = helper.getNode('dev') as DeviceConfigNode;
    assert.equal(dev.link().eventHub(), dev.link().eventHub());
    await isGreen(helper.getNode('a'));
    await waitFor('two subscribers', () => dev.link().eventHub().state.subscribers === 2);
  });
});
