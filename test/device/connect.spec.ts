import { strict as assert } from 'node:assert';
import { OnvifDevice } from '../../lib/device/onvif-device';
import type { OnvifError } from '../../lib/errors';
import { NS } from '../../lib/xml/namespaces';
import { TestServer, envelope, deviceInfo, faultXml, sendSoap, type SeenRequest } from '../transport/soap-server';

/**
 * A device whose firmware faults on GetServices with IncludeCapability=true (as some do, QUIRKS.md §3) but
 * answers it without capabilities, listing its Advanced Security and AppMgmt services, which the legacy
 * GetCapabilities cannot name. Open to anyone: these tests are about the connect sequence, not auth.
 */
interface Firmware {
  /** Fault GetServices(IncludeCapability=false) too. */
  faultPlainGetServices?: boolean;
  /** Fault GetServiceCapabilities. */
  faultServiceCapabilities?: boolean;
  /** Extra GetCapabilities categories (top level and under Extension), each with an XAddr. */
  oddCategories?: string[];
  /** Answer GetUsers with this fault (HTTP 400). */
  getUsersFault?: string;
}

const INVALID_ARG = faultXml('s:Sender', ['ter:InvalidArgVal', 'ter:InvalidParameter'], 'Invalid parameter');
const NO_ACTION = faultXml('s:Receiver', ['ter:ActionNotSupported'], 'Not supported');

function operationOf(req: SeenRequest): string {
  return /<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)/.exec(req.body)?.[1] ?? '';
}

function service(base: string, ns: string, path: string): string {
  return `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${base}${path}</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>40</tt:Minor></tds:Version></tds:Service>`;
}

function startDevice(firmware: Firmware = {}): Promise<TestServer> {
  let base = '';
  const tt = 'xmlns:tt="http://www.onvif.org/ver10/schema"';
  const server = TestServer.start((req, res) => {
    const op = operationOf(req);
    switch (op) {
      case 'GetSystemDateAndTime': {
        const now = new Date();
        return sendSoap(res, envelope(
          `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime ${tt}><tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>` +
            `<tt:UTCDateTime><tt:Time><tt:Hour>${now.getUTCHours()}</tt:Hour><tt:Minute>${now.getUTCMinutes()}</tt:Minute><tt:Second>${now.getUTCSeconds()}</tt:Second></tt:Time>` +
            `<tt:Date><tt:Year>${now.getUTCFullYear()}</tt:Year><tt:Month>${now.getUTCMonth() + 1}</tt:Month><tt:Day>${now.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime>` +
            `</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`,
        ));
      }
      case 'GetServices':
        if (/IncludeCapability>\s*true/.test(req.body) || firmware.faultPlainGetServices) return sendSoap(res, INVALID_ARG, 400);
        return sendSoap(res, envelope(
          `<tds:GetServicesResponse ${tt}>${service(base, NS.tds, '/onvif/device_service')}${service(base, NS.tev, '/onvif/events')}` +
            `${service(base, NS.tas, '/onvif/security')}${service(base, NS.ans, '/onvif/apps')}</tds:GetServicesResponse>`,
        ));
      case 'GetServiceCapabilities':
        if (firmware.faultServiceCapabilities) return sendSoap(res, NO_ACTION, 500);
        return sendSoap(res, envelope(
          `<tds:GetServiceCapabilitiesResponse><tds:Capabilities><tds:Network ZeroConfiguration="true" NTP="1"/>` +
            `<tds:Security MaxUsers="16" HttpDigest="true" UsernameToken="true"/><tds:System HttpSystemBackup="true"/></tds:Capabilities></tds:GetServiceCapabilitiesResponse>`,
        ));
      case 'GetCapabilities': {
        const category = (name: string, i: number) => `<tt:${name}><tt:XAddr>${base}/odd/${i}</tt:XAddr></tt:${name}>`;
        const odd = firmware.oddCategories ?? [];
        const oddCategories = odd.length ? `${odd.map(category).join('')}<tt:Extension>${odd.map(category).join('')}</tt:Extension>` : '';
        return sendSoap(res, envelope(
          `<tds:GetCapabilitiesResponse><tds:Capabilities ${tt}><tt:Device><tt:XAddr>${base}/onvif/device_service</tt:XAddr>` +
            `<tt:Network><tt:IPFilter>false</tt:IPFilter><tt:ZeroConfiguration>false</tt:ZeroConfiguration></tt:Network>` +
            `<tt:Security><tt:TLS1.2>true</tt:TLS1.2></tt:Security></tt:Device>` +
            `<tt:Events><tt:XAddr>${base}/onvif/events</tt:XAddr></tt:Events>${oddCategories}</tds:Capabilities></tds:GetCapabilitiesResponse>`,
        ));
      }
      case 'GetScopes':
        return sendSoap(res, envelope(
          `<tds:GetScopesResponse ${tt}><tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>onvif://www.onvif.org/Profile/Q/Operational</tt:ScopeItem></tds:Scopes></tds:GetScopesResponse>`,
        ));
      case 'GetDeviceInformation':
        return sendSoap(res, deviceInfo('OldFirmware'));
      case 'GetUsers':
        if (firmware.getUsersFault) return sendSoap(res, firmware.getUsersFault, 400);
        return sendSoap(res, NO_ACTION, 500);
      default:
        return sendSoap(res, NO_ACTION, 500);
    }
  });
  return server.then((s) => {
    base = `http://127.0.0.1:${s.port}`;
    return s;
  });
}

describe('OnvifDevice connect: services and capabilities on firmware that faults GetServices(IncludeCapability=true)', () => {
  let server: TestServer | undefined;
  let device: OnvifDevice | undefined;
  afterEach(async () => {
    await device?.close();
    await server?.stop();
    device = undefined;
    server = undefined;
  });
  const operations = () => server!.requests.map((r) => `${operationOf(r)}${/IncludeCapability>\s*false/.test(r.body) ? '(false)' : ''}`);

  it('asks GetServices again without capabilities and keeps the Advanced Security and AppMgmt addresses', async () => {
    server = await startDevice();
    device = new OnvifDevice({ address: server.url });
    const s = await device.connect();
    const base = `http://127.0.0.1:${server.port}`;
    assert.equal(device.serviceAddress(NS.tas), `${base}/onvif/security`, 'Advanced Security address');
    assert.equal(device.serviceAddress(NS.ans), `${base}/onvif/apps`, 'AppMgmt address');
    assert.equal(device.serviceAddress(NS.tev), `${base}/onvif/events`);
    assert.equal(s.legacyCapabilities, false);
    // The capabilities came from GetServiceCapabilities (GetCapabilities would have said ZeroConfiguration false).
    assert.equal(s.capabilities.security.maxUsers, 16);
    assert.equal(s.capabilities.network.zeroConfiguration, true);
    assert.equal(s.deviceInformation.manufacturer, 'OldFirmware');
    assert.deepEqual(operations().slice(0, 4), ['GetSystemDateAndTime', 'GetServices', 'GetServices(false)', 'GetServiceCapabilities']);
    assert.ok(!operations().includes('GetCapabilities'), 'GetCapabilities not needed');
  });

  it('falls back to GetCapabilities only when GetServices faults without capabilities too', async () => {
    server = await startDevice({ faultPlainGetServices: true });
    device = new OnvifDevice({ address: server.url });
    const s = await device.connect();
    assert.equal(s.legacyCapabilities, true);
    assert.equal(device.serviceAddress(NS.tev), `http://127.0.0.1:${server.port}/onvif/events`);
    assert.equal(device.serviceAddress(NS.tas), undefined);
    assert.equal(s.capabilities.security.tls1_2, true);
    assert.deepEqual(operations().slice(0, 4), ['GetSystemDateAndTime', 'GetServices', 'GetServices(false)', 'GetCapabilities']);
  });

  it('GetCapabilities categories named constructor, __proto__, toString... are unknown categories, not services', async () => {
    server = await startDevice({ faultPlainGetServices: true, oddCategories: ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'] });
    device = new OnvifDevice({ address: server.url });
    const s = await device.connect();
    assert.equal(s.legacyCapabilities, true);
    const base = `http://127.0.0.1:${server.port}`;
    assert.deepEqual(
      s.services.map((x) => [x.namespace, x.xaddr]),
      [[NS.tds, `${base}/onvif/device_service`], [NS.tev, `${base}/onvif/events`]],
      'only the categories ONVIF defines become services',
    );
  });

  it('keeps the services GetServices listed when only GetServiceCapabilities faults; capabilities then come from GetCapabilities', async () => {
    server = await startDevice({ faultServiceCapabilities: true });
    device = new OnvifDevice({ address: server.url });
    const s = await device.connect();
    assert.equal(device.serviceAddress(NS.ans), `http://127.0.0.1:${server.port}/onvif/apps`);
    assert.equal(s.capabilities.security.tls1_2, true);
    assert.equal(s.capabilities.network.zeroConfiguration, false);
  });
});

describe('OnvifDevice: device words in a refusal without credentials', () => {
  let server: TestServer | undefined;
  let device: OnvifDevice | undefined;
  afterEach(async () => {
    await device?.close();
    await server?.stop();
  });

  it('a subcode kilobytes long is cut in the message and kept whole in subcodes', async () => {
    const long = `ter:Odd${'X'.repeat(3000)}`;
    server = await startDevice({ getUsersFault: faultXml('s:Sender', ['ter:NotAuthorized', long], 'Sender not authorized') });
    device = new OnvifDevice({ address: server.url });
    await device.connect();
    const e = await device.call('GetUsers').then(
      () => assert.fail('GetUsers should be refused'),
      (err: OnvifError) => err,
    );
    assert.equal(e.kind, 'auth');
    assert.match(e.message, /refused GetUsers without credentials \(HTTP 400, ter:NotAuthorized, ter:OddXXX.*more characters\)\)/);
    assert.ok(e.message.length < 800, `${e.message.length} characters`);
    assert.deepEqual(e.subcodes, ['ter:NotAuthorized', long]);
  });
});
