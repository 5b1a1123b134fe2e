/**
 * Element and attribute names are the device's choice, and some of them are names every JS object
 * already has (`constructor`, `toString`, `__proto__`). Decoded results must still be plain data with
 * those names as ordinary keys; the encoder must turn such keys in a caller's params into invalid-input.
 */
import { strict as assert } from 'node:assert';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { OnvifError } from '../../lib/errors';
import { decodeElement, encodeElement, findOperation } from '../../lib/schema';
import { serializeXml } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import { parseXml, type XmlAttribute, type XmlElement } from '../../lib/xml/parse';
import { envelope, sendSoap, TestServer } from '../transport/soap-server';

const NAMES = ['valueOf', 'constructor', 'hasOwnProperty', 'toString', '__proto__'];
const VENDOR = 'urn:vendor';

type Json = Record<string, unknown>;

/** An element as the parser hands it to the codec (built directly, so unprefixed names reach the decoder too). */
function node(ns: string, local: string, kids: XmlElement[] = [], attrs: Array<[string, string]> = [], text = ''): XmlElement {
  const attributes: XmlAttribute[] = attrs.map(([name, value]) => ({ name, prefix: '', local: name, ns: '', value }));
  return { name: local, prefix: '', local, ns, attributes, children: kids, text, namespaces: {} };
}

/** `{ [name]: value }` as an own property, even for `__proto__`. */
function own(name: string, value: unknown, rest: Json = {}): Json {
  return { [name]: value, ...rest };
}

/** Plain data: Object.prototype, every key own, and the same after a JSON round trip. */
function assertPlain(value: unknown, expected: Json, where: string): void {
  assert.equal(Object.getPrototypeOf(value), Object.prototype, `${where}: prototype replaced`);
  assert.deepEqual(value, expected, where);
  assert.deepEqual(JSON.parse(JSON.stringify(value)), expected, `${where}: after JSON round trip`);
}

describe('schema: element and attribute names that are Object.prototype names', () => {
  for (const name of NAMES) {
    describe(`named ${name}`, () => {
      it('decodes as an ordinary key in vendor content (heuristic): once, repeated, and as an attribute', () => {
        const once = node(VENDOR, 'Root', [node(VENDOR, name, [node(VENDOR, 'a', [], [], '1')]), node(VENDOR, 'b', [], [], '2')]);
        assertPlain(decodeElement(once), own(name, { a: '1' }, { b: '2' }), 'once');

        const twice = node(VENDOR, 'Root', [node(VENDOR, name, [], [], 'x'), node(VENDOR, name, [], [], 'y'), node(VENDOR, 'b', [], [], '2')]);
        assertPlain(decodeElement(twice), own(name, ['x', 'y'], { b: '2' }), 'repeated');

        const attr = node(VENDOR, 'Root', [node(VENDOR, 'b', [], [], '2')], [[name, ' v ']]);
        assertPlain(decodeElement(attr), own(name, 'v', { b: '2' }), 'attribute');

        const leaf = node(VENDOR, 'Leaf', [], [[name, 'v']], 'text');
        assertPlain(decodeElement(leaf), own(name, 'v', { value: 'text' }), 'attribute on a text element');

        const both = node(VENDOR, 'Root', [node(VENDOR, name, [], [], 'child')], [[name, 'attr']]);
        assertPlain(decodeElement(both), own(name, 'child', { [`$${name}`]: 'attr' }), 'attribute and child of the same name');
      });

      it('decodes as an ordinary key inside a schema type: undeclared child and attributes', () => {
        const info = (extra: XmlElement[], attrs: Array<[string, string]> = []) =>
          node(NS.tds, 'GetDeviceInformationResponse', [
            node(NS.tds, 'Manufacturer', [], [[name, 'm']], 'ACME'),
            node(NS.tds, 'Model', [], [], 'M1'),
            ...extra,
            node(NS.tds, 'FirmwareVersion', [], [], '1.0'),
            node(NS.tds, 'SerialNumber', [], [], '00123'),
            node(NS.tds, 'HardwareId', [], [], '7'),
          ], attrs);
        const expected = (extraKey: Json) => ({
          Manufacturer: own(name, 'm', { value: 'ACME' }),
          Model: 'M1',
          ...extraKey,
          FirmwareVersion: '1.0',
          SerialNumber: '00123',
          HardwareId: '7',
        });
        const child = node(VENDOR, name, [node(VENDOR, 'a', [], [], '1')]);
        assertPlain(decodeElement(info([child], [[name, 'attr']])), expected(own(name, { a: '1' }, { [`$${name}`]: 'attr' })), 'child + attribute');
        assertPlain(decodeElement(info([child, child])), expected(own(name, [{ a: '1' }, { a: '1' }])), 'child twice');
        // Attribute on a complex type that declares attributes (tds:NetworkCapabilities) next to declared ones.
        const caps = node(NS.tds, 'GetServiceCapabilitiesResponse', [
          node(NS.tds, 'Capabilities', [node(NS.tds, 'Network', [], [['NTP', '2'], [name, 'n']]), node(NS.tds, 'Security'), node(NS.tds, 'System')]),
        ]);
        assertPlain(decodeElement(caps), { Capabilities: { Network: own(name, 'n', { NTP: 2 }), Security: {}, System: {} } }, 'capabilities');
      });

      it('decodes as an ordinary key when the name carries a prefix (parsed XML)', () => {
        const xml =
          `<v:Root xmlns:v="${VENDOR}" v:${name}="attr"><v:${name}><v:a>1</v:a></v:${name}><v:b>2</v:b></v:Root>`;
        assertPlain(decodeElement(parseXml(xml)), own(name, { a: '1' }, { [`$${name}`]: 'attr', b: '2' }), 'prefixed');
      });

      it('as a key in params: invalid-input naming the field, or plain vendor content where any element is allowed', () => {
        // JSON.parse makes `__proto__` an own key, as a msg.payload from a flow would have it.
        const extra = JSON.parse(`{${JSON.stringify(name)}:{"a":1}}`) as Json;
        for (const [local, value] of [
          ['SetHostname', { Name: 'cam1', ...extra }],
          ['CreateUsers', { User: [{ Username: 'u', Password: 'p', UserLevel: 'User', ...extra }] }],
        ] as const) {
          assert.throws(
            () => encodeElement(NS.tds, local, value),
            (e: unknown) => e instanceof OnvifError && e.kind === 'invalid-input' && e.message.includes(`.${name}: unknown field`),
            `${local} with ${name}`,
          );
        }
        assert.throws(
          () => encodeElement(NS.tev, 'CreatePullPointSubscription', JSON.parse(`{${JSON.stringify(name)}:"x"}`)),
          (e: unknown) => e instanceof OnvifError && e.kind === 'invalid-input' && e.message.startsWith(`CreatePullPointSubscription.${name}: unknown field`),
        );
        // xs:anyType content takes keys as element names.
        const xml = serializeXml(encodeElement(NS.tev, 'ChangedOnly', JSON.parse(`{${JSON.stringify(name)}:"x"}`)));
        assert.ok(xml.includes(`<tev:${name}>x</tev:${name}>`), xml);
      });
    });
  }
});

describe('schema: Object.prototype names as an operation qualifier', () => {
  for (const name of NAMES.filter((n) => /^[A-Za-z]+$/.test(n))) {
    it(`${name}.GetUsers and ${name}:GetUsers are unknown operations (invalid-input, nothing sent)`, async () => {
      assert.equal(findOperation(`${name}.GetUsers`), undefined);
      assert.equal(findOperation(`${name}:GetUsers`), undefined);
      const device = new OnvifDevice({ address: 'http://127.0.0.2/onvif/device_service' });
      try {
        await assert.rejects(device.call(`${name}.GetUsers`), (e: unknown) => e instanceof OnvifError && e.kind === 'invalid-input' && /Unknown ONVIF operation/.test(e.message));
      } finally {
        await device.close();
      }
    });
  }
});

describe('schema: a device answering with Object.prototype names, through OnvifDevice.call', () => {
  let server: TestServer | undefined;
  let device: OnvifDevice | undefined;

  afterEach(async () => {
    await device?.close();
    await server?.stop();
    device = server = undefined;
  });

  it('GetDeviceInformation with such elements and attributes comes back as plain data', async () => {
    const extra = NAMES.map((n) => `<v:${n} v:${n}="a-${n}"><v:x>${n}</v:x></v:${n}><tds:${n}>t-${n}</tds:${n}>`).join('');
    const attrs = NAMES.map((n) => ` v:${n}="r-${n}"`).join('');
    server = await TestServer.start((_req, res) =>
      sendSoap(
        res,
        envelope(
          `<tds:GetDeviceInformationResponse xmlns:v="${VENDOR}"${attrs}><tds:Manufacturer>ACME</tds:Manufacturer><tds:Model>M1</tds:Model>` +
            `<tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>SN1</tds:SerialNumber><tds:HardwareId>HW1</tds:HardwareId>${extra}` +
            `</tds:GetDeviceInformationResponse>`,
        ),
      ),
    );
    device = new OnvifDevice({ address: server.url });
    const info = await device.call('GetDeviceInformation', {}, { url: server.url });
    let expected: Json = { Manufacturer: 'ACME', Model: 'M1', FirmwareVersion: '1.0', SerialNumber: 'SN1', HardwareId: 'HW1' };
    // The vendor element and the tds: one share a local name, so they form one list, in document order;
    // the root's attributes of the same names get the `$` key. (Spread, not Object.assign: `__proto__` stays a key.)
    for (const n of NAMES) expected = { ...expected, ...own(n, [{ x: n, [n]: `a-${n}` }, `t-${n}`]), ...own(`$${n}`, `r-${n}`) };
    assertPlain(info, expected, 'GetDeviceInformation');
    assert.equal(info.Manufacturer, 'ACME');
  });
});
