import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { AppError, type AppProgress, type AppStateChange } from '../../lib/apps';
import { APP_UPLOAD_PATH, makeAppPackage, packageHeader } from '../../lib/simulator';
import { counterPackage, useApps } from './support';

/** A local file server for { url } sources; `stallAfter` bytes, then nothing more (a stalled upload source). */
async function fileServer(body: Buffer, opts: { stallAfter?: number; contentType?: string } = {}): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Length': body.length, 'Content-Type': opts.contentType ?? 'application/octet-stream' });
    if (opts.stallAfter !== undefined) res.write(body.subarray(0, opts.stallAfter));
    else res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/pkg/counter.app`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('apps: install and update, confirmed', function () {
  this.timeout(60_000);
  const env = useApps();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'onvifq-apps-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('install: uploads, follows Installing to Active through the state event, and verifies with GetAppsInfo', async () => {
    const s = await env.sim();
    const apps = env.manager(s);
    const progress: AppProgress[] = [];
    const r = await apps.install(counterPackage('1.0.0'), { onProgress: (p) => progress.push(p) });
    assert.equal(r.appId, 'Counter');
    assert.equal(r.name, 'People counter');
    assert.equal(r.version, '1.0.0');
    assert.equal(r.state, 'Active');
    assert.equal(r.via, 'events');
    assert.equal(r.updated, false);
    assert.equal(r.verified, true);
    assert.equal(r.contentType, 'application/vnd.onvifq.sim-app');
    assert.equal(s.appStates.Counter, 'Active');
    const phases = progress.map((p) => p.phase);
    assert.ok(phases.includes('uploading') && phases.includes('installing') && phases.at(-1) === 'done', phases.join(','));
    assert.equal(progress.filter((p) => p.phase === 'uploading').at(-1)!.percent, 100);
    assert.ok(progress.some((p) => p.phase === 'installing' && p.state === 'Installing'), 'the Installing event was seen');
    // The upload carried Content-Length, the Content-Type from FormatsSupported and digest credentials.
    const upload = s.requests.find((q) => q.path === APP_UPLOAD_PATH && q.status === 200)!;
    assert.equal(upload.headers['content-length'], String(counterPackage('1.0.0').length));
    assert.equal(upload.headers['content-type'], 'application/vnd.onvifq.sim-app');
    assert.match(String(upload.headers.authorization), /^Digest /);
  });

  it('an app without autostart ends Inactive; a { file } source is streamed', async () => {
    const s = await env.sim();
    const file = path.join(dir, 'viewer.app');
    writeFileSync(file, makeAppPackage({ id: 'Viewer', name: 'Viewer', version: '0.9', autostart: false, payloadBytes: 200_000 }));
    const r = await env.manager(s).install({ file });
    assert.deepEqual([r.appId, r.state, r.bytes], ['Viewer', 'Inactive', 200_000 + packageHeader({ id: 'Viewer', name: 'Viewer', version: '0.9', autostart: false, payloadBytes: 200_000 }).length]);
  });

  it('a { url } source is streamed from its server into the upload', async () => {
    const s = await env.sim();
    const server = await fileServer(counterPackage('1.0.0'));
    try {
      const r = await env.manager(s).install({ url: server.url });
      assert.equal(r.state, 'Active');
    } finally {
      await server.close();
    }
  });

  it('update of an Active app: Inactive, Installing, Active; the new Version and LastUpdate are verified', async () => {
    const s = await env.sim();
    const apps = env.manager(s);
    await apps.install(counterPackage('1.0.0'));
    const [before] = await apps.info('Counter');
    const seen = firstValueFrom(
      apps.watch().pipe(
        filter((c) => !c.initial),
        take(3),
        toArray(),
      ),
    );
    // LastUpdate has whole seconds: let the clock move on.
    await new Promise((r) => setTimeout(r, 1100));
    const r = await apps.update(counterPackage('2.0.0'), { appId: 'Counter' });
    assert.deepEqual([r.updated, r.previousVersion, r.version, r.state, r.verified], [true, '1.0.0', '2.0.0', 'Active', true]);
    assert.notEqual(r.lastUpdate, before!.lastUpdate);
    assert.equal(r.info.installationDate, before!.installationDate);
    const changes = await seen;
    assert.deepEqual(
      changes.map((c: AppStateChange) => [c.appId, c.oldState, c.newState]),
      [['Counter', 'Active', 'Inactive'], ['Counter', 'Inactive', 'Installing'], ['Counter', 'Installing', 'Active']],
    );
    assert.equal(changes[0]!.name, 'People counter');
  });

  it('update of an app that is not installed is refused before anything is uploaded', async () => {
    const s = await env.sim();
    await assert.rejects(env.manager(s).update(counterPackage(), { appId: 'Nope' }), (e: AppError) => e.step === 'snapshot' && /no app 'Nope' to update/.test(e.message));
    assert.ok(!s.requests.some((q) => q.path === APP_UPLOAD_PATH));
  });

  it('InstallationFailed: a damaged package and an incompatible one end in an error carrying the device Status', async () => {
    const s = await env.sim();
    const apps = env.manager(s);
    const truncated = counterPackage('1.0.0').subarray(0, 400);
    await assert.rejects(apps.install(truncated), (e: AppError) => {
      assert.equal(e.step, 'install');
      assert.equal(e.appId, 'Counter');
      assert.match(e.appStatus!, /truncated or damaged/);
      assert.match(e.message, /could not install app 'Counter' \(InstallationFailed\): the package is truncated/);
      return true;
    });
    await assert.rejects(apps.install(counterPackage('1.0.0', { requires: { model: 'OtherCam-9' } })), (e: AppError) => e.step === 'install' && /it is for model OtherCam-9, this device is SimQ-1/.test(e.appStatus!));
    assert.deepEqual(await apps.list(), [], 'nothing was installed');
  });

  it('without events (events: false) the outcome comes from polling GetAppsInfo', async () => {
    const s = await env.sim();
    const r = await env.manager(s, { events: false }).install(counterPackage());
    assert.deepEqual([r.state, r.via], ['Active', 'polling']);
    assert.equal(s.pullPoints.length, 0);
  });

  it('a device whose pull points are all taken: the install falls back to polling', async () => {
    const s = await env.sim({ maxPullPoints: 0 });
    const r = await env.manager(s, { subscribeTimeoutMs: 5000 }).install(counterPackage());
    assert.deepEqual([r.state, r.via], ['Active', 'polling']);
  });

  it('an install that takes longer than the deadline fails with a clear message', async () => {
    const s = await env.sim({ apps: { installDelayMs: 30_000 } });
    await assert.rejects(env.manager(s).install(counterPackage(), { timeoutMs: 1500 }), (e: AppError) => e.kind === 'timeout' && e.step === 'install' && /did not finish installing app 'Counter' before the deadline/.test(e.message));
  });

  it('the Content-Type is refused locally when no format fits; HTTP 415 from the device is explained', async () => {
    const s = await env.sim();
    await assert.rejects(env.manager(s).install(counterPackage(), { contentType: 'application/zip' }), (e: AppError) => e.step === 'package' && e.kind === 'invalid-input' && /does not install application\/zip packages/.test(e.message));
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(100)]);
    await assert.rejects(env.manager(s).install(zip), (e: AppError) => e.step === 'package' && /looks like application\/zip/.test(e.message));
    assert.ok(!s.requests.some((q) => q.path === APP_UPLOAD_PATH), 'nothing was uploaded');
    // A device whose capabilities list a format its upload then refuses.
    const liar = await env.sim({ apps: { formats: ['application/vnd.onvifq.sim-app'], acceptedFormats: ['application/x-tar'] } });
    await assert.rejects(env.manager(liar).install(counterPackage()), (e: AppError) => e.step === 'upload' && e.httpStatus === 415 && /does not install packages of type application\/vnd.onvifq.sim-app \(HTTP 415\)/.test(e.message));
  });

  it('HTTP 408: an upload whose source stalls is given up by the device, and explained', async () => {
    const s = await env.sim({ apps: { uploadIdleTimeoutMs: 300 } });
    const server = await fileServer(counterPackage(), { stallAfter: 100 });
    try {
      await assert.rejects(env.manager(s).install({ url: server.url }), (e: AppError) => e.step === 'upload' && e.httpStatus === 408 && /arrived too slowly/.test(e.message));
    } finally {
      await server.close();
    }
  });

  it('HTTP 403 for a user who may not install apps (not an Administrator), and wrong credentials fail with auth', async () => {
    const s = await env.sim();
    const admin = env.open(s);
    await admin.call('CreateUsers', { User: [{ Username: 'op', Password: 'Oper-pass1', UserLevel: 'Operator' }] });
    await assert.rejects(env.manager(s, {}, { username: 'op', password: 'Oper-pass1' }).install(counterPackage()), (e: AppError) => e.step === 'upload' && e.kind === 'auth' && /HTTP 403/.test(e.message));
    await assert.rejects(env.manager(s, {}, { username: 'admin', password: 'wrong-one' }).install(counterPackage()), (e: AppError) => e.kind === 'auth');
  });
});
