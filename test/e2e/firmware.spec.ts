/**
 * onvifq-firmware end to end on the built package, in a real Node-RED and Debian's headless Chromium:
 * the edit dialog and its help; the rolling-fleet example flow, as shipped (only the discovery targets and the
 * image path changed, as a user would), upgrading three simulated devices found by unicast discovery, one of
 * which refuses the image: the node's status under it in the editor shows the progress, the fleet stops and sums
 * up. Then both firmware examples imported into `npm start`'s demo, where they use the demo's own config node.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { SimulatedDevice, makeFirmware } from '../../lib/simulator';
import { freeTcpPort, freeUdpPort } from '../support/ports';
import { startDemo, type DemoRun, type FlowNode } from './demo-process';
import { EditorBrowser, NO_WELCOME_TOUR, skipWithoutChromium } from './editor-browser';
import { CommsClient, NodeRedProcess, OUTPUT_DIR, REPO_ROOT, adminRequest, assertBuilt, pressInject } from './node-red-process';

const USERNAME = 'admin';
const PASSWORD = 'Fl33t-firmware-pw';
const MODEL = 'SimQ-1';

function example(name: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', `${name}.json`), 'utf8'));
}

function one(flow: FlowNode[], match: (n: FlowNode) => boolean, what: string): FlowNode {
  const n = flow.find(match);
  assert.ok(n, `the example has ${what}`);
  return n;
}

function assertFirmwareBuilt(): void {
  assertBuilt();
  for (const f of ['dist/nodes/onvifq-firmware/onvifq-firmware.js', 'dist/nodes/onvifq-firmware/onvifq-firmware.html']) {
    if (!fs.existsSync(path.join(REPO_ROOT, f))) throw new Error(`${f} is missing. Run "npm run build" first; "npm test" does it for you.`);
  }
}

/** Every text the status label under a node shows from now on, as the editor draws it (sampled in the page). */
async function recordStatusTexts(page: Page, nodeId: string): Promise<() => Promise<string[]>> {
  await page.evaluate((id) => {
    const seen: string[] = [];
    (window as any).__firmwareStatus = seen;
    setInterval(() => {
      const label = document.querySelector(`#red-ui-workspace-chart g.red-ui-flow-node[id="${id}"] .red-ui-flow-node-status-label`);
      const text = label?.textContent ?? '';
      if (text && seen[seen.length - 1] !== text) seen.push(text);
    }, 20);
  }, nodeId);
  return () => page.evaluate(() => [...((window as any).__firmwareStatus as string[])]);
}

describe('e2e: onvifq-firmware in Node-RED and Chromium', function () {
  this.timeout(180000);
  const sims: SimulatedDevice[] = [];
  let red: NodeRedProcess;
  let editor: EditorBrowser | undefined;
  let comms: CommsClient;
  let dir: string;
  let flow: FlowNode[];
  let firmwareId: string;
  /** The three devices in the order the discovery lists them (by address); the second has another model. */
  let fleet: SimulatedDevice[];

  before(function () {
    skipWithoutChromium(this);
  });
  before(async function () {
    assertFirmwareBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-e2e-firmware-'));
    // Ports picked first, so the middle one (the discovery's order is by address) can be the odd model.
    const ports = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort()].sort((a, b) =>
      `http://127.0.0.1:${a}/onvif/device_service`.localeCompare(`http://127.0.0.1:${b}/onvif/device_service`),
    );
    fleet = [];
    const discoveryPorts: number[] = [];
    for (const [i, port] of ports.entries()) {
      discoveryPorts.push(await freeUdpPort());
      const s = new SimulatedDevice({
        username: USERNAME, password: PASSWORD, port, discovery: { port: discoveryPorts[i]! }, discoveryDelayMs: [0, 20],
        firmwareUploadDelayMs: 1500, firmwareFlashMs: 400, firmwareDownTimeMs: 1000,
        ...(i === 1 ? { deviceInformation: { Model: 'SimQ-2' } } : {}),
      });
      await s.start();
      sims.push(s);
      fleet.push(s);
    }
    red = new NodeRedProcess(NO_WELCOME_TOUR);
    await red.start();
    comms = await red.comms();

    const image = path.join(dir, 'simq-2.0.0.bin');
    // Large enough that the upload lasts a few hundred ms on loopback (uploads run at ~300 MB/s): long enough for the
    // editor to draw "uploading N %" at least once, as it does for a user on a real network.
    fs.writeFileSync(image, makeFirmware({ model: MODEL, version: '2.0.0', payloadBytes: 96 * 1024 * 1024 }));
    flow = example('firmware-rolling-fleet');
    const discover = one(flow, (n) => n.type === 'onvifq-discover', 'a discover node');
    discover.targets = discoveryPorts.map((p) => `127.0.0.1:${p}`).join(', ');
    const device = one(flow, (n) => n.type === 'onvifq-device', 'a config node');
    device.credentials = { username: USERNAME, password: PASSWORD };
    for (const inject of flow.filter((n) => n.type === 'inject')) {
      for (const p of inject.props as Array<{ p: string; v?: string }>) if (p.p === 'image') p.v = JSON.stringify({ ...JSON.parse(p.v!), file: image });
    }
    firmwareId = one(flow, (n) => n.type === 'onvifq-firmware', 'a firmware node').id;
    await red.deploy(flow);
    editor = await EditorBrowser.open(red.url);
  });
  after(async () => {
    await editor?.close();
    comms?.close();
    await red?.stop();
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function openFirmwareNode(page: Page): Promise<void> {
    const node = page.locator(`#red-ui-workspace-chart g.red-ui-flow-node[id="${firmwareId}"] rect.red-ui-flow-node`).first();
    await node.waitFor({ state: 'visible', timeout: 30000 });
    // On a busy machine the editor may still be settling when the node is drawn, and swallow a double-click.
    for (let attempt = 1; ; attempt++) {
      await node.dblclick();
      try {
        await page.locator('.red-ui-tray #node-input-expectVersion').waitFor({ timeout: 10000 });
        return;
      } catch (e) {
        if (attempt === 3) {
          await page.screenshot({ path: path.join(OUTPUT_DIR, 'firmware-editor-open-failed.png') });
          throw e;
        }
      }
    }
  }

  it('the edit dialog has every setting, shows the file or URL field for the source chosen, and the help explains fields and failures', async function () {
    const page = editor!.page;
    await openFirmwareNode(page);
    for (const id of ['device', 'source', 'expectVersion', 'backupFirst', 'concurrency', 'skipCurrent', 'stopOnFailure', 'dryRun', 'tryAnyway', 'name']) {
      assert.equal(await page.locator(`.red-ui-tray #node-input-${id}`).count(), 1, `field ${id}`);
    }
    assert.equal((await page.locator('label[for="node-input-expectVersion"]').innerText()).trim(), 'Expected version', 'labels come from the locale file');
    assert.equal(await page.locator('#node-input-expectVersion').inputValue(), '2.0.0');
    assert.equal(await page.locator('#node-input-concurrency').inputValue(), '1');
    assert.equal(await page.locator('#node-input-stopOnFailure').isChecked(), true);
    assert.deepEqual(
      await page.locator('#node-input-source option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
      ['msg', 'file', 'url'],
    );
    assert.equal(await page.locator('#onvifq-firmware-file-row').isVisible(), false);
    await page.locator('#node-input-source').selectOption('file');
    assert.equal(await page.locator('#onvifq-firmware-file-row').isVisible(), true);
    await page.locator('#node-input-source').selectOption('url');
    assert.equal(await page.locator('#onvifq-firmware-url-row').isVisible(), true);
    assert.equal(await page.locator('#onvifq-firmware-file-row').isVisible(), false);
    await page.locator('#node-input-source').selectOption('msg');
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'firmware-editor-dialog.png') });

    await page.evaluate(() => (window as any).RED.sidebar.help.show('onvifq-firmware'));
    const help = page.locator('.red-ui-help', { hasText: 'Back up the configuration first' }).first();
    await help.waitFor({ timeout: 10000 });
    const text = await help.innerText();
    for (const words of ['Expected version', 'At a time', 'Stop at the first failure', 'Dry run', 'msg.payload', '"file"', '"url"', 'HTTP 415', 'may still be flashing', 'factory default']) {
      assert.ok(text.includes(words), `the help mentions ${words}`);
    }
    await page.locator('#node-dialog-cancel').click();
    assert.deepEqual(editor!.pageErrors, [], 'no script errors in the editor');
  });

  it('the rolling-fleet example: discovers three devices, upgrades the first, the second refuses the image, the third is not started; the status shows the progress', async function () {
    const page = editor!.page;
    const statusTexts = await recordStatusTexts(page, firmwareId);
    const each = one(flow, (n) => n.type === 'debug' && n.name === 'each device', 'the per-device debug').id;
    const summaryId = one(flow, (n) => n.type === 'debug' && n.name === 'summary', 'the summary debug').id;
    const failedId = one(flow, (n) => n.type === 'debug' && n.name === 'failed', 'the failure debug').id;
    const seen = comms.events.length;
    const after = (e: { topic: string; data: any }, id: string) => comms.events.indexOf(e) >= seen && e.topic === 'debug' && e.data?.id === id;

    await pressInject(red.port, one(flow, (n) => n.type === 'inject' && n.name === 'Upgrade all', 'the Upgrade all inject').id);
    const summary = JSON.parse((await comms.waitFor('the summary', (e) => after(e, summaryId), 120000)).data.msg);
    const upgraded = JSON.parse((await comms.waitFor('the first device', (e) => after(e, each), 1000)).data.msg);
    const failed = JSON.parse((await comms.waitFor('the failure', (e) => after(e, failedId), 1000)).data.msg);

    const [a, b, c] = fleet;
    assert.equal(upgraded.outcome, 'upgraded');
    assert.equal(upgraded.after.firmwareVersion, '2.0.0');
    assert.equal(failed.device, b!.xaddr, 'the Catch output names the device');
    assert.ok(failed.kind, 'with the kind');
    assert.ok(Array.isArray(failed.steps), 'and the steps');
    assert.equal(failed.before?.firmwareVersion, '1.0.0', 'and the state before');
    assert.deepEqual(summary.upgraded, [a!.xaddr]);
    assert.deepEqual(summary.failed.map((f: { address: string }) => f.address), [b!.xaddr]);
    assert.deepEqual(summary.notStarted, [c!.xaddr]);
    assert.deepEqual(fleet.map((s) => s.state.deviceInformation.FirmwareVersion), ['2.0.0', '1.0.0', '1.0.0']);

    await page.waitForFunction((id) => /failed/.test(document.querySelector(`g.red-ui-flow-node[id="${id}"] .red-ui-flow-node-status-label`)?.textContent ?? ''), firmwareId, { timeout: 10000 });
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'firmware-fleet-status.png') });
    // Every status the runtime sent to the editor, in order; and what the editor drew under the node (sampled, so
    // a status that lasted only a moment, like the first device's version before the second starts, may be missed).
    const sent = comms.events.slice(seen).filter((e) => e.topic === `status/${firmwareId}`).map((e) => String(e.data?.text));
    const steps = [/^1\/3 waiting \d s$/, /^1\/3 uploading \d+ %$/, /^1\/3 flashing…$/, /^1\/3 rebooting…$/, /^1\/3 verifying$/, /^1\/3 v2\.0\.0$/, /^2\/3 uploading/, /^2\/3 image rejected$/, /^1 failed, 1 ok$/];
    let at = -1;
    for (const step of steps) {
      const i = sent.findIndex((t, j) => j > at && step.test(t));
      assert.ok(i > at, `the runtime sent ${step} after the steps before it; it sent ${sent.join(' | ')}`);
      at = i;
    }
    assert.ok(!sent.some((t) => /^3\/3/.test(t)), 'the third device was not started');
    const drawn = await statusTexts();
    // The phases that last long enough to be seen; "verifying" takes one request (the runtime sent it: checked above).
    for (const step of [/^1\/3 waiting \d s$/, /^1\/3 uploading \d+ %$/, /^1\/3 (flashing|rebooting)…$/, /^2\/3 /, /^1 failed, 1 ok$/]) {
      assert.ok(drawn.some((t) => step.test(t)), `the editor drew ${step} under the node; it drew ${drawn.join(' | ')}`);
    }
    assert.deepEqual(editor!.pageErrors, [], 'no script errors in the editor');
  });
});

/** The demo runs Node-RED with its welcome tour, which covers the editor on a first visit: close it as a user would. */
async function closeWelcomeTour(page: Page): Promise<void> {
  const shade = page.locator('.red-ui-tourGuide-shade');
  try {
    await shade.waitFor({ state: 'visible', timeout: 20000 });
  } catch {
    return;
  }
  await page.locator('.red-ui-popover button.red-ui-button-small:has(i.fa-times)').first().click();
  await shade.waitFor({ state: 'detached', timeout: 10000 });
}

describe('e2e: the firmware examples in the demo (npm start)', function () {
  this.timeout(180000);
  let demoDir = '';
  let run: DemoRun | undefined;
  let editor: EditorBrowser | undefined;
  let comms: CommsClient | undefined;

  before(function () {
    skipWithoutChromium(this);
  });
  before(async function () {
    assertFirmwareBuilt();
    demoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-demo-firmware-'));
    run = await startDemo(demoDir, await freeTcpPort());
    comms = new CommsClient(`ws://127.0.0.1:${run.port}/comms`);
    await comms.open();
    editor = await EditorBrowser.open(`http://127.0.0.1:${run.port}`);
    await closeWelcomeTour(editor.page);
  });
  after(async () => {
    await editor?.close();
    comms?.close();
    if (run && run.child.exitCode === null) await run.interrupt();
    fs.rmSync(demoDir, { recursive: true, force: true });
  });

  it("both examples import onto the demo's 'Simulated device', and the one-device example upgrades the demo's simulator", async function () {
    const page = editor!.page;
    await page.locator('#red-ui-workspace-chart g.red-ui-flow-node').first().waitFor({ state: 'visible', timeout: 30000 });
    const image = path.join(demoDir, 'simq-2.0.0.bin');
    fs.writeFileSync(image, makeFirmware({ model: MODEL, version: '2.0.0' }));
    const one = example('firmware-upgrade-one');
    const fleetFlow = example('firmware-rolling-fleet');
    // What Import does when a node's id is taken (the config node): the user picks "Import copy", which imports
    // with new ids and reuses the config node that is already there.
    const imported = await page.evaluate((flows) => {
      const RED = (window as any).RED;
      const out: Array<{ device: string; deviceName: string }> = [];
      for (const flow of flows) {
        let conflict = false;
        try {
          RED.view.importNodes(flow, { generateIds: false, addFlow: false });
        } catch (e: any) {
          conflict = e.code === 'import_conflict';
          if (!conflict) throw e;
          RED.view.importNodes(flow, { generateIds: true, addFlow: false });
        }
        const ids = new Set<string>();
        RED.nodes.eachNode((n: any) => {
          if (n.type === 'onvifq-firmware') ids.add(n.id);
        });
        for (const id of ids) {
          const n = RED.nodes.node(id);
          const config = RED.nodes.node(n.device);
          out.push({ device: n.device, deviceName: config?.name ?? '' });
        }
      }
      let configs = 0;
      RED.nodes.eachConfig((n: any) => {
        if (n.type === 'onvifq-device') configs++;
      });
      return { out, configs };
    }, [one, fleetFlow]);
    assert.ok(imported.out.length >= 2);
    for (const o of imported.out) assert.equal(o.deviceName, 'Simulated device', 'the firmware nodes use the demo config node');
    assert.equal(imported.configs, 1, 'no second device config node was imported');

    // The user points the Upgrade inject at their image and deploys from the editor.
    const injectId = await page.evaluate((file) => {
      const RED = (window as any).RED;
      let id = '';
      RED.nodes.eachNode((n: any) => {
        if (n.type === 'inject' && n.name === 'Upgrade' && !id) {
          n.payload = JSON.stringify({ file });
          n.changed = true;
          id = n.id;
        }
      });
      RED.nodes.dirty(true);
      return id;
    }, image);
    await page.locator('#red-ui-header-button-deploy').click();
    const flows = async () => (await adminRequest(run!.port, 'GET', '/flows')).json<FlowNode[]>();
    const until = Date.now() + 20000;
    while (!(await flows()).some((n) => n.id === injectId)) {
      if (Date.now() > until) throw new Error('the editor did not deploy the imported flows');
      await new Promise((r) => setTimeout(r, 200));
    }
    const deployed = await flows();
    assert.equal(deployed.filter((n) => n.type === 'onvifq-device').length, 1);
    assert.ok(!JSON.stringify(deployed).includes('"password"'), 'no password in the deployed flow');
    const firmware = deployed.find((n) => n.type === 'onvifq-firmware' && n.wires?.length === 2 && deployed.some((i) => i.id === injectId && i.wires?.[0]?.[0] === n.id))!;
    assert.ok(firmware);
    await pressInject(run!.port, injectId);
    const done = await comms!.waitFor('the firmware node to show the new version', (e) => e.topic === `status/${firmware.id}` && /v2\.0\.0|failed|rejected/.test(String(e.data?.text)), 60000);
    assert.equal(done.data.text, 'v2.0.0');
  });
});
