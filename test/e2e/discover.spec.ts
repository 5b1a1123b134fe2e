/**
 * Discovery end to end on the built package: a real Node-RED child process finds a simulated device by a
 * UNICAST probe to 127.0.0.1 (never multicast in the root namespace), through a deployed onvifq-discover node
 * and through the onvifq-device config dialog's Search button in Chromium.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { SimulatedDevice } from '../../lib/simulator';
import { freeUdpPort } from '../support/ports';
import { EditorBrowser, NO_WELCOME_TOUR, skipWithoutChromium } from './editor-browser';
import { NodeRedProcess, OUTPUT_DIR, REPO_ROOT, assertBuilt, pressInject, type CommsClient } from './node-red-process';

const PASSWORD = 'D1scover-e2e-pw';

function assertDiscoverBuilt(): void {
  assertBuilt();
  for (const f of ['dist/nodes/onvifq-discover/onvifq-discover.js', 'dist/nodes/onvifq-discover/onvifq-discover.html']) {
    if (!fs.existsSync(path.join(REPO_ROOT, f))) throw new Error(`${f} is missing. Run "npm run build" first; "npm test" does it for you.`);
  }
}

describe('e2e: discovery', function () {
  this.timeout(90000);
  let sim: SimulatedDevice;
  let target: string;
  let red: NodeRedProcess;

  before(async function () {
    assertDiscoverBuilt();
    const port = await freeUdpPort();
    target = `127.0.0.1:${port}`;
    sim = new SimulatedDevice({ username: 'admin', password: PASSWORD, discovery: { port }, discoveryDelayMs: [0, 50] });
    await sim.start();
    red = new NodeRedProcess(NO_WELCOME_TOUR);
    await red.start();
  });

  after(async function () {
    await red?.stop();
    await sim?.stop();
  });

  describe('the onvifq-discover node in Node-RED', () => {
    let comms: CommsClient | undefined;
    after(() => comms?.close());

    it('inject → onvifq-discover (unicast target) → debug: the device arrives with its address and Profile Q state', async function () {
      comms = await red.comms();
      await red.deploy([
        { id: 'dx-tab', type: 'tab', label: 'discover e2e' },
        { id: 'dx-inject', type: 'inject', z: 'dx-tab', props: [{ p: 'payload' }], payload: '', payloadType: 'date', repeat: '', once: false, x: 120, y: 60, wires: [['dx-disc']] },
        { id: 'dx-disc', type: 'onvifq-discover', z: 'dx-tab', mode: 'probe', output: 'each', iface: '', targets: target, timeout: 1,
          probeAtDeploy: false, interval: 0, missLimit: 3, x: 320, y: 60, wires: [['dx-debug']] },
        { id: 'dx-debug', type: 'debug', z: 'dx-tab', active: true, tosidebar: true, complete: 'true', targetType: 'full', x: 520, y: 60, wires: [] },
      ]);
      await pressInject(red.port, 'dx-inject');
      const debug = await comms.waitFor('the debug message', (e) => e.topic === 'debug' && e.data?.id === 'dx-debug');
      const msg = JSON.parse(debug.data.msg);
      assert.equal(msg.topic, 'onvifq/discover');
      assert.equal(msg.payload.endpoint, sim.endpoint);
      assert.equal(msg.payload.xaddrs[0], sim.xaddr);
      assert.equal(msg.payload.hardware, sim.state.deviceInformation.Model);
      assert.equal(msg.payload.profileQState, 'Operational');
      const status = await comms.waitFor('the count in the status', (e) => e.topic === 'status/dx-disc' && e.data?.text === '1 device');
      assert.equal(status.data.fill, 'green');
    });
  });

  describe('the editor in Chromium', () => {
    let editor: EditorBrowser | undefined;
    let page: Page;

    before(async function () {
      skipWithoutChromium(this);
      await red.deploy([
        { id: 'de-tab', type: 'tab', label: 'discover editor e2e' },
        { id: 'de-dev', type: 'onvifq-device', name: '', address: '192.0.2.1', auth: 'auto', timeout: 10 },
        { id: 'de-read', type: 'onvifq-configure', z: 'de-tab', device: 'de-dev', operation: 'GetDeviceInformation', x: 300, y: 120, wires: [[]] },
        { id: 'de-disc', type: 'onvifq-discover', z: 'de-tab', mode: 'probe', output: 'each', iface: '127.0.0.1', targets: target, timeout: 1,
          probeAtDeploy: false, interval: 0, missLimit: 3, x: 300, y: 220, wires: [[]] },
      ]);
      editor = await EditorBrowser.open(red.url);
      page = editor.page;
      await page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="de-read"]').waitFor({ state: 'visible', timeout: 30000 });
    });

    after(async () => {
      await editor?.close();
    });

    it('the discover node dialog offers the host interfaces and keeps the chosen one', async function () {
      await page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="de-disc"] rect.red-ui-flow-node').first().dblclick();
      await page.locator('.red-ui-tray #node-input-targets').waitFor();
      assert.equal(await page.locator('#node-input-targets').inputValue(), target);
      await page.waitForFunction(() => document.querySelectorAll('#node-input-iface option').length > 1, undefined, { timeout: 10000 });
      const options = await page.locator('#node-input-iface option').allInnerTexts();
      assert.ok(options.some((o) => /127\.0\.0\.1/.test(o)), `options: ${options}`);
      assert.equal(await page.locator('#node-input-iface').inputValue(), '127.0.0.1');
      assert.equal((await page.locator('label[for="node-input-targets"]').innerText()).trim(), 'Targets');
      await page.locator('#node-dialog-cancel').click();
    });

    it('Search in the device config dialog lists the simulator; a click fills in the address', async function () {
      await page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="de-read"] rect.red-ui-flow-node').first().dblclick();
      await page.locator('.red-ui-tray #node-input-name').waitFor();
      await page.locator('#node-input-btn-device-edit').click();
      await page.locator('#onvifq-device-search').waitFor();
      assert.equal(await page.locator('#node-config-input-address').inputValue(), '192.0.2.1');
      assert.equal(await page.locator('#node-config-input-name').inputValue(), '');

      await page.locator('#onvifq-device-search-targets').fill(target);
      await page.locator('#onvifq-device-search').click();
      const row = page.locator('#onvifq-device-search-result .onvifq-device-found');
      await row.first().waitFor({ state: 'visible', timeout: 15000 });
      assert.equal(await row.count(), 1);
      assert.equal(await row.locator('.onvifq-found-model').innerText(), sim.state.deviceInformation.Model);
      assert.equal(await row.locator('.onvifq-found-address').innerText(), sim.xaddr);
      assert.equal(await row.locator('.onvifq-found-state').innerText(), 'Operational');
      const shownName = await row.locator('.onvifq-found-name').innerText();
      assert.ok(shownName.length > 0);

      await row.click();
      assert.equal(await page.locator('#node-config-input-address').inputValue(), sim.xaddr);
      assert.equal(await page.locator('#node-config-input-name').inputValue(), shownName, 'an empty name is filled in too');
      await page.screenshot({ path: path.join(OUTPUT_DIR, 'editor-discover-search.png') });

      await page.locator('#node-config-dialog-cancel').click();
      await page.locator('#node-dialog-cancel').click();
      assert.deepEqual(editor!.pageErrors, [], 'no script errors in the editor');
    });
  });
});
