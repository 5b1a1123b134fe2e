/**
 * The palette and the dialogs as a user sees them (issue 16, items 8, 9 and 12), in a real Node-RED and Debian's
 * headless Chromium, under a dark editor theme (Node-RED's theme variables set to dark values, as dark themes do):
 * the "onvif" category with one icon per node and labels that do not wrap (Node-RED wraps palette labels wider than
 * 82 px, so "onvif discover" would take two lines: the category says "onvif", the label the verb); the events node's short label and its
 * topic picker (no //. on leaf topics, picked topics ticked, working with a config node that is not deployed);
 * the config dialog's TLS fields only for https, its select wide enough, its colours from the theme.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { freeUdpPort } from '../support/ports';
import { EditorBrowser, NO_WELCOME_TOUR, skipWithoutChromium } from './editor-browser';
import { OUTPUT_DIR, simulatorDeviceNode, useSimulatorAndNodeRed } from './node-red-process';

const USERNAME = 'admin';
const PASSWORD = 'Pal3tte-pass';
const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';
const CPU = 'tns1:Monitoring/ProcessorUsage';
const INPUT = 'tns1:Device/Trigger/DigitalInput';

/** A dark theme the way theme packages make one: Node-RED's own variables, set to dark values. */
const DARK = {
  '--red-ui-primary-background': '#1e1e1e',
  '--red-ui-secondary-background': '#262626',
  '--red-ui-primary-text-color': '#dddddd',
  '--red-ui-secondary-text-color': '#a0a0a0',
  '--red-ui-form-input-background': '#2c2c2c',
  '--red-ui-form-text-color': '#e0e0e0',
  '--red-ui-text-color-success': '#7ed36a',
  '--red-ui-text-color-error': '#ff7b6b',
  '--red-ui-text-color-warning': '#ffbd4a',
  '--red-ui-secondary-border-color': '#454545',
  '--red-ui-list-item-background-hover': '#333340',
  '--red-ui-list-item-background-selected': '#3c3c5a',
};
const DARK_CSS = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-dark-')), 'dark.css');
fs.writeFileSync(DARK_CSS, `:root {\n${Object.entries(DARK).map(([k, v]) => `  ${k}: ${v};`).join('\n')}\n}\n`);

/** '#7ed36a' → 'rgb(126, 211, 106)', as getComputedStyle reports colours. */
function rgb(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${n >> 16}, ${(n >> 8) & 255}, ${n & 255})`;
}

function computed(page: Page, selector: string, property: string): Promise<string> {
  return page.locator(selector).first().evaluate((el, p) => getComputedStyle(el).getPropertyValue(p), property);
}

describe('e2e: palette, events picker and config dialog in Chromium (dark theme)', function () {
  this.timeout(120000);
  before(function () {
    skipWithoutChromium(this);
  });
  let editor: EditorBrowser | undefined;
  after(() => editor?.close());
  // Discovery answers unicast probes on a port of its own (filled in before the simulator starts).
  const simOptions = { username: USERNAME, password: PASSWORD, discovery: { port: 0 } };
  before(async () => {
    simOptions.discovery.port = await freeUdpPort();
  });
  const env = useSimulatorAndNodeRed(simOptions, [...NO_WELCOME_TOUR, '-D', `editorTheme.page.css=${DARK_CSS}`]);
  let page: Page;

  before(async () => {
    await env.red.deploy([
      { id: 'pe-tab', type: 'tab', label: 'palette e2e' },
      simulatorDeviceNode('pe-dev', 'Porch', env.sim, { username: USERNAME, password: PASSWORD }),
      { id: 'pe-ev', type: 'onvifq-events', z: 'pe-tab', device: 'pe-dev', filter: `${MOTION}|${CPU}|${INPUT}`, x: 200, y: 100, wires: [[]] },
    ]);
    editor = await EditorBrowser.open(env.red.url);
    page = editor.page;
    await page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="pe-ev"] rect.red-ui-flow-node').first().waitFor({ state: 'visible', timeout: 30000 });
  });

  it('the palette: an "onvif" category, each node with its own icon, labels on one line like the core nodes', async () => {
    const category = await page.locator('#red-ui-palette-header-onvif').innerText();
    assert.equal(category.trim(), 'onvif');
    const inject = await page.locator('.red-ui-palette-node[data-palette-type="inject"]').boundingBox();
    const icons = new Set<string>();
    for (const type of ['onvifq-discover', 'onvifq-configure', 'onvifq-events']) {
      const node = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
      assert.equal((await node.locator('.red-ui-palette-label').innerText()).trim(), type.slice('onvifq-'.length), 'one line, the verb under the onvif category');
      const box = await node.boundingBox();
      assert.ok(box && inject && box.height <= inject.height + 0.5, `${type} is ${box?.height}px tall, inject ${inject?.height}px: its label wraps`);
      const image = await node.locator('.red-ui-palette-icon').evaluate((el) => getComputedStyle(el).backgroundImage);
      assert.match(image, new RegExp(`/icons/.*/${type}\\.svg`), `${type} icon`);
      const url = /url\("?([^")]+)"?\)/.exec(image)![1]!;
      const served = await page.evaluate(async (u) => (await fetch(u)).text(), url);
      assert.match(served, /^<svg /, `${type}: ${url} serves the drawing`);
      icons.add(image);
      assert.equal(await node.evaluate((el) => getComputedStyle(el).backgroundColor), rgb('#8FB9E3'), `${type}: family colour`);
    }
    assert.equal(icons.size, 3, 'one icon per node');
    await page.locator('#red-ui-palette-base-category-onvif').screenshot({ path: path.join(OUTPUT_DIR, 'palette-onvif-dark.png') });
  });

  it('the events node shows a short form of its filter, not a node as wide as the expression', async () => {
    const node = page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="pe-ev"]');
    assert.equal((await node.locator('.red-ui-flow-node-label').first().evaluate((el) => el.textContent ?? '')).trim(), 'Motion, ProcessorUsage +1');
    const box = await node.locator('rect.red-ui-flow-node').first().boundingBox();
    assert.ok(box && box.width <= 300, `the node is ${box?.width}px wide (the whole expression would make it about 700)`);
  });

  it('the topic picker ticks the picked topics, adds leaf topics without //. and groups with it, and removes on a second click', async () => {
    await page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="pe-ev"] rect.red-ui-flow-node').first().dblclick();
    await page.locator('.red-ui-tray #node-input-filter').waitFor();
    await page.locator('#node-input-filter').fill(CPU);
    await page.locator('#onvifq-events-pick').click();
    const row = (topic: string) => page.locator(`#onvifq-events-topic-list li[data-topic="${topic}"]`);
    await row(MOTION).waitFor({ timeout: 20000 });
    assert.equal(await row(CPU).evaluate((el) => el.classList.contains('onvifq-picked')), true, 'the picked topic is ticked');
    assert.equal(await row(MOTION).evaluate((el) => el.classList.contains('onvifq-picked')), false);
    assert.equal(await computed(page, `#onvifq-events-topic-list li[data-topic="${CPU}"]`, 'background-color'), rgb(DARK['--red-ui-list-item-background-selected']));

    await row(MOTION).click();
    assert.equal(await page.locator('#node-input-filter').inputValue(), `${CPU}|${MOTION}`, 'a leaf topic is added as it is');
    assert.equal(await row(MOTION).evaluate((el) => el.classList.contains('onvifq-picked')), true);
    await row('tns1:Device/HardwareFailure//.').click();
    assert.equal(await page.locator('#node-input-filter').inputValue(), `${CPU}|${MOTION}|tns1:Device/HardwareFailure//.`);
    assert.equal(await row('tns1:Device/HardwareFailure/FanFailure').evaluate((el) => el.classList.contains('onvifq-picked')), true, 'topics under a picked group are ticked');
    await row(CPU).click();
    assert.equal(await page.locator('#node-input-filter').inputValue(), `${MOTION}|tns1:Device/HardwareFailure//.`, 'a second click removes it');
    assert.doesNotMatch(await page.locator('#node-input-filter').inputValue(), /Motion\/\/\./);
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'events-picker-dark.png') });
  });

  it('the picker works with a config node added in the dialog and not deployed, using its settings as Test connection does', async () => {
    await page.locator('#node-input-btn-device-add').click();
    await page.locator('#node-config-input-address').waitFor();
    await page.locator('#node-config-input-name').fill('Not deployed yet');
    await page.locator('#node-config-input-address').fill(env.sim.xaddr);
    await page.locator('#node-config-input-username').fill(USERNAME);
    await page.locator('#node-config-input-password').fill(PASSWORD);
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-input-filter').waitFor({ state: 'visible' });
    const id = await page.locator('#node-input-device').inputValue();
    assert.notEqual(id, 'pe-dev');
    assert.equal((await env.red.request('GET', `/onvifq-events/topics/${id}`)).status, 404, 'the runtime does not know it');
    await page.locator('#onvifq-events-pick').click();
    // The note shows "reading…" while the topics load and is empty (so not visible) once they are there, which on a
    // fast run is before this line: wait for the picker itself, then for its topics.
    await page.locator('#onvifq-events-picker-note').waitFor({ state: 'attached' });
    await page.locator(`#onvifq-events-topic-list li[data-topic="${INPUT}"]`).waitFor({ timeout: 20000 });
    assert.equal(await page.locator('#onvifq-events-picker-note').innerText(), '');
    await page.locator('#node-dialog-cancel').click();
  });

  it('config dialog: TLS fields only for https, the select shows its longest option whole, colours from the dark theme', async () => {
    await page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="pe-ev"] rect.red-ui-flow-node').first().dblclick();
    await page.locator('#node-input-btn-device-edit').click();
    await page.locator('#node-config-input-address').waitFor();
    assert.equal(await page.locator('#node-config-input-tlsCa').isVisible(), false, 'http address: no TLS fields');
    assert.equal(await page.locator('#node-config-input-tlsInsecure').isVisible(), false);

    // Every option of the auth select fits: its text, in the select's font, plus the arrow, within the select.
    const fit = await page.locator('#node-config-input-auth').evaluate((el) => {
      const select = el as HTMLSelectElement;
      const ctx = document.createElement('canvas').getContext('2d')!;
      const style = getComputedStyle(select);
      ctx.font = `${style.fontSize} ${style.fontFamily}`;
      const widest = Math.max(...Array.from(select.options).map((o) => ctx.measureText(o.text).width));
      return { widest, width: select.clientWidth, padding: parseFloat(style.paddingLeft) + parseFloat(style.paddingRight) };
    });
    assert.ok(fit.widest + fit.padding + 20 <= fit.width, `the longest option needs ${Math.ceil(fit.widest + fit.padding + 20)}px, the select is ${fit.width}px`);

    // A Test connection that fails: the message in the theme's error colour.
    const address = page.locator('#node-config-input-address');
    const deployedAddress = await address.inputValue();
    await address.fill('127.0.0.2:9');
    await page.locator('#node-config-input-timeout').fill('2');
    await page.locator('#onvifq-device-test').click();
    await page.locator('#onvifq-device-test-result.onvifq-failed').waitFor({ timeout: 20000 });
    assert.equal(await computed(page, '#onvifq-device-test-result', 'color'), rgb(DARK['--red-ui-text-color-error']));
    await address.fill(deployedAddress);
    await page.locator('#onvifq-device-test').click();
    await page.locator('#onvifq-device-test-result.onvifq-ok').waitFor({ timeout: 20000 });
    assert.equal(await computed(page, '#onvifq-device-test-result', 'color'), rgb(DARK['--red-ui-text-color-success']));

    // Search by unicast to the simulator's discovery port: found rows take the theme's border and hover colours.
    await page.locator('#onvifq-device-search-targets').fill(`127.0.0.1:${simOptions.discovery.port}`);
    await page.locator('#onvifq-device-search').click();
    const found = page.locator('.onvifq-device-found').first();
    await found.waitFor({ timeout: 20000 });
    assert.equal(await found.evaluate((el) => getComputedStyle(el).borderBottomColor), rgb(DARK['--red-ui-secondary-border-color']));
    await found.hover();
    assert.equal(await found.evaluate((el) => getComputedStyle(el).backgroundColor), rgb(DARK['--red-ui-list-item-background-hover']));

    // An https address shows the TLS fields; the insecure warning is in the theme's warning colour.
    await address.fill('https://127.0.0.1:8443/onvif/device_service');
    await page.locator('#node-config-input-tlsCa').waitFor({ state: 'visible' });
    await page.locator('#node-config-input-tlsInsecure').check();
    assert.equal(await computed(page, '#onvifq-device-insecure-warning', 'color'), rgb(DARK['--red-ui-text-color-warning']));
    await page.locator('.red-ui-tray').last().screenshot({ path: path.join(OUTPUT_DIR, 'config-dialog-dark.png') });
    await address.fill('http://127.0.0.1:8080/onvif/device_service');
    await page.locator('#node-config-input-tlsCa').waitFor({ state: 'hidden' });
    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('#node-dialog-cancel').click();
    assert.deepEqual(editor!.pageErrors, [], 'no script errors in the editor');
  });
});
