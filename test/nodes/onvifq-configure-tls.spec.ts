/**
 * Issue 14: the TLS tasks in the onvifq-configure node (Node-RED test helper, real simulator): the CA key from
 * the node's credentials, the CA certificate pasted into a one-line form field, and a key in the flow JSON refused.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { SimulatedDevice } from '../../lib/simulator';
import { enableHttps } from '../../lib/tls';
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

describe('examples: secure new devices, certificate expiry warning', function () {
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

  type ExampleNode = { id: string; type: string; name?: string; func?: string; operation?: string; params?: string };
  const example = (file: string): ExampleNode[] => JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../examples', file), 'utf8')) as ExampleNode[];
  /** Run a function node's code as Node-RED would, with node.warn recorded. */
  function runFunction(n: ExampleNode, msg: Record<string, unknown>, warned: string[] = []): Record<string, unknown> {
    const node = { warn: (t: string) => warned.push(t), status: () => undefined };
    return new Function('msg', 'node', n.func!)(msg, node) as Record<string, unknown>;
  }
  async function runConfigure(n: ExampleNode, device: Record<string, unknown>, msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    const flows: TestFlows = [
      { id: 't', type: 'tab', label: 'test' },
      { id: 'dev', type: 'onvifq-device', name: 'ex', auth: 'auto', timeout: 10, ...device },
      { id: 'cfg', type: 'onvifq-configure', z: 't', x: 100, y: 100, name: '', device: 'dev', operation: n.operation, params: n.params, wires: [['out']] },
      { id: 'out', type: 'helper', z: 't', x: 100, y: 100 },
    ];
    await helper.load(NODES, flows, { dev: { username: USERNAME, password: PASSWORD }, cfg: {} });
    const got = nextInput(helper.getNode('out'), 60_000);
    helper.getNode('cfg').receive(msg);
    return got;
  }

  it('secure-new-devices: after commissioning, the HTTPS parameters, enableHttps on msg.address, and the summary to configure', async () => {
    const flow = example('secure-new-devices.json');
    const prepared = runFunction(flow.find((n) => n.name === 'HTTPS parameters')!, { address: sim.xaddr, payload: { state: 'Operational' } });
    const secure = flow.find((n) => n.operation === 'enableHttps')!;
    const result = await runConfigure(secure, { address: '127.0.0.1:9' }, prepared);
    const summary = runFunction(flow.find((n) => n.name === 'what to configure')!, result).payload as { address: string; fingerprint: string; device: string };
    assert.equal(summary.device, sim.xaddr);
    assert.equal(summary.address, sim.httpsXaddr);
    const pinned = new OnvifDevice({ address: summary.address, username: USERNAME, password: PASSWORD, tls: { fingerprint: summary.fingerprint } });
    try {
      assert.equal((await pinned.call('GetDeviceInformation')).Model, 'SimQ-1');
    } finally {
      await pinned.close();
    }
  });

  it('certificate-expiry-warning: a certificate with 20 days left is reported and warned about', async () => {
    const ca = makeCa();
    const setup = new OnvifDevice({ address: sim.xaddr, username: USERNAME, password: PASSWORD });
    const https = await enableHttps(setup, { source: 'ca', caCertificate: ca.certificate, caKey: ca.key, validDays: 20 }).finally(() => setup.close());
    const flow = example('certificate-expiry-warning.json');
    const [perDevice] = runFunction(flow.find((n) => n.name === 'one msg per device')!, { payload: [https.address] }) as unknown as Array<Array<Record<string, unknown>>>;
    const report = await runConfigure(flow.find((n) => n.operation === 'certificateReport')!, { address: '127.0.0.1:9', tlsCa: ca.certificate }, perDevice![0]!);
    assert.equal((report.payload as { expiresSoon: boolean }).expiresSoon, true);
    const warned: string[] = [];
    runFunction(flow.find((n) => n.name === 'warning')!, report, warned);
    assert.match(warned[0]!, /expires in (19|20) days/);
  });
});
