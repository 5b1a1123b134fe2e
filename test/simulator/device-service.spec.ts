import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { SimulatedDevice } from '../../lib/simulator';
import { allTexts, envelope, faultOf, parse, post, textOf, type RawResponse } from './client';

/** Device-service behaviour in Factory Default State, where every command is open (Profile Q §9). */
describe('simulator: device service', function () {
  let dev: SimulatedDevice;
  const call = (op: string, inner = ''): Promise<RawResponse> => post(dev.xaddr, envelope(op, inner));

  beforeEach(async () => {
    dev = new SimulatedDevice({ deviceInformation: { Model: 'Test Cam' } });
    await dev.start();
  });
  afterEach(() => dev.stop());

  it('answers SOAP 1.2 with the right content type', async () => {
    const r = await call('GetDeviceInformation');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/soap+xml; charset=utf-8');
    assert.equal(textOf(r, 'Model'), 'Test Cam');
    assert.equal(textOf(r, 'Manufacturer'), 'onvifq');
  });

  it('GetServices lists the device service at the address the caller used, with capabilities on request', async () => {
    const plain = await call('GetServices', '<tds:IncludeCapability>false</tds:IncludeCapability>');
    assert.equal(textOf(plain, 'XAddr'), dev.xaddr);
    assert.equal(textOf(plain, 'Namespace'), 'http://www.onvif.org/ver10/device/wsdl');
    assert.equal(allTexts(plain, 'Capabilities').length, 0);
    const withCaps = await call('GetServices', '<tds:IncludeCapability>true</tds:IncludeCapability>');
    const service = parse(withCaps).content!.children[0]!;
    const outer = service.children.find((c) => c.local === 'Capabilities')!;
    const inner = outer.children[0]!;
    assert.equal(inner.local, 'Capabilities');
    assert.equal(inner.ns, 'http://www.onvif.org/ver10/device/wsdl');
    assert.deepEqual(inner.children.map((c) => c.local), ['Network', 'Security', 'System']);
  });

  it('GetServiceCapabilities signals zero-config, digest algorithms, user limits and DiscoveryBye', async () => {
    const r = await call('GetServiceCapabilities');
    const caps = parse(r).content!.children[0]!;
    const attrs = (local: string) => Object.fromEntries(caps.children.find((c) => c.local === local)!.attributes.map((a) => [a.local, a.value]));
    assert.equal(attrs('Network').ZeroConfiguration, 'true');
    const sec = attrs('Security');
    assert.equal(sec.HttpDigest, 'true');
    assert.equal(sec.UsernameToken, 'true');
    assert.equal(sec.MaxUsers, '10');
    assert.ok(Number(sec.MaxUserNameLength) > 0 && Number(sec.MaxPasswordLength) >= 28);
    assert.equal(sec.HashingAlgorithms, 'SHA-256 MD5');
    assert.equal(attrs('System').DiscoveryBye, 'true');
  });

  it('GetCapabilities gives the Device category with ZeroConfiguration and refuses services it lacks', async () => {
    const r = await call('GetCapabilities', '<tds:Category>All</tds:Category>');
    assert.equal(textOf(r, 'XAddr'), dev.xaddr);
    assert.equal(textOf(r, 'ZeroConfiguration'), 'true');
    // The event service exists (test/simulator/events*.spec.ts); PTZ does not.
    assert.equal(allTexts(r, 'Events').length, 1);
    const ev = await call('GetCapabilities', '<tds:Category>PTZ</tds:Category>');
    assert.equal(ev.status, 500);
    assert.deepEqual(faultOf(ev), { code: 'env:Receiver', subcodes: ['ter:ActionNotSupported', 'ter:NoSuchService'] });
  });

  it('hostname: set, read back, from DHCP, invalid names refused', async () => {
    assert.equal((await call('SetHostname', '<tds:Name>porch-cam</tds:Name>')).status, 200);
    let r = await call('GetHostname');
    assert.equal(textOf(r, 'Name'), 'porch-cam');
    assert.equal(textOf(r, 'FromDHCP'), 'false');
    const bad = await call('SetHostname', '<tds:Name>bad_name!</tds:Name>');
    assert.deepEqual(faultOf(bad)?.subcodes, ['ter:InvalidArgVal', 'ter:InvalidHostname']);
    assert.equal(bad.status, 400);
    r = await call('SetHostnameFromDHCP', '<tds:FromDHCP>true</tds:FromDHCP>');
    assert.equal(textOf(r, 'RebootNeeded'), 'false');
    r = await call('GetHostname');
    assert.equal(textOf(r, 'FromDHCP'), 'true');
    assert.notEqual(textOf(r, 'Name'), 'porch-cam');
  });

  it('DNS and NTP settings change and validate addresses', async () => {
    await call('SetDNS', '<tds:FromDHCP>false</tds:FromDHCP><tds:SearchDomain>example.org</tds:SearchDomain><tds:DNSManual><tt:Type>IPv4</tt:Type><tt:IPv4Address>10.0.0.53</tt:IPv4Address></tds:DNSManual>');
    let r = await call('GetDNS');
    assert.equal(textOf(r, 'FromDHCP'), 'false');
    assert.equal(textOf(r, 'SearchDomain'), 'example.org');
    assert.deepEqual(allTexts(r, 'IPv4Address'), ['10.0.0.53']);
    const bad = await call('SetDNS', '<tds:FromDHCP>false</tds:FromDHCP><tds:DNSManual><tt:Type>IPv4</tt:Type><tt:IPv4Address>10.0.0.999</tt:IPv4Address></tds:DNSManual>');
    assert.deepEqual(faultOf(bad)?.subcodes, ['ter:InvalidArgVal', 'ter:InvalidIPv4Address']);
    await call('SetNTP', '<tds:FromDHCP>false</tds:FromDHCP><tds:NTPManual><tt:Type>DNS</tt:Type><tt:DNSname>pool.ntp.org</tt:DNSname></tds:NTPManual>');
    r = await call('GetNTP');
    assert.equal(textOf(r, 'DNSname'), 'pool.ntp.org');
    assert.equal(textOf(r, 'FromDHCP'), 'false');
  });

  it('network interface eth0: read, change to manual IPv4, reboot needed, unknown token refused', async () => {
    let r = await call('GetNetworkInterfaces');
    const nic = parse(r).content!.children[0]!;
    assert.equal(nic.attributes.find((a) => a.local === 'token')?.value, 'eth0');
    assert.match(textOf(r, 'HwAddress')!, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.equal(textOf(r, 'DHCP'), 'true');
    r = await call('SetNetworkInterfaces', '<tds:InterfaceToken>eth0</tds:InterfaceToken><tds:NetworkInterface><tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Manual><tt:Address>192.168.1.20</tt:Address><tt:PrefixLength>24</tt:PrefixLength></tt:Manual><tt:DHCP>false</tt:DHCP></tt:IPv4></tds:NetworkInterface>');
    assert.equal(textOf(r, 'RebootNeeded'), 'true');
    r = await call('GetNetworkInterfaces');
    assert.equal(textOf(r, 'DHCP'), 'false');
    assert.equal(textOf(r, 'Address'), '192.168.1.20');
    const bad = await call('SetNetworkInterfaces', '<tds:InterfaceToken>wlan9</tds:InterfaceToken><tds:NetworkInterface><tt:Enabled>true</tt:Enabled></tds:NetworkInterface>');
    assert.deepEqual(faultOf(bad)?.subcodes, ['ter:InvalidArgVal', 'ter:InvalidNetworkInterface']);
  });

  it('network protocols: change RTSP port, refuse HTTPS without TLS and clashing ports', async () => {
    let r = await call('GetNetworkProtocols');
    assert.deepEqual(allTexts(r, 'Name'), ['HTTP', 'HTTPS', 'RTSP']);
    await call('SetNetworkProtocols', '<tds:NetworkProtocols><tt:Name>RTSP</tt:Name><tt:Enabled>true</tt:Enabled><tt:Port>8554</tt:Port></tds:NetworkProtocols>');
    r = await call('GetNetworkProtocols');
    assert.ok(allTexts(r, 'Port').includes('8554'));
    const tls = await call('SetNetworkProtocols', '<tds:NetworkProtocols><tt:Name>HTTPS</tt:Name><tt:Enabled>true</tt:Enabled><tt:Port>443</tt:Port></tds:NetworkProtocols>');
    assert.deepEqual(faultOf(tls), { code: 'env:Receiver', subcodes: ['ter:ActionNotSupported', 'ter:EnablingTlsFailed'] });
    const clash = await call('SetNetworkProtocols', `<tds:NetworkProtocols><tt:Name>RTSP</tt:Name><tt:Enabled>true</tt:Enabled><tt:Port>${dev.port}</tt:Port></tds:NetworkProtocols>`);
    assert.deepEqual(faultOf(clash)?.subcodes, ['ter:InvalidArgVal', 'ter:PortAlreadyInUse']);
  });

  it('default gateway and zero configuration change', async () => {
    await call('SetNetworkDefaultGateway', '<tds:IPv4Address>192.168.1.1</tds:IPv4Address>');
    assert.deepEqual(allTexts(await call('GetNetworkDefaultGateway'), 'IPv4Address'), ['192.168.1.1']);
    const bad = await call('SetNetworkDefaultGateway', '<tds:IPv4Address>gateway</tds:IPv4Address>');
    assert.deepEqual(faultOf(bad)?.subcodes, ['ter:InvalidArgVal', 'ter:InvalidIPv4Address']);
    let z = await call('GetZeroConfiguration');
    assert.equal(textOf(z, 'Enabled'), 'true');
    assert.match(textOf(z, 'Addresses')!, /^169\.254\./);
    await call('SetZeroConfiguration', '<tds:InterfaceToken>eth0</tds:InterfaceToken><tds:Enabled>false</tds:Enabled>');
    z = await call('GetZeroConfiguration');
    assert.equal(textOf(z, 'Enabled'), 'false');
  });

  it('date and time: manual setting moves the device clock; bad time zone and missing NTP server refused', async () => {
    const set = await call(
      'SetSystemDateAndTime',
      '<tds:DateTimeType>Manual</tds:DateTimeType><tds:DaylightSavings>false</tds:DaylightSavings><tds:TimeZone><tt:TZ>CET-1CEST,M3.5.0,M10.5.0/3</tt:TZ></tds:TimeZone>' +
        '<tds:UTCDateTime><tt:Time><tt:Hour>10</tt:Hour><tt:Minute>0</tt:Minute><tt:Second>0</tt:Second></tt:Time><tt:Date><tt:Year>2030</tt:Year><tt:Month>1</tt:Month><tt:Day>15</tt:Day></tt:Date></tds:UTCDateTime>',
    );
    assert.equal(set.status, 200);
    const r = await call('GetSystemDateAndTime');
    assert.equal(textOf(r, 'TZ'), 'CET-1CEST,M3.5.0,M10.5.0/3');
    assert.equal(textOf(r, 'Year'), '2030');
    assert.equal(textOf(r, 'Hour'), '10');
    const local = parse(r).content!.children[0]!.children.find((c) => c.local === 'LocalDateTime')!;
    assert.equal(local.children.find((c) => c.local === 'Time')!.children[0]!.text, '11');
    const tz = await call('SetSystemDateAndTime', '<tds:DateTimeType>Manual</tds:DateTimeType><tds:DaylightSavings>false</tds:DaylightSavings><tds:TimeZone><tt:TZ>Not A Zone</tt:TZ></tds:TimeZone>');
    assert.deepEqual(faultOf(tz)?.subcodes, ['ter:InvalidArgVal', 'ter:InvalidTimeZone']);
    await call('SetNTP', '<tds:FromDHCP>false</tds:FromDHCP>');
    const ntp = await call('SetSystemDateAndTime', '<tds:DateTimeType>NTP</tds:DateTimeType><tds:DaylightSavings>false</tds:DaylightSavings>');
    assert.deepEqual(faultOf(ntp)?.subcodes, ['ter:InvalidArgVal', 'ter:NtpServerUndefined']);
    await call('SetNTP', '<tds:FromDHCP>false</tds:FromDHCP><tds:NTPManual><tt:Type>IPv4</tt:Type><tt:IPv4Address>192.0.2.1</tt:IPv4Address></tds:NTPManual>');
    await call('SetSystemDateAndTime', '<tds:DateTimeType>NTP</tds:DateTimeType><tds:DaylightSavings>false</tds:DaylightSavings>');
    assert.equal(textOf(await call('GetSystemDateAndTime'), 'DateTimeType'), 'NTP');
  });

  it('applies the configured clock skew', async () => {
    const skewed = new SimulatedDevice({ clockSkewMs: 3 * 3600_000 });
    await skewed.start();
    try {
      const r = await post(skewed.xaddr, envelope('GetSystemDateAndTime'));
      const e = parse(r).content!.children[0]!.children.find((c) => c.local === 'UTCDateTime')!;
      const n = (p: string, l: string) => Number(e.children.find((c) => c.local === p)!.children.find((c) => c.local === l)!.text);
      const deviceMs = Date.UTC(n('Date', 'Year'), n('Date', 'Month') - 1, n('Date', 'Day'), n('Time', 'Hour'), n('Time', 'Minute'), n('Time', 'Second'));
      assert.ok(Math.abs(deviceMs - Date.now() - 3 * 3600_000) < 5000, `device clock off by ${deviceMs - Date.now()} ms`);
    } finally {
      await skewed.stop();
    }
  });

  it('scopes: fixed Profile Q/hardware/name scopes, add/set/remove with the spec faults', async () => {
    let r = await call('GetScopes');
    const items = allTexts(r, 'ScopeItem');
    const defs = allTexts(r, 'ScopeDef');
    assert.ok(items.includes('onvif://www.onvif.org/Profile/Q/FactoryDefault'));
    assert.ok(items.includes('onvif://www.onvif.org/hardware/Test%20Cam'));
    assert.ok(items.some((s) => s.startsWith('onvif://www.onvif.org/name/')));
    assert.equal(defs[items.indexOf('onvif://www.onvif.org/Profile/Q/FactoryDefault')], 'Fixed');
    await call('AddScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/porch</tds:ScopeItem>');
    r = await call('GetScopes');
    assert.ok(allTexts(r, 'ScopeItem').includes('onvif://www.onvif.org/location/porch'));
    const rm = await call('RemoveScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/porch</tds:ScopeItem>');
    assert.deepEqual(allTexts(rm, 'ScopeItem'), ['onvif://www.onvif.org/location/porch']);
    const fixed = await call('RemoveScopes', '<tds:ScopeItem>onvif://www.onvif.org/Profile/Q/FactoryDefault</tds:ScopeItem>');
    assert.deepEqual(faultOf(fixed)?.subcodes, ['ter:OperationProhibited', 'ter:FixedScope']);
    const none = await call('RemoveScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/nowhere</tds:ScopeItem>');
    assert.deepEqual(faultOf(none)?.subcodes, ['ter:InvalidArgVal', 'ter:NoScope']);
    const many = Array.from({ length: 40 }, (_, i) => `<tds:Scopes>onvif://www.onvif.org/x/${i}</tds:Scopes>`).join('');
    const tooMany = await call('SetScopes', many);
    assert.deepEqual(faultOf(tooMany), { code: 'env:Receiver', subcodes: ['ter:Action', 'ter:TooManyScopes'] });
    await call('SetScopes', '<tds:Scopes>onvif://www.onvif.org/location/garage</tds:Scopes>');
    r = await call('GetScopes');
    assert.deepEqual(allTexts(r, 'ScopeItem').filter((s) => s.includes('location')), ['onvif://www.onvif.org/location/garage']);
  });

  it('discovery mode, endpoint reference, WSDL URL and hashing algorithm', async () => {
    await call('SetDiscoveryMode', '<tds:DiscoveryMode>NonDiscoverable</tds:DiscoveryMode>');
    assert.equal(textOf(await call('GetDiscoveryMode'), 'DiscoveryMode'), 'NonDiscoverable');
    assert.equal(textOf(await call('GetEndpointReference'), 'GUID'), dev.endpoint);
    assert.match(dev.endpoint, /^urn:uuid:[0-9a-f-]{36}$/);
    assert.match(textOf(await call('GetWsdlUrl'), 'WsdlUrl')!, /^https?:\/\//);
    await call('SetHashingAlgorithm', '<tds:Algorithm>MD5</tds:Algorithm>');
    const caps = parse(await call('GetServiceCapabilities')).content!.children[0]!;
    assert.equal(caps.children.find((c) => c.local === 'Security')!.attributes.find((a) => a.local === 'HashingAlgorithms')?.value, 'MD5');
    const bad = await call('SetHashingAlgorithm', '<tds:Algorithm>SHA-1</tds:Algorithm>');
    assert.deepEqual(faultOf(bad), { code: 'env:Sender', subcodes: ['ter:InvalidArgVal'] });
  });

  it('users: create, list without passwords, change, delete', async () => {
    await call('CreateUsers', '<tds:User><tt:Username>op1</tt:Username><tt:Password>op1-secret</tt:Password><tt:UserLevel>Operator</tt:UserLevel></tds:User>');
    const r = await call('GetUsers');
    assert.deepEqual(allTexts(r, 'Username'), ['op1']);
    assert.deepEqual(allTexts(r, 'UserLevel'), ['Operator']);
    assert.equal(allTexts(r, 'Password').length, 0);
    assert.ok(!r.body.includes('op1-secret'));
    await call('SetUser', '<tds:User><tt:Username>op1</tt:Username><tt:Password>other-secret</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User>');
    assert.deepEqual(allTexts(await call('GetUsers'), 'UserLevel'), ['User']);
    await call('DeleteUsers', '<tds:Username>op1</tds:Username>');
    assert.deepEqual(allTexts(await call('GetUsers'), 'Username'), []);
  });

  it('password complexity (Core §8.5): options, configuration, rules enforced and named by CreateUsers and SetUser, lock until factory default', async () => {
    const caps = parse(await call('GetServiceCapabilities')).content!.children[0]!;
    assert.equal(caps.children.find((c) => c.local === 'Security')!.attributes.find((a) => a.local === 'SecurityPolicies')?.value, 'PasswordComplexity');
    const options = await call('GetPasswordComplexityOptions');
    assert.equal(textOf(options, 'BlockUsernameOccurrenceSupported'), 'true');
    assert.deepEqual(allTexts(options, 'Max'), ['64', '64', '64', '64']);
    assert.equal(textOf(await call('GetPasswordComplexityConfiguration'), 'MinLen'), '6');
    const set = (inner: string) => call('SetPasswordComplexityConfiguration', inner);
    assert.equal((await set('<tds:MinLen>8</tds:MinLen><tds:Uppercase>1</tds:Uppercase><tds:Number>1</tds:Number><tds:SpecialChars>1</tds:SpecialChars><tds:BlockUsernameOccurrence>true</tds:BlockUsernameOccurrence>')).status, 200);
    const conf = await call('GetPasswordComplexityConfiguration');
    assert.deepEqual(['MinLen', 'Uppercase', 'Number', 'SpecialChars', 'BlockUsernameOccurrence', 'PolicyConfigurationLocked'].map((k) => textOf(conf, k)), ['8', '1', '1', '1', 'true', 'false']);
    const user = (name: string, pass: string) => `<tds:User><tt:Username>${name}</tt:Username><tt:Password>${pass}</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User>`;
    for (const [pass, rule] of [['Ab1!xyz', 'MinLen'], ['abcdef1!', 'Uppercase'], ['Abcdefg!', 'Number'], ['Abcdefg1', 'SpecialChars'], ['X-Carol-1', 'BlockUsernameOccurrence']]) {
      const r = await call('CreateUsers', user('carol', pass!));
      assert.deepEqual(faultOf(r)?.subcodes, ['ter:OperationProhibited', 'ter:Password'], rule);
      assert.match(textOf(r, 'Text')!, new RegExp(`${rule}:`));
    }
    assert.equal((await call('CreateUsers', user('carol', 'Good-Pass1'))).status, 200);
    assert.equal(faultOf(await call('SetUser', user('carol', 'abcdef1!')))?.subcodes[1], 'ter:PasswordTooWeak');
    assert.deepEqual(faultOf(await set('<tds:MinLen>0</tds:MinLen>'))?.subcodes, ['ter:InvalidArgVal', 'ter:ArgumentValueInvalid']);
    await set('<tds:PolicyConfigurationLocked>true</tds:PolicyConfigurationLocked>');
    assert.deepEqual(faultOf(await set('<tds:MinLen>6</tds:MinLen>'))?.subcodes, ['ter:InvalidArgVal', 'ter:ArgumentValueInvalid'], 'locked');
    assert.equal(textOf(await call('GetPasswordComplexityConfiguration'), 'MinLen'), '8');
  });

  it('users: every spec fault, and nothing applied when one user of a batch is refused', async () => {
    const user = (name: string, pass: string | null, level = 'User') =>
      `<tds:User><tt:Username>${name}</tt:Username>${pass === null ? '' : `<tt:Password>${pass}</tt:Password>`}<tt:UserLevel>${level}</tt:UserLevel></tds:User>`;
    await call('CreateUsers', user('alice', 'alice-pass'));
    const cases: Array<[string, string, string[]]> = [
      ['CreateUsers', user('bob', 'bob-pass') + user('alice', 'x-secret-1'), ['ter:OperationProhibited', 'ter:UsernameClash']],
      ['CreateUsers', user('carol', 'p'.repeat(65)), ['ter:OperationProhibited', 'ter:PasswordTooLong']],
      ['CreateUsers', user('u'.repeat(33), 'good-pass'), ['ter:OperationProhibited', 'ter:UsernameTooLong']],
      ['CreateUsers', user('', 'good-pass'), ['ter:OperationProhibited', 'ter:UsernameTooShort']],
      ['CreateUsers', user('dave', 'abc'), ['ter:OperationProhibited', 'ter:Password']],
      ['CreateUsers', user('eve', 'good-pass', 'Anonymous'), ['ter:OperationProhibited', 'ter:AnonymousNotAllowed']],
      ['SetUser', user('nobody', 'good-pass'), ['ter:InvalidArgVal', 'ter:UsernameMissing']],
      ['SetUser', user('alice', 'abc'), ['ter:OperationProhibited', 'ter:PasswordTooWeak']],
      ['SetUser', user('alice', 'p'.repeat(65)), ['ter:OperationProhibited', 'ter:PasswordTooLong']],
      ['SetUser', user('alice', 'good-pass', 'Anonymous'), ['ter:OperationProhibited', 'ter:AnonymousNotAllowed']],
      ['DeleteUsers', '<tds:Username>alice</tds:Username><tds:Username>ghost</tds:Username>', ['ter:InvalidArgVal', 'ter:UsernameMissing']],
    ];
    for (const [op, inner, subcodes] of cases) {
      const r = await call(op, inner);
      assert.equal(r.status, 400, `${op} ${subcodes[1]}`);
      assert.deepEqual(faultOf(r), { code: 'env:Sender', subcodes }, `${op} ${inner}`);
    }
    // All-or-nothing: bob (valid, before the clash) was not created, alice was not deleted.
    assert.deepEqual(allTexts(await call('GetUsers'), 'Username'), ['alice']);
    const batch = Array.from({ length: 10 }, (_, i) => user(`user${i}`, `password${i}`)).join('');
    const tooMany = await call('CreateUsers', batch);
    assert.equal(tooMany.status, 500);
    assert.deepEqual(faultOf(tooMany), { code: 'env:Receiver', subcodes: ['ter:Action', 'ter:TooManyUsers'] });
    assert.deepEqual(allTexts(await call('GetUsers'), 'Username'), ['alice']);
  });

  it('unknown operations get ActionNotSupported, malformed requests 400 WellFormed, other methods 405', async () => {
    const r = await call('GetSystemLog', '<tds:LogType>System</tds:LogType>');
    assert.equal(r.status, 500);
    assert.deepEqual(faultOf(r), { code: 'env:Receiver', subcodes: ['ter:ActionNotSupported'] });
    const bad = await post(dev.xaddr, '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><broken></s:Body>');
    assert.equal(bad.status, 400);
    assert.deepEqual(faultOf(bad), { code: 'env:Sender', subcodes: ['ter:WellFormed'] });
    const get = await post(dev.xaddr, '', {}, 'GET');
    assert.equal(get.status, 405);
    const elsewhere = await post(dev.xaddr.replace('device_service', 'media_service'), envelope('GetProfiles'));
    assert.equal(elsewhere.status, 404);
  });

  it('an operation named like a member of every JavaScript object (constructor, toString) is just unknown: ActionNotSupported', async () => {
    for (const op of ['constructor', 'toString', 'hasOwnProperty']) {
      const r = await call(op);
      assert.equal(r.status, 500, op);
      assert.deepEqual(faultOf(r), { code: 'env:Receiver', subcodes: ['ter:ActionNotSupported'] }, op);
    }
  });

  it('soft factory default keeps network and users; hard returns to Factory Default State with no users', async () => {
    await call('SetHostname', '<tds:Name>kept-or-not</tds:Name>');
    await call('SetNetworkDefaultGateway', '<tds:IPv4Address>192.168.1.1</tds:IPv4Address>');
    await call('AddScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/attic</tds:ScopeItem>');
    await call('CreateUsers', '<tds:User><tt:Username>viewer</tt:Username><tt:Password>viewer-pass</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User>');
    // A factory default restarts the device: wait until it is back.
    let restarted = once(dev, 'ready');
    await call('SetSystemFactoryDefault', '<tds:FactoryDefault>Soft</tds:FactoryDefault>');
    await restarted;
    assert.deepEqual(allTexts(await call('GetNetworkDefaultGateway'), 'IPv4Address'), ['192.168.1.1']);
    assert.deepEqual(allTexts(await call('GetUsers'), 'Username'), ['viewer']);
    assert.ok(!allTexts(await call('GetScopes'), 'ScopeItem').includes('onvif://www.onvif.org/location/attic'));
    assert.notEqual(textOf(await call('GetHostname'), 'Name'), 'kept-or-not');
    const endpoint = dev.endpoint;
    restarted = once(dev, 'ready');
    await call('SetSystemFactoryDefault', '<tds:FactoryDefault>Hard</tds:FactoryDefault>');
    await restarted;
    assert.deepEqual(allTexts(await call('GetNetworkDefaultGateway'), 'IPv4Address'), []);
    assert.deepEqual(allTexts(await call('GetUsers'), 'Username'), []);
    assert.equal(dev.profileQState, 'FactoryDefault');
    assert.equal(dev.endpoint, endpoint);
  });
});
