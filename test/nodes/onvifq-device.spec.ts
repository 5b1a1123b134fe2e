/** onvifq-device: credentials, the link's life cycle, status while the device is away, and Test connection. */
import { strict as assert } from 'node:assert';
import { SimulatedDevice } from '../../lib/simulator';
import deviceNode from '../../nodes/onvifq-device/onvifq-device';
import configureNode from '../../nodes/onvifq-configure/onvifq-configure';
import type { DeviceConfigNode } from '../../nodes/shared/device-config';
import {
  PASSWORD, USERNAME, type TestFlows, closedPort, helper, loggedTexts, nextInput, nothingWithin, statuses,
  useSimulatorAndHelper, waitForStatus,
} from './support';

const NODES = [deviceNode, configureNode];

function flow(address: string, name = 'Porch'): TestFlows {
  return [
    { id: 'dev', type: 'onvifq-device', name, address, auth: 'auto', timeout: 3 },
    { id: 't', type: 'tab', label: 'test' },
    { id: 'cfg', type: 'onvifq-configure', z: 't', x: 100, y: 100, device: 'dev', operation: 'GetDeviceInformation', wires: [['out']] },
    { id: 'out', type: 'helper', z: 't', x: 100, y: 100 },
    { id: 'catch', type: 'catch', z: 't', x: 100, y: 100, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 't', x: 100, y: 100 },
  ];
}

describe('onvifq-device', function () {
  this.timeout(30000);
  const env = useSimulatorAndHelper();

  it('keeps the credentials out of the flow configuration', async () => {
    await helper.load(NODES, flow(env.sim.xaddr), {});
    // Deploy the way the editor does: credentials inline on the node.
    const deployed = flow(env.sim.xaddr).map((n) => (n.id === 'dev' ? { ...n, credentials: { username: USERNAME, password: PASSWORD } } : n));
    await helper.setFlows(deployed, 'full');
    const stored = JSON.stringify((helper as any)._redNodes.getFlows().flows);
    assert.ok(!stored.includes(PASSWORD), 'password in the flow configuration');
    assert.ok(!stored.includes('"credentials"'), 'credentials object in the flow configuration');
    const dev = helper.getNode('dev') as DeviceConfigNode;
    assert.deepEqual(dev.credentials, { username: USERNAME, password: PASSWORD });
    await waitForStatus(helper.getNode('cfg'), (s) => s.fill === 'green', 'connected with the stored credentials');
  });

  it('creates one link lazily, shares it, and closes it on redeploy', async () => {
    const flowWithTwo = [
      { id: 'dev', type: 'onvifq-device', name: 'Porch', address: env.sim.xaddr },
      { id: 'unused', type: 'onvifq-device', name: 'Unused', address: '127.0.0.1:1' },
      { id: 't', type: 'tab', label: 'test' },
      { id: 'a', type: 'onvifq-configure', z: 't', x: 100, y: 100, device: 'dev', operation: 'GetScopes', wires: [[]] },
      { id: 'b', type: 'onvifq-configure', z: 't', x: 100, y: 200, device: 'dev', operation: 'GetDeviceInformation', wires: [[]] },
    ];
    await helper.load(NODES, flowWithTwo, { dev: { username: USERNAME, password: PASSWORD } });
    const dev = helper.getNode('dev') as DeviceConfigNode & { _link?: unknown };
    const unused = helper.getNode('unused') as DeviceConfigNode & { _link?: unknown };
    assert.equal(unused._link, undefined, 'no link for a config node nobody uses');
    const link = dev.link();
    assert.equal(dev.link(), link, 'one link per config node');
    await waitForStatus(helper.getNode('a'), (s) => s.fill === 'green', 'a connected');
    await waitForStatus(helper.getNode('b'), (s) => s.fill === 'green', 'b connected');
    assert.equal(link.state.status, 'connected');

    await helper.setFlows(flowWithTwo, 'full', { dev: { username: USERNAME, password: PASSWORD } });
    assert.equal(link.state.status, 'closed', 'the old link is closed by the redeploy');
    const fresh = (helper.getNode('dev') as DeviceConfigNode).link();
    assert.notEqual(fresh, link, 'the redeployed config node has its own link');
    await waitForStatus(helper.getNode('a'), (s) => s.fill === 'green', 'a connected again');
  });

  it('wrong password: red "auth failed", an error saying to check the credentials, password in no text', async () => {
    const wrong = 'Wr0ng-Secret-77';
    await helper.load(NODES, flow(env.sim.xaddr), { dev: { username: USERNAME, password: wrong } });
    const cfg = helper.getNode('cfg');
    const st = await waitForStatus(cfg, (s) => s.fill === 'red', 'red');
    assert.equal(st.text, 'auth failed');
    const caught = nextInput(helper.getNode('caught'));
    const silent = nothingWithin(helper.getNode('out'), 300);
    cfg.receive({ payload: {} });
    const err = (await caught) as { error: { message: string; cause?: Record<string, unknown> } };
    assert.match(err.error.message, /credentials|password/i);
    assert.match(err.error.message, /Porch/, 'names the config node');
    assert.equal(err.error.cause?.kind, 'auth');
    assert.equal(await silent, true);
    const texts = [err.error.message, JSON.stringify(err.error), ...statuses(cfg).map((s) => JSON.stringify(s)), ...loggedTexts()];
    for (const t of texts) {
      assert.ok(!t.includes(wrong), `password leaked: ${t}`);
      assert.ok(!t.includes(PASSWORD), `password leaked: ${t}`);
    }
  });

  it('after a wrong password: inputs send no more credentials; Test connection and a redeploy with the right password work', async () => {
    const wrong = 'Wr0ng-Secret-78';
    const from = env.sim.requests.length;
    await helper.load(NODES, flow(env.sim.xaddr), { dev: { username: USERNAME, password: wrong } });
    const cfg = helper.getNode('cfg');
    await waitForStatus(cfg, (s) => s.fill === 'red', 'red');
    for (let i = 0; i < 3; i++) {
      const caught = nextInput(helper.getNode('caught'));
      cfg.receive({ payload: {} });
      await caught;
    }
    const refused = env.sim.requests
      .slice(from)
      .filter((r) => r.status >= 400 && (/^Digest /i.test(String(r.headers.authorization ?? '')) || r.body.includes('UsernameToken')));
    assert.equal(refused.length, 1, 'the wrong password went out once');

    const tested = await helper.request().post('/onvifq-device/test').send({ id: 'dev', address: env.sim.xaddr, username: USERNAME, password: PASSWORD });
    assert.equal(tested.status, 200, JSON.stringify(tested.body));

    await helper.setFlows(flow(env.sim.xaddr), 'full', { dev: { username: USERNAME, password: PASSWORD } });
    const redeployed = helper.getNode('cfg');
    const out = nextInput(helper.getNode('out'));
    redeployed.receive({ payload: {} });
    assert.equal(typeof ((await out).payload as { Manufacturer?: unknown }).Manufacturer, 'string');
  });

  it('device absent at deploy: yellow "retrying", then works once the device appears on that port', async () => {
    const port = await closedPort();
    await helper.load(NODES, flow(`127.0.0.1:${port}`), { dev: { username: USERNAME, password: PASSWORD } });
    const cfg = helper.getNode('cfg');
    const st = await waitForStatus(cfg, (s) => s.fill === 'yellow', 'yellow');
    assert.match(st.text!, /^retrying in \d+s$/);
    assert.ok(st.text!.length < 20);
    // While away, a message fails with a plain error and nothing goes out.
    const caught = nextInput(helper.getNode('caught'));
    cfg.receive({ payload: {} });
    const err = (await caught) as { error: { message: string } };
    assert.match(err.error.message, /Porch/);

    const late = new SimulatedDevice({ username: USERNAME, password: PASSWORD, port });
    await late.start();
    try {
      const out = nextInput(helper.getNode('out'));
      cfg.receive({ payload: {}, topic: 'after' });
      const msg = await out;
      assert.equal((msg.payload as any).Model, late.state.deviceInformation.Model);
      assert.equal((msg.device as any).xaddr, late.xaddr);
      await waitForStatus(cfg, (s) => s.fill === 'green', 'green after the device appeared');
    } finally {
      await helper.unload();
      await late.stop();
    }
  });

  it('unusable settings: red "bad config" and an error saying which setting to fix', async () => {
    const f = flow('');
    (f[0] as Record<string, unknown>).timeout = 'soon';
    await helper.load(NODES, f, { dev: { username: USERNAME, password: PASSWORD } });
    const cfg = helper.getNode('cfg');
    const st = await waitForStatus(cfg, (s) => s.fill === 'red', 'red');
    assert.equal(st.text, 'bad config');
    const caught = nextInput(helper.getNode('caught'));
    cfg.receive({ payload: {} });
    const err = (await caught) as { error: { message: string } };
    assert.match(err.error.message, /address is empty/);
    assert.match(err.error.message, /timeout 'soon'/);
    assert.match(err.error.message, /Open it in the editor/);
  });

  describe('Test connection (POST /onvifq-device/test)', () => {
    it('connects with undeployed values and reports the device', async () => {
      await helper.load(NODES, [], {});
      const res = await helper.request().post('/onvifq-device/test')
        .send({ id: 'not-deployed', address: env.sim.xaddr, username: USERNAME, password: PASSWORD, auth: 'auto', timeout: '5' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.ok, true);
      assert.equal(res.body.model, env.sim.state.deviceInformation.Model);
      assert.equal(res.body.manufacturer, env.sim.state.deviceInformation.Manufacturer);
      assert.equal(res.body.firmwareVersion, env.sim.state.deviceInformation.FirmwareVersion);
      assert.equal(res.body.profileQState, 'Operational');
      assert.match(res.body.authMethod, /^(digest-|ws-security)/);
    });

    it('uses the stored password of a deployed node when the dialog shows the placeholder', async () => {
      await helper.load(NODES, flow(env.sim.xaddr), { dev: { username: USERNAME, password: PASSWORD } });
      for (const password of ['__PWRD__', '']) {
        const res = await helper.request().post('/onvifq-device/test').send({ id: 'dev', address: env.sim.xaddr, username: USERNAME, password });
        assert.equal(res.status, 200, `${password || 'empty'}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.model, env.sim.state.deviceInformation.Model);
      }
    });

    it('uses the dialog password when it was changed, and reports a rejection without echoing it', async () => {
      await helper.load(NODES, flow(env.sim.xaddr), { dev: { username: USERNAME, password: PASSWORD } });
      const typed = 'Typed-Wrong-42';
      const res = await helper.request().post('/onvifq-device/test').send({ id: 'dev', address: env.sim.xaddr, username: USERNAME, password: typed });
      assert.equal(res.status, 502);
      assert.equal(res.body.ok, false);
      assert.equal(res.body.kind, 'auth');
      assert.ok(res.body.message.length > 10);
      assert.ok(!JSON.stringify(res.body).includes(typed));
      assert.ok(!JSON.stringify(res.body).includes(PASSWORD));
    });

    it('reports an unreachable device and refuses an empty address', async () => {
      await helper.load(NODES, [], {});
      const port = await closedPort();
      const away = await helper.request().post('/onvifq-device/test').send({ address: `127.0.0.1:${port}`, username: USERNAME, password: PASSWORD, timeout: 2 });
      assert.equal(away.status, 502);
      assert.equal(away.body.kind, 'unreachable');
      const empty = await helper.request().post('/onvifq-device/test').send({ address: '  ' });
      assert.equal(empty.status, 400);
      assert.match(empty.body.message, /address is empty/);
    });
  });
});
