/**
 * The demo in the editor, as a new user meets it (issue 16, item 15): `npm start`, then Chromium on the editor.
 * The debug sidebar is the open tab and motion does not flood it; the editor makes no request beyond 127.0.0.1
 * (no welcome tour, no palette catalogue, also when Manage palette is opened); every example imports into the
 * running demo onto its "Simulated device" without rewiring; the tab texts name nodes that exist.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { freeTcpPort } from '../support/ports';
import { startDemo, type DemoRun, type FlowNode } from './demo-process';
import { EditorBrowser, skipWithoutChromium } from './editor-browser';
import { CommsClient, OUTPUT_DIR, PACKAGE_NAME, REPO_ROOT, adminRequest, assertBuilt } from './node-red-process';

const EXAMPLES = fs.readdirSync(path.join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.json')).sort();

/** Names the tab text refers to as nodes: "the *commission* node", "the **Simulated device** config node", "*Search* inject node". */
function namedNodes(info: string): string[] {
  return [...info.matchAll(/\*{1,2}([^*\n]+)\*{1,2} (?:config |inject |debug |function |events |discover |split |change )?node\b/g)].map((m) => m[1]!);
}

function checkTabTexts(flow: FlowNode[], where: string): void {
  const names = new Set(flow.map((n) => n.name).filter(Boolean));
  for (const tab of flow.filter((n) => n.type === 'tab' && typeof n.info === 'string')) {
    for (const name of namedNodes(tab.info as string)) {
      assert.ok(names.has(name), `${where}, tab "${tab.label}": its text names a node "${name}" that the flow does not have`);
    }
  }
}

describe('e2e: the demo in the editor (npm start, Chromium)', function () {
  this.timeout(120_000);
  before(function () {
    skipWithoutChromium(this);
  });
  let run: DemoRun | undefined;
  let editor: EditorBrowser | undefined;
  let comms: CommsClient | undefined;
  let page: Page;
  let demoDir = '';
  const requests: string[] = [];

  before(async function () {
    assertBuilt();
    demoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-demo-editor-'));
    run = await startDemo(demoDir, await freeTcpPort());
    comms = new CommsClient(`ws://127.0.0.1:${run.port}/comms`);
    await comms.open();
    editor = await EditorBrowser.open(`http://127.0.0.1:${run.port}`);
    page = editor.page;
    page.on('request', (r) => requests.push(r.url()));
    await page.locator('#red-ui-workspace-chart g.red-ui-flow-node').first().waitFor({ state: 'visible', timeout: 30_000 });
  });

  after(async function () {
    comms?.close();
    await editor?.close();
    if (run) await run.interrupt().catch(() => run!.child.kill('SIGKILL'));
    if (demoDir) fs.rmSync(demoDir, { recursive: true, force: true });
  });

  it('opens with the debug sidebar, and motion shows under its debug node instead of flooding the sidebar', async () => {
    assert.equal(await page.locator('#red-ui-tab-debug').evaluate((el) => el.classList.contains('active')), true, 'the debug tab is the open one');
    const flows = (await adminRequest(run!.port, 'GET', '/flows')).json<FlowNode[]>();
    const motionTab = flows.find((n) => n.type === 'tab' && n.label === 'ONVIF motion (demo)')!;
    const motionDebug = flows.find((n) => n.z === motionTab.id && n.type === 'debug')!;
    const events = flows.find((n) => n.z === motionTab.id && n.type === 'onvifq-events')!;
    assert.notEqual(events.statusOutput, true, 'no status output in the demo');
    // Two motion texts (the simulator raises motion every 8 s): each shows as the debug node's status, none in the sidebar.
    const from = comms!.events.length;
    const statuses = () => comms!.events.slice(from).filter((e) => e.topic === `status/${motionDebug.id}` && e.data?.text);
    await comms!.waitFor('two motion texts under the debug node', () => statuses().length >= 2, 40_000);
    const toSidebar = comms!.events.slice(from).filter((e) => e.topic === 'debug' && e.data?.id === motionDebug.id);
    assert.deepEqual(toSidebar, [], 'motion stays out of the debug sidebar');
    assert.equal(await page.locator('.red-ui-debug-msg').count(), 0, 'the debug sidebar is empty until the user clicks something');
  });

  it('makes no request beyond 127.0.0.1: no welcome tour, no palette catalogue (also with Manage palette open)', async () => {
    const settings = (await adminRequest(run!.port, 'GET', '/settings')).json<{ editorTheme?: { tours?: unknown; palette?: { catalogues?: unknown } } }>();
    assert.equal(settings.editorTheme?.tours, false);
    assert.deepEqual(settings.editorTheme?.palette?.catalogues, []);
    assert.equal(await page.locator('.red-ui-tourGuide-popover').count(), 0, 'no tour popover');
    await page.evaluate(() => (window as any).RED.actions.invoke('core:manage-palette'));
    await page.locator('#red-ui-palette-editor').waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator('.red-ui-tabs li a[href="#install"]').click();
    // The Install tab is where the editor would fetch the catalogue: let it settle, then look at what it asked for.
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'demo-manage-palette.png') });
    const outside = requests.filter((u) => !/^(http:\/\/127\.0\.0\.1:\d+\/|data:|blob:)/.test(u));
    assert.deepEqual(outside, [], 'requests beyond the machine');
    await page.keyboard.press('Escape');
    await page.evaluate(() => (window as any).RED.tray.close());
  });

  for (const file of EXAMPLES) {
    it(`importing ${file} (Import > Examples, "Import copy") lands on the demo's "Simulated device" without rewiring`, async () => {
      const name = file.replace(/\.json$/, '');
      const served = await adminRequest(run!.port, 'GET', `/library/examples/flows/${PACKAGE_NAME}/${name}`);
      assert.equal(served.status, 200, served.body);
      const result = await page.evaluate((flow) => {
        const RED = (window as any).RED;
        const devicesBefore: string[] = [];
        RED.nodes.eachConfig((n: any) => { if (n.type === 'onvifq-device') devicesBefore.push(n.id); });
        // What the editor does after "Import copy": new ids, an existing config node with the same id is used.
        const imported = RED.view.importNodes(flow, { generateIds: true, addFlow: true });
        const devicesAfter: string[] = [];
        RED.nodes.eachConfig((n: any) => { if (n.type === 'onvifq-device') devicesAfter.push(n.id); });
        const onvif = (imported?.nodes ?? []).filter((n: any) => n.type === 'onvifq-configure' || n.type === 'onvifq-events');
        return {
          devicesBefore, devicesAfter,
          uses: onvif.map((n: any) => RED.nodes.node(n.device)?.name ?? `(missing ${n.device})`),
          invalid: onvif.filter((n: any) => !n.valid).map((n: any) => n.type),
        };
      }, served.json());
      assert.deepEqual(result.devicesAfter, result.devicesBefore, 'no second device config node');
      assert.ok(result.uses.every((u: string) => u === 'Simulated device'), `the imported nodes use ${JSON.stringify(result.uses)}`);
      assert.deepEqual(result.invalid, [], 'every imported node is valid (nothing to rewire)');
    });
  }

  it('tab texts name nodes that exist, in the demo and in every example', async () => {
    checkTabTexts((await adminRequest(run!.port, 'GET', '/flows')).json<FlowNode[]>(), 'the demo');
    for (const file of EXAMPLES) checkTabTexts(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', file), 'utf8')), file);
    assert.deepEqual(editor!.pageErrors, [], 'no script errors in the editor');
  });
});
