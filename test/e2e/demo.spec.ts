/**
 * The README's first command, as a user runs it: `npm start` (examples/start-demo.js on the built package)
 * starts a simulated device and Node-RED with the demo flows. Every button of the demo works, discovery finds
 * the device by unicast, motion events arrive, and Ctrl-C stops both.
 */
import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeTcpPort } from '../support/ports';
import { startDemo, type FlowNode } from './demo-process';
import { CommsClient, adminRequest, assertBuilt, type CommsEvent } from './node-red-process';


describe('e2e: npm start (the demo)', function () {
  this.timeout(90_000);
  let demo: ChildProcess | undefined;
  let output = '';
  let port = 0;
  let comms: CommsClient | undefined;
  let flows: FlowNode[] = [];
  let demoDir = '';

  before(async function () {
    assertBuilt();
    demoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-demo-'));
    const wanted = await freeTcpPort();
    const run = await startDemo(demoDir, wanted);
    demo = run.child;
    output = run.output();
    port = run.port;
    assert.equal(port, wanted, 'the demo uses the port asked for');
    comms = new CommsClient(`ws://127.0.0.1:${port}/comms`);
    await comms.open();
    flows = (await adminRequest(port, 'GET', '/flows')).json<FlowNode[]>();
  });

  after(async function () {
    comms?.close();
    if (demo && demo.exitCode === null) demo.kill('SIGKILL');
    fs.rmSync(demoDir, { recursive: true, force: true });
  });

  const tab = (label: string) => {
    const t = flows.find((n) => n.type === 'tab' && n.label === label);
    assert.ok(t, `tab "${label}" among ${flows.filter((n) => n.type === 'tab').map((n) => n.label).join(', ')}`);
    return t;
  };
  const node = (id: string) => flows.find((n) => n.id === id)!;
  const debugOf = (e: CommsEvent) => ({ id: e.data.id as string, msg: JSON.parse(e.data.msg) });
  /** Press an inject button; resolve with the first debug message from `debugId` after the press. */
  async function press(injectId: string, debugId: string): Promise<any> {
    const seen = comms!.events.length;
    const res = await adminRequest(port, 'POST', `/inject/${injectId}`);
    assert.equal(res.status, 200, `pressing ${node(injectId).name}`);
    const hit = await comms!.waitFor(`a message in "${node(debugId).name}" after pressing "${node(injectId).name}"`, (e) => {
      return comms!.events.indexOf(e) >= seen && e.topic === 'debug' && e.data?.id === debugId;
    });
    return debugOf(hit).msg;
  }

  it('prints the simulator, discovery port and editor URL, and serves the editor on 127.0.0.1', async () => {
    assert.match(output, /Simulated Profile Q device: http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service/);
    assert.match(output, /WS-Discovery \(unicast\):\s+127\.0\.0\.1:\d+/);
    const editor = await adminRequest(port, 'GET', '/');
    assert.equal(editor.status, 200);
    assert.match(editor.body, /Node-RED/);
    for (const label of ['ONVIF read operations', 'ONVIF motion (demo)', 'ONVIF discovery (demo)']) tab(label);
    assert.ok(!JSON.stringify(flows).includes('"password"'), 'no password in the deployed flow');
  });

  it('every button of the read-operations tab gives its result; the bad one reaches the Catch node', async () => {
    const read = tab('ONVIF read operations');
    const errorDebug = flows.find((n) => n.z === read.id && n.type === 'debug' && n.name === 'error');
    assert.ok(errorDebug);
    const injects = flows.filter((n) => n.z === read.id && n.type === 'inject');
    assert.ok(injects.length >= 8, `${injects.length} buttons`);
    const results: Record<string, any> = {};
    for (const inject of injects) {
      const configure = node(inject.wires![0]![0]!);
      const debug = configure.wires![0]![0]!;
      if (inject.topic === 'NoSuchOperation') {
        const failed = await press(inject.id, errorDebug.id);
        assert.match(JSON.stringify(failed), /NoSuchOperation/);
        continue;
      }
      results[inject.name!] = await press(inject.id, debug);
    }
    const who = results['Who is it?'];
    assert.equal(who.payload.Model, 'SimQ-1');
    assert.match(who.device.endpoint, /^urn:uuid:/);
    assert.ok(results['Scopes'].payload.Scopes.some((s: any) => JSON.stringify(s).includes('Profile/Q/Operational')), 'the Operational scope');
    assert.ok(results['Users'].User.some((u: any) => u.Username === 'admin' && u.UserLevel === 'Administrator'));
    assert.equal(results['Inventory'].profileQState, 'Operational');
    assert.ok(results['Inventory'].services.length >= 2, 'device and event services in the inventory');
  });

  it('the discovery tab finds the simulated device by unicast', async () => {
    const discovery = tab('ONVIF discovery (demo)');
    const search = flows.find((n) => n.z === discovery.id && n.type === 'inject')!;
    const found = flows.find((n) => n.z === discovery.id && n.type === 'debug' && n.name === 'found')!;
    const device = await press(search.id, found.id);
    assert.match(device.endpoint, /^urn:uuid:/);
    assert.equal(device.profileQState, 'Operational');
    assert.ok(device.xaddrs.some((x: string) => x.startsWith('http://127.0.0.1:')), device.xaddrs.join(', '));
  });

  it('the motion tab receives the simulator\'s motion events', async () => {
    const motion = tab('ONVIF motion (demo)');
    // The demo's notification debug node shows each text as its status (the sidebar stays for the user's clicks).
    const debugs = new Set(flows.filter((n) => n.z === motion.id && n.type === 'debug').map((n) => `status/${n.id}`));
    const hit = await comms!.waitFor('a motion text under the debug node (raised every 8 s)', (e) => debugs.has(e.topic) && !!e.data?.text, 20_000);
    assert.match(String(hit.data.text), /motion|clear/i);
  });

  it('Ctrl-C stops Node-RED and the simulator', async () => {
    const exited = new Promise<number | null>((r) => demo!.once('exit', (code) => r(code)));
    demo!.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running after 15 s'), 15_000))]);
    assert.equal(code, 0);
    await assert.rejects(adminRequest(port, 'GET', '/settings'), 'Node-RED no longer answers');
    const simPort = Number(output.match(/Simulated Profile Q device: http:\/\/127\.0\.0\.1:(\d+)\//)![1]);
    await assert.rejects(adminRequest(simPort, 'GET', '/onvif/device_service'), 'the simulator no longer answers');
  });
});
