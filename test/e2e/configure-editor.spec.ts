/**
 * The onvifq-configure edit dialog in a real browser (Debian's headless Chromium through playwright-core):
 * the grouped operation picker, the parameter form kept in step with the JSON editor, the example button,
 * and the password going to the node's credentials rather than the flow.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { OnvifDevice } from '../../lib/device';
import type { SimulatedRequest } from '../../lib/simulator';
import { CATALOGUE } from '../../nodes/onvifq-configure/operations';
import { useConfigureNodeInEditor } from './editor-browser';
import { OUTPUT_DIR, pressInject } from './node-red-process';

const USERNAME = 'admin';
const PASSWORD = 'Ed1tor-cfg-pass';
const USER_PASSWORD = 'V1ewer-secret-pw';
const TYPED_PASSWORD = 'Typ3d-in-json-pw';
const IMPORTED_PASSWORD = 'Imp0rted-flow-pw';

describe('e2e: the onvifq-configure editor in Chromium', function () {
  this.timeout(90000);
  const env = useConfigureNodeInEditor(
    { username: USERNAME, password: PASSWORD, discovery: false },
    { tab: 'ce-tab', label: 'configure editor e2e', device: 'ce-dev', configure: 'ce-cfg' },
  );

  const params = (): Promise<unknown> => env.page.evaluate(() => JSON.parse(($('#node-input-params') as any).typedInput('value')));
  const setParams = (value: unknown): Promise<void> =>
    env.page.evaluate((v) => {
      ($('#node-input-params') as any).typedInput('value', v);
      $('#node-input-params').trigger('change');
    }, JSON.stringify(value));

  /** The deployed node once the runtime has it in the shape `ready` expects (the editor's deploy is asynchronous). */
  async function deployedNode(id: string, ready: (n: Record<string, any>) => boolean): Promise<Record<string, any>> {
    const until = Date.now() + 15000;
    for (;;) {
      const node = (await env.red.request('GET', '/flows')).json<Array<Record<string, any>>>().find((n) => n.id === id);
      if (node && ready(node)) return node;
      if (Date.now() > until) throw new Error(`node ${id} was not deployed as expected: ${JSON.stringify(node)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  /** Neither the admin API nor any file in the user directory shows the password. */
  async function assertNotStored(secret: string): Promise<void> {
    assert.ok(!(await env.red.request('GET', '/flows')).body.includes(secret), 'password in GET /flows');
    for (const f of fs.readdirSync(env.red.userDir).filter((x) => x.endsWith('.json'))) {
      assert.ok(!fs.readFileSync(path.join(env.red.userDir, f), 'utf8').includes(secret), `password readable in ${f}`);
    }
  }

  async function openNode(): Promise<void> {
    const node = env.page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="ce-cfg"]');
    await node.locator('rect.red-ui-flow-node').first().waitFor({ state: 'visible', timeout: 30000 });
    await node.locator('rect.red-ui-flow-node').first().dblclick();
    await env.page.locator('.red-ui-tray #node-input-name').waitFor();
    // The picker is filled from the runtime's catalogue.
    await env.page.waitForFunction(() => document.querySelectorAll('#node-input-operation optgroup').length > 1, undefined, { timeout: 10000 });
  }

  it('groups the operations: Network, System, Users, Scopes, Security, Maintenance, Tasks, Other', async function () {
    await openNode();
    const groups = await env.page.locator('#node-input-operation optgroup').evaluateAll((els) =>
      els.map((g) => ({ label: g.getAttribute('label'), options: Array.from(g.querySelectorAll('option')).map((o) => (o as HTMLOptionElement).value) })),
    );
    assert.deepEqual(groups.map((g) => g.label), ['Network', 'System', 'Users', 'Scopes and discovery', 'Security', 'Maintenance', 'Tasks', 'Other (any operation)']);
    for (const e of CATALOGUE) {
      const label = { Scopes: 'Scopes and discovery' }[e.group as 'Scopes'] ?? e.group;
      assert.ok(groups.find((g) => g.label === label)?.options.includes(e.name), `${e.name} under ${label}`);
    }
    assert.deepEqual(groups[7]!.options, ['other', 'msg']);
    assert.equal(await env.page.locator('#node-input-operation').inputValue(), 'GetDeviceInformation');
    assert.match(await env.page.locator('#onvifq-configure-summary').innerText(), /Manufacturer, model/);
  });

  it('the form writes into the JSON parameters and reads them back', async function () {
    await env.page.locator('#node-input-operation').selectOption('SetHostname');
    const hostField = env.page.locator('#onvifq-configure-form input[type="text"]').first();
    await hostField.fill('lobby-cam');
    await hostField.dispatchEvent('change');
    assert.deepEqual(await params(), { Name: 'lobby-cam' });
    await setParams({ Name: 'from-json' });
    assert.equal(await hostField.inputValue(), 'from-json');

    await env.page.locator('#node-input-operation').selectOption('SetNTP');
    assert.deepEqual(await params(), {}, 'another operation starts with empty parameters');
    await env.page.locator('#onvifq-configure-example').click();
    assert.deepEqual(await params(), { FromDHCP: false, NTPManual: [{ Type: 'DNS', DNSname: 'pool.ntp.org' }] });
    const servers = env.page.locator('#onvifq-configure-form input[type="text"]').first();
    assert.equal(await servers.inputValue(), 'pool.ntp.org');
    await servers.fill('192.0.2.123, ntp.example.org');
    await servers.dispatchEvent('change');
    assert.deepEqual(await params(), {
      FromDHCP: false,
      NTPManual: [{ Type: 'IPv4', IPv4Address: '192.0.2.123' }, { Type: 'DNS', DNSname: 'ntp.example.org' }],
    });
  });

  it('keeps a user password in the node credentials, refuses one in the JSON, and deploys without it in the flow', async function () {
    await env.page.locator('#node-input-operation').selectOption('CreateUsers');
    await env.page.locator('#onvifq-configure-password-row').waitFor({ state: 'visible' });
    await setParams({ User: [{ Username: 'viewer', Password: 'typed-here', UserLevel: 'User' }] });
    assert.match(await env.page.locator('#onvifq-configure-params-warning').innerText(), /Passwords must not be stored in the flow/);
    await env.page.locator('#onvifq-configure-example').click();
    assert.deepEqual(await params(), { User: [{ Username: 'viewer', UserLevel: 'User' }] }, 'the example leaves the password out');
    assert.equal(await env.page.locator('#onvifq-configure-params-warning').isVisible(), false);
    await env.page.locator('#node-input-password').fill(USER_PASSWORD);
    await env.page.screenshot({ path: path.join(OUTPUT_DIR, 'configure-editor-create-users.png') });
    await env.page.locator('#node-dialog-ok').click();
    await env.page.locator('#red-ui-header-button-deploy').click();

    const deployed = await deployedNode('ce-cfg', (n) => n.operation === 'CreateUsers');
    assert.deepEqual(JSON.parse(deployed.params), { User: [{ Username: 'viewer', UserLevel: 'User' }] });
    const creds = await env.red.request('GET', '/credentials/onvifq-configure/ce-cfg');
    assert.deepEqual(creds.json(), { has_password: true });
    await assertNotStored(USER_PASSWORD);
    assert.deepEqual(env.editor.pageErrors, [], 'no script errors in the editor');
  });

  it('a password left in the JSON parameters moves to the credentials on Done ("deploy anyway" cannot store it), and the node uses it', async function () {
    await openNode();
    await env.page.locator('#node-input-operation').selectOption('SetHostname');
    await env.page.locator('#node-input-operation').selectOption('CreateUsers');
    await setParams({ User: [{ Username: 'typist', Password: TYPED_PASSWORD, UserLevel: 'User' }] });
    await env.page.locator('#node-dialog-ok').click();
    await env.page.locator('.red-ui-notification', { hasText: "moved to the node's Password field" }).last().waitFor();
    await env.page.locator('#red-ui-header-button-deploy').click();
    const deployed = await deployedNode('ce-cfg', (n) => JSON.parse(n.params).User?.[0]?.Username === 'typist');
    assert.deepEqual(JSON.parse(deployed.params), { User: [{ Username: 'typist', UserLevel: 'User' }] });
    await assertNotStored(TYPED_PASSWORD);

    // Run the node (an inject added through the admin API; the stored credential is kept) and sign in as the new user.
    const current = (await env.red.request('GET', '/flows', undefined, { 'Node-RED-API-Version': 'v2' })).json<{ rev: string; flows: any[] }>();
    const inject = {
      id: 'ce-inj', type: 'inject', z: 'ce-tab', name: 'run', props: [{ p: 'payload' }], repeat: '', crontab: '', once: false, onceDelay: 0.1,
      topic: '', payload: '', payloadType: 'date', x: 100, y: 120, wires: [['ce-cfg']],
    };
    const posted = await env.red.request('POST', '/flows', { rev: current.rev, flows: [...current.flows, inject] }, { 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' });
    assert.equal(posted.status, 200, posted.body);
    const created = new Promise<SimulatedRequest>((resolve) => {
      const onRequest = (r: SimulatedRequest) => {
        if (r.operation !== 'CreateUsers') return;
        env.sim.off('request', onRequest);
        resolve(r);
      };
      env.sim.on('request', onRequest);
    });
    await pressInject(env.red.port, 'ce-inj');
    assert.equal((await created).status, 200, 'CreateUsers accepted');
    const typist = new OnvifDevice({ address: env.sim.xaddr, username: 'typist', password: TYPED_PASSWORD });
    try {
      const info = await typist.call('GetDeviceInformation');
      assert.equal(info.Model, 'SimQ-1', 'the typed password is the one the node sent');
    } finally {
      await typist.close();
    }
  });

  it('a flow imported with a password in the parameters is cleaned in the editor before the next deploy', async function () {
    // The test before deployed through the admin API: load the editor afresh so its Deploy has nothing to merge.
    await env.page.reload();
    await env.page.locator('#red-ui-workspace-chart g.red-ui-flow-node[id="ce-cfg"] rect.red-ui-flow-node').first().waitFor({ state: 'visible', timeout: 30000 });
    await env.page.evaluate((secret) => {
      (window as any).RED.view.importNodes(
        [{ id: 'ce-imp', type: 'onvifq-configure', z: 'ce-tab', device: 'ce-dev', operation: 'commission', params: JSON.stringify({ username: 'admin', password: secret }), x: 300, y: 220, wires: [[]] }],
        { generateIds: false },
      );
    }, IMPORTED_PASSWORD);
    await env.page.locator('.red-ui-notification', { hasText: "moved to the node's Password field" }).last().waitFor();
    await env.page.locator('#red-ui-header-button-deploy').click();
    const deployed = await deployedNode('ce-imp', () => true);
    assert.deepEqual(JSON.parse(deployed.params), { username: 'admin' });
    assert.deepEqual((await env.red.request('GET', '/credentials/onvifq-configure/ce-imp')).json(), { has_password: true });
    await assertNotStored(IMPORTED_PASSWORD);
    assert.deepEqual(env.editor.pageErrors, [], 'no script errors in the editor');
  });
});
