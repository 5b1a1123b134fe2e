/**
 * Reading WS-Discovery datagrams: every real ProbeMatches/Hello capture, junk that must be ignored,
 * scope and XAddr edge cases.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  buildProbe,
  buildResolve,
  canonicalEndpoint,
  expandTargets,
  parseDiscoveryMessage,
  parseScopes,
  percentDecode,
  rankXAddrs,
  scopesMatch,
  splitXAddrs,
} from '../../lib/discovery';
import { parseXml } from '../../lib/xml/parse';
import { descendants } from '../../lib/xml/query';
import { tmpdir } from 'node:os';
import { skipWith, validateFiles, validationUnavailable } from '../support/shared';
import { PEERS, REAL, realCaptures } from './support';

/** What each capture says, read by hand from the files in fixtures/real/ProbeMatches and Hello. */
const EXPECTED: Record<string, {
  endpoint: string; name?: string; hardware: string; xaddrs: string[]; types: string[]; location?: string; mac?: string;
  profiles: string[]; metadataVersion: number;
}> = {
  'amcrest-IP5M-B1186E-1.xml': {
    endpoint: 'urn:uuid:2a46daf1-86f6-91ad-5458-3d184eb186f6', name: 'Amcrest', hardware: 'IP5M-B1186E',
    xaddrs: ['http://192.168.0.205/onvif/device_service'], types: ['dn:NetworkVideoTransmitter', 'tds:Device'],
    location: 'country/china', profiles: ['Streaming', 'T'], metadataVersion: 1,
  },
  'axis-M2025-LE-1.xml': {
    endpoint: 'urn:uuid:3ea96f68-b845-4c0b-87cf-eee904c4be65', name: 'AXIS M2025-LE', hardware: 'M2025-LE',
    // Ranked for a host on 192.168.0.0/24: local http, other http (link-local), then https in the device's order.
    xaddrs: [
      'http://192.168.0.209/onvif/device_service', 'http://169.254.251.249/onvif/device_service',
      'https://192.168.0.209/onvif/device_service', 'https://169.254.251.249/onvif/device_service',
    ],
    types: ['tds:Device', 'dn:NetworkVideoTransmitter'], profiles: ['Streaming', 'G', 'T'], metadataVersion: 1,
  },
  'dahua-IPC-HFW2228M-I1-V2-1.xml': {
    endpoint: 'urn:uuid:503b687a-b9d7-474f-a2d0-a18c8b25a464', name: 'Dahua', hardware: 'IPC-HFW2228M-I1-V2',
    xaddrs: ['http://192.168.1.45/onvif/device_service'], types: ['dn:NetworkVideoTransmitter', 'tds:Device'],
    location: 'country/china', profiles: ['Streaming'], metadataVersion: 1,
  },
  'hikvision-DS-2CD3955FWD-IWS-1.xml': {
    endpoint: 'urn:uuid:18ec6401-3aa0-11b5-83f6-b4a3820fd92d', name: 'HIKVISION DS-2CD3955FWD-IWS', hardware: 'DS-2CD3955FWD-IWS',
    xaddrs: ['http://192.168.0.218/onvif/device_service', 'http://[fe80::b6a3:82ff:fe0f:d92d]/onvif/device_service'],
    types: ['dn:NetworkVideoTransmitter', 'tds:Device'], location: 'city/hangzhou', profiles: ['Streaming', 'G'], metadataVersion: 10,
  },
  'hikvision-oem-DFI6256TE-1.xml': {
    endpoint: 'urn:uuid:cea94000-fb96-11b3-8260-686dbc5cb15d', hardware: 'DFI6256TE', mac: '68:6d:bc:5c:b1:5d',
    xaddrs: ['http://192.168.12.123/onvif/device_service'], types: ['dn:NetworkVideoTransmitter', 'tds:Device'],
    profiles: ['Streaming'], metadataVersion: 10,
  },
  'tplink-unstated-TP-IPC-1.xml': {
    endpoint: 'urn:uuid:3fa1fe68-b915-4053-a3e1-c006c3afec0e', name: 'TP-IPC', hardware: 'MODEL',
    xaddrs: ['http://192.168.12.128:2020/onvif/device_service'], types: ['dn:NetworkVideoTransmitter'],
    location: 'ShenZhen', profiles: ['Streaming'], metadataVersion: 1,
  },
};
const NETWORKS = [{ address: '192.168.0.10', netmask: '255.255.255.0' }];

describe('discovery: reading real captures', function () {
  before(function () {
    if (!existsSync(REAL)) skipWith(this, `skipped: ${REAL} not found (the team's shared real-device captures)`);
  });

  it('every ProbeMatches capture gives the device with the right name, hardware, XAddrs, types, endpoint and Profile Q state', function () {
    const files = realCaptures('ProbeMatches');
    assert.ok(files.length >= 6, `expected the six vendor captures, found ${files.length}`);
    for (const [file, bytes] of files) {
      const want = EXPECTED[file];
      assert.ok(want, `new capture ${file}: add its expected values to this test`);
      const msg = parseDiscoveryMessage(bytes, '192.168.0.99:3702', NETWORKS);
      assert.ok(msg, `${file} was not read`);
      assert.equal(msg.kind, 'ProbeMatches', file);
      assert.equal(msg.devices.length, 1, file);
      const d = msg.devices[0];
      assert.equal(d.endpoint, want.endpoint, file);
      assert.equal(d.name, want.name, file);
      assert.equal(d.hardware, want.hardware, file);
      assert.deepEqual(d.xaddrs, want.xaddrs, file);
      assert.deepEqual(d.types, want.types, file);
      assert.equal(d.location, want.location, file);
      assert.equal(d.mac, want.mac, file);
      assert.deepEqual(d.profiles, want.profiles, file);
      assert.equal(d.profileQState, 'Unknown', `${file}: no Profile Q scope in this capture`);
      assert.equal(d.metadataVersion, want.metadataVersion, file);
      assert.equal(d.from, '192.168.0.99:3702');
    }
  });

  it('keeps the scopes as sent, junk included (Hikvision OEM "http:123")', function () {
    const [, bytes] = realCaptures('ProbeMatches').find(([f]) => f.startsWith('hikvision-oem'))!;
    const d = parseDiscoveryMessage(bytes)!.devices[0];
    assert.ok(d.scopes.includes('http:123'));
    assert.ok(d.scopes.includes('onvif://www.onvif.org/MAC/68:6d:bc:5c:b1:5d'));
  });

  it('RelatesTo is read with its uuid: or urn:uuid: prefix as written', function () {
    const hik = realCaptures('ProbeMatches').find(([f]) => f.startsWith('hikvision-DS'))!;
    assert.equal(parseDiscoveryMessage(hik[1])!.relatesTo, 'uuid:bfe8bb88-03a2-4e1a-904a-59a7d2882649');
    assert.equal(parseDiscoveryMessage(hik[1])!.messageId, 'urn:uuid:18ec6401-3aa0-11b5-83f6-b4a3820fd92d');
  });

  it('the Dahua Hello capture announces the same device as its ProbeMatch', function () {
    const hellos = realCaptures('Hello');
    assert.ok(hellos.length >= 1);
    for (const [file, bytes] of hellos) {
      const msg = parseDiscoveryMessage(bytes, '192.168.1.45:3702', NETWORKS);
      assert.ok(msg, file);
      assert.equal(msg.kind, 'Hello');
      const want = EXPECTED[file];
      assert.equal(msg.devices[0].endpoint, want.endpoint);
      assert.equal(msg.devices[0].name, want.name);
      assert.equal(msg.devices[0].hardware, want.hardware);
      assert.deepEqual(msg.devices[0].xaddrs, want.xaddrs);
    }
  });

  it('Profile Q state comes from the real GetScopes captures that carry it (Pelco, gSOAP device)', function () {
    for (const file of ['pelco-D6230L-1.xml', 'unstated-gsoap-ns-set-as-milesight-1.xml']) {
      const root = parseXml(readFileSync(path.join(REAL, 'GetScopesResponse', file)));
      const scopes = descendants(root, 'ScopeItem').map((s) => s.text.trim());
      const summary = parseScopes(scopes);
      assert.equal(summary.profileQState, 'FactoryDefault', file);
      assert.ok(summary.profiles.includes('Q'), file);
    }
    const pelco = parseScopes(descendants(parseXml(readFileSync(path.join(REAL, 'GetScopesResponse/pelco-D6230L-1.xml'))), 'ScopeItem').map((s) => s.text));
    assert.equal(pelco.name, 'D6230L-J250117');
    assert.equal(pelco.location, 'country/usa');
    assert.deepEqual(pelco.profiles, ['G', 'Q', 'Streaming']);
  });
});

describe('discovery: junk and non-ONVIF replies are ignored', function () {
  const junk: [string, Buffer | string][] = [
    ['an empty datagram', Buffer.alloc(0)],
    ['malformed XML', '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><d:ProbeMatches><d:ProbeMatch>'],
    ['an HTML page', '<!DOCTYPE html><html><head><title>Router</title></head><body><h1>Welcome</h1></body></html>'],
    ['plain text', 'HTTP/1.1 400 Bad Request\r\n\r\n'],
    ['binary noise', Buffer.from([0xff, 0xfe, 0x00, 0x3c, 0x01, 0x02, 0x80])],
    ['a SOAP fault', '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code></s:Fault></s:Body></s:Envelope>'],
    ['a ProbeMatches without any match', '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><s:Body><d:ProbeMatches/></s:Body></s:Envelope>'],
    ['a printer (non-ONVIF type)', '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:p="http://schemas.microsoft.com/windows/2006/08/wdp/print"><s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:aaaa</a:Address></a:EndpointReference><d:Types>p:PrintDeviceType</d:Types><d:XAddrs>http://10.0.0.9:5357/x</d:XAddrs></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>'],
  ];
  for (const [what, datagram] of junk) {
    it(`${what} → undefined, no exception`, function () {
      assert.equal(parseDiscoveryMessage(datagram, '127.0.0.1:3702'), undefined);
    });
  }

  it('a real Windows-style WSD ProbeMatch (Debian wsdd: wsdp:Device, no XAddrs) → undefined', function () {
    const file = path.join(PEERS, 'wsdd-debian/probe-wsdp-Device.reply1.xml');
    if (!existsSync(file)) skipWith(this, `skipped: ${file} not found`);
    assert.equal(parseDiscoveryMessage(readFileSync(file), '169.254.77.2:3702'), undefined);
  });

  it('a truncated datagram from a real peer (koynovstas/wsd Bye cut short) → undefined', function () {
    const file = path.join(PEERS, 'wsd-koynovstas/multicast-1-Bye.xml');
    if (!existsSync(file)) skipWith(this, `skipped: ${file} not found`);
    assert.equal(parseDiscoveryMessage(readFileSync(file)), undefined);
  });

  it('a real Bye from another ONVIF server (roleoroleo) is read as a Bye of that endpoint', function () {
    const file = path.join(PEERS, 'wsd-roleoroleo/multicast-1-Bye.xml');
    if (!existsSync(file)) skipWith(this, `skipped: ${file} not found`);
    const msg = parseDiscoveryMessage(readFileSync(file), '127.0.0.1:3702');
    assert.equal(msg?.kind, 'Bye');
    assert.equal(msg?.devices[0].endpoint, 'urn:uuid:cf42c1e8-5d21-513e-a915-aeb28c4ef818');
    assert.equal(msg?.devices[0].name, 'OSS-Test');
  });

  it('a Bye with only the endpoint (Types omitted, as many devices send it) is kept', function () {
    const bye = '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:MessageID>uuid:1</a:MessageID></s:Header><s:Body><d:Bye><a:EndpointReference><a:Address>uuid:ABCDEF01-0000-0000-0000-000000000001</a:Address></a:EndpointReference></d:Bye></s:Body></s:Envelope>';
    const msg = parseDiscoveryMessage(bye);
    assert.equal(msg?.kind, 'Bye');
    assert.equal(msg?.devices[0].endpoint, 'urn:uuid:abcdef01-0000-0000-0000-000000000001');
  });

  it('one ONVIF match next to a Windows match in the same reply: the ONVIF one is kept', function () {
    const mixed = '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsdp="http://schemas.xmlsoap.org/ws/2006/02/devprof" xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Body><d:ProbeMatches>'
      + '<d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:1</a:Address></a:EndpointReference><d:Types>wsdp:Device</d:Types></d:ProbeMatch>'
      + '<d:ProbeMatch><a:EndpointReference><a:Address>uuid:2</a:Address></a:EndpointReference><d:Types>dn:NetworkVideoTransmitter</d:Types><d:XAddrs>http://10.1.1.1/onvif/device_service</d:XAddrs></d:ProbeMatch>'
      + '</d:ProbeMatches></s:Body></s:Envelope>';
    const msg = parseDiscoveryMessage(mixed);
    assert.deepEqual(msg?.devices.map((d) => d.endpoint), ['urn:uuid:2']);
  });
});

describe('discovery: scopes', function () {
  it('percent-decoding leaves junk escapes as written', function () {
    assert.equal(percentDecode('AXIS%20M2025-LE'), 'AXIS M2025-LE');
    assert.equal(percentDecode('bad%zzname'), 'bad%zzname');
    assert.equal(percentDecode('100%'), '100%');
    assert.equal(percentDecode('caf%C3%A9'), 'café');
    assert.equal(percentDecode('half%C3'), 'half%C3'); // a lone UTF-8 lead byte stays as written
    assert.equal(percentDecode('a%2Fb%41'), 'a/bA');
  });

  it('categories are case-tolerant, junk scopes are skipped, first value wins', function () {
    const s = parseScopes([
      'http:123', '', '   ', 'not a uri', 'onvif://www.onvif.org/', 'onvif://www.onvif.org/name/',
      'ONVIF://WWW.ONVIF.ORG/Name/Front%20door', 'onvif://www.onvif.org/name/Second',
      'onvif://www.onvif.org/HARDWARE/X%zz1', 'onvif://www.onvif.org/profile/streaming', 'onvif://www.onvif.org/Profile/Streaming',
      'onvif://www.onvif.org/profile/q/operational', 'onvif://www.onvif.org/MacAddress/00:11:22:33:44:55',
      'onvif://www.onvif.org/SerialNumber/SN%2042', 'onvif://www.onvif.org/location/building/2/floor%203',
      'urn:schemas-pelco-com:onvif:extensions:1',
    ]);
    assert.equal(s.name, 'Front door');
    assert.equal(s.hardware, 'X%zz1');
    assert.deepEqual(s.profiles, ['Streaming', 'Q']);
    assert.equal(s.profileQState, 'Operational');
    assert.equal(s.mac, '00:11:22:33:44:55');
    assert.equal(s.serial, 'SN 42');
    assert.equal(s.location, 'building/2/floor 3');
  });

  it('Profile Q state: FactoryDefault, Operational, or Unknown without a Q state scope', function () {
    assert.equal(parseScopes(['onvif://www.onvif.org/Profile/Q/FactoryDefault']).profileQState, 'FactoryDefault');
    assert.equal(parseScopes(['onvif://www.onvif.org/Profile/Q/Operational/']).profileQState, 'Operational');
    assert.equal(parseScopes(['onvif://www.onvif.org/Profile/Q']).profileQState, 'Unknown');
    assert.equal(parseScopes(['onvif://www.onvif.org/Profile/Q/Sideways']).profileQState, 'Unknown');
    assert.equal(parseScopes([]).profileQState, 'Unknown');
  });

  it('rfc3986 matching is by whole segment and tolerates case', function () {
    const scopes = ['onvif://www.onvif.org/hardware/D1-566', 'onvif://www.onvif.org/Profile/Q/Operational', 'http:123'];
    assert.equal(scopesMatch(['onvif://www.onvif.org/hardware/D1'], scopes), false);
    assert.equal(scopesMatch(['onvif://www.onvif.org/hardware/D1-566'], scopes), true);
    assert.equal(scopesMatch(['onvif://www.onvif.org/profile/q'], scopes), true);
    assert.equal(scopesMatch(['onvif://www.onvif.org/Profile/Q', 'onvif://www.onvif.org/hardware'], scopes), true);
    assert.equal(scopesMatch(['onvif://www.onvif.org/Profile/G'], scopes), false);
  });
});

describe('discovery: endpoints, XAddrs, targets, the Probe', function () {
  it('uuid: and urn:uuid: (any case) are one endpoint; other forms kept as written', function () {
    assert.equal(canonicalEndpoint('uuid:2A46DAF1-86F6-91AD-5458-3D184EB186F6'), 'urn:uuid:2a46daf1-86f6-91ad-5458-3d184eb186f6');
    assert.equal(canonicalEndpoint(' URN:UUID:2a46daf1-86f6-91ad-5458-3d184eb186f6 '), 'urn:uuid:2a46daf1-86f6-91ad-5458-3d184eb186f6');
    assert.equal(canonicalEndpoint('http://10.0.0.5/epr'), 'http://10.0.0.5/epr');
  });

  it('XAddrs split on any whitespace; ranked local http, other http, https, IPv6', function () {
    const split = splitXAddrs('\n  https://192.168.0.9/onvif/device_service\thttp://[fe80::1]/onvif/device_service\r\n'
      + 'http://10.9.9.9:8000/onvif/device_service   http://192.168.0.9/onvif/device_service not-a-url https://[fe80::1]/x http://192.168.0.9/onvif/device_service');
    assert.equal(split.length, 5, 'junk token dropped, duplicate dropped');
    assert.deepEqual(rankXAddrs(split, NETWORKS), [
      'http://192.168.0.9/onvif/device_service',
      'http://10.9.9.9:8000/onvif/device_service',
      'https://192.168.0.9/onvif/device_service',
      'http://[fe80::1]/onvif/device_service',
      'https://[fe80::1]/x',
    ]);
    // The address the reply came from counts as local even across a router.
    assert.equal(rankXAddrs(split, NETWORKS, '10.9.9.9')[0], 'http://10.9.9.9:8000/onvif/device_service');
  });

  it('targets: address, address:port, last-octet range, CIDR up to /22; bad ones are refused with a reason', function () {
    assert.deepEqual(expandTargets(['127.0.0.1'], 3702), [{ address: '127.0.0.1', port: 3702 }]);
    assert.deepEqual(expandTargets(['127.0.0.1:4000'], 3702), [{ address: '127.0.0.1', port: 4000 }]);
    assert.deepEqual(expandTargets(['10.0.0.5-7'], 3702).map((t) => t.address), ['10.0.0.5', '10.0.0.6', '10.0.0.7']);
    const net = expandTargets(['192.168.4.77/24'], 3702);
    assert.equal(net.length, 254);
    assert.equal(net[0].address, '192.168.4.1');
    assert.equal(net[253].address, '192.168.4.254');
    assert.equal(expandTargets(['10.0.0.0/22'], 3702).length, 1022);
    assert.equal(expandTargets(['10.0.0.1', '10.0.0.1-2'], 3702).length, 2, 'no duplicates');
    for (const bad of ['10.0.0.0/21', 'camera.local', '10.0.0.300', '10.0.0.9-3', '10.0.0.1:70000', '']) {
      assert.throws(() => expandTargets([bad], 3702), (e: Error & { kind?: string }) => e.kind === 'invalid-input' && e.message.includes('target'), bad);
    }
  });

  it('the Probe is conservative: uuid: MessageID, prefixes declared on the Envelope, one type', function () {
    const xml = buildProbe('uuid:0d3e1c4a-9a51-4d8e-b0f3-2f1f6f9f7a11', 'dn:NetworkVideoTransmitter');
    const envelopeTag = /^<\?xml[^>]*\?><s:Envelope[^>]*>/.exec(xml)![0];
    assert.ok(envelopeTag.includes('xmlns:dn="http://www.onvif.org/ver10/network/wsdl"'));
    assert.ok(envelopeTag.includes('xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"'));
    assert.ok(xml.includes('<a:MessageID>uuid:0d3e1c4a-9a51-4d8e-b0f3-2f1f6f9f7a11</a:MessageID>'));
    assert.equal((xml.match(/xmlns:/g) ?? []).length, (envelopeTag.match(/xmlns:/g) ?? []).length, 'no declarations below the Envelope');
    const msg = parseDiscoveryMessage(xml);
    assert.equal(msg?.kind, 'Probe');
  });

  it('the Probe and the Resolve we send validate against the WS-Discovery 2005/04 schema (validate.sh)', function () {
    const why = validationUnavailable();
    if (why) skipWith(this, why);
    const dir = mkdtempSync(path.join(tmpdir(), 'onvifq-wsd-'));
    const files = [
      ['probe.xml', buildProbe('uuid:0d3e1c4a-9a51-4d8e-b0f3-2f1f6f9f7a11', 'tds:Device', ['onvif://www.onvif.org/Profile/Q'])],
      ['resolve.xml', buildResolve('uuid:0d3e1c4a-9a51-4d8e-b0f3-2f1f6f9f7a12', 'urn:uuid:3ea96f68-b845-4c0b-87cf-eee904c4be65')],
    ].map(([name, xml]) => {
      writeFileSync(path.join(dir, name), xml);
      return path.join(dir, name);
    });
    const r = validateFiles(files);
    assert.equal(r.code, 0, r.output);
  });
});
