import { strict as assert } from 'node:assert';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { OnvifError } from '../../lib/errors';
import { SimulatedDevice } from '../../lib/simulator';
import { NS } from '../../lib/xml/namespaces';
import { skipWith, validateRequests, validationUnavailable } from '../support/shared';

const ADMIN = { username: 'admin', password: 'Adm1n-secret' };

describe('OnvifDevice against the simulated Profile Q device', () => {
  let sim: SimulatedDevice;
  const opened: OnvifDevice[] = [];
  const open = (o: Partial<ConstructorParameters<typeof OnvifDevice>[0]> = {}) => {
    const d = new OnvifDevice({ address: sim.xaddr, ...ADMIN, ...o });
    opened.push(d);
    return d;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()));
    await sim?.stop();
  });

  it('connects with digest and exposes services, capabilities, Profile Q state, device information and clock offset', async () => {
    sim = new SimulatedDevice({ ...ADMIN, clockSkewMs: 90_000, deviceInformation: { Manufacturer: 'Acme', Model: 'Q-1000' } });
    await sim.start();
    const device = open();
    const s = await device.connect();
    assert.equal(s.deviceInformation.manufacturer, 'Acme');
    assert.equal(s.deviceInformation.model, 'Q-1000');
    assert.equal(s.profileQState, 'Operational');
    assert.equal(s.authMethod, 'digest-SHA-256');
    assert.ok(s.services.some((x) => x.namespace === NS.tds), 'device service listed');
    assert.equal(typeof s.capabilities.security.maxUsers, 'number');
    assert.equal(s.capabilities.security.httpDigest, true);
    assert.equal(s.capabilities.network.zeroConfiguration, true);
    assert.ok(Math.abs(s.clockOffsetMs - 90_000) < 2_000, `clock offset ${s.clockOffsetMs} should be about 90 s`);
    assert.equal(s.endpoint, sim.endpoint);
  });

  it('1000 sequential GetDeviceInformation calls on one digest session cost at most 1005 HTTP requests', async function () {
    this.timeout(120_000);
    sim = new SimulatedDevice({ ...ADMIN, auth: 'digest' });
    await sim.start();
    const device = open({ auth: 'digest' });
    await device.connect();
    const before = sim.stats.httpRequests;
    for (let i = 0; i < 1000; i++) {
      const info = await device.call('GetDeviceInformation');
      assert.equal(typeof info.Manufacturer, 'string');
    }
    const used = sim.stats.httpRequests - before;
    console.log(`      1000 calls -> ${used} HTTP requests at the simulator`);
    assert.ok(used <= 1005, `${used} requests`);
  });

  it('uses WS-UsernameToken with Created from the measured clock offset on a device whose clock is 3 hours ahead', async () => {
    sim = new SimulatedDevice({ ...ADMIN, auth: 'ws-security', clockSkewMs: 3 * 3600_000 });
    await sim.start();
    const device = open({ auth: 'ws-security' });
    const s = await device.connect();
    assert.equal(s.authMethod, 'ws-security');
    const users = await device.call('GetUsers');
    assert.ok(users.User.some((u: { Username: string }) => u.Username === 'admin'));
  });

  it('auto mode falls back to WS-UsernameToken when the device answers NotAuthorized without a challenge', async () => {
    sim = new SimulatedDevice({ ...ADMIN, auth: 'ws-security' });
    await sim.start();
    const s = await open().connect();
    assert.equal(s.authMethod, 'ws-security');
  });

  it('a wrong password fails once with a clear error and no retry loop', async () => {
    sim = new SimulatedDevice({ ...ADMIN });
    await sim.start();
    const device = open({ password: 'wrong-password' });
    await assert.rejects(device.connect(), (e: OnvifError) => {
      assert.equal(e.kind, 'auth');
      assert.match(e.message, /admin/);
      assert.doesNotMatch(e.message, /wrong-password/);
      return true;
    });
    const authenticatedAttempts = sim.requests.filter((r) => /Digest username=/i.test(String(r.headers.authorization ?? '')));
    assert.equal(authenticatedAttempts.length, 1, 'exactly one request carried the wrong credentials');
  });

  it('reads a Factory Default device without credentials, and commissioning moves it to Operational', async () => {
    sim = new SimulatedDevice();
    await sim.start();
    const device = open({ username: undefined, password: undefined });
    const s = await device.connect();
    assert.equal(s.profileQState, 'FactoryDefault');
    assert.equal(s.authMethod, 'none');
    await device.call('CreateUsers', { User: [{ Username: 'installer', Password: 'Inst4ll-pass', UserLevel: 'Administrator' }] });
    assert.equal(sim.profileQState, 'Operational');
    const after = open({ username: 'installer', password: 'Inst4ll-pass' });
    assert.equal((await after.connect()).profileQState, 'Operational');
  });

  describe('without credentials, on an Operational device (Core default access policy)', () => {
    const anonymous = () => open({ username: undefined, password: undefined });
    const refusedAs = (operation: string) => (e: OnvifError) => {
      assert.equal(e.kind, 'auth');
      assert.equal(e.operation, operation);
      assert.match(e.message, new RegExp(`refused ${operation} without credentials`));
      assert.match(e.message, /Set a username and password/);
      return true;
    };

    it('keeps a partial session: services and capabilities read, scopes, Profile Q state and device information marked unknown', async () => {
      sim = new SimulatedDevice({ ...ADMIN });
      await sim.start();
      const s = await anonymous().connect();
      assert.deepEqual(s.partial?.refused, ['GetScopes', 'GetDeviceInformation']);
      assert.deepEqual(s.partial?.unknown, ['scopes', 'profileQState', 'deviceInformation']);
      assert.match(s.partial!.text, /without credentials.*Profile Q state.*set a username and password/);
      assert.equal(s.profileQState, 'Unknown');
      assert.deepEqual(s.scopes, []);
      assert.equal(s.deviceInformation.manufacturer, '');
      assert.equal(s.authMethod, 'none');
      assert.ok(s.services.some((x) => x.namespace === NS.tev), 'events service listed');
      assert.equal(typeof s.capabilities.security.maxUsers, 'number');
      assert.equal(s.endpoint, sim.endpoint);
    });

    it('PRE_AUTH operations succeed; a refused operation fails as auth naming itself, not GetScopes', async () => {
      sim = new SimulatedDevice({ ...ADMIN });
      await sim.start();
      const device = anonymous();
      assert.ok((await device.call('GetSystemDateAndTime')).SystemDateAndTime, 'GetSystemDateAndTime');
      assert.ok((await device.call('GetServices', { IncludeCapability: false })).Service.length >= 2, 'GetServices');
      assert.ok((await device.call('GetCapabilities', { Category: ['All'] })).Capabilities.Device, 'GetCapabilities');
      assert.ok((await device.call('GetServiceCapabilities')).Capabilities, 'GetServiceCapabilities');
      assert.ok((await device.call('tev:GetServiceCapabilities')).Capabilities, 'events GetServiceCapabilities');
      await assert.rejects(device.call('GetUsers'), refusedAs('GetUsers'));
      await assert.rejects(device.call('GetDeviceInformation'), refusedAs('GetDeviceInformation'));
      await assert.rejects(device.call('GetEventProperties'), refusedAs('GetEventProperties'));
      // A refusal ends neither the session nor what it serves anonymously.
      assert.ok((await device.call('GetSystemDateAndTime')).SystemDateAndTime);
    });

    it('serves the event service when the device opens it to anonymous users', async () => {
      sim = new SimulatedDevice({ ...ADMIN });
      await sim.start();
      const admin = open();
      const policy = JSON.parse(Buffer.from((await admin.call('GetAccessPolicy')).PolicyFile.Data, 'base64').toString('utf8'));
      policy.classes.READ_MEDIA.push('Anonymous');
      await admin.call('SetAccessPolicy', { PolicyFile: { Data: Buffer.from(JSON.stringify(policy)).toString('base64') } });
      const device = anonymous();
      const props = await device.call('GetEventProperties');
      assert.ok(props.TopicSet, 'GetEventProperties answered anonymously');
      assert.equal(device.session?.profileQState, 'Unknown', 'the device information stays protected');
    });

    it('wrong credentials still fail connect as an auth error, with no more requests than before', async () => {
      sim = new SimulatedDevice({ ...ADMIN });
      await sim.start();
      const device = open({ password: 'wrong-password' });
      await assert.rejects(device.connect(), (e: OnvifError) => e.kind === 'auth' && /rejected the user 'admin'/.test(e.message));
      assert.equal(device.session, undefined);
      // GetSystemDateAndTime, GetServices (both anonymous and answered), GetScopes (challenge) and GetScopes with the wrong password.
      assert.equal(sim.stats.httpRequests, 4);
    });
  });

  it('falls back to GetCapabilities when GetServices answers a fault with and without capabilities (old firmware)', async () => {
    sim = new SimulatedDevice({ ...ADMIN });
    await sim.start();
    sim.injectFault({ kind: 'http500', operation: 'GetServices', times: 2 });
    const s = await open().connect();
    assert.equal(s.legacyCapabilities, true);
    assert.ok(s.services.some((x) => x.namespace === NS.tds));
    assert.equal(s.capabilities.network.zeroConfiguration, true);
  });

  it('uses the configured host when the device reports its services under another host name', async () => {
    sim = new SimulatedDevice({ ...ADMIN });
    await sim.start();
    const configured = sim.xaddr.replace('127.0.0.1', 'localhost');
    const device = open({ address: configured });
    const s = await device.connect();
    for (const svc of s.services) assert.match(svc.xaddr, /^http:\/\/localhost:/, `${svc.namespace} at ${svc.xaddr}`);
    assert.equal(typeof (await device.call('GetHostname')).HostnameInformation.Name, 'string');
  });

  it('a dropped connection, an HTTP 500 and malformed XML each fail only that call', async () => {
    sim = new SimulatedDevice({ ...ADMIN });
    await sim.start();
    const device = open();
    await device.connect();
    // A drop on a reused keep-alive socket is retried once (the device may just have closed an idle socket): drop both.
    sim.injectFault({ kind: 'drop', operation: 'GetHostname', times: 2 });
    await assert.rejects(device.call('GetHostname'), (e: OnvifError) => e.kind === 'unreachable' || e.kind === 'bad-response');
    sim.injectFault({ kind: 'http500', operation: 'GetHostname' });
    await assert.rejects(device.call('GetHostname'), (e: OnvifError) => e.kind === 'fault' && e.httpStatus === 500 && !!e.code);
    sim.injectFault({ kind: 'malformed', operation: 'GetHostname' });
    await assert.rejects(device.call('GetHostname'), (e: OnvifError) => e.kind === 'bad-response');
    assert.equal(typeof (await device.call('GetHostname')).HostnameInformation.Name, 'string');
  });

  it('turns spec faults into errors with code, subcodes, reason and HTTP status', async () => {
    sim = new SimulatedDevice({ ...ADMIN });
    await sim.start();
    const device = open();
    await assert.rejects(device.call('CreateUsers', { User: [{ Username: 'admin', Password: 'Other-pass1', UserLevel: 'User' }] }), (e: OnvifError) => {
      assert.equal(e.kind, 'fault');
      assert.equal(e.code, 'env:Sender');
      assert.ok(e.hasSubcode('ter:UsernameClash'), `subcodes ${e.subcodes}`);
      assert.ok(e.httpStatus && e.httpStatus >= 400);
      return true;
    });
  });

  it('rejects bad input before anything is sent', async () => {
    sim = new SimulatedDevice({ ...ADMIN });
    await sim.start();
    const device = open();
    await device.connect();
    const before = sim.stats.httpRequests;
    await assert.rejects(device.call('GetDeviceInfo'), (e: OnvifError) => e.kind === 'invalid-input' && /GetDeviceInfo/.test(e.message));
    // @ts-expect-error a misspelt field: the types refuse it, and so does the library when the types are bypassed
    await assert.rejects(device.call('SetHostname', { Nmae: 'x' }), (e: OnvifError) => e.kind === 'invalid-input');
    assert.equal(sim.stats.httpRequests, before);
  });

  it('an unreachable device (127.0.0.2) fails with a plain "unreachable" or "timeout" error', async () => {
    const device = new OnvifDevice({ address: '127.0.0.2:9', timeoutMs: 1500 });
    opened.push(device);
    await assert.rejects(device.connect(), (e: OnvifError) => ['unreachable', 'timeout'].includes(e.kind) && /127\.0\.0\.2/.test(e.message));
  });

  it('every request the library sent validates against the official schemas', async function () {
    this.timeout(120_000);
    const why = validationUnavailable();
    if (why) skipWith(this, why);
    sim = new SimulatedDevice({ ...ADMIN });
    await sim.start();
    const device = open();
    await device.connect();
    const calls: Array<[string, Record<string, unknown>?]> = [
      ['GetDeviceInformation'], ['GetSystemDateAndTime'], ['GetServices', { IncludeCapability: true }], ['GetServiceCapabilities'],
      ['GetCapabilities', { Category: ['All'] }], ['GetScopes'], ['GetHostname'], ['SetHostname', { Name: 'porch-cam' }], ['GetDNS'],
      ['SetDNS', { FromDHCP: false, DNSManual: [{ Type: 'IPv4', IPv4Address: '127.0.0.53' }] }], ['GetNTP'],
      ['SetNTP', { FromDHCP: false, NTPManual: [{ Type: 'DNS', DNSname: 'pool.ntp.org' }] }], ['GetNetworkInterfaces'], ['GetNetworkProtocols'],
      ['GetNetworkDefaultGateway'], ['SetNetworkDefaultGateway', { IPv4Address: ['127.0.0.1'] }], ['GetZeroConfiguration'],
      ['GetUsers'], ['CreateUsers', { User: [{ Username: 'viewer', Password: 'View-pass1', UserLevel: 'User' }] }],
      ['SetUser', { User: [{ Username: 'viewer', Password: 'View-pass2', UserLevel: 'Operator' }] }], ['DeleteUsers', { Username: ['viewer'] }],
      ['AddScopes', { ScopeItem: ['onvif://www.onvif.org/location/porch'] }], ['RemoveScopes', { ScopeItem: ['onvif://www.onvif.org/location/porch'] }],
      ['GetEndpointReference'],
    ];
    for (const [op, params] of calls) await device.call(op, params);
    const result = validateRequests('captured-requests', sim.requests.filter((r) => r.method === 'POST' && r.body.includes('Envelope')));
    const kinds = new Set(sim.requests.map((r) => r.operation));
    console.log(`      ${result.files.length} captured requests, ${kinds.size} operation types`);
    assert.equal(result.code, 0, result.output);
  });
});
