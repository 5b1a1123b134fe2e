/**
 * onvifq-discover against real simulated devices, by UNICAST probes to 127.0.0.1 on each simulator's own
 * discovery port (the root network namespace must never see our multicast).
 */
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { SimulatedDevice } from '../../lib/simulator';
import discoverNode from '../../nodes/onvifq-discover/onvifq-discover';
import { freeUdpPort } from '../support/ports';
import { type FlowNode, type TestFlows, helper, nextInput, nothingWithin, startHelperServer, statuses, stopHelperServer, waitFor, waitForStatus } from './support';

const NODES = [discoverNode];

interface Sim {
  device: SimulatedDevice;
  discoveryPort: number;
  /** 'ip:port' for the node's targets. */
  target: string;
  endpoint: string;
}

async function startSim(opts: { operational: boolean; uuid?: string; discoveryPort?: number }): Promise<Sim> {
  const discoveryPort = opts.discoveryPort ?? (await freeUdpPort());
  const device = new SimulatedDevice({
    ...(opts.operational ? { username: 'admin', password: 'Disc0ver-pw' } : {}),
    ...(opts.uuid ? { uuid: opts.uuid } : {}),
    discovery: { port: discoveryPort },
    discoveryDelayMs: [0, 50],
  });
  await device.start();
  return { device, discoveryPort, target: `127.0.0.1:${discoveryPort}`, endpoint: `urn:uuid:${device.state.uuid.toLowerCase()}` };
}

/** The discover node under test, plus an output collector, a Catch and a Complete node. */
function flow(props: Record<string, unknown>): TestFlows {
  const nodes: FlowNode[] = [
    { id: 't', type: 'tab', label: 'discover' },
    { id: 'disc', type: 'onvifq-discover', z: 't', x: 100, y: 100, name: '', mode: 'probe', output: 'each', iface: '', targets: '', timeout: 1,
      probeAtDeploy: false, interval: 0, missLimit: 3, ...props, wires: [['out']] },
    { id: 'out', type: 'helper', z: 't', x: 100, y: 100 },
    { id: 'catch', type: 'catch', z: 't', x: 100, y: 100, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 't', x: 100, y: 100 },
    { id: 'complete', type: 'complete', z: 't', x: 100, y: 100, scope: ['disc'], uncaught: false, wires: [['completed']] },
    { id: 'completed', type: 'helper', z: 't', x: 100, y: 100 },
  ];
  return nodes;
}

/** Every message the node receives until `until` resolves. */
function collect(nodeId: string): Array<Record<string, any>> {
  const got: Array<Record<string, any>> = [];
  helper.getNode(nodeId).on('input', (msg: Record<string, any>) => got.push(msg));
  return got;
}

describe('onvifq-discover', function () {
  this.timeout(30000);
  let operational: Sim;
  let factory: Sim;

  before(async () => {
    operational = await startSim({ operational: true });
    factory = await startSim({ operational: false });
  });
  after(async () => {
    await operational?.device.stop();
    await factory?.device.stop();
  });
  beforeEach(startHelperServer);
  afterEach(stopHelperServer);

  it('sends one msg per device found, keeps the input msg properties, and shows the count', async () => {
    await helper.load(NODES, flow({ targets: `${operational.target}, ${factory.target}` }));
    const disc = helper.getNode('disc');
    const out = collect('out');
    const completed = nextInput(helper.getNode('completed'));
    disc.receive({ payload: 'go', orderId: 42 });
    await completed;
    assert.equal(out.length, 2, JSON.stringify(out.map((m) => m.payload?.endpoint)));
    for (const msg of out) {
      assert.equal(msg.topic, 'onvifq/discover');
      assert.equal(msg.orderId, 42, 'input properties travel on');
    }
    const byEndpoint = new Map(out.map((m) => [m.payload.endpoint, m.payload]));
    const op = byEndpoint.get(operational.endpoint);
    const fd = byEndpoint.get(factory.endpoint);
    assert.ok(op && fd, `endpoints: ${[...byEndpoint.keys()]}`);
    assert.equal(op.xaddrs[0], operational.device.xaddr);
    assert.equal(op.hardware, operational.device.state.deviceInformation.Model);
    assert.equal(op.profileQState, 'Operational');
    assert.equal(fd.profileQState, 'FactoryDefault');
    assert.equal(fd.xaddrs[0], factory.device.xaddr);
    for (const d of [op, fd]) {
      assert.ok(d.profiles.includes('Q'), `profiles: ${d.profiles}`);
      assert.ok(d.types.includes('tds:Device') || d.types.includes('dn:NetworkVideoTransmitter'), `types: ${d.types}`);
      assert.ok(d.scopes.length > 0);
      assert.ok(d.name, 'name from the scopes');
      assert.ok(!Number.isNaN(Date.parse(d.firstSeen)));
    }
    await waitForStatus(disc, (s) => s.text === '2 devices', '"2 devices"');
    assert.ok(statuses(disc).some((s) => s.text === 'searching…'), 'showed searching… while the window was open');
  });

  it('list output: one msg with every device; firstSeen stays from the first search', async () => {
    await helper.load(NODES, flow({ output: 'list', targets: `${factory.target} ${operational.target}` }));
    const disc = helper.getNode('disc');
    const out = collect('out');
    let completed = nextInput(helper.getNode('completed'));
    disc.receive({ payload: 1 });
    await completed;
    assert.equal(out.length, 1, 'exactly one msg per search');
    assert.equal(out[0].topic, 'onvifq/discover');
    const list = out[0].payload as Array<Record<string, any>>;
    assert.ok(Array.isArray(list));
    assert.deepEqual(list.map((d) => d.endpoint).sort(), [operational.endpoint, factory.endpoint].sort());
    await waitForStatus(disc, (s) => s.text === '2 devices', '"2 devices"');

    completed = nextInput(helper.getNode('completed'));
    disc.receive({ payload: 2 });
    await completed;
    assert.equal(out.length, 2);
    const second = out[1].payload as Array<Record<string, any>>;
    assert.equal(second.length, 2);
    for (const d of second) {
      const before = list.find((x) => x.endpoint === d.endpoint)!;
      assert.equal(d.firstSeen, before.firstSeen, 'firstSeen is when the node first saw the device');
      assert.ok(d.lastSeen > before.lastSeen, 'lastSeen moves on');
    }
  });

  it('a search that finds nothing still completes, with status "no devices"', async () => {
    const nobody = await freeUdpPort();
    await helper.load(NODES, flow({ targets: `127.0.0.1:${nobody}`, timeout: 0.5 }));
    const disc = helper.getNode('disc');
    const silent = nothingWithin(helper.getNode('out'), 1200);
    const completed = nextInput(helper.getNode('completed'), 3000);
    disc.receive({ payload: 'go' });
    await completed;
    assert.equal(await silent, true);
    await waitForStatus(disc, (s) => s.text === 'no devices', '"no devices"');
  });

  it('msg.targets replaces the configured targets, msg.timeout the window', async () => {
    await helper.load(NODES, flow({ output: 'list', targets: operational.target, timeout: 8 }));
    const disc = helper.getNode('disc');
    const next = nextInput(helper.getNode('out'), 5000);
    const started = Date.now();
    disc.receive({ targets: [factory.target], timeout: 0.6 });
    const msg = await next;
    const took = Date.now() - started;
    assert.deepEqual((msg.payload as any[]).map((d) => d.endpoint), [factory.endpoint]);
    assert.ok(took < 3000, `the 0.6 s window from msg.timeout was used (took ${took} ms, the node says 8 s)`);
  });

  it('bad targets fail the search with a plain error and nothing is sent', async () => {
    await helper.load(NODES, flow({ targets: operational.target }));
    const disc = helper.getNode('disc');
    for (const [targets, expect] of [['10.0.0.0/8', /\/8 network, larger than \/22/], ['camera.local', /not an IPv4 address/]] as const) {
      const caught = nextInput(helper.getNode('caught'));
      const silent = nothingWithin(helper.getNode('out'), 300);
      disc.receive({ targets });
      const err = (await caught).error as { message: string; cause?: { kind?: string } };
      assert.match(err.message, expect);
      assert.match(err.message, /msg\.targets/, 'says where to fix it');
      assert.equal(err.cause?.kind, 'invalid-input');
      assert.equal(await silent, true);
      await waitForStatus(disc, (s) => s.fill === 'red' && s.text === 'bad targets', 'red "bad targets"');
    }
    const caught = nextInput(helper.getNode('caught'));
    disc.receive({ targets: { not: 'a list' } });
    assert.match(((await caught).error as { message: string }).message, /msg\.targets must be a string/);
  });

  it('an interface this host does not have: error naming the interfaces it has', async () => {
    await helper.load(NODES, flow({ iface: 'no-such-if0' }));
    const caught = nextInput(helper.getNode('caught'));
    helper.getNode('disc').receive({ payload: 1 });
    const err = (await caught).error as { message: string };
    assert.match(err.message, /no IPv4 interface "no-such-if0"/i);
    assert.match(err.message, /127\.0\.0\.1/, 'lists the known interfaces');
    await waitForStatus(helper.getNode('disc'), (s) => s.text === 'no interface', 'red "no interface"');
  });

  it('unusable settings: red "bad config", and an input gets an error naming the setting', async () => {
    await helper.load(NODES, flow({ timeout: 'soon', interval: -5 }));
    const disc = helper.getNode('disc');
    await waitForStatus(disc, (s) => s.text === 'bad config', 'red "bad config"');
    const caught = nextInput(helper.getNode('caught'));
    disc.receive({ payload: 1 });
    const err = (await caught).error as { message: string };
    assert.match(err.message, /window 'soon'/);
    assert.match(err.message, /repeat interval '-5'/);
  });

  it('searches at deploy and on the interval without any input msg', async () => {
    await helper.load(NODES, flow({ output: 'list', targets: operational.target, timeout: 0.4, probeAtDeploy: true, interval: 1 }));
    const out = collect('out');
    await waitFor('two searches', () => out.length >= 2, 5000);
    for (const msg of out) {
      assert.equal(msg.topic, 'onvifq/discover');
      assert.deepEqual((msg.payload as any[]).map((d) => d.endpoint), [operational.endpoint]);
    }
  });

  describe('watch mode', () => {
    it('reports devices online, offline after N missed searches, and online again when they come back', async () => {
      const leaving = await startSim({ operational: true });
      const uuid = leaving.device.state.uuid;
      let back: Sim | undefined;
      // A third target that never answers but counts the probes: how many searches the node has made.
      const counter = dgram.createSocket('udp4');
      let probes = 0;
      counter.on('message', () => probes++);
      await new Promise<void>((resolve) => counter.bind(0, '127.0.0.1', resolve));
      try {
        await helper.load(NODES, flow({
          mode: 'watch', targets: `${operational.target},${leaving.target},127.0.0.1:${counter.address().port}`, timeout: 0.4, probeAtDeploy: true, interval: 0.8 + 0.2, missLimit: 2,
        }));
        const disc = helper.getNode('disc');
        const out = collect('out');
        await waitFor('two online msgs', () => out.filter((m) => m.topic === 'onvifq/online').length >= 2, 8000);
        const online = out.filter((m) => m.topic === 'onvifq/online');
        assert.deepEqual(online.map((m) => m.payload.endpoint).sort(), [operational.endpoint, leaving.endpoint].sort());
        assert.ok(online.every((m) => m.reason === 'probe'));
        await waitForStatus(disc, (s) => s.text === 'watching: 2 online', '"watching: 2 online"');
        // Still there on the next two searches: no repeated msgs, and the status stays "watching" (no flip to
        // "searching…" and back on every repeat).
        const shownBefore = statuses(disc).length;
        const before = probes;
        await waitFor('two more searches', () => probes >= before + 2, 8000);
        await waitForStatus(disc, (s) => s.text === 'watching: 2 online', '"watching: 2 online" after the repeats');
        assert.deepEqual(statuses(disc).slice(shownBefore).filter((s) => s.text !== 'watching: 2 online'), [], 'no other status during repeats');
        assert.equal(out.length, 2, `no repeated online msgs: ${JSON.stringify(out.map((m) => m.topic))}`);

        await leaving.device.stop();
        const stoppedAt = Date.now();
        const offline = await waitFor('offline msg', () => out.find((m) => m.topic === 'onvifq/offline'), 8000);
        assert.equal(offline.payload.endpoint, leaving.endpoint);
        assert.equal(offline.reason, 'missed');
        assert.ok(Date.now() - stoppedAt >= 1000, 'not before two searches were missed');
        await waitForStatus(disc, (s) => s.text === 'watching: 1 online', '"watching: 1 online"');

        back = await startSim({ operational: true, uuid, discoveryPort: leaving.discoveryPort });
        const again = await waitFor('online again', () => out.slice(3).find((m) => m.topic === 'onvifq/online'), 8000);
        assert.equal(again.payload.endpoint, leaving.endpoint);
        assert.equal(again.payload.firstSeen, online.find((m) => m.payload.endpoint === leaving.endpoint)!.payload.firstSeen);
        await waitForStatus(disc, (s) => s.text === 'watching: 2 online', '"watching: 2 online" again');
        assert.ok(!out.some((m) => m.topic === 'onvifq/offline' && m.payload.endpoint === operational.endpoint), 'the device that stayed never went offline');
      } finally {
        await helper.unload();
        await leaving.device.stop().catch(() => undefined);
        await back?.device.stop();
        counter.close();
      }
    });

    it('a search with msg.targets does not count as missed for the other devices', async () => {
      await helper.load(NODES, flow({ mode: 'watch', targets: operational.target, timeout: 0.3, missLimit: 1 }));
      const disc = helper.getNode('disc');
      const out = collect('out');
      let completed = nextInput(helper.getNode('completed'));
      disc.receive({});
      await completed;
      assert.deepEqual(out.map((m) => [m.topic, m.payload.endpoint]), [['onvifq/online', operational.endpoint]]);
      completed = nextInput(helper.getNode('completed'));
      disc.receive({ targets: factory.target });
      await completed;
      assert.deepEqual(out.slice(1).map((m) => [m.topic, m.payload.endpoint]), [['onvifq/online', factory.endpoint]]);
      await waitForStatus(disc, (s) => s.text === 'watching: 2 online', '"watching: 2 online"');
    });
  });

  describe('search endpoint (POST /onvifq-discover/search) and interfaces', () => {
    it('lists the devices at the given targets with name, model, address and Profile Q state', async () => {
      await helper.load(NODES, [], {});
      const res = await helper.request().post('/onvifq-discover/search').send({ targets: `${operational.target}\n${factory.target}`, timeout: 1 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const rows = res.body.devices as Array<Record<string, any>>;
      assert.equal(rows.length, 2);
      const op = rows.find((r) => r.endpoint === operational.endpoint)!;
      assert.equal(op.xaddr, operational.device.xaddr);
      assert.equal(op.hardware, operational.device.state.deviceInformation.Model);
      assert.equal(op.profileQState, 'Operational');
      assert.ok(op.name);
      assert.equal(rows.find((r) => r.endpoint === factory.endpoint)!.profileQState, 'FactoryDefault');
    });

    it('refuses bad targets and a bad window with a message', async () => {
      await helper.load(NODES, [], {});
      const bad = await helper.request().post('/onvifq-discover/search').send({ targets: '192.168.0.0/16' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.kind, 'invalid-input');
      assert.match(bad.body.message, /larger than \/22/);
      const slow = await helper.request().post('/onvifq-discover/search').send({ targets: operational.target, timeout: 600 });
      assert.equal(slow.status, 400);
      assert.match(slow.body.message, /window/);
    });

    it('offers the host IPv4 interfaces, loopback included', async () => {
      await helper.load(NODES, [], {});
      const res = await helper.request().get('/onvifq-discover/interfaces');
      assert.equal(res.status, 200);
      assert.ok((res.body as Array<{ address: string; internal: boolean }>).some((i) => i.address === '127.0.0.1' && i.internal));
    });
  });
});
