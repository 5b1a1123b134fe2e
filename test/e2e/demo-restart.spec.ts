/**
 * `npm start` a second time in the same folder: the user's own tabs from the first session are still there,
 * the demo's device node follows the simulator to its new port, and the flow file was backed up first.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freeTcpPort } from '../support/ports';
import { startDemo, type DemoRun, type FlowNode } from './demo-process';
import { CommsClient, adminRequest, assertBuilt, pressInject } from './node-red-process';


const v2 = { 'Node-RED-API-Version': 'v2' };

describe('e2e: npm start keeps the flows of the last session', function () {
  this.timeout(120_000);
  let demoDir = '';
  let run: DemoRun | undefined;
  let comms: CommsClient | undefined;
  let portHolder: net.Server | undefined;

  before(() => {
    assertBuilt();
    demoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-demo-restart-'));
  });

  after(async () => {
    comms?.close();
    if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
    portHolder?.close();
    fs.rmSync(demoDir, { recursive: true, force: true });
  });

  it('a tab the user added survives a restart, and the demo still reaches its simulator', async () => {
    run = await startDemo(demoDir, await freeTcpPort());
    const first = (await adminRequest(run.port, 'GET', '/flows', undefined, v2)).json<{ rev: string; flows: FlowNode[] }>();
    const mine: FlowNode[] = [
      { id: 'a5e4000000000001', type: 'tab', label: 'My own flow' },
      { id: 'a5e4000000000002', type: 'inject', z: 'a5e4000000000001', name: 'my button', props: [{ p: 'payload' }], payload: 'hi', payloadType: 'str', wires: [['a5e4000000000003']] },
      { id: 'a5e4000000000003', type: 'debug', z: 'a5e4000000000001', name: 'my debug', active: true, tosidebar: true, complete: 'payload', targetType: 'msg', wires: [] },
    ];
    const saved = await adminRequest(run.port, 'POST', '/flows', { rev: first.rev, flows: [...first.flows, ...mine] }, { ...v2, 'Node-RED-Deployment-Type': 'full' });
    assert.equal(saved.status, 200, saved.body);
    const firstSimulatorPort = run.simulatorPort;
    assert.equal(await run.interrupt(), 0);

    // The simulator's old port is taken now, so the second run must move it and repoint the demo's device node.
    portHolder = net.createServer();
    await new Promise<void>((resolve) => portHolder!.listen(firstSimulatorPort, '127.0.0.1', resolve));

    run = await startDemo(demoDir, await freeTcpPort());
    assert.notEqual(run.simulatorPort, firstSimulatorPort);
    const flows = (await adminRequest(run.port, 'GET', '/flows')).json<FlowNode[]>();
    for (const n of mine) assert.ok(flows.some((f) => f.id === n.id), `the user's ${n.type} "${n.label ?? n.name}" is still deployed`);
    for (const label of ['ONVIF read operations', 'ONVIF motion (demo)', 'ONVIF discovery (demo)']) {
      assert.ok(flows.some((f) => f.type === 'tab' && f.label === label), `demo tab "${label}"`);
    }
    const device = flows.find((f) => f.type === 'onvifq-device')!;
    assert.equal(device.address, `http://127.0.0.1:${run.simulatorPort}/onvif/device_service`);
    assert.match(run.output(), /Kept your flows \(4 tabs\); pointed .*Simulated device.* at the simulator\. Backup of the flow file: /);
    const backups = fs.readdirSync(path.join(demoDir, 'node-red')).filter((f) => /^flows-backup-.*\.json$/.test(f));
    assert.equal(backups.length, 1, backups.join(', '));
    const backedUp = JSON.parse(fs.readFileSync(path.join(demoDir, 'node-red', backups[0]!), 'utf8')) as FlowNode[];
    assert.ok(backedUp.some((f) => f.label === 'My own flow'), 'the backup holds the flows as they were');

    // The device node reaches the moved simulator with the password kept from the first run.
    comms = new CommsClient(`ws://127.0.0.1:${run.port}/comms`);
    await comms.open();
    const who = flows.find((f) => f.type === 'inject' && f.name === 'Who is it?')!;
    const debugId = flows.find((f) => f.id === who.wires![0]![0])!.wires![0]![0]!;
    const seen = comms.events.length;
    await pressInject(run.port, who.id);
    const hit = await comms.waitFor('the answer to "Who is it?"', (e) => comms!.events.indexOf(e) >= seen && e.topic === 'debug' && e.data?.id === debugId);
    assert.equal(JSON.parse(hit.data.msg as string).payload.Model, 'SimQ-1');
    assert.equal(await run.interrupt(), 0);
  });
});
