import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SimulatedDevice } from '../../lib/simulator';
import { freeUdpPort } from '../simulator/discovery-client';
import { skipWith } from '../support/shared';

const ROOT = path.resolve(__dirname, '../..');
const ADMIN = { username: 'admin', password: 'Main-entry-1' };

/**
 * What a script author gets from `require('@onvifq/node-red-onvif')`: the built entry point named by package.json
 * "main", used without Node-RED to find a device, talk to it and hear its events.
 */
describe('package main: the library without Node-RED', () => {
  let sim: SimulatedDevice | undefined;
  let lib: any;

  before(function () {
    const main = path.join(ROOT, JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).main);
    if (!existsSync(main)) skipWith(this, `skipped: ${path.relative(ROOT, main)} is not built (run npm run build)`);
    lib = require(main);
  });

  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('exports the documented API: OnvifDevice, probe, EventHub, topic filters, configure tasks, transfers, OnvifError', () => {
    for (const name of ['OnvifDevice', 'DeviceLink', 'probe', 'resolve', 'DiscoveryListener', 'EventHub', 'compileTopicFilter', 'OnvifError', 'runTask', 'commission', 'backup', 'restore', 'inventory', 'syncTime', 'download', 'upload']) {
      assert.equal(typeof lib[name], 'function', `${name} is exported`);
    }
  });

  it('probe by unicast finds the simulator, OnvifDevice reads it, EventHub delivers a raised motion event', async function () {
    this.timeout(30_000);
    const port = await freeUdpPort();
    sim = new SimulatedDevice({ ...ADMIN, discovery: { port }, discoveryDelayMs: [0, 0] });
    await sim.start();

    const found = await lib.probe({ targets: [`127.0.0.1:${port}`], timeoutMs: 1500 });
    assert.equal(found.length, 1);
    assert.equal(found[0].endpoint, sim.endpoint);
    const xaddr = found[0].xaddrs.find((x: string) => x.includes('127.0.0.1'));
    assert.ok(xaddr, `a loopback XAddr among ${found[0].xaddrs.join(', ')}`);

    const device = new lib.OnvifDevice({ address: xaddr, ...ADMIN });
    try {
      const session = await device.connect();
      assert.equal(session.profileQState, 'Operational');
      const info = await device.call('GetDeviceInformation');
      assert.equal(info.Model, 'SimQ-1');

      const hub = new lib.EventHub(() => Promise.resolve(device), { pullTimeoutS: 2 });
      const motion = new Promise<any>((resolve, reject) => {
        const sub = hub.events('tns1:RuleEngine//.').subscribe({
          next: (e: any) => {
            if (e.operation === 'Changed') {
              sub.unsubscribe();
              resolve(e);
            }
          },
          error: reject,
        });
      });
      // Raise once the pull point exists, so the event is not raised before anyone listens.
      const deadline = Date.now() + 10_000;
      while (sim.pullPoints.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      sim.raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } });
      const e = await motion;
      assert.equal(e.topic, 'tns1:RuleEngine/CellMotionDetector/Motion');
      assert.equal(e.data.IsMotion, true);
      await hub.close();
      assert.equal(sim.pullPoints.length, 0, 'closing the hub unsubscribed its pull point');
    } finally {
      await device.close();
    }
  });

  it('runTask commissions a factory-default simulator, then inventory and backup work with the new password', async function () {
    this.timeout(30_000);
    sim = new SimulatedDevice({ discovery: false });
    await sim.start();
    const fresh = new lib.OnvifDevice({ address: sim.xaddr });
    let admin: any;
    try {
      const done = await lib.runTask(fresh, 'commission', { username: 'admin', password: 'Scr1pted-admin', hostname: 'script-cam' });
      assert.equal(done.state, 'Operational');
      admin = new lib.OnvifDevice({ address: sim.xaddr, username: 'admin', password: 'Scr1pted-admin' });
      const inv = await lib.runTask(admin, 'inventory');
      assert.equal(inv.profileQState, 'Operational');
      assert.equal(inv.network.hostname, 'script-cam');
      const saved = await lib.runTask(admin, 'backup');
      assert.ok(Buffer.isBuffer(saved.buffer), 'backup without a file gives a Buffer');
      assert.equal(saved.buffer.length, saved.bytes);
      assert.ok(saved.bytes > 100, `a real backup, ${saved.bytes} bytes`);
    } finally {
      await fresh.close();
      await admin?.close();
    }
  });
});
