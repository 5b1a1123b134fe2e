/**
 * The simulator's firmware upgrade (issue 12): the honest counterpart the library is tested against.
 * SOAP goes through the library's OnvifDevice; the upload endpoint is driven with raw HTTP so every
 * refusal (405, 401 incl. stale, 403, 404, 503, 415, 411, 413) can be provoked on purpose.
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { isOnvifError } from '../../lib/errors';
import { mtomRequest } from '../../lib/firmware/mtom';
import { makeFirmwareCommand } from '../../lib/simulator/cli';
import { FirmwareVerifier, makeFirmware, SimulatedDevice, type SimulatorOptions } from '../../lib/simulator';
import { challenges, digestCall, digestHeader, envelope, type DigestSession } from './client';
import { skipWith, validateFiles, validationUnavailable } from '../support/shared';
import { waitFor } from '../support/wait';

const ADMIN = { username: 'admin', password: 'Adm1n-secret' };
const OPERATOR = { username: 'oper', password: 'Oper-pass1' };
const MODEL = 'SimQ-1';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw request; `body` as a Buffer gets a Content-Length, as a Readable goes chunked (no Content-Length). */
function raw(url: string, method: string, headers: Record<string, string>, body?: Buffer | Readable): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const h = { ...headers, ...(Buffer.isBuffer(body) ? { 'Content-Length': String(body.length) } : {}) };
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method, agent: false, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body instanceof Readable) body.pipe(req);
    else req.end(body);
  });
}

/** POST the image with digest: an empty probe draws the challenge (as curl does), the second request answers it. */
async function postImage(url: string, image: Buffer | (() => Readable), user = ADMIN, headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' }): Promise<Answer> {
  const first = await raw(url, 'POST', headers, Buffer.alloc(0));
  if (first.status !== 401) return first;
  const session: DigestSession = { challenge: challenges({ status: 401, headers: first.headers, rawHeaders: rawHeaders(first), body: '' })[0]!, nc: 0 };
  const auth = digestHeader(session, user.username, user.password, new URL(url).pathname, 'POST');
  return raw(url, 'POST', { ...headers, Authorization: auth }, typeof image === 'function' ? image() : image);
}

function rawHeaders(a: Answer): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(a.headers)) for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined) out.push(k, x);
  return out;
}

describe('simulator: firmware upgrade (StartFirmwareUpgrade, upload endpoint, outcomes, legacy MTOM)', function () {
  this.timeout(60_000);
  const devices: SimulatedDevice[] = [];
  const sessions: OnvifDevice[] = [];
  const start = async (o: SimulatorOptions = {}) => {
    const d = new SimulatedDevice({ ...ADMIN, processorUsageIntervalMs: 0, discovery: false, firmwareFlashMs: 50, firmwareDownTimeMs: 400, ...o });
    await d.start();
    devices.push(d);
    return d;
  };
  const session = (d: SimulatedDevice, user = ADMIN) => {
    const s = new OnvifDevice({ address: d.xaddr, ...user });
    sessions.push(s);
    return s;
  };
  const startUpgrade = async (d: SimulatedDevice) => (await session(d).call('StartFirmwareUpgrade')) as { UploadUri: string; UploadDelay: string; ExpectedDownTime: string };
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.close()));
    await Promise.all(devices.splice(0).map((d) => d.stop()));
  });

  it('the image format: the verifier accepts a made image for its model and says why it refuses others', () => {
    const good = makeFirmware({ model: MODEL, version: '2.0.0', payloadBytes: 100_000 });
    const check = (bytes: Buffer, model = MODEL, chunk = 777) => {
      const v = new FirmwareVerifier(model);
      for (let i = 0; i < bytes.length; i += chunk) v.push(bytes.subarray(i, i + chunk));
      return v.end();
    };
    assert.deepEqual(check(good), { ok: true, header: { format: 1, model: MODEL, version: '2.0.0', payloadBytes: 100_000 } });
    assert.deepEqual(check(good, 'OtherCam'), { ok: false, why: `the image is for model ${MODEL}, this device is OtherCam` });
    const flipped = Buffer.from(good);
    flipped[5000] ^= 0xff;
    assert.match((check(flipped) as { why: string }).why, /checksum mismatch/);
    assert.match((check(good.subarray(0, good.length - 10)) as { why: string }).why, /truncated/);
    assert.match((check(Buffer.from('<html>not firmware</html>')) as { why: string }).why, /not a firmware image/);
  });

  it('onvifq-sim make-firmware writes an image the device accepts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'onvifq-fw-'));
    try {
      const made = await makeFirmwareCommand(['--version', '2.0.0', '--model', MODEL, '--size', '300000', '--out', path.join(dir, 'fw.bin')]);
      assert.deepEqual({ ...made, file: path.basename(made.file) }, { file: 'fw.bin', bytes: readFileSync(made.file).length, model: MODEL, version: '2.0.0' });
      const v = new FirmwareVerifier(MODEL);
      v.push(readFileSync(made.file));
      assert.equal(v.end().ok, true);
      await assert.rejects(makeFirmwareCommand(['--model', MODEL]), /needs --version/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('signals HttpFirmwareUpgrade in both capability forms; legacy mode signals FirmwareUpgrade only; off signals neither', async () => {
    for (const [mode, http, mtom] of [['http', true, false], ['legacy', false, true], ['off', false, false]] as const) {
      const d = await start({ firmwareMode: mode });
      const s = session(d);
      const sc = (await s.call('GetServiceCapabilities')) as { Capabilities: { System: Record<string, boolean> } };
      assert.equal(sc.Capabilities.System.HttpFirmwareUpgrade, http, `${mode}: GetServiceCapabilities HttpFirmwareUpgrade`);
      assert.equal(sc.Capabilities.System.FirmwareUpgrade, mtom, `${mode}: GetServiceCapabilities FirmwareUpgrade`);
      const legacy = (await s.call('GetCapabilities', { Category: ['All'] })) as { Capabilities: { Device: { System: { FirmwareUpgrade: boolean; Extension: { HttpFirmwareUpgrade: boolean } } } } };
      assert.equal(legacy.Capabilities.Device.System.Extension.HttpFirmwareUpgrade, http, `${mode}: GetCapabilities extension`);
      assert.equal(legacy.Capabilities.Device.System.FirmwareUpgrade, mtom);
      const session0 = await s.connect();
      assert.equal(session0.capabilities.system.httpFirmwareUpgrade, http);
      if (!http) await assert.rejects(s.call('StartFirmwareUpgrade'), (e: unknown) => isOnvifError(e) && !!e.hasSubcode('ActionNotSupported'));
    }
  });

  it('StartFirmwareUpgrade is UNRECOVERABLE: an Operator gets NotAuthorized; the answer has UploadUri, UploadDelay and ExpectedDownTime', async () => {
    const d = await start({ firmwareUploadDelayMs: 2000, firmwareDownTimeMs: 7000 });
    await session(d).call('CreateUsers', { User: [{ Username: OPERATOR.username, Password: OPERATOR.password, UserLevel: 'Operator' }] });
    await assert.rejects(session(d, OPERATOR).call('StartFirmwareUpgrade'), (e: unknown) => isOnvifError(e) && e.isNotAuthorized);
    const r = await startUpgrade(d);
    assert.match(r.UploadUri, new RegExp(`^http://127\\.0\\.0\\.1:${d.port}/onvifq/firmware/[0-9a-f]{32}$`));
    assert.equal(r.UploadDelay, 'PT2S');
    assert.equal(r.ExpectedDownTime, 'PT7S');
  });

  it('the upload endpoint refuses: other methods 405, no or wrong credentials 401 (stale nonce says stale), non-admin 403, unknown URI 404', async () => {
    const d = await start({ digestNonceLifetimeMs: 300 });
    await session(d).call('CreateUsers', { User: [{ Username: OPERATOR.username, Password: OPERATOR.password, UserLevel: 'Operator' }] });
    const { UploadUri } = await startUpgrade(d);
    const image = makeFirmware({ model: MODEL, version: '2.0.0' });
    assert.equal((await raw(UploadUri, 'GET', {})).status, 405);
    assert.equal((await raw(UploadUri, 'PUT', {}, image)).headers.allow, 'POST');
    const anonymous = await raw(UploadUri, 'POST', { 'Content-Type': 'application/octet-stream' }, image);
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /Digest realm=/);
    assert.equal((await postImage(UploadUri, image, { ...ADMIN, password: 'wrong' })).status, 401);
    assert.equal((await postImage(UploadUri, image, OPERATOR)).status, 403);
    // A nonce older than its lifetime is answered stale=true (the password was right: answer again with a fresh one).
    const first = await raw(UploadUri, 'POST', { 'Content-Type': 'application/octet-stream' }, Buffer.alloc(0));
    const issued = Date.now();
    await waitFor('the digest nonce to expire', () => Date.now() > issued + 400);
    const stale: DigestSession = { challenge: challenges({ status: 401, headers: first.headers, rawHeaders: rawHeaders(first), body: '' })[0]!, nc: 0 };
    const staleAnswer = await raw(UploadUri, 'POST', { 'Content-Type': 'application/octet-stream', Authorization: digestHeader(stale, ADMIN.username, ADMIN.password, new URL(UploadUri).pathname, 'POST') }, image);
    assert.equal(staleAnswer.status, 401);
    assert.match(String(staleAnswer.headers['www-authenticate']), /stale=true/i);
    assert.equal((await postImage(`${UploadUri}0`, image)).status, 404);
    assert.equal(d.state.deviceInformation.FirmwareVersion, '1.0.0');
  });

  it('a POST before UploadDelay has passed is refused with 503 and the URI stays usable; after it, one upload only (used URI: 404)', async () => {
    const d = await start({ firmwareUploadDelayMs: 1000 });
    const { UploadUri } = await startUpgrade(d);
    const opened = Date.now();
    const image = makeFirmware({ model: MODEL, version: '2.0.0' });
    const early = await postImage(UploadUri, image);
    assert.equal(early.status, 503);
    assert.match(early.body, /UploadDelay/);
    await waitFor('UploadDelay to pass', () => Date.now() > opened + 1100, 5000);
    const restarted = once(d, 'ready');
    assert.equal((await postImage(UploadUri, image)).status, 200);
    assert.equal((await postImage(UploadUri, image)).status, 404, 'single use');
    await restarted;
    assert.equal(d.state.deviceInformation.FirmwareVersion, '2.0.0');
  });

  it('refuses the wrong content type (415), no Content-Length (411), too large (413), and wrong model, bad checksum or junk (415) with the version unchanged', async () => {
    const d = await start({ maxFirmwareBytes: 200_000 });
    const image = makeFirmware({ model: MODEL, version: '2.0.0', payloadBytes: 50_000 });
    const expectAnswer = async (status: number, body: Buffer | (() => Readable), pattern: RegExp, headers?: Record<string, string>) => {
      const { UploadUri } = await startUpgrade(d);
      const a = await postImage(UploadUri, body, ADMIN, headers);
      assert.equal(a.status, status, a.body);
      assert.match(a.body, pattern);
    };
    await expectAnswer(415, image, /application\/octet-stream/, { 'Content-Type': 'text/plain' });
    await expectAnswer(411, () => Readable.from([image]), /Content-Length is required/);
    await expectAnswer(413, makeFirmware({ model: MODEL, version: '2.0.0', payloadBytes: 300_000 }), /at most 200000/);
    await expectAnswer(415, makeFirmware({ model: 'OtherCam', version: '2.0.0' }), /for model OtherCam, this device is SimQ-1/);
    const damaged = Buffer.from(image);
    damaged[damaged.length - 100] ^= 1;
    await expectAnswer(415, damaged, /checksum/);
    await expectAnswer(415, Buffer.from('GIF89a junk'), /not a firmware image/);
    assert.equal(d.state.deviceInformation.FirmwareVersion, '1.0.0');
  });

  it('after acceptance: UploadStatus events, keeps answering while flashing, away for ExpectedDownTime (pull points dropped), back with the new version, a new LastReboot, settings, users and scopes kept', async () => {
    const d = await start({ firmwareFlashMs: 600, firmwareDownTimeMs: 800 });
    const s = session(d);
    await s.call('SetHostname', { Name: 'porch-cam' });
    await s.call('AddScopes', { ScopeItem: ['onvif://www.onvif.org/location/porch'] });
    await s.call('CreateUsers', { User: [{ Username: OPERATOR.username, Password: OPERATOR.password, UserLevel: 'Operator' }] });
    await s.call('CreatePullPointSubscription', {});
    assert.equal(d.pullPoints.length, 1);
    const before = d.stateSnapshot() as { network: unknown; users: unknown; scopes: unknown; events: { properties: Array<{ topic: string; data: Record<string, string> }> } };
    const lastReboot = (snap: typeof before) => snap.events.properties.find((p) => p.topic === 'tns1:Monitoring/OperatingTime/LastReboot')!.data.Status;
    const steps: string[] = [];
    d.on('firmware', (step: string) => steps.push(step));
    const { UploadUri } = await startUpgrade(d);
    const gone = once(d, 'reboot');
    const back = once(d, 'ready');
    assert.equal((await postImage(UploadUri, makeFirmware({ model: MODEL, version: '2.0.0', payloadBytes: 200_000 }))).status, 200);
    const status = (d.stateSnapshot() as typeof before).events.properties.find((p) => p.topic === 'tns1:Monitoring/UploadStatus');
    assert.equal(status?.data.Status, '100', 'UploadStatus reached 100 %');
    // Flashing: still answers SOAP, still the old version.
    const flashing = (await s.call('GetDeviceInformation')) as { FirmwareVersion: string };
    assert.equal(flashing.FirmwareVersion, '1.0.0');
    await gone;
    const goneAt = Date.now();
    assert.equal(d.pullPoints.length, 0, 'pull points do not survive the restart');
    await assert.rejects(raw(d.xaddr, 'GET', {}), /ECONNREFUSED/);
    await back;
    assert.ok(Date.now() - goneAt >= 700, 'away for about ExpectedDownTime');
    assert.deepEqual(steps, ['accepted', 'flashing', 'restarting']);
    const after = d.stateSnapshot() as typeof before;
    assert.equal(d.state.deviceInformation.FirmwareVersion, '2.0.0');
    assert.deepEqual(after.network, before.network);
    assert.deepEqual(after.users, before.users);
    assert.deepEqual(after.scopes, before.scopes);
    assert.notEqual(lastReboot(after), lastReboot(before));
    s.reset();
    assert.equal(((await s.call('GetDeviceInformation')) as { FirmwareVersion: string }).FirmwareVersion, '2.0.0');
  });

  it('a restart forgets the upload URIs', async () => {
    const d = await start({ rebootDowntimeMs: 200 });
    const { UploadUri } = await startUpgrade(d);
    const back = once(d, 'ready');
    await session(d).call('SystemReboot', {}, { waitForRestart: false });
    await back;
    assert.equal((await postImage(UploadUri, makeFirmware({ model: MODEL, version: '2.0.0' }))).status, 404);
  });

  it('injected outcomes: 500 and any status leave the version; close after the body applies it; a drop mid-body does not', async () => {
    const d = await start();
    const image = makeFirmware({ model: MODEL, version: '2.0.0', payloadBytes: 4 * 1024 * 1024 });
    d.injectFirmwareOutcome({ kind: 'fail' });
    assert.equal((await postImage((await startUpgrade(d)).UploadUri, image)).status, 500);
    d.injectFirmwareOutcome({ kind: 'status', status: 408 });
    assert.equal((await postImage((await startUpgrade(d)).UploadUri, image)).status, 408);
    d.injectFirmwareOutcome({ kind: 'drop-mid-body' });
    await assert.rejects(postImage((await startUpgrade(d)).UploadUri, image), /ECONNRESET|socket hang up|EPIPE/);
    assert.equal(d.state.deviceInformation.FirmwareVersion, '1.0.0');
    d.injectFirmwareOutcome({ kind: 'close-after-body' });
    const back = once(d, 'ready');
    await assert.rejects(postImage((await startUpgrade(d)).UploadUri, image), /socket hang up|ECONNRESET/);
    await back;
    assert.equal(d.state.deviceInformation.FirmwareVersion, '2.0.0');
  });

  it('legacy mode parses the MTOM UpgradeSystemFirmware and answers ter:InvalidFirmware for a bad image', async () => {
    const d = await start({ firmwareMode: 'legacy' });
    const send = async (image: Buffer) => {
      const req = mtomRequest({ name: 'buffer', size: image.length, open: () => Readable.from([image]), from: 'buffer' });
      const chunks: Buffer[] = [];
      for await (const c of req.open()) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      assert.equal(body.length, req.size, 'the declared size is exact');
      return postImage(d.xaddr, body, ADMIN, { 'Content-Type': req.contentType });
    };
    const bad = await send(makeFirmware({ model: 'OtherCam', version: '2.0.0' }));
    assert.equal(bad.status, 400);
    assert.match(bad.body, /ter:InvalidFirmware/);
    assert.equal(d.state.deviceInformation.FirmwareVersion, '1.0.0');
    const back = once(d, 'ready');
    const good = await send(makeFirmware({ model: MODEL, version: '3.1.0', payloadBytes: 500_000 }));
    assert.equal(good.status, 200, good.body);
    assert.match(good.body, /UpgradeSystemFirmwareResponse/);
    await back;
    assert.equal(d.state.deviceInformation.FirmwareVersion, '3.1.0');
  });

  it('StartFirmwareUpgradeResponse, UpgradeSystemFirmwareResponse and the ter:InvalidFirmware fault validate against the official schemas', async function () {
    const why = validationUnavailable();
    if (why) skipWith(this, why);
    const answers: Array<[string, string]> = [];
    const http = await start();
    const started = await digestCall(http.xaddr, envelope('StartFirmwareUpgrade'), ADMIN.username, ADMIN.password);
    assert.equal(started.status, 200);
    answers.push(['StartFirmwareUpgradeResponse', started.body]);
    const legacy = await start({ firmwareMode: 'legacy' });
    for (const [name, image] of [['InvalidFirmware', makeFirmware({ model: 'OtherCam', version: '2.0.0' })], ['UpgradeSystemFirmwareResponse', makeFirmware({ model: MODEL, version: '2.0.0' })]] as const) {
      const req = mtomRequest({ name: 'buffer', size: image.length, open: () => Readable.from([image]), from: 'buffer' });
      const chunks: Buffer[] = [];
      for await (const c of req.open()) chunks.push(c as Buffer);
      answers.push([name, (await postImage(legacy.xaddr, Buffer.concat(chunks), ADMIN, { 'Content-Type': req.contentType })).body]);
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'onvifq-fw-schema-'));
    try {
      const files = answers.map(([name, body]) => {
        const f = path.join(dir, `${name}.xml`);
        writeFileSync(f, body);
        return f;
      });
      const result = validateFiles(files);
      assert.equal(result.code, 0, result.output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
