/**
 * The simulator checked independently of our client: SOAP envelopes and HTTP uploads written here by hand, with a
 * digest computed here (no lib/ code on the wire path), get the answers the library sees. And every request the
 * library sends to the app service validates against the official schemas, children unqualified.
 */
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import * as path from 'node:path';
import { makeLicense } from '../../lib/simulator';
import { OUTPUT, skipWith, validateFiles, validateRequests, validationUnavailable } from '../support/shared';
import { ADMIN, counterPackage, useApps } from './support';

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP exchange by hand; `chunks` with a pause between them, or a body that stops (stall). */
function send(url: string, method: string, headers: Record<string, string>, body?: Buffer | { stallAfter: Buffer; declared: number } | { chunked: Buffer }): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const h: Record<string, string | number> = { ...headers };
    if (Buffer.isBuffer(body)) h['Content-Length'] = body.length;
    else if (body && 'stallAfter' in body) h['Content-Length'] = body.declared;
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else if (body && 'stallAfter' in body) req.write(body.stallAfter);
    else if (body && 'chunked' in body) {
      // Written before end(): Node sends it chunked, without Content-Length.
      req.write(body.chunked);
      req.end();
    }
    else req.end();
  });
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** RFC 7616 digest (MD5, qop=auth) written out here: answer the MD5 challenge of a 401. */
function digestHeader(challenges: string | string[] | undefined, method: string, uri: string): string {
  const all = Array.isArray(challenges) ? challenges : [challenges ?? ''];
  const md5Challenge = all.find((c) => /algorithm=MD5\b/i.test(c)) ?? all[0]!;
  const param = (k: string) => new RegExp(`${k}="?([^",]+)"?`, 'i').exec(md5Challenge)?.[1] ?? '';
  const realm = param('realm');
  const nonce = param('nonce');
  const opaque = param('opaque');
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const ha1 = md5(`${ADMIN.username}:${realm}:${ADMIN.password}`);
  const ha2 = md5(`${method}:${uri}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${ADMIN.username}", realm="${realm}", nonce="${nonce}", uri="${uri}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}"${opaque ? `, opaque="${opaque}"` : ''}`;
}

/** Send, and when challenged, again with digest credentials. */
async function withDigest(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<RawAnswer> {
  const first = await send(url, method, headers, body);
  if (first.status !== 401) return first;
  return send(url, method, { ...headers, Authorization: digestHeader(first.headers['www-authenticate'], method, new URL(url).pathname) }, body);
}

const envelope = (body: string) =>
  Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:ans="http://www.onvif.org/ver10/appmgmt/wsdl"><s:Body>${body}</s:Body></s:Envelope>`,
  );
const SOAP = { 'Content-Type': 'application/soap+xml; charset=utf-8' };

/** Text of every element named `local` (any prefix or none). */
const all = (xml: string, local: string) => [...xml.matchAll(new RegExp(`<(?:\\w+:)?${local}>([^<]*)</(?:\\w+:)?${local}>`, 'g'))].map((m) => m[1]);

describe('apps: the simulator answers hand-written requests as the library sees them', function () {
  this.timeout(60_000);
  const env = useApps();

  it('SOAP: capabilities, installed apps, app info, device id and faults agree with the library', async () => {
    const s = await env.sim();
    const apps = env.manager(s);
    const service = `${s.xaddr.replace('/onvif/device_service', '')}/onvif/app_management`;
    // PRE_AUTH: no credentials at all.
    const caps = await send(service, 'POST', SOAP, envelope('<ans:GetServiceCapabilities/>'));
    assert.equal(caps.status, 200);
    const lib = await apps.capabilities();
    assert.equal(/UploadPath="([^"]+)"/.exec(caps.body)?.[1], lib.reportedUploadUrl);
    assert.equal(/FormatsSupported="([^"]+)"/.exec(caps.body)?.[1], lib.formats.join(' '));
    // Without credentials, GetInstalledApps (READ_SYSTEM) is refused.
    assert.equal((await send(service, 'POST', SOAP, envelope('<ans:GetInstalledApps/>'))).status, 401);

    await apps.install(counterPackage('3.1.0'));
    const installed = await withDigest(service, 'POST', SOAP, envelope('<ans:GetInstalledApps/>'));
    assert.equal(installed.status, 200);
    // The schema's children are unqualified: <App><Name>…</Name><AppID>…</AppID></App>.
    assert.match(installed.body, /<App><Name>People counter<\/Name><AppID>Counter<\/AppID><\/App>/);
    assert.deepEqual(all(installed.body, 'AppID').map((id, i) => ({ appId: id, name: all(installed.body, 'Name')[i] })), await apps.list());

    const info = await withDigest(service, 'POST', SOAP, envelope('<ans:GetAppsInfo><AppID>Counter</AppID></ans:GetAppsInfo>'));
    const [libInfo] = await apps.info('Counter');
    assert.deepEqual([all(info.body, 'Version')[0], all(info.body, 'State')[0], all(info.body, 'LastUpdate')[0]], [libInfo!.version, libInfo!.state, libInfo!.lastUpdate]);

    const id = await withDigest(service, 'POST', SOAP, envelope('<ans:GetDeviceId/>'));
    assert.equal(all(id.body, 'DeviceId')[0], await apps.deviceId());

    const unknown = await withDigest(service, 'POST', SOAP, envelope('<ans:Activate><AppID>Ghost</AppID></ans:Activate>'));
    assert.equal(unknown.status, 400);
    assert.match(unknown.body, /ter:InvalidArgVal<\/env:Value><env:Subcode><env:Value>ter:UnknownId/);
    await assert.rejects(apps.activate('Ghost'), (e: { subcodes?: string[] }) => JSON.stringify(e.subcodes) === JSON.stringify(['ter:InvalidArgVal', 'ter:UnknownId']));

    const badLicense = await withDigest(service, 'POST', SOAP, envelope('<ans:InstallLicense><AppID>Counter</AppID><License>nonsense</License></ans:InstallLicense>'));
    assert.match(badLicense.body, /ter:InvalidFormat/);
    const good = makeLicense({ app: 'Counter', device: await apps.deviceId(), name: 'hand', validUntil: '2031-01-01T00:00:00Z' });
    assert.equal((await withDigest(service, 'POST', SOAP, envelope(`<ans:InstallLicense><License>${good}</License></ans:InstallLicense>`))).status, 200);
    assert.deepEqual((await apps.info('Counter'))[0]!.licenses, [{ name: 'hand', validUntil: '2031-01-01T00:00:00Z' }]);

    const deactivated = await withDigest(service, 'POST', SOAP, envelope('<ans:Deactivate><AppID>Counter</AppID></ans:Deactivate>'));
    assert.equal(deactivated.status, 200);
    assert.equal((await apps.info('Counter'))[0]!.state, 'Inactive');
  });

  it('HTTP upload: 401 without credentials, 411 without Content-Length, 415 outside FormatsSupported, 408 when stalled, 200 then installed', async () => {
    const s = await env.sim({ apps: { uploadIdleTimeoutMs: 300 } });
    const upload = (await env.manager(s).capabilities()).uploadUrl!;
    const pkg = counterPackage('1.0.0');
    const type = { 'Content-Type': 'application/vnd.onvifq.sim-app' };
    const noAuth = await send(upload, 'POST', type, pkg);
    assert.equal(noAuth.status, 401);
    assert.ok(noAuth.headers['www-authenticate']);
    const auth = async () => digestHeader((await send(upload, 'POST', type, Buffer.alloc(0))).headers['www-authenticate'], 'POST', new URL(upload).pathname);
    assert.equal((await send(upload, 'POST', { ...type, Authorization: await auth() }, { chunked: pkg })).status, 411);
    const wrongType = await send(upload, 'POST', { 'Content-Type': 'text/plain', Authorization: await auth() }, pkg);
    assert.equal(wrongType.status, 415);
    assert.match(wrongType.body, /FormatsSupported|formats this device installs/);
    const stalled = await send(upload, 'POST', { ...type, Authorization: await auth() }, { stallAfter: pkg.subarray(0, 50), declared: pkg.length });
    assert.equal(stalled.status, 408);
    assert.equal((await send(upload, 'POST', { ...type, Authorization: await auth() }, pkg)).status, 200);
    const service = `${s.xaddr.replace('/onvif/device_service', '')}/onvif/app_management`;
    let state = '';
    for (let i = 0; i < 100 && state !== 'Active'; i++) {
      state = all((await withDigest(service, 'POST', SOAP, envelope('<ans:GetAppsInfo/>'))).body, 'State')[0] ?? '';
      if (state !== 'Active') await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(state, 'Active');
    assert.deepEqual(await env.manager(s).list(), [{ appId: 'Counter', name: 'People counter' }]);
  });

  it('configuration by hand: GET backs up, POST restores, 521 for another version', async () => {
    const s = await env.sim();
    await env.manager(s).install(counterPackage('1.0.0'));
    const url = (await env.manager(s).info('Counter'))[0]!.configuration!;
    const got = await withDigest(url, 'GET', {});
    assert.equal(got.status, 200);
    const doc = JSON.parse(got.body);
    assert.equal((await withDigest(url, 'POST', { 'Content-Type': 'application/octet-stream' }, Buffer.from(JSON.stringify(doc)))).status, 200);
    const other = await withDigest(url, 'POST', { 'Content-Type': 'application/octet-stream' }, Buffer.from(JSON.stringify({ ...doc, version: '0.1' })));
    assert.equal(other.status, 521);
    assert.match(other.body, /Version mismatch/);
  });

  it('events by hand: a new pull point reports each app state as Initialized, and the topic set has the app topics', async () => {
    const s = await env.sim();
    await env.manager(s).install(counterPackage());
    const events = s.xaddr.replace('/onvif/device_service', '/onvif/events_service');
    const props = await withDigest(events, 'POST', SOAP, envelope('<tev:GetEventProperties xmlns:tev="http://www.onvif.org/ver10/events/wsdl"/>'));
    assert.match(props.body, /<tns1:AppMgmt[^>]*><State wstop:topic="true">/);
    assert.match(props.body, /<Counter><Counted wstop:topic="true">/);
    const created = await withDigest(
      events, 'POST', SOAP,
      envelope('<tev:CreatePullPointSubscription xmlns:tev="http://www.onvif.org/ver10/events/wsdl" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2"><tev:Filter><wsnt:TopicExpression Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet" xmlns:tns1="http://www.onvif.org/ver10/topics">tns1:AppMgmt/State</wsnt:TopicExpression></tev:Filter></tev:CreatePullPointSubscription>'),
    );
    const address = /<wsa:Address>([^<]+)<\/wsa:Address>/.exec(created.body)![1]!;
    const pulled = await withDigest(address, 'POST', SOAP, envelope('<tev:PullMessages xmlns:tev="http://www.onvif.org/ver10/events/wsdl"><tev:Timeout>PT1S</tev:Timeout><tev:MessageLimit>10</tev:MessageLimit></tev:PullMessages>'));
    assert.match(pulled.body, /PropertyOperation="Initialized"/);
    assert.match(pulled.body, /Name="AppID" Value="Counter"/);
    assert.match(pulled.body, /Name="State" Value="Active"/);
  });
});

describe('apps: every request the library sends validates against the official schemas', function () {
  this.timeout(60_000);
  const env = useApps();

  it('captures and validates GetServiceCapabilities … GetDeviceId; children are unqualified', async function () {
    const why = validationUnavailable();
    if (why) skipWith(this, why);
    const s = await env.sim();
    const apps = env.manager(s);
    await apps.capabilities();
    await apps.install(counterPackage());
    await apps.list();
    await apps.info();
    await apps.info('Counter');
    await apps.deactivate('Counter');
    await apps.activate('Counter');
    const deviceId = await apps.deviceId();
    await apps.installLicense('Counter', makeLicense({ app: 'Counter', device: deviceId, name: 'a' }));
    await apps.installLicense(undefined, makeLicense({ app: 'Counter', device: deviceId, name: 'b' }));
    await apps.uninstall('Counter');
    const sent = s.requests.filter((r) => r.path === '/onvif/app_management' && r.body.includes('Envelope'));
    const ops = new Set(sent.map((r) => r.operation));
    for (const op of ['GetServiceCapabilities', 'GetInstalledApps', 'GetAppsInfo', 'Activate', 'Deactivate', 'Uninstall', 'InstallLicense', 'GetDeviceId']) assert.ok(ops.has(op), `${op} was sent`);
    for (const r of sent.filter((x) => x.body.includes('<AppID>') || x.body.includes('License>'))) assert.doesNotMatch(r.body, /<\w+:(AppID|License)>/, 'children are unqualified');
    assert.ok(sent.some((r) => /<ans:GetAppsInfo><AppID>Counter<\/AppID><\/ans:GetAppsInfo>/.test(r.body)));
    const result = validateRequests('apps-requests', sent);
    assert.equal(result.code, 0, result.output);
    // A request with a qualified child is what the schema forbids: the validator notices (so the check can fail).
    const wrong = path.join(OUTPUT, 'apps-requests', 'qualified-child.xml');
    writeFileSync(wrong, envelope('<ans:GetAppsInfo><ans:AppID>Counter</ans:AppID></ans:GetAppsInfo>'));
    assert.notEqual(validateFiles([wrong]).code, 0);
  });
});
