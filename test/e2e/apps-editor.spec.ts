/**
 * The onvifq-apps node in a real Node-RED (built package) and Debian's headless Chromium: an install from a file
 * with its status going uploading %, installing…, Active (read over /comms as the editor gets it), the watch node's
 * state messages in the debug sidebar, and the editor dialog: the action picker and the package source rows.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { makeAppPackage } from '../../lib/simulator';
import { EditorBrowser, NO_WELCOME_TOUR, skipWithoutChromium } from './editor-browser';
import { OUTPUT_DIR, pressInject, simulatorDeviceNode, useSimulatorAndNodeRed } from './node-red-process';

const USERNAME = 'admin';
const PASSWORD = 'Apps-e2e-pass9';

describe('e2e: onvifq-apps in Node-RED and Chromium', function () {
  this.timeout(180000);
  before(function () {
    skipWithoutChromium(this);
  });
  let editor: EditorBrowser | undefined;
  after(() => editor?.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-apps-e2e-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pkg = path.join(dir, 'counter.app');
  // Large enough for several progress statuses on the way.
  fs.writeFileSync(pkg, makeAppPackage({ id: 'Counter', name: 'People counter', version: '1.0.0', payloadBytes: 8_000_000 }));
  const env = useSimulatorAndNodeRed({ username: USERNAME, password: PASSWORD, discovery: false, apps: { installDelayMs: 300 } }, NO_WELCOME_TOUR);
  let page: Page;

  it('an install from a file: status uploading %, installing…, Active; the watch node sends the state changes', async () => {
    const comms = await env.red.comms();
    await env.red.deploy([
      { id: 'ae-tab', type: 'tab', label: 'apps e2e' },
      simulatorDeviceNode('ae-dev', 'Lobby', env.sim, { username: USERNAME, password: PASSWORD }),
      { id: 'ae-inject', type: 'inject', z: 'ae-tab', props: [{ p: 'payload' }], payload: '', payloadType: 'date', repeat: '', once: false, x: 120, y: 80, wires: [['ae-install']] },
      { id: 'ae-install', type: 'onvifq-apps', z: 'ae-tab', device: 'ae-dev', action: 'install', packageSource: 'file', source: pkg, x: 320, y: 80, wires: [['ae-result']] },
      { id: 'ae-result', type: 'debug', z: 'ae-tab', active: true, tosidebar: true, complete: 'true', targetType: 'full', x: 520, y: 80, wires: [] },
      { id: 'ae-watch', type: 'onvifq-apps', z: 'ae-tab', device: 'ae-dev', action: 'list', watch: true, x: 320, y: 160, wires: [['ae-states']] },
      { id: 'ae-states', type: 'debug', z: 'ae-tab', active: true, tosidebar: true, complete: 'true', targetType: 'full', x: 520, y: 160, wires: [] },
    ]);
    await comms.waitFor('the watch has started', (e) => e.topic === 'status/ae-watch' && e.data?.text === 'watching apps', 30000);
    await pressInject(env.red.port, 'ae-inject');
    await comms.waitFor('the upload progress', (e) => e.topic === 'status/ae-install' && /^uploading \d+ %$/.test(String(e.data?.text)), 60000);
    await comms.waitFor('installing…', (e) => e.topic === 'status/ae-install' && e.data?.text === 'installing…', 60000);
    const active = await comms.waitFor('Active', (e) => e.topic === 'status/ae-install' && e.data?.text === 'Active', 60000);
    assert.equal(active.data.fill, 'green');
    const result = JSON.parse((await comms.waitFor('the result', (e) => e.topic === 'debug' && e.data?.id === 'ae-result', 30000)).data.msg);
    assert.deepEqual([result.payload.appId, result.payload.state, result.payload.version], ['Counter', 'Active', '1.0.0']);
    const change = await comms.waitFor('the Active state message', (e) => e.topic === 'debug' && e.data?.id === 'ae-states' && JSON.parse(e.data.msg).payload.newState === 'Active', 30000);
    const msg = JSON.parse(change.data.msg);
    assert.equal(msg.topic, 'onvifq/app-state');
    assert.deepEqual([msg.payload.appId, msg.payload.name, msg.payload.oldState], ['Counter', 'People counter', 'Installing']);
    assert.ok(!JSON.stringify(comms.events).includes(PASSWORD), 'the password never reaches the editor');
  });

  it('the dialog: every action in the picker, the package path only for install/update from a file', async () => {
    editor = await EditorBrowser.open(env.red.url);
    page = editor.page;
    const node = page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="ae-install"] rect.red-ui-flow-node').first();
    await node.waitFor({ state: 'visible', timeout: 30000 });
    assert.equal((await page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="ae-install"] .red-ui-flow-node-label').first().textContent())?.trim(), 'install');
    await node.dblclick();
    await page.locator('.red-ui-tray #node-input-action').waitFor();
    const options = await page.locator('#node-input-action option').evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value));
    assert.deepEqual(options, ['msg', 'list', 'info', 'install', 'update', 'uninstall', 'activate', 'deactivate', 'installLicense', 'licenseReport', 'backupConfig', 'restoreConfig', 'deviceId']);
    assert.equal(await page.locator('#node-input-action').inputValue(), 'install');
    assert.equal(await page.locator('#node-input-source').inputValue(), pkg);
    assert.ok(await page.locator('.onvifq-apps-row-source').isVisible(), 'the path row shows for a file source');
    assert.ok(!(await page.locator('.onvifq-apps-row-appId').isVisible()), 'install needs no AppID');
    await page.locator('#node-input-action').selectOption('licenseReport');
    assert.ok(!(await page.locator('.onvifq-apps-row-source').isVisible()), 'no package for a license report');
    assert.ok(await page.locator('.onvifq-apps-row-warnDays').isVisible());
    await page.locator('#node-input-action').selectOption('uninstall');
    assert.ok(await page.locator('.onvifq-apps-row-appId').isVisible());
    await page.locator('.red-ui-tray').screenshot({ path: path.join(OUTPUT_DIR, 'apps-dialog.png') });
    await page.locator('#node-dialog-cancel').click();
  });
});
