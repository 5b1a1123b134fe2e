/** Encoding checks (the messages a caller gets for bad input), round trips, and operation lookup. */
import { strict as assert } from 'node:assert';
import { OnvifError } from '../../lib/errors';
import { decodeElement, encodeElement, findOperation, listOperations } from '../../lib/schema';
import { el, serializeXml } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import { parseXml } from '../../lib/xml/parse';
import { path as xpath, text } from '../../lib/xml/query';

function encodeOp(name: string, value: unknown) {
  const op = findOperation(name);
  assert.ok(op, name);
  return encodeElement(op.input.ns, op.input.local, value);
}

function invalid(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OnvifError, `expected OnvifError, got ${String(e)}`);
    assert.equal(e.kind, 'invalid-input');
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

function roundTrip(ns: string, local: string, value: unknown): unknown {
  return decodeElement(parseXml(serializeXml(encodeElement(ns, local, value))));
}

describe('schema: encode errors name the path and what is expected', () => {
  it('bad enum value', () => {
    invalid(
      () => encodeOp('CreateUsers', { User: [{ Username: 'a', Password: 'b', UserLevel: 'Admin' }] }),
      'CreateUsers.User[0].UserLevel: "Admin" is not one of Administrator, Operator, User, Anonymous, Extended',
    );
  });

  it('unknown key', () => {
    invalid(
      () => encodeOp('CreateUsers', { User: [{ Username: 'a', Pasword: 'b', UserLevel: 'User' }] }),
      'CreateUsers.User[0].Pasword: unknown field; expected fields Username, Password, UserLevel, Extension',
    );
    invalid(() => encodeOp('GetDeviceInformation', { Verbose: true }), /^GetDeviceInformation\.Verbose: unknown field; expected no fields$/);
  });

  it('missing required element and attribute', () => {
    invalid(() => encodeOp('CreateUsers', { User: [{ Username: 'a' }] }), 'CreateUsers.User[0].UserLevel: required field is missing (expected one of Administrator, Operator, User, Anonymous, Extended)');
    invalid(() => encodeOp('CreateUsers', {}), 'CreateUsers.User: required field is missing (expected an object)');
    invalid(() => encodeOp('CreateUsers', { User: [] }), 'CreateUsers.User: needs at least 1 item, got 0');
    invalid(
      () => encodeOp('CreatePullPointSubscription', { Filter: { TopicExpression: { value: 'tns1:Device//.' } } }),
      'CreatePullPointSubscription.Filter.TopicExpression.Dialect: required attribute is missing (expected text)',
    );
  });

  it('wrong types', () => {
    invalid(() => encodeOp('SetZeroConfiguration', { InterfaceToken: 'eth0', Enabled: 'yes' }), 'SetZeroConfiguration.Enabled: "yes" is not true or false');
    invalid(() => encodeOp('SetNetworkProtocols', { NetworkProtocols: [{ Name: 'HTTP', Enabled: true, Port: ['eighty'] }] }), 'SetNetworkProtocols.NetworkProtocols[0].Port[0]: "eighty" is not an integer');
    invalid(() => encodeOp('SetHostname', { Name: { first: 'x' } }), 'SetHostname.Name: an object is not text');
    invalid(() => encodeOp('SetHostname', { Name: ['a', 'b'] }), 'SetHostname.Name: expects a single value, got a list of 2');
    invalid(() => encodeOp('SetSystemDateAndTime', { DateTimeType: 'Manual', DaylightSavings: false, UTCDateTime: 'yesterday' }), /^SetSystemDateAndTime\.UTCDateTime: "yesterday" is not a date-time/);
    invalid(() => encodeOp('PullMessages', { Timeout: 'PT5S', MessageLimit: 2.5 }), 'PullMessages.MessageLimit: 2.5 is not an integer');
    invalid(() => encodeOp('SetUser', 'admin'), /^SetUser: "admin" given, expected an object with fields User$/);
  });

  it('wildcard content must be an XmlNode or a known element', () => {
    invalid(() => encodeOp('CreatePullPointSubscription', { Filter: { Hint: 'x' } }), /^CreatePullPointSubscription\.Filter\.Hint: unknown field; pass an XmlNode/);
  });

  it('an unknown element name is refused', () => {
    invalid(() => encodeElement(NS.tds, 'GetUser'), /^GetUser: no element \{http:\/\/www\.onvif\.org\/ver10\/device\/wsdl\}GetUser in the ONVIF schema model/);
  });
});

describe('schema: encode accepts the forms callers naturally write', () => {
  it('booleans and numbers as strings, single objects for lists', () => {
    const xml = serializeXml(encodeOp('SetNetworkProtocols', { NetworkProtocols: { Name: 'HTTP', Enabled: 'TRUE', Port: '80' } }), { declaration: false });
    assert.match(xml, /<tt:Name>HTTP<\/tt:Name><tt:Enabled>true<\/tt:Enabled><tt:Port>80<\/tt:Port>/);
  });

  it('tt:DateTime from an ISO string, a Date, or the structure; offsets converted to UTC', () => {
    const utcOf = (v: unknown) => {
      const root = parseXml(serializeXml(encodeOp('SetSystemDateAndTime', { DateTimeType: 'Manual', DaylightSavings: false, UTCDateTime: v })));
      const u = xpath(root, 'UTCDateTime')!;
      assert.deepEqual(u.children.map((c) => c.local), ['Time', 'Date'], 'schema order of tt:DateTime');
      return ['Year', 'Month', 'Day'].map((k) => text(xpath(u, 'Date'), k)).concat(['Hour', 'Minute', 'Second'].map((k) => text(xpath(u, 'Time'), k))).join(',');
    };
    assert.equal(utcOf('2025-03-04T05:06:07Z'), '2025,3,4,5,6,7');
    assert.equal(utcOf('2025-03-04T01:06:07-04:00'), '2025,3,4,5,6,7');
    assert.equal(utcOf(new Date(Date.UTC(2025, 2, 4, 5, 6, 7))), '2025,3,4,5,6,7');
    assert.equal(utcOf({ Date: { Year: 2025, Month: 3, Day: 4 }, Time: { Hour: 5, Minute: 6, Second: 7 } }), '2025,3,4,5,6,7');
  });

  it('XmlNode passes through a wildcard', () => {
    const vendor = el('urn:example:vendor', 'Hint', { level: 2 }, 'x');
    const xml = serializeXml(encodeOp('CreatePullPointSubscription', { Filter: { Hint: vendor } }), { declaration: false });
    assert.match(xml, /<tev:Filter><ns:Hint level="2">x<\/ns:Hint><\/tev:Filter>/);
  });
});

describe('schema: round trip decode(parse(serialize(encode(x)))) === x', () => {
  it('users', () => {
    const x = { User: [{ Username: 'op', Password: 'pw', UserLevel: 'Operator' }, { Username: 'v', UserLevel: 'User' }] };
    assert.deepEqual(roundTrip(NS.tds, 'SetUser', x), x);
  });

  it('network interface configuration with nested arrays and numbers', () => {
    const x = {
      InterfaceToken: 'eth0',
      NetworkInterface: {
        Enabled: true,
        Link: { AutoNegotiation: false, Speed: 100, Duplex: 'Full' },
        MTU: 1500,
        IPv4: { Enabled: true, Manual: [{ Address: '192.0.2.10', PrefixLength: 24 }], DHCP: false },
        Extension: { Dot3: [], Dot11: [{ SSID: '0A1B', Mode: 'Infrastructure', Alias: 'wlan', Priority: 1, Security: { Mode: 'PSK', PSK: { Passphrase: 'long enough' } } }] },
      },
    };
    assert.deepEqual(roundTrip(NS.tds, 'SetNetworkInterfaces', x), x);
  });

  it('system date and time (tt:DateTime as string), DNS, attributes and lists', () => {
    const sdt = { DateTimeType: 'Manual', DaylightSavings: true, TimeZone: { TZ: 'UTC0' }, UTCDateTime: '2025-03-04T05:06:07Z' };
    assert.deepEqual(roundTrip(NS.tds, 'SetSystemDateAndTime', sdt), sdt);
    const caps = { Capabilities: { Network: { IPFilter: true, NTP: 2 }, Security: { 'TLS1.2': true, 'X.509Token': false, SupportedEAPMethods: [13, 25], MaxUsers: 8 }, System: { HttpSystemLogging: false }, Misc: { AuxiliaryCommands: ['tt:Wiper|On', 'tt:Wiper|Off'] } } };
    assert.deepEqual(roundTrip(NS.tds, 'GetServiceCapabilitiesResponse', caps), caps);
  });

  it('event subscription filter (mixed content with attribute) and pull response times', () => {
    const sub = { Filter: { TopicExpression: { Dialect: 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet', value: 'tns1:Device//.' } }, InitialTerminationTime: 'PT60S', SubscriptionPolicy: {} };
    assert.deepEqual(roundTrip(NS.tev, 'CreatePullPointSubscription', sub), sub);
    const pull = { CurrentTime: '2025-03-04T05:06:07Z', TerminationTime: '2025-03-04T05:07:07.5Z', NotificationMessage: [] };
    assert.deepEqual(roundTrip(NS.tev, 'PullMessagesResponse', pull), pull);
  });
});

describe('schema: operation lookup', () => {
  it('bare, prefixed and service-qualified names', () => {
    assert.equal(findOperation('GetUsers')?.service, 'device');
    assert.equal(findOperation('tds:GetUsers')?.action, 'http://www.onvif.org/ver10/device/wsdl/GetUsers');
    assert.equal(findOperation('device.GetUsers')?.input.local, 'GetUsers');
    assert.equal(findOperation('GetServiceCapabilities')?.namespace, NS.tds);
    assert.equal(findOperation('tev:GetServiceCapabilities')?.namespace, NS.tev);
    assert.equal(findOperation('ans:GetServiceCapabilities')?.input.ns, NS.ans);
    assert.equal(findOperation('tas:GetServiceCapabilities')?.service, 'advancedsecurity');
    const pull = findOperation('events.PullMessages')!;
    assert.deepEqual([pull.service, pull.namespace, pull.output.local], ['pullpoint', NS.tev, 'PullMessagesResponse']);
    assert.equal(pull.action, 'http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest');
    const renew = findOperation('Renew')!;
    assert.deepEqual([renew.service, renew.input.ns], ['subscription', NS.wsnt]);
    assert.equal(findOperation('getusers'), undefined);
    assert.equal(findOperation('tds:PullMessages'), undefined);
    assert.equal(findOperation('media.GetProfiles'), undefined);
  });

  it('listOperations filters by service', () => {
    const all = listOperations();
    assert.equal(all.length, ['device', 'events', 'pullpoint', 'subscription', 'appmgmt', 'advancedsecurity'].reduce((n, s) => n + listOperations(s as never).length, 0));
    assert.ok(listOperations('appmgmt').every((o) => o.input.ns === NS.ans && o.namespace === NS.ans));
  });
});
