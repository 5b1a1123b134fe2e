/**
 * The editor in a real browser (Debian's headless Chromium through playwright-core): the onvifq nodes are in
 * the palette, and the config dialog's Test connection button reaches the simulator.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { SimulatedDevice } from '../../lib/simulator';
import { NodeRedProcess, OUTPUT_DIR, assertBuilt } from './node-red-process';

const CHROMIUM = '/usr/bin/chromium';
const USERNAME = 'admin';
const PASSWORD = 'Ed1tor-pass-qq';

describe('e2e: the editor in Chromium', function () {
  this.timeout(90000);
  let sim: SimulatedDevice | undefined;
  let red: NodeRedProcess | undefined;
  let ctx: BrowserContext | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      console.log(`    skipped: ${CHROMIUM} is missing (install it with "apt-get install -y chromium"; CI does)`);
      this.skip();
    }
    assertBuilt();
    sim = new SimulatedDevice({ username: USERNAME, password: PASSWORD });
    await sim.start();
    // The welcome tour would cover the workspace and swallow the clicks.
    red = new NodeRedProcess(['-D', 'editorTheme.tours=false']);
    await red.start();
    await red.deploy([
      { id: 'ed-tab', type: 'tab', label: 'editor e2e' },
      { id: 'ed-dev', type: 'onvifq-device', name: 'Bench camera', address: sim.xaddr, auth: 'auto', timeout: 10,
        credentials: { username: USERNAME, password: PASSWORD } },
      { id: 'ed-read', type: 'onvifq-configure', z: 'ed-tab', device: 'ed-dev', operation: 'GetDeviceInformation', x: 300, y: 120, wires: [[]] },
    ]);
    ctx = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-pw-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    fs.mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.goto(red.url + '/');
  });

  after(async function () {
    await ctx?.close();
    await red?.stop();
    await sim?.stop();
  });

  it('shows onvifq-configure in the ONVIF palette category with its label', async function () {
    const entry = page.locator('.red-ui-palette-node[data-palette-type="onvifq-configure"]');
    await entry.waitFor({ state: 'visible', timeout: 30000 });
    assert.equal((await entry.locator('.red-ui-palette-label').innerText()).replace(/\s+/g, ' ').trim(), 'onvif configure');
    const category = page.locator('.red-ui-palette-category', { has: entry });
    assert.match(await category.locator('.red-ui-palette-header').innerText(), /onvif/i);
  });

  it('tests the connection from the config dialog and shows the model', async function () {
    const node = page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="ed-read"]');
    await node.locator('rect.red-ui-flow-node').first().dblclick();
    await page.locator('.red-ui-tray #node-input-name').waitFor();
    await page.locator('#node-dialog-ok').click({ trial: true });
    // The operation select is filled by oneditprepare.
    assert.equal(await page.locator('#node-input-operation').inputValue(), 'GetDeviceInformation');
    await page.locator('#node-input-btn-device-edit').click();
    await page.locator('#node-config-dialog-ok').click({ trial: true });
    assert.equal(await page.locator('#node-config-input-address').inputValue(), sim!.xaddr);
    assert.equal(await page.locator('#node-config-input-username').inputValue(), USERNAME);
    // Labels come from the locale file, not raw i18n keys.
    assert.equal((await page.locator('label[for="node-config-input-address"]').innerText()).trim(), 'Address');

    await page.locator('#onvifq-device-test').click();
    const result = page.locator('#onvifq-device-test-result');
    const model = sim!.state.deviceInformation.Model;
    await page.waitForFunction(
      ([sel, text]) => (document.querySelector(sel)?.textContent ?? '').includes(text) || (document.querySelector(sel)?.textContent ?? '').startsWith('Failed'),
      ['#onvifq-device-test-result', model] as const,
      { timeout: 20000 },
    );
    const text = await result.innerText();
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'editor-test-connection.png') });
    assert.match(text, new RegExp(`Model: ${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(text, /Profile Q state: Operational/);
    assert.match(text, /Auth in use: \S+/);
    assert.ok(!text.includes(PASSWORD));

    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('#node-dialog-cancel').click();
    assert.deepEqual(pageErrors, [], 'no script errors in the editor');
  });
});
