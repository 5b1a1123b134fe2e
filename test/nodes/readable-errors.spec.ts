/**
 * Errors a person can read (issue 16, item 11): what a Catch node gets in msg.error and what the debug sidebar
 * shows for a node's error (Node-RED's own encodeObject, as its debug comms use it) never say "[object Object]"
 * or start with "OnvifError: "; the config dialog's Search answers in the dialog's words.
 */
import { strict as assert } from 'node:assert';
import type { SinonSpy } from 'sinon';
import { util as nodeRedUtil } from '@node-red/util';
import deviceNode from '../../nodes/onvifq-device/onvifq-device';
import configureNode from '../../nodes/onvifq-configure/onvifq-configure';
import discoverNode from '../../nodes/onvifq-discover/onvifq-discover';
import { PASSWORD, USERNAME, type TestFlows, closedPort, helper, nextInput, useSimulatorAndHelper, waitFor } from './support';

const NODES = [deviceNode, configureNode, discoverNode];
const CREDS = { dev: { username: USERNAME, password: PASSWORD } };

function flow(xaddr: string, withCatch: boolean): TestFlows {
  const nodes: TestFlows = [
    { id: 'dev', type: 'onvifq-device', name: 'Porch', address: xaddr, auth: 'auto', timeout: 3 },
    { id: 't', type: 'tab', label: 'test' },
    { id: 'cfg', type: 'onvifq-configure', z: 't', x: 100, y: 100, name: '', device: 'dev', operation: 'GetCapabilities', wires: [['out']] },
    { id: 'out', type: 'helper', z: 't', x: 100, y: 100 },
  ];
  if (withCatch) {
    nodes.push({ id: 'catch', type: 'catch', z: 't', x: 100, y: 100, scope: ['cfg'], uncaught: false, wires: [['caught']] });
    nodes.push({ id: 'caught', type: 'helper', z: 't', x: 100, y: 100 });
  }
  return nodes;
}

/** What the debug sidebar receives for a logged error: Node-RED's encoding of it, decoded. */
function asDebugSidebarShowsIt(err: Error): { name: string; message: string; cause?: string } {
  const encoded = nodeRedUtil.encodeObject({ msg: err }) as { msg: string; format: string };
  assert.equal(encoded.format, 'error');
  return (JSON.parse(encoded.msg) as { data: { name: string; message: string; cause?: string } }).data;
}

describe('errors a person can read', function () {
  this.timeout(20000);
  const env = useSimulatorAndHelper();

  it('a device fault through a Catch node: message without "OnvifError: ", cause readable as text and still fields', async () => {
    await helper.load(NODES, flow(env.sim.xaddr, true), CREDS);
    const caught = nextInput(helper.getNode('caught'));
    // A category the simulated device does not have: a SOAP fault with subcodes.
    helper.getNode('cfg').receive({ payload: { Category: 'PTZ' } });
    const { error } = (await caught) as { error: { message: string; cause: Record<string, unknown> } };
    assert.doesNotMatch(error.message, /^OnvifError/);
    assert.match(error.message, /Porch/);
    assert.equal(error.cause.kind, 'fault', 'a Catch node can still branch on the fields');
    const asText = String(error.cause);
    assert.notEqual(asText, '[object Object]');
    assert.match(asText, /^fault .*:.*operation GetCapabilities/);
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(error.cause))).sort(), Object.keys(error.cause).sort(), 'JSON shows the fields alone');
    // A Change or Function node copying msg (Node-RED's cloneMessage) keeps it readable.
    assert.equal(String((nodeRedUtil.cloneMessage({ error }) as { error: { cause: unknown } }).error.cause), asText);
  });

  it('an uncaught error in the debug sidebar: no "[object Object]" cause, no "OnvifError: " in the message', async () => {
    const port = await closedPort();
    await helper.load(NODES, flow(`127.0.0.1:${port}`, false), CREDS);
    const cfg = helper.getNode('cfg');
    cfg.receive({ payload: {} });
    const raised = await waitFor('the node error', () => {
      const call = (cfg.error as unknown as SinonSpy).getCalls().find((c) => c.thisValue === cfg && c.args[0] instanceof Error);
      return call?.args[0] as Error | undefined;
    });
    assert.doesNotMatch(String(raised), /^OnvifError/, 'toString() is what Node-RED puts in msg.error.message');
    const shown = asDebugSidebarShowsIt(raised);
    assert.doesNotMatch(shown.message, /^OnvifError/);
    assert.ok(shown.cause, 'the cause is shown');
    assert.doesNotMatch(shown.cause!, /object Object/);
    assert.match(shown.cause!, /^unreachable/);
  });

  it('the config dialog Search: a bad Find field says what is wrong and what to do, once, without msg.targets', async () => {
    await helper.load(NODES, flow(env.sim.xaddr, false), CREDS);
    const res = await helper.request().post('/onvifq-discover/search').send({ targets: '10.0.0.0/8' }).expect(400);
    const message = String(res.body.message);
    assert.doesNotMatch(message, /Discovery failed|Search failed/, 'the dialog adds its own "Search failed:"');
    assert.doesNotMatch(message, /msg\.targets/);
    assert.match(message, /10\.0\.0\.0\/8/);
    assert.match(message, /Find field/);
  });
});
