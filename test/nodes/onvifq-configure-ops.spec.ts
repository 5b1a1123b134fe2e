/**
 * onvifq-configure: the catalogue of Device operations (groups, examples, help), setting operations from the
 * node's parameters with msg.payload on top, any other operation by name, msg.address, and bad input.
 * Against the real simulator, in the Node-RED test helper.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import type { SinonSpy } from 'sinon';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { SimulatedDevice } from '../../lib/simulator';
import { encodeElement, findOperation } from '../../lib/schema';
import deviceNode from '../../nodes/onvifq-device/onvifq-device';
import configureNode from '../../nodes/onvifq-configure/onvifq-configure';
import { CATALOGUE, GROUPS } from '../../nodes/onvifq-configure/operations';
import { HELP_TEMPLATE, configureHelp } from '../../tools/configure-help';
import {
  PASSWORD, USERNAME, type FlowNode, type TestFlows, helper, loggedTexts, nextInput, nothingWithin, startHelperServer, statuses,
  stopHelperServer, useSimulatorAndHelper, waitForStatus,
} from './support';

const NODES = [deviceNode, configureNode];
const CREDS = { dev: { username: USERNAME, password: PASSWORD } };

/** The Device operations the issue lists (Profile Q), each of which the node must offer. */
const ISSUE_OPERATIONS = [
  'GetServices', 'GetServiceCapabilities', 'GetCapabilities', 'GetHostname', 'SetHostname', 'SetHostnameFromDHCP', 'GetDNS', 'SetDNS',
  'GetNetworkInterfaces', 'SetNetworkInterfaces', 'GetNetworkProtocols', 'SetNetworkProtocols', 'GetNetworkDefaultGateway',
  'SetNetworkDefaultGateway', 'GetZeroConfiguration', 'SetZeroConfiguration', 'GetDeviceInformation', 'GetSystemDateAndTime',
  'SetSystemDateAndTime', 'GetNTP', 'SetNTP', 'SetSystemFactoryDefault', 'SystemReboot', 'GetUsers', 'CreateUsers', 'DeleteUsers',
  'SetUser', 'GetScopes', 'SetScopes', 'AddScopes', 'RemoveScopes', 'GetDiscoveryMode', 'SetDiscoveryMode', 'GetAccessPolicy',
  'SetAccessPolicy', 'GetSystemUris', 'StartSystemRestore',
];
const TASKS = ['commission', 'syncTime', 'backup', 'restore', 'inventory'];

function flow(xaddr: string, settings: Record<string, unknown>): TestFlows {
  return [
    { id: 'dev', type: 'onvifq-device', name: 'Porch', address: xaddr, auth: 'auto', timeout: 5 },
    { id: 't', type: 'tab', label: 'test' },
    { id: 'cfg', type: 'onvifq-configure', z: 't', x: 100, y: 100, name: '', device: 'dev', operation: 'GetDeviceInformation', ...settings, wires: [['out']] } as FlowNode,
    { id: 'out', type: 'helper', z: 't', x: 100, y: 100 },
    { id: 'catch', type: 'catch', z: 't', x: 100, y: 100, scope: ['cfg'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 't', x: 100, y: 100 },
  ];
}

type Caught = { error: { message: string; code?: string; cause?: Record<string, any>; source: { id: string } } } & Record<string, unknown>;

describe('onvifq-configure: the Device operations', function () {
  this.timeout(30000);

  describe('catalogue, editor endpoint and help', () => {
    it('offers every Device operation of the issue and every task, each in one of the editor groups', () => {
      const names = CATALOGUE.map((e) => e.name);
      for (const op of [...ISSUE_OPERATIONS, ...TASKS]) assert.ok(names.includes(op), `${op} missing from the catalogue`);
      assert.deepEqual([...GROUPS], ['Network', 'System', 'Users', 'Scopes', 'Security', 'Maintenance', 'Tasks']);
      for (const e of CATALOGUE) assert.ok(GROUPS.includes(e.group), `${e.name}: group ${e.group}`);
      assert.deepEqual(CATALOGUE.filter((e) => e.group === 'Tasks').map((e) => e.name), TASKS);
      assert.equal(new Set(names).size, names.length, 'no operation twice');
    });

    it("every operation's payload example is a valid request for that operation (official schema model)", () => {
      for (const e of CATALOGUE.filter((x) => x.group !== 'Tasks')) {
        const op = findOperation(e.name);
        assert.ok(op, `${e.name} is an operation of the schema model`);
        assert.doesNotThrow(() => encodeElement(op.input.ns, op.input.local, e.example), `${e.name} example ${JSON.stringify(e.example)}`);
      }
    });

    it('the help, generated from the catalogue, lists every operation with its payload example and what it returns', () => {
      const template = fs.readFileSync(HELP_TEMPLATE, 'utf8');
      const help = configureHelp(template);
      const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
      const entries = new Map<string, string>();
      for (const m of help.matchAll(/<dt>(\w+)<\/dt>\s*<dd>([\s\S]*?)<\/dd>/g)) entries.set(m[1]!, unescape(m[2]!));
      for (const e of CATALOGUE) {
        const dd = entries.get(e.name);
        assert.ok(dd, `help has no entry for ${e.name}`);
        assert.ok(dd.startsWith(e.summary), `${e.name}: help summary differs from the catalogue`);
        assert.ok(dd.includes(`payload: <code>${JSON.stringify(e.example)}</code>`), `${e.name}: help example differs from the catalogue`);
        assert.ok(dd.includes(`returns: <code>${e.returns}</code>`), `${e.name}: help 'returns' differs from the catalogue`);
      }
      assert.equal([...entries.values()].filter((dd) => dd.includes('<br>payload:')).length, CATALOGUE.length, 'nothing listed that the node does not offer');
      // Each group under its own heading, in the editor's order; the hand-written parts stay around them.
      const headings = [...help.matchAll(/<h4>([^<]+)<\/h4>/g)].map((m) => m[1]);
      assert.deepEqual(headings, ['Network', 'System', 'Users', 'Scopes and discovery', 'Security', 'Maintenance', 'Tasks', 'Other (any operation)']);
      assert.ok(help.includes('<h3>Inputs</h3>') && help.includes('<h3>Status</h3>'));
      assert.ok(!/<dt>\w+<\/dt>\s*<dd>[^<]*<br>payload:/.test(template), 'the template lists no operation by hand');
      assert.throws(() => configureHelp(template.replace(/<!-- OPERATIONS:.*-->/, '')), /OPERATIONS/);
    });

    it('serves the catalogue to the editor (groups, operations with form fields)', async () => {
      await startHelperServer();
      try {
        await helper.load(NODES, flow('127.0.0.1:1', {}), CREDS);
        const res = await helper.request().get('/onvifq-configure/catalogue').expect(200);
        assert.deepEqual(res.body.groups, [...GROUPS]);
        const setUser = res.body.operations.find((o: any) => o.name === 'SetUser');
        assert.equal(setUser.group, 'Users');
        assert.ok(setUser.fields.some((f: any) => f.kind === 'password' && f.path === 'User.0.Password'));
        assert.equal(res.body.operations.length, CATALOGUE.length);
      } finally {
        await stopHelperServer();
      }
    });
  });

  describe('against the simulator', () => {
    const env = useSimulatorAndHelper({ discovery: false, rebootDowntimeMs: 600 });
    let other: SimulatedDevice | undefined;
    after(async () => {
      await other?.stop();
    });

    async function load(settings: Record<string, unknown>, creds: Record<string, unknown> = CREDS): Promise<void> {
      await helper.load(NODES, flow(env.sim.xaddr, settings), creds);
      await waitForStatus(helper.getNode('cfg'), (s) => s.fill === 'green', 'connected');
    }
    async function send(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
      const got = nextInput(helper.getNode('out'), 20000);
      helper.getNode('cfg').receive(msg);
      return got;
    }
    async function fails(msg: Record<string, unknown>): Promise<Caught> {
      const caught = nextInput(helper.getNode('caught'), 20000);
      const silent = nothingWithin(helper.getNode('out'), 300);
      helper.getNode('cfg').receive(msg);
      const err = (await caught) as Caught;
      assert.equal(await silent, true, 'nothing sent on');
      return err;
    }
    function requests(): number {
      return env.sim.stats.httpRequests;
    }

    it("SetHostname from the node's form parameters; msg.payload overrides them; GetHostname shows each", async () => {
      const original = (env.sim.state as any).hostname?.name ?? undefined;
      await load({ operation: 'SetHostname', params: JSON.stringify({ Name: 'from-the-node' }) });
      await send({ payload: 1700000000000 });
      assert.equal((await readVia('GetHostname')).HostnameInformation.Name, 'from-the-node');
      await send({ payload: { Name: 'from-the-msg' } });
      assert.equal((await readVia('GetHostname')).HostnameInformation.Name, 'from-the-msg');
      if (original) await send({ payload: { Name: original } });
    });

    /** A read through a second session, so the check does not depend on the node under test. */
    async function readVia(operation: string): Promise<any> {
      const d = new OnvifDevice({ address: env.sim.xaddr, username: USERNAME, password: PASSWORD });
      try {
        return await d.call(operation);
      } finally {
        await d.close();
      }
    }

    it('SetSystemDateAndTime takes an IANA time zone and sends the device its POSIX form; an unknown one is refused, not sent', async () => {
      await load({ operation: 'SetSystemDateAndTime', params: JSON.stringify({ DateTimeType: 'NTP', DaylightSavings: false }) });
      await send({ payload: { TimeZone: { TZ: 'America/New_York' } } });
      assert.equal((await readVia('GetSystemDateAndTime')).SystemDateAndTime.TimeZone.TZ, 'EST5EDT,M3.2.0,M11.1.0');
      const before = requests();
      const err = await fails({ payload: { TimeZone: { TZ: 'Europe/Atlantis' } } });
      assert.match(err.error.message, /^TimeZone\.TZ: 'Europe\/Atlantis' is neither an IANA time zone .* Nothing was sent\.$/);
      assert.equal(requests(), before);
    });

    it('Scopes group: AddScopes, then RemoveScopes from msg.operation with msg.payload', async () => {
      const scope = 'onvif://www.onvif.org/location/test/node';
      await load({ operation: 'AddScopes', params: JSON.stringify({ ScopeItem: [scope] }) });
      await send({});
      assert.ok((await readVia('GetScopes')).Scopes.some((s: any) => s.ScopeItem === scope));
      await stopHelperServer();
      await startHelperServer();
      await load({ operation: 'msg' });
      const removed = await send({ operation: 'RemoveScopes', payload: { ScopeItem: [scope] } });
      assert.deepEqual((removed.payload as any).ScopeItem, [scope]);
      assert.ok(!(await readVia('GetScopes')).Scopes.some((s: any) => s.ScopeItem === scope));
    });

    it('a fault the device raises reaches the Catch node with its ONVIF subcode (fixed scope)', async () => {
      await load({ operation: 'RemoveScopes' });
      const err = await fails({ payload: { ScopeItem: ['onvif://www.onvif.org/Profile/Q/Operational'] } });
      assert.equal(err.error.cause?.kind, 'fault');
      assert.ok((err.error.cause?.subcodes as string[]).some((s) => /FixedScope/.test(s)), JSON.stringify(err.error.cause));
      assert.match(err.error.message, /Porch/);
    });

    it('any other operation by name in the node (tev:GetEventProperties)', async () => {
      await load({ operation: 'other', other: 'tev:GetEventProperties' });
      const msg = await send({});
      const payload = msg.payload as Record<string, unknown>;
      assert.ok(payload.TopicSet, `payload keys: ${Object.keys(payload).join(', ')}`);
      assert.ok(Array.isArray(payload.TopicNamespaceLocation) || typeof payload.TopicNamespaceLocation === 'string');
    });

    it('any operation from msg.topic; one of a service the device does not list fails clearly', async () => {
      await load({ operation: 'msg' });
      const caps = await send({ topic: 'tev:GetServiceCapabilities' });
      assert.ok((caps.payload as any).Capabilities, JSON.stringify(caps.payload));
      const before = requests();
      // The simulator lists App Management (issue 13) but no Advanced Security service.
      const err = await fails({ topic: 'tas:GetServiceCapabilities' });
      assert.equal(err.error.cause?.kind, 'unsupported');
      assert.match(err.error.message, /does not offer the advancedsecurity service/);
      assert.equal(requests(), before, 'nothing sent');
    });

    it('msg.address: the same operation on another device with the config node’s credentials', async () => {
      other = new SimulatedDevice({ username: USERNAME, password: PASSWORD, discovery: false, deviceInformation: { SerialNumber: 'OTHER-42' } });
      await other.start();
      await load({ operation: 'GetDeviceInformation' });
      const a = await send({});
      assert.equal((a.payload as any).SerialNumber, env.sim.state.deviceInformation.SerialNumber);
      const b = await send({ address: other.xaddr });
      assert.equal((b.payload as any).SerialNumber, 'OTHER-42');
      assert.equal((b.device as any).xaddr, other.xaddr);
      assert.equal(b.address, other.xaddr, 'msg.address passes through');
    });

    it('SystemReboot: shows rebooting… then reconnected, and sends on once the device is back', async () => {
      await load({ operation: 'SystemReboot' });
      const cfg = helper.getNode('cfg');
      const msg = await send({});
      assert.equal(typeof (msg.payload as any).Message, 'string');
      const texts = statuses(cfg).map((s) => s.text);
      const rebooting = texts.indexOf('rebooting…');
      assert.ok(rebooting >= 0, texts.join(' | '));
      assert.ok(texts.indexOf('reconnected', rebooting) > rebooting, texts.join(' | '));
      // The session works after the reboot without a redeploy.
      const info = await send({});
      assert.equal(typeof (info.payload as any).Message, 'string');
      assert.ok(loggedTexts().every((t) => !t.includes(PASSWORD)), 'no password in the log');
    });

    it('a redeploy while SystemReboot waits for the device closes at once and reports nothing', async () => {
      const slow = new SimulatedDevice({ username: USERNAME, password: PASSWORD, discovery: false, rebootDowntimeMs: 30_000 });
      await slow.start();
      try {
        await helper.load(NODES, flow(slow.xaddr, { operation: 'SystemReboot' }), CREDS);
        const cfg = helper.getNode('cfg');
        await waitForStatus(cfg, (s) => s.text === 'Operational', 'Operational');
        cfg.receive({ payload: {} });
        await waitForStatus(cfg, (s) => s.text === 'rebooting…', 'rebooting…');
        const started = Date.now();
        await helper.unload();
        assert.ok(Date.now() - started < 3000, `closing took ${Date.now() - started} ms`);
        // The wait was cut, not left running: nothing is logged as an error afterwards.
        await new Promise((r) => setTimeout(r, 700));
        assert.ok(!loggedTexts().some((t) => /did not come back|cancelled/.test(t)), loggedTexts().join(' | '));
      } finally {
        await slow.stop();
      }
    });

    it('SetSystemFactoryDefault Hard: waits for the device, then shows it is in Factory Default State', async () => {
      const victim = new SimulatedDevice({ username: USERNAME, password: PASSWORD, discovery: false, rebootDowntimeMs: 400 });
      await victim.start();
      try {
        await helper.load(NODES, flow(victim.xaddr, { operation: 'SetSystemFactoryDefault', params: JSON.stringify({ FactoryDefault: 'Hard' }) }), CREDS);
        const cfg = helper.getNode('cfg');
        await waitForStatus(cfg, (s) => s.text === 'Operational', 'Operational');
        await send({});
        assert.equal(victim.profileQState, 'FactoryDefault');
        const texts = statuses(cfg).map((s) => s.text);
        assert.ok(texts.includes('rebooting…') && texts.includes('reconnected'), texts.join(' | '));
        assert.equal(texts[texts.length - 1], 'factory default');
      } finally {
        await victim.stop();
      }
    });

    it('SetNetworkInterfaces that moves the device: the node warns where it went', async () => {
      const mover = new SimulatedDevice({ username: USERNAME, password: PASSWORD, discovery: false });
      await mover.start();
      try {
        await helper.load(NODES, flow(mover.xaddr, { operation: 'SetNetworkInterfaces' }), CREDS);
        const cfg = helper.getNode('cfg');
        await waitForStatus(cfg, (s) => s.fill === 'green', 'connected');
        const reader = new OnvifDevice({ address: mover.xaddr, username: USERNAME, password: PASSWORD });
        const token = (await reader.call('GetNetworkInterfaces')).NetworkInterfaces[0].token as string;
        await reader.close();
        await send({ payload: { InterfaceToken: token, NetworkInterface: { Enabled: true, IPv4: { Enabled: true, DHCP: false, Manual: [{ Address: '192.0.2.77', PrefixLength: 24 }] } } } });
        const warned = (cfg.warn as unknown as SinonSpy).getCalls().filter((c) => c.thisValue === cfg).map((c) => String(c.args[0]));
        assert.ok(warned.some((w) => w.includes('192.0.2.77')), warned.join(' | '));
        assert.equal(statuses(cfg).pop()?.text, 'device moved');
      } finally {
        await mover.stop();
      }
    });

    for (const [title, settings, msg, expected] of [
      ['a Buffer payload for an operation other than restore', { operation: 'SetHostname' }, { payload: Buffer.from('x') }, /msg\.payload is a Buffer; only restore takes one/],
      ['a msg.address that is not a text', { operation: 'GetHostname' }, { address: 42 }, /msg\.address must be a text/],
      ['an unknown operation name in the node', { operation: 'other', other: 'FormatHardDisk' }, {}, /Unknown operation 'FormatHardDisk' in the node's operation name/],
      ['a parameter of the wrong type for a setting operation', { operation: 'SetHostnameFromDHCP' }, { payload: { FromDHCP: 'perhaps' } }, /msg\.payload does not fit SetHostnameFromDHCP: .*FromDHCP/],
      ['commission without the admin password', { operation: 'commission' }, { payload: { hostname: 'x' } }, /commission needs the new administrator password/],
      ['restore without a backup', { operation: 'restore' }, {}, /restore needs exactly one of file .* or data/],
      ['restore of a file that does not exist', { operation: 'restore', params: JSON.stringify({ file: '/nonexistent/backup.bin' }) }, {}, /backup file \/nonexistent\/backup\.bin does not exist/],
    ] as const) {
      it(`rejects ${title}, to the Catch node, before anything reaches the device`, async () => {
        await load(settings);
        const before = requests();
        const err = await fails({ ...msg, _marker: 'bad' });
        assert.match(err.error.message, expected);
        assert.equal(err.error.cause?.kind, 'invalid-input');
        assert.equal(err._marker, 'bad');
        assert.equal(requests(), before, 'nothing sent to the device');
      });
    }

    it('parameters stored in the node that are not JSON: red status and a clear error per message', async () => {
      await helper.load(NODES, flow(env.sim.xaddr, { operation: 'SetHostname', params: '{"Name": ' }), CREDS);
      const cfg = helper.getNode('cfg');
      const s = await waitForStatus(cfg, (st) => st.fill === 'red', 'red');
      assert.equal(s.text, 'bad parameters');
      const err = await fails({});
      assert.match(err.error.message, /parameters stored in the node are not valid JSON/);
    });

    it('a password stored in the flow JSON (hand-written or imported) is refused, not sent, and not echoed', async () => {
      const secret = 'Fl0w-file-secret';
      await helper.load(NODES, flow(env.sim.xaddr, { operation: 'CreateUsers', params: JSON.stringify({ User: [{ Username: 'viewer', Password: secret, UserLevel: 'User' }] }) }), CREDS);
      const cfg = helper.getNode('cfg');
      const s = await waitForStatus(cfg, (st) => st.fill === 'red', 'red');
      assert.equal(s.text, 'bad parameters');
      const err = await fails({});
      assert.match(err.error.message, /hold a password \(User\.0\.Password\).*press Done: the password moves to the node's Password field/);
      assert.ok(!err.error.message.includes(secret), 'the password is not in the error');
      const users = await readVia('GetUsers');
      assert.ok(!JSON.stringify(users).includes('viewer'), 'no user was created');
    });
  });
});
