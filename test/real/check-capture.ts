/**
 * Checks one real-device capture against its independent expectation (expected.json, written by
 * derive-expected.py, which shares no code with lib/): parse it with the entry point a client would use,
 * then compare the key fields of its category with what our readers return. Used by real-captures.spec.ts.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  profileQStateFromScopes,
  readDeviceInformation,
  readDeviceServiceCapabilities,
  readLegacyCapabilities,
  readScopes,
  readServices,
  readSystemDateAndTime,
} from '../../lib/device/readers';
import { decodeElement } from '../../lib/schema';
import { NotSoapError, parseEnvelope } from '../../lib/soap/envelope';
import { chooseReason, type SoapFault } from '../../lib/soap/fault';
import { parseAuthChallenges, parseDigestChallenges } from '../../lib/transport';
import { NS, PREFIX_FOR_NS } from '../../lib/xml/namespaces';
import { parseXml, type XmlElement } from '../../lib/xml/parse';
import { attr, child, children, descendants, resolveQName, text } from '../../lib/xml/query';

export const REAL_FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/real');
export const EXPECTED_FILE = path.join(__dirname, 'expected.json');

export type Expected = Record<string, any>;

export function listFixtures(root: string): string[] {
  const out: string[] = [];
  for (const dir of fs.readdirSync(root, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue; // QUIRKS.md, SOURCES.md
    for (const f of fs.readdirSync(path.join(root, dir.name), { withFileTypes: true })) {
      if (f.isFile()) out.push(`${dir.name}/${f.name}`);
    }
  }
  return out.sort();
}

export function readFixture(rel: string): string {
  return fs.readFileSync(path.join(REAL_FIXTURES, rel), 'utf8');
}

// ------------------------------------------------------------------ helpers

const collapse = (s: string | undefined | null) => (s ?? '').replace(/\s+/g, ' ').trim();
const localPart = (q: string) => q.slice(q.lastIndexOf(':') + 1);
const splitWs = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean);
const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/** Text of a child, or null when the child is absent (the extractor's `None`). */
function textOrNull(el: XmlElement | undefined, local: string): string | null {
  return orNull(text(el, local));
}

/** xs:boolean as written in a capture; anything else is a bad expectation, not a device value we can compare. */
function xsBoolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  assert.ok(['true', 'false', '1', '0'].includes(v), `"${raw}" is not an xs:boolean`);
  return v === 'true' || v === '1';
}

const TOP_CODES = ['Sender', 'Receiver', 'VersionMismatch', 'MustUnderstand', 'DataEncodingUnknown'];

/** Compare a fault read by lib/soap/fault with the extractor's raw view of the same Fault element. */
function assertFault(actual: SoapFault | undefined, exp: any): void {
  assert.ok(actual, 'a SOAP fault was expected');
  // The code reads as `env:<Name>`; the Hikvision misspelling `Reveiver` (QUIRKS.md §5) reads as Receiver.
  const expLocal: string = exp.code.local === 'Reveiver' ? 'Receiver' : exp.code.local;
  assert.ok(TOP_CODES.includes(expLocal), `unexpected top-level code in capture: ${exp.code.raw}`);
  assert.equal(exp.code.ns ?? NS.soap, NS.soap, `fault code ${exp.code.raw} should be in the SOAP 1.2 namespace`);
  assert.equal(actual.code, `env:${expLocal}`);
  // Nested repeats of the same subcode (Dahua BlockedThreadUpperLimit) collapse to one, by design.
  const expSub: any[] = exp.subcodes.filter((s: any, i: number, a: any[]) => i === 0 || a[i - 1].raw !== s.raw);
  assert.deepEqual(actual.subcodes.map(localPart), expSub.map((s) => s.local));
  expSub.forEach((s, i) => {
    // Subcodes are rendered with our prefix for their namespace, whatever prefix the device wrote.
    const ours = actual.subcodes[i]!;
    const ourPrefix = ours.includes(':') ? ours.slice(0, ours.indexOf(':')) : '';
    const ourNs = Object.keys(PREFIX_FOR_NS).find((ns) => PREFIX_FOR_NS[ns] === ourPrefix);
    if (ourNs) assert.equal(ourNs, s.ns ?? ourNs, `subcode ${ours} vs ${s.raw} declared as ${s.ns}`);
    else assert.equal(ourPrefix, s.raw.includes(':') ? s.raw.slice(0, s.raw.indexOf(':')) : '', `subcode ${ours} vs ${s.raw}`);
  });
  // Every language is kept; the reason shown is one of them (preferred language, else English, else the first).
  assert.deepEqual(actual.reasons.map((r) => r.text), (exp.reasons as string[]).filter(Boolean));
  assert.equal(actual.reason, chooseReason(actual.reasons)?.text ?? '');
  const expDetail = collapse(exp.detail);
  if (expDetail && expDetail !== 'NULL') assert.equal(collapse(actual.detail), expDetail);
  else assert.equal(actual.detail, undefined);
}

/** ProbeMatches / Hello entries through the element tree (no dedicated discovery reader in lib/ yet). */
function readDiscoveryEntries(content: XmlElement): Array<Record<string, unknown>> {
  const entries = content.local === 'ProbeMatches' ? children(content, 'ProbeMatch', NS.wsd) : [content];
  return entries.map((e) => {
    const types = child(e, 'Types');
    // Types are QNames; their prefixes may be undeclared (TP-Link `tdn:`) and must still resolve.
    for (const t of splitWs(types?.text)) {
      const q = resolveQName(types!, t);
      assert.ok([NS.dn, NS.tds].includes(q.ns as never), `Types entry ${t} should resolve to the dn or tds namespace, got ${q.ns}`);
    }
    const mv = text(e, 'MetadataVersion');
    return {
      address: orNull(text(child(e, 'EndpointReference'), 'Address')),
      types: splitWs(types?.text),
      xaddrs: splitWs(text(e, 'XAddrs')),
      scopes: splitWs(text(e, 'Scopes')),
      metadataVersion: mv !== undefined && /^\d+$/.test(mv) ? Number(mv) : null,
    };
  });
}

/** wsnt:NotificationMessage elements below `container`, as the event layer sees them. */
function readNotificationMessages(container: XmlElement): Array<Record<string, unknown>> {
  return descendants(container, 'NotificationMessage').map((nm) => {
    assert.equal(nm.ns, NS.wsnt, 'NotificationMessage should resolve to the WS-BaseNotification namespace');
    const topic = child(nm, 'Topic');
    const msg = child(child(nm, 'Message'), 'Message');
    const items = (part: string) =>
      children(child(msg, part), 'SimpleItem').map((si) => ({ name: orNull(attr(si, 'Name')), value: orNull(attr(si, 'Value')) }));
    return {
      topic: topic ? topic.text.trim() : null,
      dialect: orNull(attr(topic, 'Dialect')),
      utcTime: orNull(attr(msg, 'UtcTime')),
      propertyOperation: orNull(attr(msg, 'PropertyOperation')),
      source: items('Source'),
      data: items('Data'),
    };
  });
}

/** Paths (local names) of the topic-set elements flagged wstop:topic="true". */
function topicPaths(topicSet: XmlElement | undefined): string[] {
  const out: string[] = [];
  const walk = (el: XmlElement, trail: string[]) => {
    for (const c of el.children) {
      const here = [...trail, c.local];
      if (attr(c, 'topic') === 'true') out.push(here.join('/'));
      walk(c, here);
    }
  };
  if (topicSet) walk(topicSet, []);
  return out;
}

const toInt = (s: string | undefined) => (s !== undefined && /^[+-]?\d+$/.test(s.trim()) ? parseInt(s.trim(), 10) : null);

/** GetServiceCapabilities attribute name -> the field name our reader uses (`TLS1.0` -> tls1_0, `X.509Token` -> x509Token). */
const fieldKey = (name: string) => name.toLowerCase().replace(/[._]/g, '');

/** Split a raw HTTP capture into status, headers (lower-case names, folded lines joined) and body. */
export function splitHttpCapture(raw: string): { status?: number; headers: Record<string, string>; body: string } {
  const text = raw.replace(/\r\n/g, '\n');
  const cut = text.indexOf('\n\n');
  const head = cut < 0 ? text : text.slice(0, cut);
  const body = cut < 0 ? '' : text.slice(cut + 2);
  const lines = head.split('\n');
  let status: number | undefined;
  if (lines[0]?.startsWith('HTTP/')) status = Number(lines.shift()!.split(' ')[1]);
  const headers: Record<string, string> = {};
  let last = '';
  for (const line of lines) {
    if (/^[ \t]/.test(line) && last) headers[last] += ` ${line.trim()}`;
    else if (line.includes(':')) {
      last = line.slice(0, line.indexOf(':')).trim().toLowerCase();
      headers[last] = line.slice(line.indexOf(':') + 1).trim();
    }
  }
  return { status, headers, body };
}

/** A simple value decoded by lib/schema against the raw text the extractor saw (null = absent). */
function assertSimple(decoded: unknown, raw: string | null, what: string): void {
  if (raw === null) return assert.equal(decoded, undefined, what);
  if (typeof decoded === 'boolean') return assert.equal(decoded, xsBoolean(raw), `${what}="${raw}"`);
  if (typeof decoded === 'number') return assert.equal(decoded, Number(raw), `${what}="${raw}"`);
  assert.equal(decoded, raw, what);
}

/** An xs:dateTime decoded by lib/schema (normalised to UTC) against the text the device wrote. */
function assertInstant(decoded: unknown, raw: string | null, what: string): void {
  if (raw === null) return assert.equal(decoded, undefined, what);
  const written = Date.parse(/(Z|[+-]\d\d:\d\d)$/.test(raw) ? raw : `${raw}Z`);
  if (Number.isFinite(written)) assert.equal(Date.parse(String(decoded)), written, `${what}: ${String(decoded)} vs ${raw}`);
  else assert.equal(decoded, raw, what);
}

/** The address of a tt:IPAddress / tt:NetworkHost, whichever form the device used. */
const hostAddress = (h: any): string | null => h.IPv4Address || h.IPv6Address || h.DNSname || null;

// ------------------------------------------------------------------ per category

type Check = (content: XmlElement, fields: any, rel: string) => void;

const SOAP_CHECKS: Record<string, Check> = {
  GetDeviceInformationResponse(content, f) {
    const info = readDeviceInformation(content);
    assert.deepEqual(
      { Manufacturer: info.manufacturer, Model: info.model, FirmwareVersion: info.firmwareVersion, SerialNumber: info.serialNumber, HardwareId: info.hardwareId },
      { Manufacturer: f.Manufacturer ?? '', Model: f.Model ?? '', FirmwareVersion: f.FirmwareVersion ?? '', SerialNumber: f.SerialNumber ?? '', HardwareId: f.HardwareId ?? '' },
    );
  },

  GetServicesResponse(content, f) {
    const { services } = readServices(content);
    assert.deepEqual(
      services.map((s) => ({ namespace: s.namespace, xaddr: s.reportedXaddr, major: s.version.major, minor: s.version.minor })),
      f.services,
    );
  },

  GetCapabilitiesResponse(content, f) {
    const { services } = readLegacyCapabilities(content);
    const CATEGORY_NS: Record<string, string> = { Device: NS.tds, Events: NS.tev, Media: NS.trt, Imaging: NS.timg, PTZ: NS.tptz, Analytics: NS.tan };
    const EXTENSION_NS: Record<string, string> = {
      DeviceIO: NS.tmd, Recording: 'http://www.onvif.org/ver10/recording/wsdl', Search: 'http://www.onvif.org/ver10/search/wsdl',
      Replay: 'http://www.onvif.org/ver10/replay/wsdl', Receiver: 'http://www.onvif.org/ver10/receiver/wsdl',
      AnalyticsDevice: 'http://www.onvif.org/ver10/analyticsdevice/wsdl', Display: 'http://www.onvif.org/ver10/display/wsdl',
    };
    const expectedServices = [
      ...Object.entries(f.categories as Record<string, string>).filter(([c]) => CATEGORY_NS[c]).map(([c, x]) => ({ namespace: CATEGORY_NS[c], xaddr: x })),
      ...Object.entries(f.extensionCategories as Record<string, string>).filter(([c]) => EXTENSION_NS[c]).map(([c, x]) => ({ namespace: EXTENSION_NS[c], xaddr: x })),
    ];
    const byNs = (a: { namespace: string }, b: { namespace: string }) => a.namespace.localeCompare(b.namespace);
    assert.deepEqual(services.map((s) => ({ namespace: s.namespace, xaddr: s.reportedXaddr })).sort(byNs), expectedServices.sort(byNs));
    // The device service takes the highest SupportedVersions entry (Dahua writes Minor `00`).
    const versions = f.deviceSupportedVersions as Array<{ major: number; minor: number }>;
    const best = [...versions].sort((a, b) => b.major - a.major || b.minor - a.minor)[0];
    const device = services.find((s) => s.namespace === NS.tds);
    if (device && best) assert.deepEqual(device.version, best);
    const caps0 = child(content, 'Capabilities');
    const listed = children(child(child(caps0, 'Device'), 'System'), 'SupportedVersions');
    assert.deepEqual(listed.map((v) => ({ major: toInt(text(v, 'Major')), minor: toInt(text(v, 'Minor')) })), versions);
    // Categories the session does not map to a service (Recording, vendor `hikCapabilities`, ...) still read from the tree.
    const caps = child(content, 'Capabilities');
    for (const [cat, x] of Object.entries(f.extensionCategories as Record<string, string>)) {
      assert.equal(text(child(child(caps, 'Extension'), cat), 'XAddr'), x, `Extension/${cat}/XAddr`);
    }
  },

  'GetServiceCapabilitiesResponse-device'(content, f) {
    const caps = child(content, 'Capabilities');
    const ours = readDeviceServiceCapabilities(caps) as unknown as Record<string, Record<string, unknown>>;
    const SECTION: Record<string, string> = { Network: 'network', Security: 'security', System: 'system', Misc: 'system' };
    let modelled = 0;
    for (const [part, attrs] of Object.entries(f as Record<string, Record<string, string>>)) {
      const section = ours[SECTION[part]!] ?? {};
      for (const [name, raw] of Object.entries(attrs)) {
        const key = part === 'Misc' && name === 'AuxiliaryCommands' ? 'addons' : Object.keys(section).find((k) => fieldKey(k) === fieldKey(name));
        if (key === undefined) {
          // Not a field of DeviceCapabilities (e.g. Dot1XConfigurations): it must still be readable from the tree.
          assert.equal(attr(child(caps, part), name), raw, `${part}@${name}`);
          continue;
        }
        modelled++;
        const got = section[key];
        if (typeof got === 'boolean') assert.equal(got, xsBoolean(raw), `${part}@${name}="${raw}"`);
        else if (typeof got === 'number') assert.equal(got, Number(raw), `${part}@${name}="${raw}"`);
        else if (Array.isArray(got)) assert.deepEqual(got.map(String), splitWs(raw), `${part}@${name}="${raw}"`);
        else assert.fail(`${part}@${name}="${raw}" read as ${JSON.stringify(got)}`);
      }
    }
    assert.ok(modelled > 0, 'no capability attribute was read by readDeviceServiceCapabilities');
  },

  'GetServiceCapabilitiesResponse-events'(content, f) {
    const caps = (decodeElement(content) as any).Capabilities;
    assert.ok(caps, 'tev:Capabilities present');
    for (const [name, raw] of Object.entries(f.attributes as Record<string, string>)) assertSimple(caps[name], raw, name);
  },

  GetSystemDateAndTimeResponse(content, f) {
    const clock = readSystemDateAndTime(content);
    assert.equal(orNull(clock.utc), f.utc, 'UTC time');
    assert.equal(orNull(clock.local), f.local, 'local time');
    assert.equal(orNull(clock.dateTimeType), f.dateTimeType || null);
    assert.equal(orNull(clock.timeZone), f.tz || null);
    assert.equal(orNull(clock.daylightSavings), f.daylightSavings === null ? null : xsBoolean(f.daylightSavings));
  },

  GetScopesResponse(content, f) {
    const scopes = readScopes(content);
    assert.deepEqual(scopes, f.scopes);
    const q = String(f.profileQ ?? '').toLowerCase();
    assert.equal(profileQStateFromScopes(scopes), q === 'factorydefault' ? 'FactoryDefault' : q === 'operational' ? 'Operational' : 'Unknown');
  },

  GetUsersResponse(content, f) {
    const d = decodeElement(content) as any;
    assert.deepEqual(d.User.map((u: any) => ({ username: orNull(u.Username), level: orNull(u.UserLevel) })), f.users);
  },

  GetHostnameResponse(content, f) {
    const h = (decodeElement(content) as any).HostnameInformation;
    assertSimple(h.FromDHCP, f.fromDHCP, 'FromDHCP');
    assert.equal(orNull(h.Name), f.name);
  },

  GetDNSResponse(content, f) {
    const d = (decodeElement(content) as any).DNSInformation;
    assertSimple(d.FromDHCP, f.fromDHCP, 'FromDHCP');
    assert.deepEqual(d.SearchDomain, f.searchDomain);
    assert.deepEqual(d.DNSManual.map(hostAddress), f.manual);
    assert.deepEqual(d.DNSFromDHCP.map(hostAddress), f.fromDHCPServers);
  },

  GetNTPResponse(content, f) {
    const n = (decodeElement(content) as any).NTPInformation;
    assertSimple(n.FromDHCP, f.fromDHCP, 'FromDHCP');
    assert.deepEqual(n.NTPManual.map(hostAddress), f.manual);
    assert.deepEqual(n.NTPFromDHCP.map(hostAddress), f.fromDHCPServers);
  },

  GetNetworkInterfacesResponse(content, f) {
    const got = (decodeElement(content) as any).NetworkInterfaces as any[];
    assert.equal(got.length, f.interfaces.length);
    got.forEach((i, n) => {
      const e = f.interfaces[n];
      assert.equal(orNull(i.token), e.token);
      assertSimple(i.Enabled, e.enabled, 'Enabled');
      assert.equal(orNull(i.Info?.Name), e.name);
      assert.equal(orNull(i.Info?.HwAddress), e.hwAddress);
      assert.deepEqual((i.IPv4?.Config?.Manual ?? []).map((m: any) => m.Address), e.ipv4Manual);
      assertSimple(i.IPv4?.Config?.DHCP, e.ipv4DHCP, 'IPv4 DHCP');
    });
  },

  GetNetworkProtocolsResponse(content, f) {
    const got = (decodeElement(content) as any).NetworkProtocols as any[];
    assert.deepEqual(got.map((p) => ({ name: p.Name, ports: p.Port })), f.protocols.map((p: any) => ({ name: p.name, ports: p.ports })));
    got.forEach((p, i) => assertSimple(p.Enabled, f.protocols[i].enabled, `${p.Name} Enabled`));
  },

  GetNetworkDefaultGatewayResponse(content, f) {
    const g = (decodeElement(content) as any).NetworkGateway;
    assert.deepEqual({ ipv4: g.IPv4Address, ipv6: g.IPv6Address }, f);
  },

  GetSystemUrisResponse(content, f) {
    const d = decodeElement(content) as any;
    assert.deepEqual((d.SystemLogUris?.SystemLog ?? []).map((l: any) => ({ type: orNull(l.Type), uri: orNull(l.Uri) })), f.systemLogs);
    assert.equal(orNull(d.SupportInfoUri), f.supportInfoUri);
    assert.equal(orNull(d.SystemBackupUri), f.systemBackupUri);
    assert.equal(Object.keys(d).length === 0, f.empty);
  },

  ProbeMatches(content, f) {
    assert.equal(content.ns, NS.wsd, 'ProbeMatches in the WS-Discovery 2005/04 namespace');
    assert.deepEqual(readDiscoveryEntries(content), f.matches);
  },

  Hello(content, f) {
    assert.equal(content.ns, NS.wsd, 'Hello in the WS-Discovery 2005/04 namespace');
    assert.deepEqual(readDiscoveryEntries(content), f.matches);
  },

  PullMessagesResponse(content, f) {
    const d = decodeElement(content) as any;
    assertInstant(d.CurrentTime, f.currentTime, 'CurrentTime');
    assertInstant(d.TerminationTime, f.terminationTime, 'TerminationTime');
    assert.equal(d.NotificationMessage.length, f.messages.length);
    // Topic text, dialect and data items are compared on the element tree, where the event layer reads them.
    assert.deepEqual(readNotificationMessages(content), f.messages);
  },

  CreatePullPointSubscriptionResponse(content, f) {
    const d = decodeElement(content) as any;
    assert.equal(d.SubscriptionReference.Address, f.address);
    assertInstant(d.CurrentTime, f.currentTime, 'CurrentTime');
    assertInstant(d.TerminationTime, f.terminationTime, 'TerminationTime');
    // Reference parameters must be echoed back with their namespace (Axis, Pelco): check it on the tree.
    const ref = child(content, 'SubscriptionReference');
    const params = child(ref, 'ReferenceParameters');
    assert.deepEqual((params?.children ?? []).map((p) => ({ local: p.local, ns: p.ns, value: p.text.trim() })), f.referenceParameters);
    // Whichever prefix the vendor used (wsa:, wsa5:), the Address is WS-Addressing 2005/08.
    assert.equal(child(ref, 'Address')?.ns, NS.wsa);
  },

  RenewResponse(content, f) {
    const d = decodeElement(content) as any;
    assertInstant(d.CurrentTime, f.currentTime, 'CurrentTime');
    assertInstant(d.TerminationTime, f.terminationTime, 'TerminationTime');
  },

  SetSynchronizationPointResponse(content, f) {
    assert.equal(content.ns, NS.tev);
    assert.equal(content.children.length, f.childCount);
  },

  GetEventPropertiesResponse(content, f) {
    assert.deepEqual(
      {
        topicNamespaceLocation: children(content, 'TopicNamespaceLocation').map((x) => x.text.trim()),
        fixedTopicSet: textOrNull(content, 'FixedTopicSet'),
        dialects: children(content, 'TopicExpressionDialect').map((x) => x.text.trim()),
        topics: topicPaths(child(content, 'TopicSet')),
      },
      f,
    );
    assert.ok(f.topics.length > 0, 'a topic set with at least one topic');
  },

  AxisGetEventInstancesResponse(content, f) {
    assert.deepEqual(topicPaths(child(content, 'TopicSet')), f.topics);
    assert.ok(f.topics.length > 0, 'a topic set with at least one topic');
  },
};

// ------------------------------------------------------------------ one test per file

export function checkFixture(rel: string, exp: Expected): void {
  const raw = readFixture(rel);
  switch (exp.kind) {
    case 'soap': {
      const env = parseEnvelope(raw);
      // An envelope prefix the capture never declares (stripped probe replies) is read as SOAP 1.2, the only
      // version real devices were seen to send (QUIRKS.md §1).
      assert.equal(env.envelope.ns, exp.envelopeNs ?? NS.soap);
      assert.equal(env.soapVersion, '1.2');
      assert.equal(env.content?.local, exp.contentLocal);
      if (exp.fault) {
        assertFault(env.fault, exp.fault);
        return;
      }
      assert.equal(env.fault, undefined, 'no fault expected');
      const check = SOAP_CHECKS[exp.category];
      assert.ok(check, `no check written for category ${exp.category}`);
      check(env.content!, exp.fields, rel);
      return;
    }
    case 'metadata': {
      const root = parseXml(raw);
      assert.equal(root.local, exp.root);
      assert.equal(root.ns, NS.tt);
      assert.deepEqual(readNotificationMessages(root), exp.messages);
      return;
    }
    case 'fragment': {
      // Notification fragments have several roots and no namespace declarations: wrap them, the parser binds
      // the conventional prefixes (wsnt, tt, tns1).
      const root = parseXml(`<fragment-root>${raw.replace(/^\s*<\?xml[^>]*\?>/, '')}</fragment-root>`);
      assert.equal(root.children.length, exp.rootCount);
      assert.deepEqual(readNotificationMessages(root), exp.messages);
      return;
    }
    case 'http': {
      let headers: Record<string, string>;
      let status: number | undefined;
      let body = '';
      if (rel.endsWith('.json')) {
        headers = Object.fromEntries(Object.entries(JSON.parse(raw) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
      } else {
        ({ headers, status, body } = splitHttpCapture(raw));
      }
      assert.equal(orNull(status), exp.status);
      if (exp.challenges) {
        const all = parseAuthChallenges(headers['www-authenticate']);
        assert.deepEqual(all.map((c) => ({ scheme: c.scheme, params: c.params })), exp.challenges);
        const digest = parseDigestChallenges(headers['www-authenticate']);
        const expDigest = (exp.challenges as any[]).filter((c) => c.scheme.toLowerCase() === 'digest');
        assert.equal(digest.length, expDigest.length);
        digest.forEach((d, i) => {
          const p = expDigest[i].params;
          assert.equal(d.realm, p.realm);
          assert.equal(d.nonce, p.nonce);
          assert.equal(d.algorithm, (p.algorithm ?? 'MD5').toUpperCase());
          assert.deepEqual(d.qop, splitQop(p.qop));
          assert.equal(d.opaque, p.opaque);
          assert.equal(d.stale, String(p.stale).toLowerCase() === 'true');
        });
      }
      if (exp.authenticationInfo) {
        const [info] = parseAuthChallenges(headers['authentication-info']);
        assert.deepEqual(info?.params, exp.authenticationInfo);
      }
      if (exp.hasSoapBody) {
        const env = parseEnvelope(body);
        if (exp.fault) assertFault(env.fault, exp.fault);
      }
      return;
    }
    case 'html': {
      assert.ok(exp.isHtml);
      assert.throws(
        () => parseEnvelope(raw),
        (e: unknown) => e instanceof NotSoapError && /SOAP Envelope/.test(e.message) && /html/i.test(e.message),
        'an HTML error page should give a "not a SOAP envelope" error',
      );
      return;
    }
    default:
      assert.fail(`unknown kind ${String(exp.kind)} for ${rel}`);
  }
}

function splitQop(q: string | undefined): string[] {
  return (q ?? '').split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
}
