import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { SimulatedDevice, type SimulatorOptions } from '../../lib/simulator';
import { parseDigestAuthorization } from '../../lib/simulator/auth';
import { clockPast } from '../support/wait';
import { allTexts, challenges, digestCall, digestHeader, envelope, faultOf, post, textOf, usernameToken } from './client';

const ADMIN = 'admin';
const ADMIN_PASS = 'Admin-Pass1';

async function device(options: SimulatorOptions): Promise<SimulatedDevice> {
  const d = new SimulatedDevice(options);
  await d.start();
  return d;
}

describe('simulator: reading a digest Authorization header', () => {
  it('quoted values (with escaped quotes and backslashes, and commas inside), tokens, any case of names and scheme', () => {
    const parsed = parseDigestAuthorization(
      'digest  Username="a\\"b\\\\c", realm="Login, please", nonce="n1",uri="/onvif/device_service", QOP=auth, nc=00000001, cnonce="", algorithm=SHA-256',
    );
    assert.deepEqual(parsed, {
      username: 'a"b\\c',
      realm: 'Login, please',
      nonce: 'n1',
      uri: '/onvif/device_service',
      qop: 'auth',
      nc: '00000001',
      cnonce: '',
      algorithm: 'SHA-256',
    });
    assert.equal(parseDigestAuthorization('Basic YWRtaW46eA=='), undefined);
    assert.equal(parseDigestAuthorization(undefined), undefined);
  });
});

describe('simulator: Profile Q states and authentication', function () {
  const started: SimulatedDevice[] = [];
  const make = async (o: SimulatorOptions) => {
    const d = await device(o);
    started.push(d);
    return d;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((d) => d.stop()));
  });

  it('Factory Default State: everything open, FactoryDefault scope; CreateUsers of an Administrator makes it Operational', async () => {
    const d = await make({});
    assert.equal(d.profileQState, 'FactoryDefault');
    const users = await post(d.xaddr, envelope('GetUsers'));
    assert.equal(users.status, 200);
    assert.ok(allTexts(await post(d.xaddr, envelope('GetScopes')), 'ScopeItem').includes('onvif://www.onvif.org/Profile/Q/FactoryDefault'));
    const states: string[] = [];
    d.on('profileQState', (s: string) => states.push(s));
    // An Operator does not end Factory Default State; an Administrator with a password does.
    await post(d.xaddr, envelope('CreateUsers', '<tds:User><tt:Username>op</tt:Username><tt:Password>op-pass-1</tt:Password><tt:UserLevel>Operator</tt:UserLevel></tds:User>'));
    assert.equal(d.profileQState, 'FactoryDefault');
    const r = await post(d.xaddr, envelope('CreateUsers', `<tds:User><tt:Username>${ADMIN}</tt:Username><tt:Password>${ADMIN_PASS}</tt:Password><tt:UserLevel>Administrator</tt:UserLevel></tds:User>`));
    assert.equal(r.status, 200);
    assert.equal(d.profileQState, 'Operational');
    assert.deepEqual(states, ['Operational']);
    assert.equal((await post(d.xaddr, envelope('GetUsers'))).status, 401);
    const scopes = await digestCall(d.xaddr, envelope('GetScopes'), ADMIN, ADMIN_PASS);
    const items = allTexts(scopes, 'ScopeItem');
    assert.ok(items.includes('onvif://www.onvif.org/Profile/Q/Operational'));
    assert.ok(!items.includes('onvif://www.onvif.org/Profile/Q/FactoryDefault'));
  });

  it('SetUser giving an existing Administrator a password ends Factory Default State', async () => {
    const d = await make({ username: ADMIN, password: '' });
    assert.equal(d.profileQState, 'FactoryDefault');
    await post(d.xaddr, envelope('SetUser', `<tds:User><tt:Username>${ADMIN}</tt:Username><tt:Password>${ADMIN_PASS}</tt:Password><tt:UserLevel>Administrator</tt:UserLevel></tds:User>`));
    assert.equal(d.profileQState, 'Operational');
    assert.equal((await digestCall(d.xaddr, envelope('GetDeviceInformation'), ADMIN, ADMIN_PASS)).status, 200);
  });

  it("strict default admin ('root', no password): Factory Default until SetUser gives it one; a second Administrator does not end it; then empty passwords never sign in", async () => {
    const user = (name: string, pass: string, level: string) => `<tds:User><tt:Username>${name}</tt:Username><tt:Password>${pass}</tt:Password><tt:UserLevel>${level}</tt:UserLevel></tds:User>`;
    const d = await make({ defaultAdmin: 'root', rebootDowntimeMs: 200 });
    assert.equal(d.profileQState, 'FactoryDefault');
    assert.deepEqual(allTexts(await post(d.xaddr, envelope('GetUsers')), 'Username'), ['root']);
    await post(d.xaddr, envelope('CreateUsers', user('op', '', 'Operator')));
    assert.equal((await post(d.xaddr, envelope('CreateUsers', user(ADMIN, ADMIN_PASS, 'Administrator')))).status, 200);
    assert.equal(d.profileQState, 'FactoryDefault', 'Profile Q §9: CreateUsers ends it only when no administrator existed');
    assert.equal((await post(d.xaddr, envelope('SetUser', user('root', 'Root-Pass-1', 'Administrator')))).status, 200);
    assert.equal(d.profileQState, 'Operational');
    assert.equal((await digestCall(d.xaddr, envelope('GetUsers'), 'root', 'Root-Pass-1')).status, 200);
    assert.equal((await digestCall(d.xaddr, envelope('GetDeviceInformation'), 'op', '')).status, 401, 'empty password, digest');
    const token = usernameToken('op', '', new Date().toISOString());
    assert.deepEqual(faultOf(await post(d.xaddr, envelope('GetDeviceInformation', '', token))), { code: 'env:Sender', subcodes: ['ter:NotAuthorized'] }, 'empty password, UsernameToken');
    // A hard factory default brings the shipped account back, without a password.
    await digestCall(d.xaddr, envelope('SetSystemFactoryDefault', '<tds:FactoryDefault>Hard</tds:FactoryDefault>'), 'root', 'Root-Pass-1');
    await once(d, 'ready');
    assert.equal(d.profileQState, 'FactoryDefault');
    assert.deepEqual(allTexts(await post(d.xaddr, envelope('GetUsers')), 'Username'), ['root']);
  });

  it('a lenient device (the default) lets an empty password sign in once Operational, as some cameras do', async () => {
    const d = await make({});
    await post(d.xaddr, envelope('CreateUsers', '<tds:User><tt:Username>op</tt:Username><tt:Password></tt:Password><tt:UserLevel>Operator</tt:UserLevel></tds:User>'));
    await post(d.xaddr, envelope('CreateUsers', `<tds:User><tt:Username>${ADMIN}</tt:Username><tt:Password>${ADMIN_PASS}</tt:Password><tt:UserLevel>Administrator</tt:UserLevel></tds:User>`));
    assert.equal(d.profileQState, 'Operational');
    assert.equal((await digestCall(d.xaddr, envelope('GetDeviceInformation'), 'op', '')).status, 200);
  });

  it('reboot on commissioning: leaving Factory Default State restarts the device once, later changes do not', async () => {
    const d = await make({ rebootOnCommission: true, rebootDowntimeMs: 200 });
    let reboots = 0;
    d.on('reboot', () => reboots++);
    const back = once(d, 'ready');
    const r = await post(d.xaddr, envelope('CreateUsers', `<tds:User><tt:Username>${ADMIN}</tt:Username><tt:Password>${ADMIN_PASS}</tt:Password><tt:UserLevel>Administrator</tt:UserLevel></tds:User>`));
    assert.equal(r.status, 200, 'the answer goes out before the restart');
    await back;
    assert.equal(reboots, 1);
    assert.equal(d.profileQState, 'Operational');
    assert.equal((await digestCall(d.xaddr, envelope('SetHostname', '<tds:Name>cam-1</tds:Name>'), ADMIN, ADMIN_PASS)).status, 200);
    assert.equal((await digestCall(d.xaddr, envelope('GetHostname'), ADMIN, ADMIN_PASS)).status, 200, 'still there');
    assert.equal(reboots, 1);
  });

  it('Operational: PRE_AUTH operations stay open, others need credentials (401 with one challenge per algorithm)', async () => {
    const d = await make({ username: ADMIN, password: ADMIN_PASS });
    assert.equal(d.profileQState, 'Operational');
    for (const op of ['GetSystemDateAndTime', 'GetHostname', 'GetEndpointReference', 'GetServiceCapabilities', 'GetWsdlUrl']) {
      assert.equal((await post(d.xaddr, envelope(op))).status, 200, op);
    }
    assert.equal((await post(d.xaddr, envelope('GetServices', '<tds:IncludeCapability>false</tds:IncludeCapability>'))).status, 200);
    const r = await post(d.xaddr, envelope('GetDeviceInformation'));
    assert.equal(r.status, 401);
    const ch = challenges(r);
    assert.deepEqual(ch.map((c) => c.algorithm), ['SHA-256', 'MD5']);
    for (const c of ch) {
      assert.equal(c.scheme, 'Digest');
      assert.equal(c.qop, 'auth');
      assert.ok(c.nonce && c.opaque && c.realm);
    }
    assert.equal(d.stats.unauthorized, 1);
  });

  it('digest with SHA-256 and with MD5; wrong password gets 401 again; algorithms follow the options and SetHashingAlgorithm', async () => {
    const d = await make({ username: ADMIN, password: ADMIN_PASS });
    for (const alg of ['SHA-256', 'MD5']) {
      const r = await digestCall(d.xaddr, envelope('GetDeviceInformation'), ADMIN, ADMIN_PASS, alg);
      assert.equal(r.status, 200, alg);
      assert.equal(textOf(r, 'Manufacturer'), 'onvifq');
    }
    const wrong = await digestCall(d.xaddr, envelope('GetDeviceInformation'), ADMIN, 'not-it');
    assert.equal(wrong.status, 401);
    await digestCall(d.xaddr, envelope('SetHashingAlgorithm', '<tds:Algorithm>MD5</tds:Algorithm>'), ADMIN, ADMIN_PASS);
    assert.deepEqual(challenges(await post(d.xaddr, envelope('GetNTP'))).map((c) => c.algorithm), ['MD5']);
    const md5Only = await make({ username: ADMIN, password: ADMIN_PASS, digestAlgorithms: ['MD5'] });
    assert.deepEqual(challenges(await post(md5Only.xaddr, envelope('GetNTP'))).map((c) => c.algorithm), ['MD5']);
    await assert.rejects(digestCall(md5Only.xaddr, envelope('GetNTP'), ADMIN, ADMIN_PASS, 'SHA-256'), /not offered/);
  });

  it('digest nonce counts must increase, and an expired nonce gets stale=true', async () => {
    const d = await make({ username: ADMIN, password: ADMIN_PASS, digestNonceLifetimeMs: 300 });
    const first = await digestCall(d.xaddr, envelope('GetNTP'), ADMIN, ADMIN_PASS, 'MD5');
    // The nonce was issued before this moment.
    const issuedBy = Date.now();
    assert.equal(first.status, 200);
    const session = first.session!;
    const again = await post(d.xaddr, envelope('GetNTP'), { Authorization: digestHeader(session, ADMIN, ADMIN_PASS, undefined, undefined, 1) });
    assert.equal(again.status, 401, 'a replayed nc must be refused');
    const next = await post(d.xaddr, envelope('GetNTP'), { Authorization: digestHeader(session, ADMIN, ADMIN_PASS) });
    assert.equal(next.status, 200);
    await clockPast(issuedBy + 300);
    const stale = await post(d.xaddr, envelope('GetNTP'), { Authorization: digestHeader(session, ADMIN, ADMIN_PASS) });
    assert.equal(stale.status, 401);
    assert.ok(challenges(stale).every((c) => c.stale === 'true'), 'expired nonce with right password → stale=true');
    const wrongAfterExpiry = await post(d.xaddr, envelope('GetNTP'), { Authorization: digestHeader(session, ADMIN, 'nope') });
    assert.ok(challenges(wrongAfterExpiry).every((c) => c.stale === undefined), 'a wrong password is never stale');
  });

  it('digest nonce counts may arrive out of order within a window, as on real devices; each is still used once', async () => {
    const d = await make({ username: ADMIN, password: ADMIN_PASS });
    const first = await digestCall(d.xaddr, envelope('GetNTP'), ADMIN, ADMIN_PASS, 'SHA-256');
    assert.equal(first.status, 200);
    const session = first.session!;
    const withNc = (nc: number) => post(d.xaddr, envelope('GetNTP'), { Authorization: digestHeader(session, ADMIN, ADMIN_PASS, undefined, undefined, nc) });
    // Concurrent requests overtake each other: 5 arrives before 2, 3 and 4.
    assert.equal((await withNc(5)).status, 200);
    for (const nc of [3, 2, 4]) assert.equal((await withNc(nc)).status, 200, `nc ${nc} after 5`);
    assert.equal((await withNc(3)).status, 401, 'a count already used is refused');
    assert.equal((await withNc(100)).status, 200);
    assert.equal((await withNc(36)).status, 401, 'a count too far below the highest one (outside the window of 64) is refused');
    assert.equal((await withNc(37)).status, 200, 'the lowest count inside the window is accepted');
  });

  it('OnvifDevice: 40 calls, 8 at a time on one digest session, take one HTTP request each', async () => {
    const d = await make({ username: ADMIN, password: ADMIN_PASS });
    const device = new OnvifDevice({ address: d.xaddr, username: ADMIN, password: ADMIN_PASS });
    try {
      await device.connect();
      const before = d.stats.httpRequests;
      for (let batch = 0; batch < 5; batch++) await Promise.all(Array.from({ length: 8 }, () => device.call('GetDeviceInformation')));
      assert.equal(d.stats.httpRequests - before, 40);
      assert.equal(device.session?.authMethod, 'digest-SHA-256');
    } finally {
      await device.close();
    }
  });

  it('two challenges issued in the same millisecond carry different nonces', async () => {
    const d = await make({ username: ADMIN, password: ADMIN_PASS });
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(d.xaddr, envelope('GetNTP'))));
    const nonces = answers.map((a) => challenges(a)[0]!.nonce);
    assert.equal(new Set(nonces).size, nonces.length, nonces.join('\n'));
  });

  it('WS-UsernameToken: accepted within the window of the DEVICE clock, refused outside it and when replayed', async () => {
    const skew = 2 * 3600_000;
    const d = await make({ username: ADMIN, password: ADMIN_PASS, clockSkewMs: skew, usernameTokenWindowMs: 60_000 });
    const deviceTime = new Date(Date.now() + skew).toISOString();
    const nonce = randomBytes(16);
    const ok = await post(d.xaddr, envelope('GetDeviceInformation', '', usernameToken(ADMIN, ADMIN_PASS, deviceTime, nonce)));
    assert.equal(ok.status, 200);
    const replay = await post(d.xaddr, envelope('GetDeviceInformation', '', usernameToken(ADMIN, ADMIN_PASS, deviceTime, nonce)));
    assert.equal(replay.status, 400);
    assert.deepEqual(faultOf(replay), { code: 'env:Sender', subcodes: ['ter:NotAuthorized'] });
    // Host time is two hours off the device clock: refused.
    const hostTime = await post(d.xaddr, envelope('GetDeviceInformation', '', usernameToken(ADMIN, ADMIN_PASS, new Date().toISOString())));
    assert.deepEqual(faultOf(hostTime)?.subcodes, ['ter:NotAuthorized']);
    const wrong = await post(d.xaddr, envelope('GetDeviceInformation', '', usernameToken(ADMIN, 'wrong-pass', deviceTime)));
    assert.equal(wrong.status, 400);
  });

  it('ws-security only: no credentials → 400 NotAuthorized, no digest challenge', async () => {
    const d = await make({ username: ADMIN, password: ADMIN_PASS, auth: 'ws-security' });
    const r = await post(d.xaddr, envelope('GetDeviceInformation'));
    assert.equal(r.status, 400);
    assert.equal(r.headers['www-authenticate'], undefined);
    assert.deepEqual(faultOf(r), { code: 'env:Sender', subcodes: ['ter:NotAuthorized'] });
    const ok = await post(d.xaddr, envelope('GetDeviceInformation', '', usernameToken(ADMIN, ADMIN_PASS, new Date().toISOString())));
    assert.equal(ok.status, 200);
    const caps = await post(d.xaddr, envelope('GetServiceCapabilities'));
    assert.match(caps.body, /HttpDigest="false"/);
  });

  it('digest only: a UsernameToken alone is not enough', async () => {
    const d = await make({ username: ADMIN, password: ADMIN_PASS, auth: 'digest' });
    const r = await post(d.xaddr, envelope('GetDeviceInformation', '', usernameToken(ADMIN, ADMIN_PASS, new Date().toISOString())));
    assert.equal(r.status, 401);
  });

  it('auth none: Operational but open', async () => {
    const d = await make({ username: ADMIN, password: ADMIN_PASS, auth: 'none' });
    assert.equal((await post(d.xaddr, envelope('GetUsers'))).status, 200);
  });

  it('default access policy per user level', async () => {
    const d = await make({ username: ADMIN, password: ADMIN_PASS });
    const create = (name: string, level: string) =>
      digestCall(d.xaddr, envelope('CreateUsers', `<tds:User><tt:Username>${name}</tt:Username><tt:Password>${name}-pass-1</tt:Password><tt:UserLevel>${level}</tt:UserLevel></tds:User>`), ADMIN, ADMIN_PASS);
    assert.equal((await create('oper', 'Operator')).status, 200);
    assert.equal((await create('viewer', 'User')).status, 200);
    const as = (name: string, op: string, inner = '') => digestCall(d.xaddr, envelope(op, inner), name, name === ADMIN ? ADMIN_PASS : `${name}-pass-1`);
    const expectations: Array<[string, string, string, number]> = [
      ['viewer', 'GetDeviceInformation', '', 200],
      ['viewer', 'GetNetworkInterfaces', '', 200],
      ['viewer', 'GetUsers', '', 400],
      ['viewer', 'SetHostname', '<tds:Name>x</tds:Name>', 400],
      ['viewer', 'CreateUsers', '<tds:User><tt:Username>z</tt:Username><tt:Password>zzz-pass-1</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User>', 400],
      ['oper', 'GetScopes', '', 200],
      ['oper', 'GetUsers', '', 400],
      ['oper', 'SystemReboot', '', 400],
      ['oper', 'SetSystemFactoryDefault', '<tds:FactoryDefault>Hard</tds:FactoryDefault>', 400],
      [ADMIN, 'GetUsers', '', 200],
      [ADMIN, 'SetHostname', '<tds:Name>allowed</tds:Name>', 200],
    ];
    for (const [user, op, inner, status] of expectations) {
      const r = await as(user, op, inner);
      assert.equal(r.status, status, `${user} ${op}`);
      if (status === 400) assert.deepEqual(faultOf(r), { code: 'env:Sender', subcodes: ['ter:NotAuthorized'] }, `${user} ${op}`);
    }
    assert.equal(d.profileQState, 'Operational');
  });

  it('the last Administrator is a fixed user once Operational', async () => {
    const d = await make({ username: ADMIN, password: ADMIN_PASS });
    const del = await digestCall(d.xaddr, envelope('DeleteUsers', `<tds:Username>${ADMIN}</tds:Username>`), ADMIN, ADMIN_PASS);
    assert.deepEqual(faultOf(del), { code: 'env:Sender', subcodes: ['ter:InvalidArgVal', 'ter:FixedUser'] });
    const demote = await digestCall(d.xaddr, envelope('SetUser', `<tds:User><tt:Username>${ADMIN}</tt:Username><tt:Password>${ADMIN_PASS}</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User>`), ADMIN, ADMIN_PASS);
    assert.deepEqual(faultOf(demote)?.subcodes, ['ter:InvalidArgVal', 'ter:FixedUser']);
    const empty = await digestCall(d.xaddr, envelope('SetUser', `<tds:User><tt:Username>${ADMIN}</tt:Username><tt:UserLevel>Administrator</tt:UserLevel></tds:User>`), ADMIN, ADMIN_PASS);
    assert.deepEqual(faultOf(empty)?.subcodes, ['ter:OperationProhibited', 'ter:PasswordTooWeak']);
    // Core §8.4.6: no Password means "clear it"; the reason says so instead of blaming the complexity.
    assert.match(textOf(empty, 'Text') ?? '', /without a Password would clear the password/);
  });

  it('never records or returns a password', async () => {
    const d = await make({ username: ADMIN, password: ADMIN_PASS });
    await digestCall(d.xaddr, envelope('CreateUsers', '<tds:User><tt:Username>cam</tt:Username><tt:Password>Very-Secret-9</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User>'), ADMIN, ADMIN_PASS);
    const seen: string[] = [];
    d.on('request', (r: { body: string }) => seen.push(r.body));
    await digestCall(d.xaddr, envelope('SetUser', '<tds:User><tt:Username>cam</tt:Username><tt:Password>Other-Secret-9</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User>'), ADMIN, ADMIN_PASS);
    const all = JSON.stringify(d.requests) + seen.join('');
    assert.ok(all.includes('<tt:Password>***</tt:Password>'));
    assert.ok(!all.includes('Very-Secret-9') && !all.includes('Other-Secret-9') && !all.includes(ADMIN_PASS));
  });
});
