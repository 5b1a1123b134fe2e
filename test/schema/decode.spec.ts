/**
 * Decoding real device captures (shared/fixtures/real) into normalised JSON. Expected values are
 * read from the same XML with the plain query helpers, so each assertion checks the codec's typing
 * and shaping against what the device actually sent.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { decodeAs, decodeElement } from '../../lib/schema';
import { parseEnvelope } from '../../lib/soap/envelope';
import { NS } from '../../lib/xml/namespaces';
import { parseXml, type XmlElement } from '../../lib/xml/parse';
import { children, descendants, path as xpath, text } from '../../lib/xml/query';
import { SHARED, skipWith } from '../support/shared';

const REAL = path.join(SHARED, 'fixtures/real');
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

type Json = Record<string, any>;

interface Capture {
  file: string;
  content: XmlElement;
  json: Json;
}

function captures(ctx: Mocha.Context, dir: string): Capture[] {
  const full = path.join(REAL, dir);
  if (!existsSync(full)) skipWith(ctx, `skipped: ${full} not found (the team's shared real captures)`);
  const files = readdirSync(full).filter((f) => f.endsWith('.xml'));
  assert.ok(files.length > 0, `no captures in ${dir}`);
  return files.map((f) => {
    const env = parseEnvelope(readFileSync(path.join(full, f)));
    assert.ok(env.content, `${f}: empty body`);
    return { file: f, content: env.content, json: decodeElement(env.content) as Json };
  });
}

function int(el: XmlElement | undefined): number {
  return parseInt(text(el)!, 10);
}

describe('schema: decoding real device captures', () => {
  it('every XML capture decodes without throwing, envelope body and header alike', function () {
    if (!existsSync(REAL)) skipWith(this, `skipped: ${REAL} not found (the team's shared real captures)`);
    let count = 0;
    for (const dir of readdirSync(REAL)) {
      const full = path.join(REAL, dir);
      if (!existsSync(full) || !readdirSync(REAL, { withFileTypes: true }).find((d) => d.name === dir)?.isDirectory()) continue;
      for (const f of readdirSync(full).filter((x) => x.endsWith('.xml'))) {
        let root: XmlElement;
        try {
          root = parseXml(readFileSync(path.join(full, f)));
        } catch {
          continue; // not well-formed on purpose (transport tests use those)
        }
        const body = root.local === 'Envelope' ? xpath(root, 'Body') : undefined;
        const header = root.local === 'Envelope' ? xpath(root, 'Header') : undefined;
        const targets = body ? [...body.children, ...(header?.children ?? [])] : [root];
        for (const el of targets) {
          const v = decodeElement(el);
          assert.notEqual(v, undefined, `${dir}/${f}: ${el.local} decoded to undefined`);
          JSON.stringify(v); // plain JSON, no cycles
        }
        count++;
      }
    }
    assert.ok(count > 200, `only ${count} captures decoded`);
  });

  it('GetDeviceInformationResponse: all five fields as trimmed strings', function () {
    for (const c of captures(this, 'GetDeviceInformationResponse')) {
      for (const k of ['Manufacturer', 'Model', 'FirmwareVersion', 'SerialNumber', 'HardwareId']) {
        const expected = text(c.content, k);
        if (expected === undefined) continue;
        assert.equal(c.json[k], expected, `${c.file} ${k}`);
      }
    }
  });

  it('GetServicesResponse: Service is an array, versions are numbers, device capabilities are typed', function () {
    for (const c of captures(this, 'GetServicesResponse')) {
      const services = children(c.content, 'Service');
      assert.ok(Array.isArray(c.json.Service), c.file);
      assert.equal(c.json.Service.length, services.length, c.file);
      services.forEach((s, i) => {
        const j = c.json.Service[i];
        assert.equal(j.Namespace, text(s, 'Namespace'), c.file);
        assert.equal(j.XAddr, text(s, 'XAddr'), c.file);
        assert.equal(j.Version.Major, int(xpath(s, 'Version', 'Major')), `${c.file} Major`);
        assert.equal(j.Version.Minor, int(xpath(s, 'Version', 'Minor')), `${c.file} Minor`);
        const devCaps = xpath(s, 'Capabilities', 'Capabilities');
        if (text(s, 'Namespace') === NS.tds && devCaps?.ns === NS.tds) {
          // tds:Capabilities sits in a wildcard, yet is a known element: its attributes come out typed.
          const sys = j.Capabilities.Capabilities.System;
          const raw = xpath(devCaps, 'System')?.attributes.find((a) => a.local === 'DiscoveryBye');
          if (raw) assert.equal(sys.DiscoveryBye, /^(true|1)$/i.test(raw.value.trim()), `${c.file} DiscoveryBye`);
        }
      });
    }
  });

  it('GetCapabilitiesResponse: booleans, numbers (Minor 00), dotted names, arrays and empty extension shells', function () {
    let dotted = 0;
    for (const c of captures(this, 'GetCapabilitiesResponse')) {
      const caps = c.json.Capabilities;
      assert.equal(typeof caps, 'object', c.file);
      const device = xpath(c.content, 'Capabilities', 'Device');
      if (!device) continue;
      const versions = descendants(device, 'SupportedVersions');
      assert.ok(Array.isArray(caps.Device.System.SupportedVersions), c.file);
      assert.deepEqual(
        caps.Device.System.SupportedVersions,
        versions.map((v) => ({ Major: int(xpath(v, 'Major')), Minor: int(xpath(v, 'Minor')) })),
        c.file,
      );
      const ipFilter = text(xpath(device, 'Network'), 'IPFilter');
      if (ipFilter !== undefined) assert.equal(caps.Device.Network.IPFilter, /^(true|1)$/i.test(ipFilter), c.file);
      const tls11 = text(xpath(device, 'Security'), 'TLS1.1');
      if (tls11 !== undefined) {
        assert.equal(typeof caps.Device.Security['TLS1.1'], 'boolean', c.file);
        assert.equal(typeof caps.Device.Security['X.509Token'], 'boolean', c.file);
        dotted++;
      }
    }
    assert.ok(dotted > 0, 'no capture with TLS1.1 / X.509Token');
  });

  it('GetSystemDateAndTimeResponse: UTCDateTime as an ISO string, DaylightSavings boolean', function () {
    for (const c of captures(this, 'GetSystemDateAndTimeResponse')) {
      const sdt = c.json.SystemDateAndTime;
      const utc = xpath(c.content, 'SystemDateAndTime', 'UTCDateTime');
      assert.equal(typeof sdt.DaylightSavings, 'boolean', c.file);
      if (!utc) continue;
      assert.match(sdt.UTCDateTime, ISO_UTC, c.file);
      const d = xpath(utc, 'Date');
      const t = xpath(utc, 'Time');
      const expected = new Date(Date.UTC(int(xpath(d, 'Year')), int(xpath(d, 'Month')) - 1, int(xpath(d, 'Day')), int(xpath(t, 'Hour')), int(xpath(t, 'Minute')), int(xpath(t, 'Second'))));
      assert.equal(sdt.UTCDateTime, expected.toISOString().replace('.000', ''), c.file);
    }
  });

  it('GetUsersResponse: User is always an array (empty for Pelco), levels are strings', function () {
    let empty = 0;
    for (const c of captures(this, 'GetUsersResponse')) {
      const users = children(c.content, 'User');
      assert.ok(Array.isArray(c.json.User), c.file);
      assert.equal(c.json.User.length, users.length, c.file);
      if (!users.length) empty++;
      users.forEach((u, i) => {
        assert.equal(c.json.User[i].Username, text(u, 'Username'), c.file);
        assert.equal(c.json.User[i].UserLevel, text(u, 'UserLevel'), c.file);
      });
    }
    assert.ok(empty > 0, 'expected at least one empty GetUsersResponse among the captures');
  });

  it('GetScopesResponse: Scopes array with trimmed ScopeItem and ScopeDef', function () {
    for (const c of captures(this, 'GetScopesResponse')) {
      const scopes = children(c.content, 'Scopes');
      assert.equal(c.json.Scopes.length, scopes.length, c.file);
      scopes.forEach((s, i) => {
        assert.equal(c.json.Scopes[i].ScopeItem, text(s, 'ScopeItem'), c.file);
        assert.equal(c.json.Scopes[i].ScopeDef, text(s, 'ScopeDef'), c.file);
      });
    }
  });

  it('GetNetworkInterfacesResponse: token attribute, Enabled boolean, MTU number, Manual always an array', function () {
    for (const c of captures(this, 'GetNetworkInterfacesResponse')) {
      const nics = children(c.content, 'NetworkInterfaces');
      assert.equal(c.json.NetworkInterfaces.length, nics.length, c.file);
      nics.forEach((n, i) => {
        const j = c.json.NetworkInterfaces[i];
        assert.equal(j.token, n.attributes.find((a) => a.local === 'token')?.value.trim(), c.file);
        assert.equal(typeof j.Enabled, 'boolean', c.file);
        const mtu = xpath(n, 'Info', 'MTU');
        if (mtu) assert.equal(j.Info.MTU, int(mtu), c.file);
        if (xpath(n, 'IPv4', 'Config')) {
          assert.ok(Array.isArray(j.IPv4.Config.Manual), c.file);
          assert.equal(j.IPv4.Config.Manual.length, children(xpath(n, 'IPv4', 'Config'), 'Manual').length, c.file);
          assert.equal(typeof j.IPv4.Config.DHCP, 'boolean', c.file);
        }
      });
    }
  });

  it('GetServiceCapabilitiesResponse: attribute capabilities typed (booleans, numbers, dotted names)', function () {
    for (const c of captures(this, 'GetServiceCapabilitiesResponse-device')) {
      const sec = xpath(c.content, 'Capabilities', 'Security');
      const raw = sec?.attributes.find((a) => a.local === 'TLS1.2');
      if (raw) assert.equal(c.json.Capabilities.Security['TLS1.2'], /^(true|1)$/i.test(raw.value.trim()), c.file);
      // FirmwareUpgrade left devicemgmt.wsdl after 19.12 but firmware sends it: typed as 19.12 defined it.
      const legacy = xpath(c.content, 'Capabilities', 'System')?.attributes.find((a) => a.local === 'FirmwareUpgrade');
      if (legacy) assert.equal(c.json.Capabilities.System.FirmwareUpgrade, /^(true|1)$/i.test(legacy.value.trim()), c.file);
    }
    for (const c of captures(this, 'GetServiceCapabilitiesResponse-events')) {
      const caps = xpath(c.content, 'Capabilities')!;
      for (const a of caps.attributes) {
        if (a.local === 'MaxPullPoints' || a.local === 'MaxNotificationProducers') assert.equal(c.json.Capabilities[a.local], Number(a.value), c.file);
        if (a.local === 'WSSubscriptionPolicySupport') assert.equal(c.json.Capabilities[a.local], a.value.trim() === 'true', c.file);
        // WSPullPointSupport left event.wsdl after 20.06 but firmware sends it: typed as 20.06 defined it.
        if (a.local === 'WSPullPointSupport') assert.equal(c.json.Capabilities[a.local], a.value.trim() === 'true', c.file);
      }
    }
  });

  it('PullMessagesResponse: times in UTC, NotificationMessage an array, tt:Message typed inside the wildcard', function () {
    let messages = 0;
    for (const c of captures(this, 'PullMessagesResponse')) {
      assert.match(c.json.CurrentTime, ISO_UTC, c.file);
      assert.match(c.json.TerminationTime, ISO_UTC, c.file);
      const notes = children(c.content, 'NotificationMessage');
      assert.equal(c.json.NotificationMessage.length, notes.length, c.file);
      notes.forEach((n, i) => {
        const msgEl = xpath(n, 'Message', 'Message');
        if (!msgEl) return;
        const msg = c.json.NotificationMessage[i].Message.Message;
        const items = children(xpath(msgEl, 'Data'), 'SimpleItem');
        if (xpath(msgEl, 'Data')) {
          assert.ok(Array.isArray(msg.Data.SimpleItem), c.file);
          assert.deepEqual(
            msg.Data.SimpleItem.map((s: Json) => [s.Name, s.Value]),
            items.map((s) => [s.attributes.find((a) => a.local === 'Name')?.value, s.attributes.find((a) => a.local === 'Value')?.value]),
            c.file,
          );
        }
        // decodeAs gives the same typed view for a caller holding the tt:Message element.
        assert.deepEqual(decodeAs(msgEl, { ns: NS.tt, local: 'Message' }), msg, c.file);
        messages++;
      });
    }
    assert.ok(messages > 0);
  });

  it('CreatePullPointSubscriptionResponse: address trimmed, times ISO', function () {
    for (const c of captures(this, 'CreatePullPointSubscriptionResponse')) {
      assert.equal(c.json.SubscriptionReference.Address, text(xpath(c.content, 'SubscriptionReference'), 'Address'), c.file);
      assert.match(c.json.CurrentTime, ISO_UTC, c.file);
    }
  });
});

describe('schema: decoding firmware quirks', () => {
  const decode = (xml: string) => decodeElement(parseXml(xml)) as Json;
  const TDS = `xmlns:tds="${NS.tds}" xmlns:tt="${NS.tt}"`;

  it('reads True/FALSE/1/0 as booleans and 00 as a number', () => {
    const j = decode(
      `<tds:GetServiceCapabilitiesResponse ${TDS}><tds:Capabilities><tds:Network IPFilter="True" ZeroConfiguration="FALSE" IPVersion6="1" DynDNS="0" NTP="00"/>` +
        `<tds:Security/><tds:System/></tds:Capabilities></tds:GetServiceCapabilitiesResponse>`,
    );
    assert.deepEqual(j.Capabilities.Network, { IPFilter: true, ZeroConfiguration: false, IPVersion6: true, DynDNS: false, NTP: 0 });
  });

  it('xs:dateTime: adds Z when the zone is missing, converts offsets, keeps junk as written', () => {
    const j = (v: string) => decode(`<wsnt:RenewResponse xmlns:wsnt="${NS.wsnt}"><wsnt:TerminationTime>${v}</wsnt:TerminationTime></wsnt:RenewResponse>`).TerminationTime;
    assert.equal(j('2023-06-01T02:34:23'), '2023-06-01T02:34:23Z');
    assert.equal(j(' 2023-06-01T02:34:23.123456Z\n'), '2023-06-01T02:34:23.123456Z');
    assert.equal(j('2023-06-01T02:34:23+02:00'), '2023-06-01T00:34:23Z');
    assert.equal(j('10-05-2025T22:41:27Z'), '10-05-2025T22:41:27Z');
    assert.equal(j('2023-13-01T00:00:00Z'), '2023-13-01T00:00:00Z');
  });

  it('unknown vendor content decodes by heuristic; lists and whitespace', () => {
    const j = decode(
      `<tds:GetDeviceInformationResponse ${TDS} xmlns:v="urn:vendor"><tds:Manufacturer>\n\tACME </tds:Manufacturer><tds:Model>M/1</tds:Model>` +
        `<tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>00123</tds:SerialNumber><tds:HardwareId>88</tds:HardwareId>` +
        `<v:Extra a="1"><v:Item>1</v:Item><v:Item>2</v:Item><v:Empty/></v:Extra></tds:GetDeviceInformationResponse>`,
    );
    assert.equal(j.Manufacturer, 'ACME');
    assert.equal(j.SerialNumber, '00123'); // declared xs:string: no number guessing
    assert.deepEqual(j.Extra, { Item: ['1', '2'], Empty: '', a: '1' });
  });
});
