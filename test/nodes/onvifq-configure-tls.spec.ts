/**
 * Issue 14: the TLS tasks in the onvifq-configure node (Node-RED test helper, real simulator): the CA key from
 * the node's credentials, the CA certificate pasted into a one-line form field, and a key in the flow JSON refused.
 */
import { strict as assert } from 'node:assert';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { SimulatedDevice } from '../../lib/simulator';
import deviceNode from '../../nodes/onvifq-device/onvifq-device';
import configureNode from '../../nodes/onvifq-configure/onvifq-configure';
import { makeCa } from '../tls/pki';
import { PASSWORD, USERNAME, type TestFlows, helper, loggedTexts, nextInput, startHelperServer, statuses, stopHelperServer } from './support';

const NODES = [deviceNode, configureNode];

describe('onvifq-configure: TLS tasks', function () {
  this.timeout(90_000);
  let sim: SimulatedDevice;
  beforeEach(async () => {
    sim = new SimulatedDevice({ username: USERNAME, password: PASSWORD, discovery: false, processorUsageIntervalMs: 0, security: { keyGenerationDelayMs: 50 } });
    await sim.start();
    await startHelperServer();
  });
  afterEach(async () => {
    await stopHelperServer();
    await sim.stop();
  });

  function flow(params: Record<string, unknown>, operation = 'enableHttps'): TestFlows {
    return [
      { id: 't', type: 'tab', label: 'test' },
      { id: 'dev', type: 'onvifq-device', name: 'Gate', address: sim.xaddr, auth: 'auto', timeout: 10 },
      { id: 'cfg', type: 'onvifq-configure', z: 't', x: 100, y: 100, name: '', device: 'dev', operation, params: JSON.stringify(params), wires: [['out']] },
      { id: 'out', type: 'helper', z: 't', x: 100, y: 100 },
      { id: 'catch', type: 'catch', z: 't', x: 100, y: 100, scope: ['cfg'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 't', x: 100, y: 100 },
    ];
  }

  it('enableHttps signs with the CA key from the credentials (CA certificate pasted on one line); the result verifies', async () => {
    const ca = makeCa();
    const oneLine = ca.certificate.replace(/\r?\n/g, '');
    const caKeyBody = ca.key.split(/\r?\n/)[1]!;
    await helper.load(NODES, flow({ source: 'ca', caCertificate: oneLine }), { dev: { username: USERNAME, password: PASSWORD }, cfg: { password: ca.key } });
    const got = nextInput(helper.getNode('out'), 60_000);
    helper.getNode('cfg').receive({ payload: 1 });
    const msg = await got;
    const result = msg.payload as { address: string; tls: { ca: string }; certificate: { issuer: string } };
    assert.equal(result.address, sim.httpsXaddr);
    assert.match(result.certificate.issuer, /onvifq test CA/);
    const https = new OnvifDevice({ address: result.address, username: USERNAME, password: PASSWORD, tls: result.tls });
    try {
      assert.equal((await https.call('GetDeviceInformation')).Model, 'SimQ-1');
    } finally {
      await https.close();
    }
    const shown = statuses(helper.getNode('cfg')).map((s) => String(s.text));
    assert.equal(shown.at(-1), 'HTTPS verified');
    assert.ok(shown.some((t) => /^enableHttps: verifying https:/.test(t)), shown.join(' | '));
    const everything = [...shown, ...loggedTexts(), JSON.stringify(msg.payload)];
    assert.ok(everything.every((t) => !t.includes(caKeyBody)), 'the CA key appears nowhere');
  });

  it('a CA key stored in the flow JSON is refused and nothing is sent', async () => {
    const ca = makeCa();
    await helper.load(NODES, flow({ source: 'ca', caCertificate: ca.certificate, caKey: ca.key }), { dev: { username: USERNAME, password: PASSWORD }, cfg: {} });
    const caught = nextInput(helper.getNode('caught'), 20_000);
    const before = sim.requests.length;
    helper.getNode('cfg').receive({ payload: 1 });
    const m = await caught;
    assert.match(String((m.error as Error).message), /hold a private key \(caKey\).*credentials/);
    assert.equal(sim.requests.length, before);
  });
});
