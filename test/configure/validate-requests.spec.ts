/**
 * Issue 4: "A test sends every operation and validates each request with ../shared/onvif/validate.sh".
 * Every request the library sends for the operation list is captured at the simulator and
 * checked against the official schemas.
 */
import { strict as assert } from 'node:assert';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { SimulatedDevice } from '../../lib/simulator';
import { skipWith, validateRequests, validationUnavailable } from '../support/shared';

const ADMIN = { username: 'admin', password: 'Adm1n-secret' };

/** The operation list, each with parameters that exercise its optional parts. */
const CALLS: Array<[string, Record<string, unknown>?]> = [
  ['GetServices', { IncludeCapability: true }],
  ['GetServiceCapabilities'],
  ['GetCapabilities', { Category: ['All'] }],
  ['GetHostname'],
  ['SetHostname', { Name: 'porch-cam' }],
  ['SetHostnameFromDHCP', { FromDHCP: false }],
  ['GetDNS'],
  ['SetDNS', { FromDHCP: false, SearchDomain: ['example.org'], DNSManual: [{ Type: 'IPv4', IPv4Address: '192.0.2.53' }] }],
  ['GetNetworkInterfaces'],
  ['SetNetworkInterfaces', { InterfaceToken: 'eth0', NetworkInterface: { Enabled: true, Link: { AutoNegotiation: true, Speed: 1000, Duplex: 'Full' }, MTU: 1500, IPv4: { Enabled: true, Manual: [{ Address: '192.0.2.50', PrefixLength: 24 }], DHCP: true } } }],
  ['GetNetworkProtocols'],
  ['SetNetworkProtocols', { NetworkProtocols: [{ Name: 'RTSP', Enabled: true, Port: [554] }] }],
  ['GetNetworkDefaultGateway'],
  ['SetNetworkDefaultGateway', { IPv4Address: ['192.0.2.1'] }],
  ['GetZeroConfiguration'],
  ['SetZeroConfiguration', { InterfaceToken: 'eth0', Enabled: true }],
  ['GetDeviceInformation'],
  ['GetSystemDateAndTime'],
  ['SetSystemDateAndTime', { DateTimeType: 'Manual', DaylightSavings: false, TimeZone: { TZ: 'CET-1CEST,M3.5.0,M10.5.0/3' }, UTCDateTime: { Date: { Year: 2030, Month: 6, Day: 1 }, Time: { Hour: 12, Minute: 0, Second: 0 } } }],
  ['GetNTP'],
  ['SetNTP', { FromDHCP: false, NTPManual: [{ Type: 'DNS', DNSname: 'pool.ntp.org' }, { Type: 'IPv4', IPv4Address: '192.0.2.123' }] }],
  ['GetUsers'],
  ['CreateUsers', { User: [{ Username: 'viewer', Password: 'View-pass1', UserLevel: 'User' }] }],
  ['SetUser', { User: [{ Username: 'viewer', Password: 'View-pass2', UserLevel: 'Operator' }] }],
  ['DeleteUsers', { Username: ['viewer'] }],
  ['GetScopes'],
  ['SetScopes', { Scopes: ['onvif://www.onvif.org/location/city/lyon'] }],
  ['AddScopes', { ScopeItem: ['onvif://www.onvif.org/location/building/b2'] }],
  ['RemoveScopes', { ScopeItem: ['onvif://www.onvif.org/location/building/b2'] }],
  ['GetDiscoveryMode'],
  ['SetDiscoveryMode', { DiscoveryMode: 'Discoverable' }],
  ['GetAccessPolicy'],
  // SetAccessPolicy comes after GetAccessPolicy: it sends back the file it read (see below).
  ['SetAccessPolicy'],
  ['GetSystemUris'],
  ['StartSystemRestore'],
  ['SystemReboot'],
  ['SetSystemFactoryDefault', { FactoryDefault: 'Soft' }],
  ['SetSystemFactoryDefault', { FactoryDefault: 'Hard' }],
];

describe('configure: every request of the issue-4 operation list validates against the official schemas', function () {
  this.timeout(120_000);
  let sim: SimulatedDevice | undefined;
  let device: OnvifDevice | undefined;
  afterEach(async () => {
    await device?.close();
    await sim?.stop();
  });

  it('captures and validates each request the library sends', async function () {
    const why = validationUnavailable();
    if (why) skipWith(this, why);
    sim = new SimulatedDevice({ ...ADMIN, rebootDowntimeMs: 300, discovery: false, processorUsageIntervalMs: 0 });
    await sim.start();
    device = new OnvifDevice({ address: sim.xaddr, ...ADMIN });
    await device.connect();
    let policy: unknown;
    for (const [op, params] of CALLS) {
      const result = await device.call(op, op === 'SetAccessPolicy' ? { PolicyFile: policy } : params);
      if (op === 'GetAccessPolicy') policy = result.PolicyFile;
    }
    const sent = sim.requests.filter((r) => r.method === 'POST' && r.body.includes('Envelope'));
    const operations = new Set(sent.map((r) => r.operation));
    for (const [op] of CALLS) assert.ok(operations.has(op), `${op} was sent`);

    const result = validateRequests('configure-requests', sent);
    console.log(`      ${result.files.length} requests, ${operations.size} operations`);
    assert.equal(result.code, 0, result.output);
  });
});
