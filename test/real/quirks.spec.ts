/**
 * Vendor quirks (shared/fixtures/real/QUIRKS.md) that a user would notice if we got them wrong, each
 * checked on the real capture that shows it. Values asserted here were read off the files by eye.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import {
  profileQStateFromScopes, readDeviceInformation, readDeviceServiceCapabilities, readLegacyCapabilities, readScopes, readServices,
  readSystemDateAndTime,
} from '../../lib/device/readers';
import { decodeElement } from '../../lib/schema';
import { NotSoapError, parseEnvelope } from '../../lib/soap/envelope';
import { describeFault } from '../../lib/soap/fault';
import { parseDigestChallenges } from '../../lib/transport';
import { NS } from '../../lib/xml/namespaces';
import { attr, child, path as xpath, resolveQName, text } from '../../lib/xml/query';
import { skipWith } from '../support/shared';
import { readFixture, REAL_FIXTURES, splitHttpCapture } from './check-capture';

const HOUR = 3600_000;

describe('real captures: vendor quirks users would notice', function () {
  before(function () {
    if (!fs.existsSync(REAL_FIXTURES)) skipWith(this, `skipped: real captures not found at ${REAL_FIXTURES}`);
  });

  it('Reolink GetServices with an undeclared tad: prefix still yields every service and the device capabilities', function () {
    const env = parseEnvelope(readFixture('GetServicesResponse/reolink-bullet-unstated-model-1.xml'));
    const { services, deviceCapabilities } = readServices(env.content);
    assert.deepEqual(
      services.map((s) => s.namespace),
      [NS.tds, NS.tan, NS.timg, NS.tmd, NS.trt, NS.tr2, NS.tev],
    );
    const events = services.find((s) => s.namespace === NS.tev);
    assert.equal(events?.xaddr, 'http://192.168.1.200:8000/onvif/event_service');
    assert.deepEqual(events?.version, { major: 21, minor: 6 });
    // The device service's own capabilities, in the same response, are not lost either.
    const caps = readDeviceServiceCapabilities(deviceCapabilities);
    assert.equal(caps.security.usernameToken, true);
    assert.equal(caps.security.httpDigest, true);
    assert.equal(caps.network.ntp, 1);
    // The offending element itself stays readable by local name.
    const analytics = env.content!.children.find((s) => text(s, 'Namespace') === NS.tan);
    const tad = child(child(analytics, 'Capabilities'), 'Capabilities');
    assert.equal(tad?.prefix, 'tad');
    assert.equal(attr(tad, 'RuleSupport'), 'true');
  });

  it('Reolink echoes the client Security header in the response; it is not read as a fault', function () {
    const env = parseEnvelope(readFixture('GetServicesResponse/reolink-bullet-unstated-model-1.xml'));
    assert.ok(child(env.header, 'Security', NS.wsse), 'the echoed wsse:Security header is there');
    assert.equal(env.fault, undefined);
    assert.equal(env.content?.local, 'GetServicesResponse');
  });

  it('Hikvision `env:Reveiver` reads as env:Receiver, subcodes kept in order', function () {
    const env = parseEnvelope(readFixture('Fault/hikvision-DS-2DF7276-AEL-3.xml'));
    assert.equal(env.fault?.code, 'env:Receiver');
    assert.deepEqual(env.fault?.subcodes, ['ter:InvalidDot11', 'ter:ActionNotSupported']);
    assert.equal(env.fault?.reason, 'IEEE802.11Configuration is not support');
  });

  it('Dahua nested BlockedThreadUpperLimit with an empty reason reads as one subcode and a usable description', function () {
    const env = parseEnvelope(readFixture('Fault/dahua-DH-SD4A425DB-HNY-1.xml'));
    assert.equal(env.fault?.code, 'env:Sender');
    assert.deepEqual(env.fault?.subcodes, ['ter:BlockedThreadUpperLimit']);
    assert.equal(env.fault?.reason, '');
    assert.equal(describeFault(env.fault!), 'env:Sender / ter:BlockedThreadUpperLimit');
  });

  it('Dahua `GMT+08:00` device: UTC time is read from UTCDateTime and the device is 8 hours ahead of UTC', function () {
    const env = parseEnvelope(readFixture('GetSystemDateAndTimeResponse/dahua-probable-same-device-1.xml'));
    const clock = readSystemDateAndTime(env.content);
    assert.equal(clock.utc, '2018-09-12T05:34:10Z');
    assert.equal(clock.timeZone, 'GMT+08:00');
    assert.equal(clock.local, '2018-09-12T13:34:10');
    // POSIX would read GMT+08 as UTC-8; the device's own two clocks say UTC+8.
    assert.equal(Date.parse(`${clock.local}Z`) - Date.parse(clock.utc!), 8 * HOUR);
  });

  it('Pelco and Bosch send no LocalDateTime: UTC is still read, local is absent', function () {
    for (const f of ['pelco-D6230L-1.xml', 'bosch-FLEXIDOME-indoor-5100i-IR-1.xml']) {
      const clock = readSystemDateAndTime(parseEnvelope(readFixture(`GetSystemDateAndTimeResponse/${f}`)).content);
      assert.match(clock.utc ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, f);
      assert.equal(clock.local, undefined, f);
    }
  });

  it('empty Manufacturer reads as an empty string, the other fields are intact', function () {
    const env = parseEnvelope(readFixture('GetDeviceInformationResponse/unbranded-empty-IPD-H4K8M05-BS-1.xml'));
    assert.deepEqual(readDeviceInformation(env.content), {
      manufacturer: '',
      model: 'IPD-H4K8M05-BS',
      firmwareVersion: 'V1.04.10-190309',
      serialNumber: '071D3E36963F',
      hardwareId: '1.0',
    });
  });

  it('Dahua GetCapabilities `<Minor>00</Minor>` reads as 0, and the device version is the highest listed', function () {
    const env = parseEnvelope(readFixture('GetCapabilitiesResponse/dahua-unstated-model-1.xml'));
    const decoded = decodeElement(env.content!) as { Capabilities: { Device: { System: { SupportedVersions: Array<{ Major: number; Minor: number }> } } } };
    assert.deepEqual(decoded.Capabilities.Device.System.SupportedVersions[0], { Major: 2, Minor: 0 });
    const raw = xpath(env.content, 'Capabilities', 'Device', 'System', 'SupportedVersions', 'Minor');
    assert.equal(raw?.text, '00', 'the capture really writes 00');
    const { services } = readLegacyCapabilities(env.content);
    assert.deepEqual(services.find((s) => s.namespace === NS.tds)?.version, { major: 20, minor: 6 });
  });

  it('Profile Q state FactoryDefault is read from Pelco scopes (among non-onvif scope URIs)', function () {
    const scopes = readScopes(parseEnvelope(readFixture('GetScopesResponse/pelco-D6230L-1.xml')).content);
    assert.ok(scopes.includes('urn:schemas-pelco-com:onvif:extensions:1'));
    assert.equal(profileQStateFromScopes(scopes), 'FactoryDefault');
  });

  it('a device without Profile Q scopes reads as Unknown, not FactoryDefault', function () {
    const scopes = readScopes(parseEnvelope(readFixture('GetScopesResponse/axis-Q6045-E-1.xml')).content);
    assert.ok(scopes.length > 0);
    assert.equal(profileQStateFromScopes(scopes), 'Unknown');
  });

  it('dotted attribute names (TLS1.0, X.509Token) are read from GetServiceCapabilities', function () {
    const env = parseEnvelope(readFixture('GetServiceCapabilitiesResponse-device/pelco-D6230L-1.xml'));
    const caps = readDeviceServiceCapabilities(child(env.content, 'Capabilities'));
    assert.equal(caps.security.tls1_0, true);
    assert.equal(caps.security.tls1_2, false);
    assert.equal(caps.security.x509Token, false);
    assert.equal(caps.security.maxUsers, 1024);
  });

  it('Axis SubscriptionId `5 ` is trimmed and keeps its Axis namespace', function () {
    const env = parseEnvelope(readFixture('CreatePullPointSubscriptionResponse/axis-Q6045-E-1.xml'));
    const id = xpath(env.content, 'SubscriptionReference', 'ReferenceParameters', 'SubscriptionId');
    assert.equal(text(id), '5');
    assert.equal(id?.ns, 'http://www.axis.com/2009/event');
  });

  it('TP-Link probe match without any xmlns: undeclared `tdn:` Types still resolves to the NVT type', function () {
    const env = parseEnvelope(readFixture('ProbeMatches/tplink-unstated-TP-IPC-1.xml'));
    const types = xpath(env.content, 'ProbeMatch', 'Types')!;
    const q = resolveQName(types, types.text.trim());
    assert.deepEqual({ ns: q.ns, local: q.local }, { ns: NS.dn, local: 'NetworkVideoTransmitter' });
    assert.equal(text(xpath(env.content, 'ProbeMatch'), 'XAddrs'), 'http://192.168.12.128:2020/onvif/device_service');
  });

  it('Dahua 401 with a folded header, empty opaque and quoted stale="false"', function () {
    const { headers } = splitHttpCapture(readFixture('HTTP401/dahua-IPC-HDW1025C-header-only-1.http.txt'));
    const [c] = parseDigestChallenges(headers['www-authenticate']);
    assert.equal(c?.realm, 'Login to 2J01018PAA00813');
    assert.equal(c?.opaque, '');
    assert.equal(c?.stale, false);
    assert.deepEqual(c?.qop, ['auth']);
    assert.equal(c?.algorithm, 'MD5');
  });

  it('gSOAP/TVT 401 offers qop "auth,auth-int" as a list and carries a SOAP fault body', function () {
    const { status, headers, body } = splitHttpCapture(readFixture('HTTP401/tvt-IPC-fw4.2-1.http.txt'));
    assert.equal(status, 401);
    assert.deepEqual(parseDigestChallenges(headers['www-authenticate'])[0]?.qop, ['auth', 'auth-int']);
    assert.equal(parseEnvelope(body).fault?.reason, 'HTTP Error: 401 Unauthorized');
  });

  it('HTML 404 pages (Thingino, generic camera) give a "not a SOAP envelope" error, not a crash', function () {
    for (const f of ['NonSOAPErrorBody/wyze-thingino-unstated-model-1.html', 'NonSOAPErrorBody/unstated-html_404_camera-1.html']) {
      assert.throws(() => parseEnvelope(readFixture(f)), (e: unknown) => e instanceof NotSoapError && /expected a SOAP Envelope/.test(e.message), f);
    }
  });
});
