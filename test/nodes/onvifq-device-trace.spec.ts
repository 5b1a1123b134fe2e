/** onvifq-device: the wire trace in Node-RED's trace log, only when a logger is at level trace. */
import { strict as assert } from 'node:assert';
import * as diagnosticsChannel from 'node:diagnostics_channel';
import type { SinonSpy } from 'sinon';
import { WIRE_TRACE_CHANNEL } from '../../lib';
import deviceNode from '../../nodes/onvifq-device/onvifq-device';
import configureNode from '../../nodes/onvifq-configure/onvifq-configure';
import { PASSWORD, USERNAME, type TestFlows, helper, nextInput, useSimulatorAndHelper } from './support';

const NODES = [deviceNode, configureNode];

function flow(address: string): TestFlows {
  return [
    { id: 'dev', type: 'onvifq-device', name: 'Porch', address, auth: 'auto', timeout: 3 },
    { id: 'dev2', type: 'onvifq-device', name: 'Garage', address, auth: 'auto', timeout: 3 },
    { id: 't', type: 'tab', label: 'test' },
    { id: 'info', type: 'onvifq-configure', z: 't', x: 100, y: 100, device: 'dev', operation: 'GetDeviceInformation', wires: [['out']] },
    { id: 'host', type: 'onvifq-configure', z: 't', x: 100, y: 200, device: 'dev2', operation: 'GetHostname', wires: [['out2']] },
    { id: 'out', type: 'helper', z: 't', x: 100, y: 100 },
    { id: 'out2', type: 'helper', z: 't', x: 100, y: 200 },
  ];
}

/** Node-RED's logging setting with the console logger at `level`. */
const consoleLogging = (level: 'trace' | 'info') => ({ logging: { console: { level, metrics: false, audit: false } } });

const CREDENTIALS = { dev: { username: USERNAME, password: PASSWORD }, dev2: { username: USERNAME, password: PASSWORD } };

/** The trace-level log entries of the two config nodes so far (Node-RED logs its own at that level too). */
function traceLog(): { id: string; msg: string }[] {
  // The helper's spy on Node-RED's log carries its level numbers (log.TRACE).
  const spy = helper.log() as SinonSpy & { TRACE: number };
  return spy
    .getCalls()
    .map((c) => c.args[0] as { level?: number; id?: string; msg?: unknown })
    .filter((e) => e.level === spy.TRACE && (e.id === 'dev' || e.id === 'dev2'))
    .map((e) => ({ id: String(e.id), msg: String(e.msg) }));
}

describe('onvifq-device: wire trace in the Node-RED log', function () {
  this.timeout(30000);
  const env = useSimulatorAndHelper();
  afterEach(() => helper.settings(consoleLogging('info')));

  it('with logging.console.level trace, each config node logs its own device traffic: requests and answers, no password', async () => {
    helper.settings(consoleLogging('trace'));
    await helper.load(NODES, flow(env.sim.xaddr), CREDENTIALS);
    const answered = nextInput(helper.getNode('out'));
    const answered2 = nextInput(helper.getNode('out2'));
    helper.getNode('info').receive({ payload: {} });
    helper.getNode('host').receive({ payload: {} });
    await Promise.all([answered, answered2]);

    const porch = traceLog().filter((e) => e.id === 'dev').map((e) => e.msg);
    const garage = traceLog().filter((e) => e.id === 'dev2').map((e) => e.msg);
    assert.ok(porch.some((m) => /^>> #\d+ GetDeviceInformation POST http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service/.test(m)), porch.join('\n'));
    assert.ok(porch.some((m) => /^<< #\d+ GetDeviceInformation HTTP 200/.test(m) && m.includes('Manufacturer>')));
    assert.ok(porch.some((m) => /Authorization: Digest username="admin", .*response=\[redacted\]/.test(m)));
    assert.ok(!porch.some((m) => m.includes('GetHostname')), "the other config node's traffic is not in this one's trace");
    assert.ok(garage.some((m) => /^<< #\d+ GetHostname HTTP 200/.test(m)));
    assert.ok(!JSON.stringify((helper.log() as SinonSpy).getCalls().map((c) => c.args)).includes(PASSWORD), 'password in the log');
  });

  it('without a trace logger nothing subscribes, so the transport builds no trace and nothing is formatted', async () => {
    await helper.load(NODES, flow(env.sim.xaddr), CREDENTIALS);
    const answered = nextInput(helper.getNode('out'));
    helper.getNode('info').receive({ payload: {} });
    await answered;
    assert.equal(diagnosticsChannel.channel(WIRE_TRACE_CHANNEL).hasSubscribers, false);
    assert.deepEqual(traceLog(), []);
  });

  it('a redeploy ends the old config node subscription', async () => {
    helper.settings(consoleLogging('trace'));
    await helper.load(NODES, flow(env.sim.xaddr), CREDENTIALS);
    assert.equal(diagnosticsChannel.channel(WIRE_TRACE_CHANNEL).hasSubscribers, true);
    await helper.unload();
    assert.equal(diagnosticsChannel.channel(WIRE_TRACE_CHANNEL).hasSubscribers, false);
  });
});
