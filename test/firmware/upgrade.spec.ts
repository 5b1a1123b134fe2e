/**
 * Issue 12: upgradeFirmware against the simulator, one test per answer and outcome, each named by what
 * the user sees; cancelling at every phase; the URL source; the legacy MTOM path; dry run; rolling fleet;
 * and every request validated against the official schemas.
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { EventHub } from '../../lib/events';
import {
  firmwareDryRun, isFirmwareError, upgradeFirmware, upgradeFleet, type FirmwareError, type FirmwareOptions, type FirmwarePhase, type FirmwareProgress,
} from '../../lib/firmware';
import { FIRMWARE_PATH_PREFIX, makeFirmware, SimulatedDevice, type SimulatedRequest, type SimulatorOptions } from '../../lib/simulator';
import { freeTcpPort } from '../support/ports';
import { skipWith, validateRequests, validationUnavailable } from '../support/shared';
import { rejection } from '../support/rejection';

const ADMIN = { username: 'admin', password: 'Adm1n-secret' };
const MODEL = 'SimQ-1';
const image = (version = '2.0.0', payloadBytes = 256 * 1024, model = MODEL) => makeFirmware({ model, version, payloadBytes });
/** Bounded waits so a test that goes wrong fails in seconds, not minutes. */
const FAST = { timeouts: { goneWithinMs: 5000, backMs: 20_000, stallMs: 10_000 }, legacyDownTimeMs: 1500 } satisfies FirmwareOptions;

/** What upgradeFirmware rejected with (fails the test when it resolved). */
const failure = (p: Promise<unknown>): Promise<FirmwareError> => rejection(p, isFirmwareError, 'a FirmwareError');

describe('firmware: upgradeFirmware against the simulator', function () {
  this.timeout(90_000);
  const sims: SimulatedDevice[] = [];
  const sessions: OnvifDevice[] = [];
  const servers: Server[] = [];
  const start = async (o: SimulatorOptions = {}) => {
    const sim = new SimulatedDevice({ ...ADMIN, discovery: false, processorUsageIntervalMs: 0, firmwareFlashMs: 100, firmwareDownTimeMs: 1500, ...o });
    await sim.start();
    sims.push(sim);
    return sim;
  };
  const connect = (sim: SimulatedDevice | string, user = ADMIN) => {
    const d = new OnvifDevice({ address: typeof sim === 'string' ? sim : sim.xaddr, ...user, timeoutMs: 5000 });
    sessions.push(d);
    return d;
  };
  const posts = (sim: SimulatedDevice) => sim.requests.filter((r) => r.path.startsWith(FIRMWARE_PATH_PREFIX) && r.status !== 401);
  const ops = (sim: SimulatedDevice, name: string) => sim.requests.filter((r) => r.operation === name);
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    for (const s of servers.splice(0)) s.close();
  });

  it('upgrades: shows "waiting 1 s", "uploading %", "flashing…", "rebooting…", "verifying", "v2.0.0"; waited UploadDelay; one streamed POST with Content-Length; settings kept', async () => {
    const sim = await start({ firmwareUploadDelayMs: 1000 });
    const device = connect(sim);
    const fw = image('2.0.0', 2 * 1024 * 1024);
    const seen: FirmwareProgress[] = [];
    const r = await upgradeFirmware(device, fw, { ...FAST, expectVersion: '2.0.0', onProgress: (p) => seen.push(p) });
    assert.equal(r.before.firmwareVersion, '1.0.0');
    assert.equal(r.after.firmwareVersion, '2.0.0');
    assert.equal(r.method, 'http');
    assert.equal(r.uploadBytes, fw.length);
    assert.ok(r.downtimeMs > 500, `away for a while (${r.downtimeMs} ms)`);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.after.network, r.before.network, 'network settings survive');
    assert.equal(sim.state.deviceInformation.FirmwareVersion, '2.0.0');
    const phases = [...new Set(seen.map((p) => p.phase))];
    assert.deepEqual(phases, ['checking', 'starting', 'waiting', 'uploading', 'flashing', 'rebooting', 'verifying', 'done']);
    assert.ok(seen.some((p) => p.text === 'waiting 1 s'));
    assert.ok(seen.some((p) => p.phase === 'uploading' && p.percent === 100 && p.bytes === fw.length && p.total === fw.length));
    assert.equal(seen.at(-1)!.text, 'v2.0.0');
    // The simulator refuses a POST before UploadDelay (503): one accepted POST proves the wait.
    const [post] = posts(sim);
    assert.equal(posts(sim).length, 1);
    assert.equal(post!.status, 200);
    assert.equal(post!.headers['content-length'], String(fw.length));
    assert.equal(post!.headers['transfer-encoding'], undefined, 'never chunked');
    assert.equal(post!.headers['content-type'], 'application/octet-stream');
    const started = Date.parse(ops(sim, 'StartFirmwareUpgrade')[0]!.time);
    assert.ok(Date.parse(post!.time) - started >= 1000, 'the POST came after UploadDelay');
    assert.ok(r.steps.some((s) => /^upgraded 1\.0\.0 → 2\.0\.0$/.test(s.text)));
  });

  it('with the device\'s event stream: "the device reports that the upload began", "received the whole image", "announced its restart" in the steps; without it no pull point is taken', async () => {
    const sim = await start();
    // The device checks the image for a while before it answers, so its UploadStatus 100 % comes during the upload.
    sim.injectFirmwareOutcome({ kind: 'slow', answerAfterMs: 1500 });
    const device = connect(sim);
    const hub = new EventHub(async () => device);
    const seen: FirmwareProgress[] = [];
    try {
      const r = await upgradeFirmware(device, image('2.0.0', 1024 * 1024), { ...FAST, expectVersion: '2.0.0', events: hub, onProgress: (p) => seen.push(p) });
      assert.ok(seen.some((p) => p.phase === 'uploading' && p.devicePercent === 100 && p.percent === 100), 'the device\'s own percent shows in the upload progress');
      const texts = r.steps.map((s) => s.text);
      const at = (re: RegExp) => texts.findIndex((t) => re.test(t));
      assert.ok(at(/upload began \(UploadInitiated event\)/) >= 0, texts.join('\n'));
      assert.ok(at(/received the whole image \(UploadStatus 100 %\)/) > at(/upload began/), texts.join('\n'));
      assert.ok(at(/announced its restart \(ShutdownInitiated event\)/) > at(/received the whole image/), texts.join('\n'));
      assert.ok(at(/went away to restart/) > at(/announced its restart/), 'the device sent the event before it went away');
      assert.ok(ops(sim, 'CreatePullPointSubscription').length >= 1);
    } finally {
      await hub.close();
    }
    const plain = await start();
    await upgradeFirmware(connect(plain), image('2.0.0'), { ...FAST, expectVersion: '2.0.0' });
    assert.equal(ops(plain, 'CreatePullPointSubscription').length, 0, 'no events asked for, no subscription taken');
  });

  it('415: "the device rejected the image (HTTP 415): it is not valid for this model", not retried, the device keeps its firmware', async () => {
    const sim = await start();
    const e = await failure(upgradeFirmware(connect(sim), image('2.0.0', 1000, 'OtherCam'), FAST));
    assert.equal(e.failure, 'rejected');
    assert.equal(e.kind, 'invalid-input');
    assert.equal(e.outcome, 'unchanged');
    assert.equal(e.retryable, false);
    assert.match(e.message, /rejected the image \(HTTP 415\): it is not valid for this model \(SimQ-1\)\. The device keeps its firmware/);
    assert.match(e.message, /The device said: "The image was not accepted: the image is for model OtherCam/);
    assert.equal(e.httpStatus, 415);
    assert.equal(e.before?.firmwareVersion, '1.0.0');
    assert.ok(e.steps.length >= 3 && e.steps.at(-1)!.ok === false);
    assert.equal(posts(sim).length, 1, 'the image was sent once');
    assert.equal(sim.state.deviceInformation.FirmwareVersion, '1.0.0');
    // The transfer layer's own message speaks of firmware, not of a backup.
    const device = connect(sim);
    const { UploadUri } = (await device.call('StartFirmwareUpgrade')) as { UploadUri: string };
    await assert.rejects(device.upload(UploadUri, Buffer.from('junk'), { fileKind: 'firmware' }), /HTTP 415\): it is not a valid firmware image for this model; the device keeps its firmware/);
  });

  it('500: "the device failed while upgrading; the outcome is unknown; it now reports firmware 1.0.0; re-read its version before any retry", never POSTed twice', async () => {
    const sim = await start();
    sim.injectFirmwareOutcome({ kind: 'fail' });
    const e = await failure(upgradeFirmware(connect(sim), image(), FAST));
    assert.equal(e.failure, 'device-failed');
    assert.equal(e.outcome, 'unknown');
    assert.match(e.message, /failed while upgrading \(HTTP 500\); the outcome is unknown\. It now reports firmware 1\.0\.0\. Re-read its version before any retry/);
    assert.equal(e.after?.firmwareVersion, '1.0.0');
    assert.equal(posts(sim).length, 1);
  });

  it('408, 411 and 413 each say what they mean, and the image is not sent again', async () => {
    const expectations: Array<[SimulatorOptions, number, RegExp]> = [
      [{}, 408, /gave up waiting for the image \(HTTP 408\): the upload was too slow/],
      [{}, 411, /wants the image size first \(HTTP 411 Length Required\).*a proxy/],
      [{ maxFirmwareBytes: 1000 }, 413, /refused the image as too large \(HTTP 413\): check it is the right image for SimQ-1/],
    ];
    for (const [options, status, pattern] of expectations) {
      const sim = await start(options);
      if (status !== 413) sim.injectFirmwareOutcome({ kind: 'status', status });
      const e = await failure(upgradeFirmware(connect(sim), image(), FAST));
      assert.equal(e.httpStatus, status);
      assert.match(e.message, pattern);
      assert.equal(e.outcome, 'unchanged');
      assert.equal(posts(sim).length, 1, `${status}: one POST`);
    }
  });

  it('404 once: "the upload address expired" is answered with one fresh StartFirmwareUpgrade and the upgrade goes on; twice: "answered 404 twice"', async () => {
    const sim = await start({ firmwareUploadDelayMs: 1000 });
    let starts = 0;
    sim.on('request', (r: SimulatedRequest) => {
      if (r.operation === 'StartFirmwareUpgrade' && ++starts === 1) sim.expireFirmwareUploads();
    });
    const r = await upgradeFirmware(connect(sim), image(), FAST);
    assert.equal(r.after.firmwareVersion, '2.0.0');
    assert.equal(ops(sim, 'StartFirmwareUpgrade').length, 2);
    assert.deepEqual(posts(sim).map((p) => p.status), [404, 200]);
    assert.ok(r.steps.some((s) => /expired \(HTTP 404\).*asking for a new one, once/.test(s.text)));

    const sim2 = await start({ firmwareUploadDelayMs: 500 });
    sim2.on('request', (x: SimulatedRequest) => {
      if (x.operation === 'StartFirmwareUpgrade') sim2.expireFirmwareUploads();
    });
    const e = await failure(upgradeFirmware(connect(sim2), image(), FAST));
    assert.equal(e.failure, 'expired');
    assert.match(e.message, /answered 404 twice/);
    assert.equal(ops(sim2, 'StartFirmwareUpgrade').length, 2, 'a fresh StartFirmwareUpgrade only once');
  });

  it('connection closed after the whole image: "outcome unknown", goes on to verification and succeeds with a warning', async () => {
    const sim = await start();
    sim.injectFirmwareOutcome({ kind: 'close-after-body' });
    const r = await upgradeFirmware(connect(sim), image(), FAST);
    assert.equal(r.after.firmwareVersion, '2.0.0');
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /received the whole image but closed the connection without an answer; the outcome was only known from the version it came back with/);
    assert.equal(posts(sim).length, 1);
  });

  it('connection dropped mid-image: "the connection broke at N % … keeps its firmware", retryable, not sent again', async () => {
    const sim = await start();
    sim.injectFirmwareOutcome({ kind: 'drop-mid-body' });
    const e = await failure(upgradeFirmware(connect(sim), image('2.0.0', 48 * 1024 * 1024), FAST));
    assert.equal(e.failure, 'interrupted');
    assert.equal(e.outcome, 'unchanged');
    assert.equal(e.retryable, true);
    assert.match(e.message, /The connection to 127\.0\.0\.1:\d+ broke at \d+ % .* of the image .*keeps its firmware; check the network and try again/);
    assert.equal(posts(sim).length, 1);
    assert.equal(sim.state.deviceInformation.FirmwareVersion, '1.0.0');
  });

  it('stalled read: "the device stopped reading the image at N %", after the stall timeout, keeps its firmware', async () => {
    const sim = await start();
    sim.injectFirmwareOutcome({ kind: 'stall' });
    const t0 = Date.now();
    const e = await failure(upgradeFirmware(connect(sim), image('2.0.0', 48 * 1024 * 1024), { ...FAST, timeouts: { ...FAST.timeouts, stallMs: 1500 } }));
    assert.equal(e.failure, 'interrupted');
    assert.equal(e.kind, 'timeout');
    assert.match(e.message, /stopped reading the image at \d+ % .*keeps its firmware/);
    assert.ok(Date.now() - t0 < 15_000);
    assert.equal(sim.state.deviceInformation.FirmwareVersion, '1.0.0');
  });

  it('slow answer: the device verifies for 3 s before answering and the upload waits for it (the 1 s stall timeout does not apply once the image is sent)', async () => {
    const sim = await start();
    sim.injectFirmwareOutcome({ kind: 'slow', answerAfterMs: 3000 });
    const r = await upgradeFirmware(connect(sim), image(), { ...FAST, timeouts: { ...FAST.timeouts, stallMs: 1000 } });
    assert.equal(r.after.firmwareVersion, '2.0.0');
    assert.ok(r.uploadMs >= 3000, `uploadMs ${r.uploadMs} includes the device's verification`);
    assert.deepEqual(r.warnings, []);
  });

  it('accepted but back with the old version: "The upgrade was not applied: … still running 1.0.0 although it accepted the image"', async () => {
    const sim = await start();
    sim.injectFirmwareOutcome({ kind: 'old-version' });
    const e = await failure(upgradeFirmware(connect(sim), image(), FAST));
    assert.equal(e.failure, 'not-applied');
    assert.match(e.message, /The upgrade was not applied: 127\.0\.0\.1:\d+ came back still running 1\.0\.0 although it accepted the image/);
    assert.equal(e.after?.firmwareVersion, '1.0.0');
    assert.ok(e.steps.some((s) => s.text === 'the device went away to restart'));
  });

  it('back in Factory Default State: "the device reset itself … Commission it again now"', async () => {
    const sim = await start();
    sim.injectFirmwareOutcome({ kind: 'factory-default' });
    const e = await failure(upgradeFirmware(connect(sim), image(), FAST));
    assert.equal(e.failure, 'factory-default');
    assert.equal(e.outcome, 'upgraded');
    assert.match(e.message, /came back from the upgrade in Factory Default State \(firmware 2\.0\.0\): the device reset itself .*Commission it again now/);
    assert.equal(e.after?.profileQState, 'FactoryDefault');
  });

  it('back but refusing the credentials: "refuses the credentials that worked before … a device fault; not retried"', async () => {
    const sim = await start();
    // The "new firmware" lost the password: Core says users survive an upgrade, so this is the device's fault.
    sim.once('reboot', () => {
      sim.state.users.find((u) => u.username === ADMIN.username)!.password = 'Other-pass9';
    });
    const e = await failure(upgradeFirmware(connect(sim), image(), FAST));
    assert.equal(e.failure, 'auth');
    assert.equal(e.phase, 'verifying');
    assert.equal(e.outcome, 'unknown');
    assert.match(e.message, /is back after the upgrade but refuses the credentials that worked before\. Core requires users to survive an upgrade, so this is a device fault; not retried/);
    const refusals = sim.requests.filter((r) => r.status === 401 && r.headers.authorization).length;
    assert.ok(refusals <= 2, `credentials sent at most twice after the restart (${refusals})`);
  });

  it('never back: "did not come back within 3 s … It may still be flashing: do not power it off"', async () => {
    const sim = await start();
    sim.once('reboot', () => void sim.stop());
    const e = await failure(upgradeFirmware(connect(sim), image(), { ...FAST, timeouts: { ...FAST.timeouts, backMs: 3000 } }));
    assert.equal(e.failure, 'not-back');
    assert.equal(e.kind, 'timeout');
    assert.equal(e.outcome, 'unknown');
    assert.match(e.message, /did not come back within 3 s after it went away to install the firmware \(it expected 2 s\)\. It may still be flashing: do not power it off/);
  });

  it('expectVersion: another version is "now runs 2.0.0, not the expected 2.1.0"; a device already on it is "already runs … Nothing was sent"', async () => {
    const sim = await start();
    const e = await failure(upgradeFirmware(connect(sim), image('2.0.0'), { ...FAST, expectVersion: '2.1.0' }));
    assert.equal(e.failure, 'wrong-version');
    assert.match(e.message, /now runs 2\.0\.0, not the expected 2\.1\.0 \(it ran 1\.0\.0 before\)/);
    const current = await start({ deviceInformation: { FirmwareVersion: '2.0.0' } });
    const e2 = await failure(upgradeFirmware(connect(current), image('2.0.0'), { ...FAST, expectVersion: '2.0.0' }));
    assert.equal(e2.failure, 'already-current');
    assert.match(e2.message, /already runs firmware 2\.0\.0\. Nothing was sent/);
    assert.equal(ops(current, 'StartFirmwareUpgrade').length, 0);
  });

  it('no capability: "does not offer a firmware upgrade … set tryAnyway"; tryAnyway asks and reports "refused StartFirmwareUpgrade as not supported"', async () => {
    const sim = await start({ firmwareMode: 'off' });
    const e = await failure(upgradeFirmware(connect(sim), image(), FAST));
    assert.equal(e.failure, 'unsupported');
    assert.equal(e.kind, 'unsupported');
    assert.match(e.message, /does not offer a firmware upgrade .*Nothing was sent\. If you know it can, set tryAnyway/);
    assert.equal(ops(sim, 'StartFirmwareUpgrade').length, 0);
    const e2 = await failure(upgradeFirmware(connect(sim), image(), { ...FAST, tryAnyway: true }));
    assert.match(e2.message, /refused StartFirmwareUpgrade as not supported/);
    assert.equal(ops(sim, 'StartFirmwareUpgrade').length, 1);
  });

  it('an Operator: "refused StartFirmwareUpgrade for user \'oper\': a firmware upgrade needs an Administrator"', async () => {
    const sim = await start();
    await connect(sim).call('CreateUsers', { User: [{ Username: 'oper', Password: 'Oper-pass1', UserLevel: 'Operator' }] });
    const e = await failure(upgradeFirmware(connect(sim, { username: 'oper', password: 'Oper-pass1' }), image(), FAST));
    assert.equal(e.failure, 'auth');
    assert.equal(e.kind, 'auth');
    assert.match(e.message, /refused StartFirmwareUpgrade for user 'oper': a firmware upgrade needs an Administrator/);
  });

  describe('cancelling (signal) at each phase', () => {
    const cases: Array<[FirmwarePhase, RegExp, 'unchanged' | 'unknown']> = [
      ['checking', /Cancelled before the upload .*no image was sent, the device keeps its firmware/, 'unchanged'],
      ['waiting', /Cancelled before the upload .*no image was sent/, 'unchanged'],
      ['uploading', /Cancelled during the upload to .* \(\d+ %\): the device did not get the whole image and keeps its firmware/, 'unchanged'],
      ['flashing', /Cancelled after the whole image was sent .*may still be flashing\. Do not power it off/, 'unknown'],
      ['rebooting', /Cancelled after the whole image was sent .*may still be flashing/, 'unknown'],
      ['verifying', /Cancelled after the whole image was sent/, 'unknown'],
    ];
    for (const [phase, pattern, outcome] of cases) {
      it(`${phase}: "${pattern.source.replace(/\\/g, '').slice(0, 60)}…"`, async () => {
        const sim = await start({ firmwareUploadDelayMs: phase === 'waiting' ? 5000 : 0 });
        if (phase === 'uploading') sim.injectFirmwareOutcome({ kind: 'stall' });
        const abort = new AbortController();
        const e = await failure(
          upgradeFirmware(connect(sim), image('2.0.0', phase === 'uploading' ? 48 * 1024 * 1024 : 64 * 1024), {
            ...FAST,
            signal: abort.signal,
            onProgress: (p) => {
              if (p.phase === phase && (phase !== 'uploading' || (p.percent ?? 0) >= 1)) abort.abort();
            },
          }),
        );
        assert.equal(e.failure, 'aborted');
        assert.equal(e.kind, 'closed');
        assert.equal(e.phase, phase);
        assert.equal(e.outcome, outcome);
        assert.match(e.message, pattern);
        if (outcome === 'unchanged') {
          assert.equal(posts(sim).filter((p) => p.status === 200).length, 0);
          assert.equal(sim.state.deviceInformation.FirmwareVersion, '1.0.0');
        }
        if (phase === 'waiting') assert.equal(posts(sim).length, 0, 'no POST');
        if (phase === 'flashing') await once(sim, 'ready');
      });
    }
  });

  it('URL source served from 127.0.0.1: streamed to the device with its Content-Length; a server without Content-Length gets "does not state the image size", nothing sent', async () => {
    const fw = image('2.0.0', 3 * 1024 * 1024);
    let gets = 0;
    const server = createServer((req, res) => {
      gets++;
      if (req.url === '/chunked.bin') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        Readable.from([fw.subarray(0, 1000), fw.subarray(1000)]).pipe(res);
        return;
      }
      if (req.url !== '/fw/camera-2.0.0.bin') return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': fw.length });
      Readable.from([fw.subarray(0, 1 << 20), fw.subarray(1 << 20)]).pipe(res);
    });
    servers.push(server);
    const port = await freeTcpPort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    const sim = await start();
    const r = await upgradeFirmware(connect(sim), `http://127.0.0.1:${port}/fw/camera-2.0.0.bin`, FAST);
    assert.equal(r.after.firmwareVersion, '2.0.0');
    assert.equal(r.uploadBytes, fw.length);
    assert.equal(posts(sim)[0]!.headers['content-length'], String(fw.length));
    assert.ok(gets >= 2, 'one GET for the size, one per upload attempt');
    assert.ok(r.steps[0]!.text.startsWith(`image http://127.0.0.1:${port}/fw/camera-2.0.0.bin`));

    const sim2 = await start();
    const e = await failure(upgradeFirmware(connect(sim2), `http://127.0.0.1:${port}/chunked.bin`, FAST));
    assert.equal(e.failure, 'image');
    assert.match(e.message, /does not state the image size \(no Content-Length\).*Download the image to a file/);
    const e2 = await failure(upgradeFirmware(connect(sim2), `http://127.0.0.1:${port}/missing.bin`, FAST));
    assert.match(e2.message, /answered HTTP 404, not the image\. Check the URL/);
    assert.equal(sim2.requests.length, 0, 'nothing was sent to the device');
  });

  it('a stream factory and a file path as the image; backupFirst writes the backup before StartFirmwareUpgrade and returns it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'onvifq-fw-'));
    try {
      const fw = image('2.0.0', 500_000);
      const sim = await start();
      const r = await upgradeFirmware(connect(sim), { open: () => Readable.from([fw.subarray(0, 1000), fw.subarray(1000)]), size: fw.length, name: 'factory' }, FAST);
      assert.equal(r.after.firmwareVersion, '2.0.0');
      const file = path.join(dir, 'fw-3.bin');
      writeFileSync(file, image('3.0.0', 500_000));
      const backupFile = path.join(dir, 'backup.bin');
      const r2 = await upgradeFirmware(connect(sim), file, { ...FAST, backupFirst: backupFile });
      assert.equal(r2.after.firmwareVersion, '3.0.0');
      assert.equal(r2.backup?.file, backupFile);
      assert.ok(existsSync(backupFile) && r2.backup!.bytes > 100);
      const order = sim.requests.map((x) => (x.path === '/onvifq/backup' && x.status === 200 ? 'backup' : x.operation)).filter((x) => x === 'backup' || x === 'StartFirmwareUpgrade');
      assert.deepEqual(order, ['StartFirmwareUpgrade', 'backup', 'StartFirmwareUpgrade']);
      const e = await failure(upgradeFirmware(connect(sim), path.join(dir, 'missing.bin'), FAST));
      assert.match(e.message, /The firmware file .*missing\.bin does not exist\. Check the path\./);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('legacy MTOM UpgradeSystemFirmware: upgrades; ter:InvalidFirmware is "rejected the image"; ter:FirmwareUpgradeFailed is "failed while upgrading"', async () => {
    const sim = await start({ firmwareMode: 'legacy' });
    const r = await upgradeFirmware(connect(sim), image('2.5.0', 1024 * 1024), FAST);
    assert.equal(r.method, 'mtom');
    assert.equal(r.after.firmwareVersion, '2.5.0');
    const post = sim.requests.find((x) => x.operation === 'UpgradeSystemFirmware' && x.status === 200)!;
    assert.match(String(post.headers['content-type']), /^multipart\/related; type="application\/xop\+xml"/);
    assert.ok(Number(post.headers['content-length']) > 1024 * 1024, 'Content-Length, not chunked');
    const e = await failure(upgradeFirmware(connect(sim), image('3.0.0', 1000, 'OtherCam'), FAST));
    assert.equal(e.failure, 'rejected');
    assert.match(e.message, /rejected the image \(ter:InvalidFirmware\): it is not valid for this model/);
    sim.injectFirmwareOutcome({ kind: 'fail' });
    const e2 = await failure(upgradeFirmware(connect(sim), image('3.0.0'), FAST));
    assert.equal(e2.failure, 'device-failed');
    assert.match(e2.message, /failed while upgrading \(ter:FirmwareUpgradeFailed\); the outcome is unknown\. It now reports firmware 2\.5\.0/);
  });

  it('dry run: tells what would happen ("Would upgrade … 1.0.0 → 2.0.0", "Would skip", "Would not upgrade") and sends only reads', async () => {
    const sim = await start();
    const fw = image();
    const d = await firmwareDryRun(connect(sim), fw, { expectVersion: '2.0.0' });
    assert.equal(d.action, 'upgrade');
    assert.equal(d.reachable, true);
    assert.equal(d.method, 'http');
    assert.match(d.text, /^Would upgrade 127\.0\.0\.1:\d+ \(SimQ-1, 1\.0\.0 → 2\.0\.0\) by HTTP POST with buffer/);
    const sent = new Set(sim.requests.map((x) => x.operation));
    for (const op of sent) assert.match(String(op), /^Get/, `${op} is a read`);
    assert.equal(sim.requests.filter((x) => x.path !== '/onvif/device_service').length, 0);
    assert.equal((await firmwareDryRun(connect(sim), fw, { expectVersion: '1.0.0' })).action, 'skip');
    const wrong = await firmwareDryRun(connect(sim), fw, { expectModel: 'OtherCam' });
    assert.equal(wrong.action, 'refuse');
    assert.match(wrong.text, /Would not upgrade .*The image is for model OtherCam, but .* is a SimQ-1/);
    const off = await firmwareDryRun(connect(await start({ firmwareMode: 'off' })), fw);
    assert.match(off.problems[0]!, /does not offer a firmware upgrade/);
    const gone = await firmwareDryRun(connect(`127.0.0.1:${await freeTcpPort()}`), fw);
    assert.equal(gone.reachable, false);
    assert.match(gone.text, /refused the connection/);
  });

  it('rolling fleet of 3, one fails: stops, the rest "not started", one result per device and a summary', async () => {
    const a = await start();
    const b = await start({ deviceInformation: { Model: 'OtherCam' } });
    const c = await start();
    const ended: string[] = [];
    const fleet = await upgradeFleet([connect(a), connect(b), connect(c)], image(), { ...FAST, expectVersion: '2.0.0', onDeviceResult: (r) => ended.push(r.status) });
    assert.deepEqual(fleet.results.map((r) => r.status), ['upgraded', 'failed', 'not-started']);
    assert.deepEqual(ended, ['upgraded', 'failed']);
    assert.equal((fleet.results[1]!.error as FirmwareError).failure, 'rejected');
    assert.equal(fleet.summary.text, '1 upgraded, 0 skipped, 1 failed, 1 not started (stopped after the first failure) of 3.');
    assert.equal(ops(c, 'StartFirmwareUpgrade').length, 0);
    assert.equal(c.state.deviceInformation.FirmwareVersion, '1.0.0');
  });

  it('fleet: devices already on the target version are skipped, two at a time, without stopping', async () => {
    const a = await start({ deviceInformation: { FirmwareVersion: '2.0.0' } });
    const b = await start();
    const c = await start();
    const fleet = await upgradeFleet([connect(a), connect(b), connect(c)], image(), { ...FAST, expectVersion: '2.0.0', concurrency: 2, stopOnFailure: false });
    assert.deepEqual(fleet.results.map((r) => r.status), ['skipped', 'upgraded', 'upgraded']);
    assert.equal(fleet.summary.text, '2 upgraded, 1 skipped, 0 failed of 3.');
    assert.equal(ops(a, 'StartFirmwareUpgrade').length, 0);
  });

  it('every request of an HTTP and an MTOM upgrade validates against the official schemas', async function () {
    const why = validationUnavailable();
    if (why) skipWith(this, why);
    const http = await start();
    await upgradeFirmware(connect(http), image(), { ...FAST, backupFirst: true });
    const legacy = await start({ firmwareMode: 'legacy' });
    await upgradeFirmware(connect(legacy), image(), FAST);
    const sent = [...http.requests, ...legacy.requests].filter((r) => r.method === 'POST' && r.body.includes('Envelope'));
    const names = new Set(sent.map((r) => r.operation));
    for (const op of ['StartFirmwareUpgrade', 'UpgradeSystemFirmware', 'GetDeviceInformation', 'GetSystemDateAndTime', 'GetEventProperties']) assert.ok(names.has(op), `${op} was sent`);
    const result = validateRequests('firmware-requests', sent);
    console.log(`      ${result.files.length} requests, ${names.size} operations`);
    assert.equal(result.code, 0, result.output);
  });
});
