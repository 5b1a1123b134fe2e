import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedDevice } from '../../lib/simulator';
import { skipWith, validateFiles, validationUnavailable } from '../support/shared';
import { digestCall, envelope, faultOf, post, textOf } from './client';

const ADMIN = { username: 'admin', password: 'Adm1n-secret' };

/** Device management added for issue 4, spoken to in raw SOAP (no library in between). */
describe('simulator: device management (access policy, system URIs, restarts, faults)', function () {
  this.timeout(30_000);
  const devices: SimulatedDevice[] = [];
  let dir: string | undefined;
  const start = async (o: ConstructorParameters<typeof SimulatedDevice>[0] = {}) => {
    const d = new SimulatedDevice({ ...ADMIN, rebootDowntimeMs: 300, discovery: false, processorUsageIntervalMs: 0, ...o });
    await d.start();
    devices.push(d);
    return d;
  };
  const admin = (d: SimulatedDevice, op: string, inner = '') => digestCall(d.xaddr, envelope(op, inner), ADMIN.username, ADMIN.password);
  const policyFile = (o: unknown) => `<tds:PolicyFile><tt:Data>${Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64')}</tt:Data></tds:PolicyFile>`;
  const defaultPolicy = async (d: SimulatedDevice) => JSON.parse(Buffer.from(textOf(await admin(d, 'GetAccessPolicy'), 'Data')!, 'base64').toString('utf8'));

  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('SetNetworkProtocols with a protocol the device lacks is ter:ServiceNotSupported', async () => {
    const d = await start();
    const r = await admin(d, 'SetNetworkProtocols', '<tds:NetworkProtocols><tt:Name>FTP</tt:Name><tt:Enabled>true</tt:Enabled><tt:Port>21</tt:Port></tds:NetworkProtocols>');
    assert.equal(r.status, 400);
    assert.deepEqual(faultOf(r), { code: 'env:Sender', subcodes: ['ter:InvalidArgVal', 'ter:ServiceNotSupported'] });
  });

  it('the access policy: default is the Core table, a policy may open classes to Anonymous, bad files are ter:PolicyFormat or ter:InvalidArgVal', async () => {
    const d = await start();
    const policy = await defaultPolicy(d);
    assert.deepEqual(policy.classes.PRE_AUTH, ['Administrator', 'Operator', 'User', 'Extended', 'Anonymous']);
    assert.deepEqual(policy.classes.UNRECOVERABLE, ['Administrator']);
    assert.equal((await post(d.xaddr, envelope('GetDNS'))).status, 401, 'READ_SYSTEM needs a login by default');
    const open = { ...policy, classes: { ...policy.classes, READ_SYSTEM: [...policy.classes.READ_SYSTEM, 'Anonymous'] } };
    assert.equal((await admin(d, 'SetAccessPolicy', policyFile(open))).status, 200);
    assert.equal((await post(d.xaddr, envelope('GetDNS'))).status, 200, 'READ_SYSTEM is open to Anonymous now');
    assert.equal((await post(d.xaddr, envelope('GetUsers'))).status, 401, 'other classes are not');

    const bad: Array<[string, string[]]> = [
      [policyFile('not json'), ['ter:InvalidArgs', 'ter:PolicyFormat']],
      [policyFile({ format: 'other/1', classes: policy.classes }), ['ter:InvalidArgs', 'ter:PolicyFormat']],
      [policyFile({ ...policy, classes: { ...policy.classes, ACTUATE: ['Root'] } }), ['ter:InvalidArgs', 'ter:PolicyFormat']],
      [policyFile({ ...policy, classes: { ...policy.classes, UNRECOVERABLE: [] } }), ['ter:InvalidArgs', 'ter:PolicyFormat']],
      ['<tds:PolicyFile><tt:Data>@@not base64@@</tt:Data></tds:PolicyFile>', ['ter:InvalidArgVal']],
    ];
    for (const [inner, subcodes] of bad) {
      const r = await admin(d, 'SetAccessPolicy', inner);
      assert.equal(r.status, 400, inner);
      assert.deepEqual(faultOf(r)?.subcodes, subcodes, inner);
    }
    assert.deepEqual(await defaultPolicy(d), open, 'refused files changed nothing');
  });

  it('the access policy survives a restart from the state file; a hard factory default brings the default back', async () => {
    dir = mkdtempSync(join(tmpdir(), 'onvifq-sim-policy-'));
    const stateFile = join(dir, 'state.json');
    const first = await start({ stateFile });
    const policy = await defaultPolicy(first);
    const wider = { ...policy, classes: { ...policy.classes, READ_SYSTEM_SECRET: ['Administrator', 'Operator'] } };
    assert.equal((await admin(first, 'SetAccessPolicy', policyFile(wider))).status, 200);
    await first.stop();
    const second = await start({ stateFile });
    assert.deepEqual(await defaultPolicy(second), wider);
    const back = once(second, 'ready');
    assert.equal((await admin(second, 'SetSystemFactoryDefault', '<tds:FactoryDefault>Hard</tds:FactoryDefault>')).status, 200);
    await back;
    // Factory Default State: no users, everything open.
    const r = await post(second.xaddr, envelope('GetAccessPolicy'));
    assert.deepEqual(JSON.parse(Buffer.from(textOf(r, 'Data')!, 'base64').toString('utf8')), policy);
  });

  it('SystemReboot and SetSystemFactoryDefault take the device away for rebootDowntimeMs', async () => {
    const d = await start({ rebootDowntimeMs: 600 });
    for (const [op, inner] of [['SystemReboot', ''], ['SetSystemFactoryDefault', '<tds:FactoryDefault>Soft</tds:FactoryDefault>']] as const) {
      const gone = once(d, 'reboot');
      const back = once(d, 'ready');
      const started = Date.now();
      assert.equal((await admin(d, op, inner)).status, 200, op);
      await gone;
      await assert.rejects(post(d.xaddr, envelope('GetSystemDateAndTime')), /ECONNREFUSED/, `${op}: away`);
      await back;
      assert.ok(Date.now() - started >= 550, `${op}: away about 600 ms`);
      assert.equal((await post(d.xaddr, envelope('GetSystemDateAndTime'))).status, 200, `${op}: back`);
    }
  });

  it('/onvifq/state shows the network settings and the backed-up configuration, never passwords', async () => {
    const d = await start({ exposeState: true });
    await admin(d, 'CreateUsers', '<tds:User><tt:Username>viewer</tt:Username><tt:Password>Secret-view1</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User>');
    await admin(d, 'SetNetworkDefaultGateway', '<tds:IPv4Address>192.0.2.1</tds:IPv4Address>');
    const r = await post(d.xaddr.replace('/onvif/device_service', '/onvifq/state'), '', {}, 'GET');
    assert.equal(r.status, 200);
    assert.ok(!r.body.includes('Secret-view1') && !r.body.includes(ADMIN.password), 'no passwords');
    const state = JSON.parse(r.body) as { network: { gateway: { ipv4: string[] } }; configuration: { users: unknown[]; uuid?: string; gateway: unknown } };
    assert.deepEqual(state.network.gateway.ipv4, ['192.0.2.1']);
    assert.deepEqual(state.configuration.users, [{ username: 'admin', level: 'Administrator' }, { username: 'viewer', level: 'User' }]);
    assert.equal(state.configuration.uuid, undefined, 'identity is not part of the configuration');
  });

  it('responses of GetSystemUris, StartSystemRestore, GetAccessPolicy and SetAccessPolicy validate against the schemas', async function () {
    const why = validationUnavailable();
    if (why) skipWith(this, why);
    const d = await start();
    dir = mkdtempSync(join(tmpdir(), 'onvifq-sim-mgmt-xsd-'));
    const policy = await defaultPolicy(d);
    const files: string[] = [];
    for (const [op, inner] of [['GetSystemUris', ''], ['StartSystemRestore', ''], ['GetAccessPolicy', ''], ['SetAccessPolicy', policyFile(policy)]] as const) {
      const r = await admin(d, op, inner);
      assert.equal(r.status, 200, `${op}: ${r.body}`);
      const f = join(dir, `${op}Response.xml`);
      writeFileSync(f, r.body);
      files.push(f);
    }
    const result = validateFiles(files);
    assert.equal(result.code, 0, result.output);
  });
});
