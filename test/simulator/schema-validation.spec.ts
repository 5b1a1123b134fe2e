import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedDevice } from '../../lib/simulator';
import { VALIDATE_SH, useValidationDir, validateFiles } from '../support/shared';
import { envelope, post } from './client';

/** One request per implemented operation; the answers must validate against the official WSDL/XSD. */
const REQUESTS: Array<[string, string]> = [
  ['GetServices', '<tds:IncludeCapability>true</tds:IncludeCapability>'],
  ['GetServiceCapabilities', ''],
  ['GetCapabilities', '<tds:Category>All</tds:Category>'],
  ['SetHostname', '<tds:Name>validated</tds:Name>'],
  ['GetHostname', ''],
  ['SetHostnameFromDHCP', '<tds:FromDHCP>false</tds:FromDHCP>'],
  ['SetDNS', '<tds:FromDHCP>false</tds:FromDHCP><tds:SearchDomain>example.org</tds:SearchDomain><tds:DNSManual><tt:Type>IPv4</tt:Type><tt:IPv4Address>10.0.0.53</tt:IPv4Address></tds:DNSManual>'],
  ['GetDNS', ''],
  ['SetNTP', '<tds:FromDHCP>false</tds:FromDHCP><tds:NTPManual><tt:Type>DNS</tt:Type><tt:DNSname>pool.ntp.org</tt:DNSname></tds:NTPManual>'],
  ['GetNTP', ''],
  ['SetNetworkInterfaces', '<tds:InterfaceToken>eth0</tds:InterfaceToken><tds:NetworkInterface><tt:IPv4><tt:Manual><tt:Address>192.168.1.20</tt:Address><tt:PrefixLength>24</tt:PrefixLength></tt:Manual><tt:DHCP>true</tt:DHCP></tt:IPv4></tds:NetworkInterface>'],
  ['GetNetworkInterfaces', ''],
  ['SetNetworkProtocols', '<tds:NetworkProtocols><tt:Name>RTSP</tt:Name><tt:Enabled>true</tt:Enabled><tt:Port>8554</tt:Port></tds:NetworkProtocols>'],
  ['GetNetworkProtocols', ''],
  ['SetNetworkDefaultGateway', '<tds:IPv4Address>192.168.1.1</tds:IPv4Address>'],
  ['GetNetworkDefaultGateway', ''],
  ['SetZeroConfiguration', '<tds:InterfaceToken>eth0</tds:InterfaceToken><tds:Enabled>true</tds:Enabled>'],
  ['GetZeroConfiguration', ''],
  ['GetDeviceInformation', ''],
  ['SetSystemDateAndTime', '<tds:DateTimeType>Manual</tds:DateTimeType><tds:DaylightSavings>true</tds:DaylightSavings><tds:TimeZone><tt:TZ>CET-1CEST,M3.5.0,M10.5.0/3</tt:TZ></tds:TimeZone>'],
  ['GetSystemDateAndTime', ''],
  ['AddScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/porch</tds:ScopeItem>'],
  ['RemoveScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/porch</tds:ScopeItem>'],
  ['SetScopes', '<tds:Scopes>onvif://www.onvif.org/location/yard</tds:Scopes>'],
  ['GetScopes', ''],
  ['SetDiscoveryMode', '<tds:DiscoveryMode>Discoverable</tds:DiscoveryMode>'],
  ['GetDiscoveryMode', ''],
  ['GetEndpointReference', ''],
  ['GetWsdlUrl', ''],
  ['SetHashingAlgorithm', '<tds:Algorithm>SHA-256 MD5</tds:Algorithm>'],
  ['CreateUsers', '<tds:User><tt:Username>viewer</tt:Username><tt:Password>viewer-pass</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User>'],
  ['SetUser', '<tds:User><tt:Username>viewer</tt:Username><tt:Password>viewer-pass2</tt:Password><tt:UserLevel>Operator</tt:UserLevel></tds:User>'],
  ['GetUsers', ''],
  ['DeleteUsers', '<tds:Username>viewer</tds:Username>'],
  ['GetPasswordComplexityOptions', ''],
  ['SetPasswordComplexityConfiguration', '<tds:MinLen>8</tds:MinLen><tds:Uppercase>1</tds:Uppercase><tds:BlockUsernameOccurrence>true</tds:BlockUsernameOccurrence>'],
  ['GetPasswordComplexityConfiguration', ''],
  ['SetSystemFactoryDefault', '<tds:FactoryDefault>Soft</tds:FactoryDefault>'],
  ['SystemReboot', ''],
];

describe('simulator: responses validate against the ONVIF schemas', function () {
  this.timeout(120_000);
  const validation = useValidationDir('onvifq-sim-xsd-');

  it('every implemented operation answers with a schema-valid response', async () => {
    const dev = new SimulatedDevice({ rebootDowntimeMs: 50 });
    await dev.start();
    const files: string[] = [];
    try {
      for (const [op, inner] of REQUESTS) {
        // A factory default restarts the device: the next request waits until it is back.
        const restarted = op === 'SetSystemFactoryDefault' ? once(dev, 'ready') : undefined;
        const r = await post(dev.xaddr, envelope(op, inner));
        assert.equal(r.status, 200, `${op}: ${r.body}`);
        await restarted;
        const file = join(validation.dir, `${op}Response.xml`);
        writeFileSync(file, r.body);
        files.push(file);
      }
    } finally {
      await dev.stop();
    }
    const result = validateFiles(files);
    assert.equal(result.code, 0, `validate.sh failed:\n${result.output}`);
  });

  it('faults validate too', async () => {
    const dev = new SimulatedDevice({ username: 'admin', password: 'Admin-Pass1' });
    await dev.start();
    try {
      const r = await post(dev.xaddr, envelope('GetUsers'));
      const file = join(validation.dir, 'Fault.xml');
      writeFileSync(file, r.body);
      execFileSync('bash', [VALIDATE_SH, '-q', file]);
    } finally {
      await dev.stop();
    }
  });
});
