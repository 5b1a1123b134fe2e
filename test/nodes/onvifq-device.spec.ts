/** onvifq-device: credentials, the link's life cycle, status while the device is away, and Test connection. */
import { strict as assert } from 'node:assert';
import { getPreferredLanguage, setPreferredLanguage } from '../../lib/soap/fault';
import { SimulatedDevice } from '../../lib/simulator';
import deviceNode from '../../nodes/onvifq-device/onvifq-device';
import configureNode from '../../nodes/onvifq-configure/onvifq-configure';
import type { DeviceConfigNode } from '../../nodes/shared/device-config';
import {
  PASSWORD, USERNAME, type TestFlows, closedPort, helper, loggedTexts, nextInput, nothingWithin, statuses,
  useSimulatorAndHelper, waitForStatus,
} from './support';
import { rawHttpServer } from '../support/raw-http';
import { TestServer, envelope, sendSoap } from '../transport/soap-server';

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

  it('no credentials: green "no credentials", anonymous operations work, a refused one names itself', async () => {
    const f = flow(env.sim.xaddr);
    (f[2] as Record<string, unknown>).operation = 'GetSystemDateAndTime';
    f.push({ id: 'info', type: 'onvifq-configure', z: 't', x: 100, y: 300, device: 'dev', operation: 'GetDeviceInformation', wires: [['out']] });
    await helper.load(NODES, f, {});
    const cfg = helper.getNode('cfg');
    const st = await waitForStatus(cfg, (s) => s.text === 'no credentials', 'no credentials');
    assert.equal(st.fill, 'green');
    const out = nextInput(helper.getNode('out'));
    cfg.receive({ payload: {} });
    assert.ok(((await out).payload as any).SystemDateAndTime, 'GetSystemDateAndTime answered');
    const caught = nextInput(helper.getNode('caught'));
    helper.getNode('info').receive({ payload: {} });
    const err = (await caught) as { error: { message: string; cause?: Record<string, unknown> } };
    assert.equal(err.error.cause?.kind, 'auth');
    assert.equal(err.error.cause?.operation, 'GetDeviceInformation');
    assert.match(err.error.message, /refused GetDeviceInformation without credentials/);
    assert.match(err.error.message, /Porch/);
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
    assert.match(st.text!, /^retrying in \d+s: unreachable$/);
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

  it('a device answering broken HTTP: the flow node shows red "broken HTTP" and its error says what was broken', async () => {
    const broken = await rawHttpServer('HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    try {
      await helper.load(NODES, flow(env.sim.xaddr), { dev: { username: USERNAME, password: PASSWORD } });
      const cfg = helper.getNode('cfg');
      const caught = nextInput(helper.getNode('caught'));
      cfg.receive({ address: broken.url } as never);
      const err = (await caught) as { error: { message: string; cause?: Record<string, unknown> } };
      assert.equal(err.error.cause?.kind, 'broken-http', JSON.stringify(err.error));
      assert.match(err.error.message, /answered with broken HTTP \(a chunk size that is not a hexadecimal number/);
      await waitForStatus(cfg, (s) => s.fill === 'red' && s.text === 'broken HTTP', 'red "broken HTTP"');
    } finally {
      await broken.close();
    }
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

    it('without credentials: connected, saying what the device would not tell anonymously', async () => {
      await helper.load(NODES, [], {});
      const res = await helper.request().post('/onvifq-device/test').send({ address: env.sim.xaddr, auth: 'auto' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.ok, true);
      assert.equal(res.body.partial, true);
      assert.match(res.body.note, /without credentials: it refused GetScopes and GetDeviceInformation/);
      assert.match(res.body.note, /set a username and password/);
      assert.equal(res.body.profileQState, 'Unknown');
      assert.equal(res.body.authMethod, 'none');
    });

    it('reports a device answering broken HTTP as such, not as unreachable', async () => {
      await helper.load(NODES, [], {});
      const broken = await rawHttpServer('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!');
      try {
        const res = await helper.request().post('/onvifq-device/test').send({ address: broken.url, username: USERNAME, password: PASSWORD, timeout: 2 });
        assert.equal(res.status, 502);
        assert.equal(res.body.kind, 'broken-http');
        assert.match(res.body.message, /answered with broken HTTP \(a Content-Length given twice/);
        assert.doesNotMatch(res.body.message, /powered/);
      } finally {
        await broken.close();
      }
    });

    it("reports a fault in Node-RED's language when the device gives several (settings.lang), else in English", async () => {
      const fault = envelope(
        '<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>ter:Action</s:Value></s:Subcode></s:Code><s:Reason>' +
          '<s:Text xml:lang="de">Der Dienst ist nicht bereit</s:Text><s:Text xml:lang="en">The service is not ready</s:Text></s:Reason></s:Fault>',
      );
      const device = await TestServer.start((_req, res) => sendSoap(res, fault, 500));
      const saved = getPreferredLanguage();
      try {
        for (const [lang, said, notSaid] of [
          ['de', /Der Dienst ist nicht bereit/, /The service/],
          ['fr', /The service is not ready/, /Der Dienst/],
        ] as const) {
          await helper.unload();
          helper.settings({ lang } as never);
          await helper.load(NODES, [], {});
          const res = await helper.request().post('/onvifq-device/test').send({ address: device.url, username: USERNAME, password: PASSWORD, timeout: 2 });
          assert.equal(res.body.kind, 'fault', JSON.stringify(res.body));
          assert.match(res.body.message, said, lang);
          assert.doesNotMatch(res.body.message, notSaid, lang);
        }
        // A flow node's error: the chosen reason in the message, every language for a Catch node.
        await helper.unload();
        helper.settings({ lang: 'de' } as never);
        await helper.load(NODES, flow(env.sim.xaddr), { dev: { username: USERNAME, password: PASSWORD } });
        const caught = nextInput(helper.getNode('caught'));
        helper.getNode('cfg').receive({ address: device.url } as never);
        const err = (await caught) as { error: { message: string; cause?: Record<string, unknown> } };
        assert.match(err.error.message, /Der Dienst ist nicht bereit/);
        assert.equal(err.error.cause?.reason, 'Der Dienst ist nicht bereit');
        assert.deepEqual(err.error.cause?.reasons, [
          { lang: 'de', text: 'Der Dienst ist nicht bereit' },
          { lang: 'en', text: 'The service is not ready' },
        ]);
      } finally {
        helper.settings({});
        setPreferredLanguage(saved);
        await device.stop();
      }
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
