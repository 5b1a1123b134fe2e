/**
 * Issue 14 in a real browser: the onvifq-device config dialog's "Secure this device…" turns on HTTPS on the
 * simulator, fills in the https address and the pinned fingerprint, and after Done and deploy the flow reads the
 * device over verified HTTPS.
 */
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { EditorBrowser, NO_WELCOME_TOUR, skipWithoutChromium } from './editor-browser';
import { OUTPUT_DIR, pressInject, simulatorDeviceNode, useSimulatorAndNodeRed } from './node-red-process';
import { waitFor } from '../support/wait';

const CREDENTIALS = { username: 'admin', password: 'Secure-ed1tor-pw' };

describe('e2e: "Secure this device…" in the device config dialog', function () {
  this.timeout(180_000);
  before(function () {
    skipWithoutChromium(this);
  });
  let editor: EditorBrowser | undefined;
  after(() => editor?.close());
  const env = useSimulatorAndNodeRed({ ...CREDENTIALS, discovery: false, processorUsageIntervalMs: 0, security: { keyGenerationDelayMs: 50 } }, NO_WELCOME_TOUR);
  before(async () => {
    await env.red.deploy([
      { id: 'sec-tab', type: 'tab', label: 'secure e2e' },
      simulatorDeviceNode('sec-dev', 'Gate camera', env.sim, CREDENTIALS),
      { id: 'sec-inject', type: 'inject', z: 'sec-tab', name: 'read', props: [], repeat: '', once: false, x: 120, y: 120, wires: [['sec-read']] },
      { id: 'sec-read', type: 'onvifq-configure', z: 'sec-tab', device: 'sec-dev', operation: 'GetDeviceInformation', x: 320, y: 120, wires: [[]] },
    ]);
    editor = await EditorBrowser.open(env.red.url);
  });

  it('fills in the https address and fingerprint; after deploy the flow reads the device over verified HTTPS', async () => {
    const page = editor!.page;
    const node = page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="sec-read"]');
    await node.locator('rect.red-ui-flow-node').first().dblclick();
    await page.locator('.red-ui-tray #node-input-name').waitFor();
    await page.locator('#node-input-btn-device-edit').click();
    await page.locator('#node-config-dialog-ok').click({ trial: true });
    assert.equal((await page.locator('#onvifq-device-secure-open').innerText()).trim(), 'Secure this device…');
    await page.locator('#onvifq-device-secure-open').click();
    await page.locator('#onvifq-device-secure').click();
    await page.waitForFunction(
      (sel) => /HTTPS verified|Failed/.test(document.querySelector(sel)?.textContent ?? ''),
      '#onvifq-device-secure-result',
      { timeout: 120_000 },
    );
    const text = await page.locator('#onvifq-device-secure-result').innerText();
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'editor-secure-device.png') });
    assert.match(text, /HTTPS verified/, text);
    const address = await page.locator('#node-config-input-address').inputValue();
    assert.equal(address, env.sim.httpsXaddr);
    const fingerprint = await page.locator('#node-config-input-tlsFingerprint').inputValue();
    assert.match(fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.ok(!text.includes(CREDENTIALS.password));

    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-dialog-ok').click();
    await page.locator('#red-ui-header-button-deploy').click();
    const httpsPort = env.sim.httpsPort;
    const overHttps = () => env.sim.requests.filter((r) => r.operation === 'GetDeviceInformation' && String(r.headers.host).endsWith(`:${httpsPort}`) && r.status === 200);
    const before = overHttps().length;
    // The deploy answers before the new flow runs (a press may still reach the old one, over HTTP): press until
    // a read arrives over HTTPS.
    const deadline = Date.now() + 60_000;
    while (overHttps().length <= before) {
      assert.ok(Date.now() < deadline, 'the deployed flow read the device over HTTPS');
      await pressInject(env.red.port, 'sec-inject');
      await waitFor('a read over HTTPS', () => overHttps().length > before, 3000).catch(() => undefined);
    }
    assert.deepEqual(editor!.pageErrors, [], 'no script errors in the editor');
  });
});
