/**
 * The editor in a real browser (Debian's headless Chromium through playwright-core): the onvifq nodes are in
 * the palette, and the config dialog's Test connection button reaches the simulator.
 */
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { useConfigureNodeInEditor } from './editor-browser';
import { OUTPUT_DIR } from './node-red-process';

const USERNAME = 'admin';
const PASSWORD = 'Ed1tor-pass-qq';

describe('e2e: the editor in Chromium', function () {
  this.timeout(90000);
  const env = useConfigureNodeInEditor(
    { username: USERNAME, password: PASSWORD },
    { tab: 'ed-tab', label: 'editor e2e', device: 'ed-dev', configure: 'ed-read' },
  );

  it('shows onvifq-configure in the onvif palette category with its one-line label', async function () {
    const entry = env.page.locator('.red-ui-palette-node[data-palette-type="onvifq-configure"]');
    await entry.waitFor({ state: 'visible', timeout: 30000 });
    assert.equal((await entry.locator('.red-ui-palette-label').innerText()).trim(), 'configure');
    const category = env.page.locator('.red-ui-palette-category', { has: entry });
    assert.equal((await category.locator('.red-ui-palette-header').innerText()).trim(), 'onvif');
  });

  it('tests the connection from the config dialog and shows the model', async function () {
    const node = env.page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="ed-read"]');
    await node.locator('rect.red-ui-flow-node').first().dblclick();
    await env.page.locator('.red-ui-tray #node-input-name').waitFor();
    await env.page.locator('#node-dialog-ok').click({ trial: true });
    // The operation select is filled by oneditprepare.
    assert.equal(await env.page.locator('#node-input-operation').inputValue(), 'GetDeviceInformation');
    await env.page.locator('#node-input-btn-device-edit').click();
    await env.page.locator('#node-config-dialog-ok').click({ trial: true });
    assert.equal(await env.page.locator('#node-config-input-address').inputValue(), env.sim.xaddr);
    assert.equal(await env.page.locator('#node-config-input-username').inputValue(), USERNAME);
    // Labels come from the locale file, not raw i18n keys.
    assert.equal((await env.page.locator('label[for="node-config-input-address"]').innerText()).trim(), 'Address');

    await env.page.locator('#onvifq-device-test').click();
    const result = env.page.locator('#onvifq-device-test-result');
    const model = env.sim.state.deviceInformation.Model;
    await env.page.waitForFunction(
      ([sel, text]) => (document.querySelector(sel)?.textContent ?? '').includes(text) || (document.querySelector(sel)?.textContent ?? '').startsWith('Failed'),
      ['#onvifq-device-test-result', model] as const,
      { timeout: 20000 },
    );
    const text = await result.innerText();
    await env.page.screenshot({ path: path.join(OUTPUT_DIR, 'editor-test-connection.png') });
    assert.match(text, new RegExp(`Model: ${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(text, /Profile Q state: Operational/);
    assert.match(text, /Auth in use: \S+/);
    assert.ok(!text.includes(PASSWORD));

    await env.page.locator('#node-config-dialog-cancel').click();
    await env.page.locator('#node-dialog-cancel').click();
    assert.deepEqual(env.editor.pageErrors, [], 'no script errors in the editor');
  });
});
