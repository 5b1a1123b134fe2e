/**
 * End to end on the built package: a real Node-RED child process, a flow deployed through the admin API
 * (device config + onvifq-events + debug), an event raised at the simulator, the debug msg read over /comms.
 */
import { strict as assert } from 'node:assert';
import { describeOnEachNodeRed, simulatorDeviceNode, useSimulatorAndNodeRed } from './node-red-process';

const USERNAME = 'admin';
const PASSWORD = 'E2e-Ev3nts-pw-zz';
const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';

describeOnEachNodeRed('e2e: onvifq-events', (runtime) => {
  const env = useSimulatorAndNodeRed({ username: USERNAME, password: PASSWORD, processorUsageIntervalMs: 0 }, [], runtime);

  it('a motion event raised at the device reaches the debug sidebar', async function () {
    const comms = await env.red.comms();
    const flow = [
      { id: 'ev-tab', type: 'tab', label: 'events e2e' },
      simulatorDeviceNode('ev-dev', 'Sim', env.sim, { username: USERNAME, password: PASSWORD }),
      { id: 'ev-events', type: 'onvifq-events', z: 'ev-tab', device: 'ev-dev', filter: 'tns1:RuleEngine//.', dropInitialized: true,
        dropDeleted: false, onlyChanges: false, statusOutput: false, outputs: 1, wires: [['ev-debug']] },
      { id: 'ev-debug', type: 'debug', z: 'ev-tab', active: true, tosidebar: true, complete: 'true', targetType: 'full', wires: [] },
    ];
    await env.red.deploy(flow);
    const status = await comms.waitFor('a green status on the events node', (e) => e.topic === 'status/ev-events' && e.data?.fill === 'green');
    assert.equal(status.data.text, 'connected');

    env.sim.raiseEvent(MOTION, { data: { IsMotion: 'true' } });
    const debug = await comms.waitFor('the debug message', (e) => e.topic === 'debug' && e.data?.id === 'ev-debug');
    const msg = JSON.parse(debug.data.msg);
    assert.equal(msg.topic, MOTION);
    assert.deepEqual(msg.payload, { IsMotion: true });
    assert.equal(msg.event.operation, 'Changed');
    assert.equal(msg.event.topic, MOTION);
    assert.equal(typeof msg.event.source.Rule, 'string');
    assert.deepEqual(msg.event.device, { name: 'Sim', xaddr: env.sim.xaddr, endpoint: env.sim.endpoint });
    await comms.waitFor('"last event" under the node', (e) => e.topic === 'status/ev-events' && /^last event /.test(String(e.data?.text)));

    // The editor's topic picker goes through the admin API.
    const topics = await env.red.request('GET', '/onvifq-events/topics/ev-dev');
    assert.equal(topics.status, 200, topics.body);
    assert.ok(topics.json().topics.some((t: { topic: string }) => t.topic === MOTION), topics.body.slice(0, 300));
  });
});
