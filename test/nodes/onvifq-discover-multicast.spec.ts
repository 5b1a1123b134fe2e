/**
 * onvifq-discover with real multicast: the search without targets, and watch mode's online/offline from a
 * simulator's Hello and Bye. Multicast must never reach the root network namespace (it would leave the
 * host), so the outer test creates a private namespace and runs this same file inside it, where the
 * `ONVIFQ_DISCOVER_IN_NETNS` variable switches on the real scenarios.
 */
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { SimulatedDevice } from '../../lib/simulator';
import discoverNode from '../../nodes/onvifq-discover/onvifq-discover';
import { skipWith } from '../support/shared';
import { createNamespace, deleteNamespace, namespaceUnavailable, runInNamespace } from '../discovery/support';
import { type TestFlows, helper, nextInput, startHelperServer, stopHelperServer, waitFor, waitForStatus } from './support';

const IN_NETNS = process.env.ONVIFQ_DISCOVER_IN_NETNS === '1';
const NODES = [discoverNode];

function flow(props: Record<string, unknown>): TestFlows {
  return [
    { id: 't', type: 'tab', label: 'discover' },
    { id: 'disc', type: 'onvifq-discover', z: 't', x: 100, y: 100, mode: 'probe', output: 'each', iface: '', targets: '', timeout: 1,
      probeAtDeploy: false, interval: 0, missLimit: 3, ...props, wires: [['out']] },
    { id: 'out', type: 'helper', z: 't', x: 100, y: 100 },
    { id: 'complete', type: 'complete', z: 't', x: 100, y: 100, scope: ['disc'], uncaught: false, wires: [['completed']] },
    { id: 'completed', type: 'helper', z: 't', x: 100, y: 100 },
  ];
}

if (!IN_NETNS) {
  describe('onvifq-discover: multicast (in a private network namespace)', function () {
    this.timeout(120000);
    let ns: string | undefined;

    before(function () {
      const why = namespaceUnavailable();
      if (why) skipWith(this, why);
      ns = createNamespace('discnode');
    });
    after(() => {
      if (ns) deleteNamespace(ns);
    });

    it('multicast search and Hello/Bye watch pass inside the namespace', async function () {
      const repo = path.resolve(__dirname, '../..');
      const mocha = path.join(repo, 'node_modules/.bin/mocha');
      const run = await runInNamespace(ns!, [mocha, '--no-config', '-r', 'tsx/cjs', '--extension', 'ts', '--timeout', '30000', '--exit', __filename], {
        env: { ...process.env, ONVIFQ_DISCOVER_IN_NETNS: '1' },
        timeoutMs: 110000,
      });
      const report = `${run.stdout}\n${run.stderr}`;
      assert.equal(run.code, 0, `the scenarios failed inside the namespace:\n${report}`);
      const passing = /(\d+) passing/.exec(run.stdout);
      assert.ok(passing && Number(passing[1]) >= 3, `expected the namespace scenarios to run:\n${report}`);
      assert.doesNotMatch(run.stdout, /pending|failing/, report);
    });
  });
} else {
  describe('onvifq-discover inside the namespace', function () {
    this.timeout(30000);
    beforeEach(startHelperServer);
    afterEach(stopHelperServer);

    it('one list msg of the devices found by multicast when no targets are set', async () => {
      const a = new SimulatedDevice({ discoveryDelayMs: [0, 100] });
      const b = new SimulatedDevice({ username: 'admin', password: 'Ns-pass-1', discoveryDelayMs: [0, 100] });
      await a.start();
      await b.start();
      try {
        await helper.load(NODES, flow({ output: 'list' }));
        const next = nextInput(helper.getNode('out'));
        helper.getNode('disc').receive({ payload: 1 });
        const list = (await next).payload as Array<{ endpoint: string; xaddrs: string[]; profileQState: string }>;
        assert.deepEqual(list.map((d) => d.endpoint).sort(), [a.endpoint, b.endpoint].sort());
        assert.equal(list.find((d) => d.endpoint === a.endpoint)!.profileQState, 'FactoryDefault');
        assert.equal(list.find((d) => d.endpoint === b.endpoint)!.xaddrs[0], b.xaddr);
        await waitForStatus(helper.getNode('disc'), (s) => s.text === '2 devices', '"2 devices"');
      } finally {
        await helper.unload();
        await a.stop();
        await b.stop();
      }
    });

    it('the dialog search without targets finds the devices by multicast', async () => {
      const a = new SimulatedDevice({ discoveryDelayMs: [0, 100] });
      await a.start();
      try {
        await helper.load(NODES, [], {});
        const res = await helper.request().post('/onvifq-discover/search').send({ timeout: 1 });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(res.body.devices.map((d: { xaddr: string }) => d.xaddr), [a.xaddr]);
      } finally {
        await a.stop();
      }
    });

    it('watch mode: online from Hello, offline from Bye', async () => {
      await helper.load(NODES, flow({ mode: 'watch', iface: '127.0.0.1' }));
      const disc = helper.getNode('disc');
      const out: Array<Record<string, any>> = [];
      helper.getNode('out').on('input', (m: Record<string, any>) => out.push(m));
      await waitForStatus(disc, (s) => s.text === 'watching: 0 online', '"watching: 0 online"');
      // Give the listener a moment to join the group before the device announces itself.
      await new Promise((r) => setTimeout(r, 300));
      const sim = new SimulatedDevice({ discoveryDelayMs: [0, 100] });
      await sim.start();
      try {
        const online = await waitFor('online msg', () => out.find((m) => m.topic === 'onvifq/online'), 8000);
        assert.equal(online.payload.endpoint, sim.endpoint);
        assert.equal(online.reason, 'hello');
        await waitForStatus(disc, (s) => s.text === 'watching: 1 online', '"watching: 1 online"');
      } finally {
        await sim.stop();
      }
      const offline = await waitFor('offline msg', () => out.find((m) => m.topic === 'onvifq/offline'), 8000);
      assert.equal(offline.payload.endpoint, sim.endpoint);
      assert.equal(offline.reason, 'bye');
      assert.equal(offline.payload.hardware, sim.state.deviceInformation.Model, 'the offline msg carries what was known about the device');
      await waitForStatus(disc, (s) => s.text === 'watching: 0 online', '"watching: 0 online" again');
    });
  });
}
