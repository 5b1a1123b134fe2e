/**
 * End to end on the built package: a real Node-RED child process loads dist/ through nodesDir, a flow
 * deployed through the admin API reads a simulated device, and the debug message arrives on /comms.
 * Run twice: the devDependency Node-RED (4.x, on the Node.js running the tests) and Node-RED 5 on Node 22.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { CATALOGUE } from '../../nodes/onvifq-configure/operations';
import { NODE_RED_DEV, PACKAGE_NAME, REPO_ROOT, describeOnEachNodeRed, pressInject, simulatorDeviceNode, useSimulatorAndNodeRed } from './node-red-process';

const USERNAME = 'admin';
const PASSWORD = 'E2e-Pa55word-zz';

describeOnEachNodeRed('e2e: the built package in Node-RED', (runtime) => {
  const env = useSimulatorAndNodeRed({ username: USERNAME, password: PASSWORD }, [], runtime);

  it('runs on the expected Node.js and Node-RED', async function () {
    const settings = (await env.red.request('GET', '/settings')).json<{ version: string }>();
    const node = env.red.output.match(/Node\.js\s+version:\s*(v\d+)/)?.[1];
    if (runtime === NODE_RED_DEV) assert.equal(node, process.version.split('.')[0]);
    else {
      assert.match(settings.version, /^5\./, `Node-RED ${settings.version}`);
      assert.equal(node, 'v22');
    }
  });

  it('lists the package with its node types', async function () {
    const res = await env.red.request('GET', `/nodes/${PACKAGE_NAME}`);
    assert.equal(res.status, 200, `GET /nodes/${PACKAGE_NAME}: ${res.body}`);
    const module = res.json<{ nodes: Array<{ types: string[]; err?: string; enabled: boolean }> }>();
    const errors = module.nodes.filter((n) => n.err).map((n) => n.err);
    assert.deepEqual(errors, [], `node sets failed to load: ${errors.join('; ')}`);
    const types = module.nodes.flatMap((n) => n.types);
    assert.ok(types.length > 0, 'no node types loaded: is dist/ built?');
    assert.ok(types.includes('onvifq-device'), `types: ${types}`);
    assert.ok(types.includes('onvifq-configure'), `types: ${types}`);
    // Node-RED serves icons only from an icons/ folder beside a node file; they must be the drawings in icons/
    // (one per node, including those of nodes still to come: firmware, apps).
    const icons = await env.red.request('GET', '/icons');
    const drawn = fs.readdirSync(path.join(REPO_ROOT, 'icons')).sort();
    assert.deepEqual(icons.json()[PACKAGE_NAME].slice().sort(), drawn);
    for (const name of drawn) {
      const icon = await env.red.request('GET', `/icons/${PACKAGE_NAME}/${name}`);
      assert.equal(icon.body, fs.readFileSync(path.join(REPO_ROOT, 'icons', name), 'utf8'), name);
    }
    const locale = await env.red.request('GET', `/locales/${PACKAGE_NAME}/onvifq-configure?lng=en-US`);
    assert.equal(locale.status, 200);
    assert.equal(locale.json()['onvifq-configure'].label.operation, 'Operation');
    // The editor's help comes with the node definitions; the configure node's operations are written in at build time.
    const editor = await env.red.request('GET', '/nodes', undefined, { Accept: 'text/html' });
    const help = editor.body.slice(editor.body.indexOf('data-help-name="onvifq-configure"'));
    assert.ok(help.length > 0, 'the configure help is served');
    for (const e of CATALOGUE) assert.ok(help.includes(`<dt>${e.name}</dt>`), `the served help lists ${e.name}`);
  });

  it('offers the example flows under Import > Examples, using only installed node types', async function () {
    const listing = await env.red.request('GET', `/library/examples/flows/${PACKAGE_NAME}/`);
    assert.equal(listing.status, 200, listing.body);
    const names = listing.json<unknown[]>().filter((e): e is { fn: string } => typeof e === 'object' && e !== null && 'fn' in e).map((e) => e.fn);
    const files = fs.readdirSync(path.join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.json'));
    assert.ok(files.length > 0);
    assert.deepEqual(names.sort(), files.map((f) => f.replace(/\.json$/, '')).sort());
    const known = new Set((await env.red.request('GET', '/nodes')).json<Array<{ types: string[] }>>().flatMap((s) => s.types));
    for (const name of names) {
      const flow = (await env.red.request('GET', `/library/examples/flows/${PACKAGE_NAME}/${encodeURIComponent(name)}`)).json<Array<{ type: string }>>();
      const unknown = flow.map((n) => n.type).filter((t) => t !== 'tab' && t !== 'group' && !known.has(t));
      assert.deepEqual(unknown, [], `${name} uses unknown node types`);
      assert.ok(flow.some((n) => n.type.startsWith('onvifq-') && n.type !== 'onvifq-device'), `${name} shows an onvifq node`);
    }
  });

  it('reads device information from the simulator: inject → onvifq-configure → debug', async function () {
    const comms = await env.red.comms();
    const flow = [
      { id: 'e2e-tab', type: 'tab', label: 'e2e' },
      simulatorDeviceNode('e2e-dev', 'Sim', env.sim, { username: USERNAME, password: PASSWORD }),
      { id: 'e2e-inject', type: 'inject', z: 'e2e-tab', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], topic: 'who-are-you',
        payload: '', payloadType: 'date', repeat: '', once: false, wires: [['e2e-read']] },
      { id: 'e2e-read', type: 'onvifq-configure', z: 'e2e-tab', device: 'e2e-dev', operation: 'GetDeviceInformation', wires: [['e2e-debug']] },
      { id: 'e2e-debug', type: 'debug', z: 'e2e-tab', active: true, tosidebar: true, complete: 'true', targetType: 'full', wires: [] },
    ];
    await env.red.deploy(flow);
    // The configure node connects at deploy and shows the Profile Q state in green.
    const status = await comms.waitFor('a green status on the configure node', (e) => e.topic === 'status/e2e-read' && e.data?.fill === 'green');
    assert.equal(status.data.text, 'Operational');

    await pressInject(env.red.port, 'e2e-inject');
    const debug = await comms.waitFor('the debug message', (e) => e.topic === 'debug' && e.data?.id === 'e2e-debug');
    const msg = JSON.parse(debug.data.msg);
    assert.equal(msg.topic, 'who-are-you', 'msg.topic passes through');
    assert.equal(typeof msg.payload, 'object');
    assert.equal(msg.payload.Model, env.sim.state.deviceInformation.Model);
    assert.equal(msg.payload.Manufacturer, env.sim.state.deviceInformation.Manufacturer);
    assert.equal(msg.payload.FirmwareVersion, env.sim.state.deviceInformation.FirmwareVersion);
    assert.deepEqual(msg.device, { name: 'Sim', xaddr: env.sim.xaddr, endpoint: env.sim.endpoint });
  });

  it('keeps the credentials out of the flow file and the admin API', async function () {
    const flows = await env.red.request('GET', '/flows');
    assert.equal(flows.status, 200);
    assert.ok(!flows.body.includes(PASSWORD), 'password in GET /flows');
    const dev = flows.json<Array<Record<string, unknown>>>().find((n) => n.id === 'e2e-dev');
    assert.ok(dev, 'config node deployed');
    assert.equal(dev.credentials, undefined);
    const onDisk = fs.readdirSync(env.red.userDir).filter((f) => f.endsWith('.json'));
    assert.ok(onDisk.some((f) => /^flows.*_cred\.json$/.test(f)), `credential file written (${onDisk})`);
    for (const f of onDisk) {
      const text = fs.readFileSync(path.join(env.red.userDir, f), 'utf8');
      assert.ok(!text.includes(PASSWORD), `password readable in ${f}`);
    }
    const creds = await env.red.request('GET', '/credentials/onvifq-device/e2e-dev');
    assert.equal(creds.status, 200);
    assert.deepEqual(creds.json(), { username: USERNAME, has_password: true });
  });
});
