import { backup, type BackupResult } from '../configure/backup';
import { reachable } from '../configure/util';
import { durationMs } from '../configure/util';
import type { OnvifDevice } from '../device/onvif-device';
import type { DeviceCapabilities } from '../device/types';
import type { EventHub } from '../events/hub';
import { OnvifError, deviceText, isOnvifError } from '../errors';
import { listEventTopics } from '../events/topic-set';
import { parseEnvelope } from '../soap/envelope';
import type { UploadResult } from '../transfer';
import { formatBytes } from '../util/format';
import { sleep } from '../util/sleep';
import { el } from '../xml/build';
import { NS } from '../xml/namespaces';
import { text as textOf } from '../xml/query';
import { UpgradeEventFollower } from './device-events';
import { mtomRequest } from './mtom';
import { openImage, type FirmwareImage, type OpenedImage } from './source';
import {
  FirmwareError, type DeviceFirmwareOutcome, type FirmwareFailure, type FirmwarePhase, type FirmwareProgress, type FirmwareResult,
  type FirmwareState, type FirmwareStep,
} from './types';
import type { OnvifErrorKind } from '../errors';

export interface FirmwareTimeouts {
  /** Longest UploadDelay accepted before the upload, ms (default 10 min); a longer one fails with failure 'upload-delay'. */
  maxUploadDelayMs?: number;
  /** Upload stalled: nothing moved for this long while the image is being sent, ms (default 60 s). */
  stallMs?: number;
  /** Wait for the answer once the whole image is sent, ms (default max(ExpectedDownTime, 5 min)). */
  answerMs?: number;
  /** Watch this long for the device to go away after the upload, ms (default max(ExpectedDownTime, 10 s)). */
  goneWithinMs?: number;
  /** Give up when it is not back this long after it went away, ms (default max(3 × ExpectedDownTime, ExpectedDownTime + 2 min)). */
  backMs?: number;
}

export interface FirmwareOptions {
  /** The version the image installs: verification then wants exactly this, and a device already on it is not touched. */
  expectVersion?: string;
  /** The device model the image is for: another model is refused before anything is sent. */
  expectModel?: string;
  /** Take a configuration backup first (the backup task): a file path, or true for the bytes in the result. */
  backupFirst?: string | true;
  /** The capabilities say the device has no firmware upgrade: try StartFirmwareUpgrade anyway. */
  tryAnyway?: boolean;
  /** 'auto' (default): HTTP when the device offers it, else the legacy MTOM UpgradeSystemFirmware. */
  method?: 'auto' | 'http' | 'mtom';
  /** MTOM devices state no ExpectedDownTime: how long to expect them away, ms (default 120 s). */
  legacyDownTimeMs?: number;
  timeouts?: FirmwareTimeouts;
  /** Cancels at any phase; the error says whether the device may still be flashing. */
  signal?: AbortSignal;
  onProgress?(p: FirmwareProgress): void;
  /**
   * The device's event stream (a shared EventHub, such as the one events nodes use): its UploadInitiated,
   * UploadStatus, ShutdownInitiated and LastReboot events then show in the steps and the progress. Without it no
   * pull point is taken for the upgrade. Nothing depends on the events.
   */
  events?: EventHub;
}

/** How long the upload waits for the event subscription to be up, when `events` is given. */
const EVENTS_READY_MS = 3000;

const DEFAULT_DOWNTIME_MS = 120_000;
const DEFAULT_MAX_UPLOAD_DELAY_MS = 10 * 60_000;
const DEFAULT_STALL_MS = 60_000;
const MIN_ANSWER_WAIT_MS = 5 * 60_000;
const PROBE_TIMEOUT_MS = 2000;
const PROBE_INTERVAL_MS = 500;

/** How a device offers firmware upgrades, from its capabilities. */
export function upgradeMethodOf(capabilities: DeviceCapabilities): 'http' | 'mtom' | 'none' {
  if (capabilities.system.httpFirmwareUpgrade) return 'http';
  if (capabilities.system.firmwareUpgrade) return 'mtom';
  return 'none';
}

/** One upgrade's bookkeeping: phase, steps, progress; turns failures into FirmwareErrors carrying them. */
class UpgradeRun {
  readonly steps: FirmwareStep[] = [];
  phase: FirmwarePhase = 'checking';
  before?: FirmwareState;
  private last = Date.now();

  constructor(
    readonly device: OnvifDevice,
    private readonly onProgress?: (p: FirmwareProgress) => void,
  ) {}

  progress(p: Omit<FirmwareProgress, 'phase'> & { phase?: FirmwarePhase }): void {
    if (p.phase) this.phase = p.phase;
    try {
      this.onProgress?.({ ...p, phase: this.phase });
    } catch {
      // A failing progress callback must not break an upgrade half way.
    }
  }

  enter(phase: FirmwarePhase, text: string): void {
    this.progress({ phase, text });
  }

  step(text: string, ok = true): void {
    const now = Date.now();
    this.steps.push({ phase: this.phase, text, at: new Date(now).toISOString(), ms: now - this.last, ok });
    this.last = now;
  }

  fail(
    kind: OnvifErrorKind,
    failure: FirmwareFailure,
    outcome: DeviceFirmwareOutcome,
    message: string,
    extra: { retryable?: boolean; cause?: unknown; httpStatus?: number; after?: FirmwareState } = {},
  ): FirmwareError {
    const cause = extra.cause as OnvifError | undefined;
    const e = new FirmwareError(kind, failure, this.phase, outcome, message, {
      retryable: extra.retryable,
      cause: extra.cause,
      address: this.device.displayAddress,
      httpStatus: extra.httpStatus ?? (isOnvifError(cause) ? cause.httpStatus : undefined),
      code: isOnvifError(cause) ? cause.code : undefined,
      subcodes: isOnvifError(cause) ? cause.subcodes : undefined,
      reason: isOnvifError(cause) ? cause.reason : undefined,
      deviceText: isOnvifError(cause) ? cause.deviceText : undefined,
      operation: isOnvifError(cause) ? cause.operation : undefined,
    });
    this.step(message, false);
    e.steps = this.steps;
    e.before = this.before;
    if (extra.after) e.after = extra.after;
    return e;
  }
}

/** Read what an upgrade must keep or change. Network reads a device refuses are left out. */
export async function readFirmwareState(device: OnvifDevice, signal?: AbortSignal): Promise<FirmwareState> {
  const s = device.session ?? (await device.connect());
  const optional = async (op: string) => {
    try {
      return await device.call(op, {}, { signal });
    } catch (e) {
      if (signal?.aborted) throw e;
      return undefined;
    }
  };
  const hostname = await optional('GetHostname');
  const interfaces = await optional('GetNetworkInterfaces');
  const gateway = await optional('GetNetworkDefaultGateway');
  const i = s.deviceInformation;
  return {
    firmwareVersion: i.firmwareVersion,
    model: i.model,
    hardwareId: i.hardwareId,
    manufacturer: i.manufacturer,
    serialNumber: i.serialNumber,
    profileQState: s.profileQState,
    network: { hostname, interfaces, gateway },
    upgradeMethod: upgradeMethodOf(s.capabilities),
  };
}

/** Which way to upgrade, or why there is none. */
function chooseMethod(run: UpgradeRun, offered: 'http' | 'mtom' | 'none', options: FirmwareOptions): 'http' | 'mtom' {
  const wanted = options.method ?? 'auto';
  const where = run.device.displayAddress;
  if (wanted === 'auto') {
    if (offered !== 'none') return offered;
    if (options.tryAnyway) return 'http';
    throw run.fail(
      'unsupported',
      'unsupported',
      'unchanged',
      `The device at ${where} does not offer a firmware upgrade (its capabilities name neither HttpFirmwareUpgrade nor FirmwareUpgrade). Nothing was sent. If you know it can, set tryAnyway (CLI: --try-anyway).`,
    );
  }
  if (offered === wanted || options.tryAnyway) return wanted;
  throw run.fail(
    'unsupported',
    'unsupported',
    'unchanged',
    `The device at ${where} does not offer the ${wanted === 'http' ? 'HTTP firmware upgrade (HttpFirmwareUpgrade)' : 'MTOM UpgradeSystemFirmware (FirmwareUpgrade)'}` +
      `${offered === 'none' ? '' : `; it offers ${offered === 'http' ? 'the HTTP upgrade' : 'only the MTOM UpgradeSystemFirmware'}`}. Nothing was sent. Use method 'auto', or set tryAnyway.`,
  );
}

function isNotSupported(e: unknown): boolean {
  return isOnvifError(e) && (e.kind === 'unsupported' || (e.kind === 'fault' && !!e.subcodes?.some((s) => /ActionNotSupported|NotSupported$/.test(s))));
}

/** What the device said, quoted for a message. */
function said(e: unknown): string {
  const t = isOnvifError(e) ? (e.deviceText ?? e.reason) : undefined;
  return t ? ` The device said: "${deviceText(t)}".` : '';
}

const percentOf = (sent: number, size: number) => (size > 0 ? Math.min(100, Math.floor((sent / size) * 100)) : 0);

/**
 * Upgrade one device's firmware and prove it took: capability check, the state before, optional backup,
 * StartFirmwareUpgrade, UploadDelay, the streamed POST (or the legacy MTOM UpgradeSystemFirmware), the wait
 * while it flashes and restarts, then reconnect and compare. Resolves only when the device runs a new
 * version (expectVersion when given); every other end is a FirmwareError saying what the device runs now
 * as far as is known (`outcome`) and what to do. The image is never sent twice on the library's own,
 * except after a 404 (the upload address expired before the device took anything), once.
 */
export async function upgradeFirmware(device: OnvifDevice, image: FirmwareImage, options: FirmwareOptions = {}): Promise<FirmwareResult> {
  const run = new UpgradeRun(device, options.onProgress);
  const follower = options.events ? new UpgradeEventFollower(options.events, run) : undefined;
  try {
    return await upgrade(run, image, options, follower);
  } finally {
    follower?.stop();
  }
}

async function upgrade(run: UpgradeRun, image: FirmwareImage, options: FirmwareOptions, follower: UpgradeEventFollower | undefined): Promise<FirmwareResult> {
  const device = run.device;
  const signal = options.signal;
  const timeouts = options.timeouts ?? {};
  const where = device.displayAddress;
  /** Image bytes handed to the connection; decides what a cancel or a broken connection means. */
  let sent = 0;
  let size = 0;
  let imageSent = false;

  const aborted = (): FirmwareError => {
    if (imageSent || run.phase === 'flashing' || run.phase === 'rebooting' || run.phase === 'verifying') {
      return run.fail('closed', 'aborted', 'unknown', `Cancelled after the whole image was sent to ${where}: the device may still be flashing. Do not power it off; check its firmware version in a few minutes.`);
    }
    if (run.phase === 'uploading' && sent > 0) {
      return run.fail('closed', 'aborted', 'unchanged', `Cancelled during the upload to ${where} (${percentOf(sent, size)} %): the device did not get the whole image and keeps its firmware.`);
    }
    return run.fail('closed', 'aborted', 'unchanged', `Cancelled before the upload to ${where}: no image was sent, the device keeps its firmware.`);
  };
  const checkAbort = () => {
    if (signal?.aborted) throw aborted();
  };
  /** Lower-level failures: a cancel becomes the phase's cancel message, FirmwareErrors pass, others get the steps. */
  const wrap = (e: unknown, outcome: DeviceFirmwareOutcome, failure: FirmwareFailure = 'refused'): FirmwareError => {
    if (signal?.aborted) return aborted();
    if (e instanceof FirmwareError) return e;
    const o = isOnvifError(e) ? e : new OnvifError('bad-response', String((e as Error)?.message ?? e), { cause: e });
    const kindFailure: FirmwareFailure = o.kind === 'auth' ? 'auth' : o.kind === 'unsupported' ? 'unsupported' : failure;
    return run.fail(o.kind, kindFailure, outcome, o.message, { cause: o });
  };

  // ------------------------------------------------------------------ checking
  run.enter('checking', 'checking');
  let source: OpenedImage;
  try {
    source = await openImage(image, signal);
  } catch (e) {
    throw wrap(e, 'unchanged', 'image');
  }
  size = source.size;
  run.step(`image ${source.name}: ${formatBytes(size)}`);
  checkAbort();
  let method: 'http' | 'mtom';
  try {
    const session = await device.connect();
    run.before = await readFirmwareState(device, signal);
    method = chooseMethod(run, upgradeMethodOf(session.capabilities), options);
  } catch (e) {
    throw wrap(e, 'unchanged');
  }
  const before = run.before;
  run.step(`${before.manufacturer} ${before.model} runs ${before.firmwareVersion} (${before.profileQState}); upgrade by ${method === 'http' ? 'HTTP POST' : 'MTOM UpgradeSystemFirmware'}`);
  if (options.expectModel !== undefined && options.expectModel !== before.model) {
    throw run.fail('invalid-input', 'image', 'unchanged', `The image is for model ${options.expectModel}, but ${where} is a ${before.model}. Nothing was sent.`);
  }
  if (options.expectVersion !== undefined && options.expectVersion === before.firmwareVersion) {
    throw run.fail('invalid-input', 'already-current', 'unchanged', `${where} already runs firmware ${before.firmwareVersion}. Nothing was sent.`);
  }

  // ------------------------------------------------------------------ backup
  let backupResult: BackupResult | undefined;
  if (options.backupFirst !== undefined) {
    run.enter('backup', 'backup');
    try {
      backupResult = await backup(device, options.backupFirst === true ? {} : { file: options.backupFirst }, {
        signal,
        onProgress: (p) => run.progress({ text: p.percent !== undefined ? `backup ${p.percent} %` : 'backup', percent: p.percent }),
      });
    } catch (e) {
      if (signal?.aborted) throw aborted();
      throw run.fail(isOnvifError(e) ? e.kind : 'bad-response', 'backup', 'unchanged', `The backup before the upgrade failed, so no image was sent: ${(e as Error).message}`, { cause: e });
    }
    run.step(`backup: ${formatBytes(backupResult.bytes)}${backupResult.file ? ` in ${backupResult.file}` : ''}`);
  }
  checkAbort();

  // ------------------------------------------------------------------ upload
  const warnings: string[] = [];
  let downtimeEstimateMs = options.legacyDownTimeMs ?? DEFAULT_DOWNTIME_MS;
  let uploadStarted = 0;
  let answered: 'accepted' | 'unknown';
  const stallMs = timeouts.stallMs ?? DEFAULT_STALL_MS;
  const onUploadProgress = (p: { bytes: number; total?: number; percent?: number }) => {
    const shown = { text: `uploading ${p.percent ?? 0} %`, percent: p.percent, bytes: Math.min(p.bytes, size), total: size };
    follower?.noteUploadProgress(shown);
    run.progress({ phase: 'uploading', ...shown });
  };

  if (method === 'http') {
    let expiredOnce = false;
    for (;;) {
      run.enter('starting', 'starting');
      let started: { UploadUri?: unknown; UploadDelay?: unknown; ExpectedDownTime?: unknown };
      try {
        started = (await device.call('StartFirmwareUpgrade', {}, { signal })) as typeof started;
      } catch (e) {
        if (isNotSupported(e)) {
          throw run.fail('unsupported', 'unsupported', 'unchanged', `The device at ${where} refused StartFirmwareUpgrade as not supported: it has no HTTP firmware upgrade. Nothing was sent.${said(e)}`, { cause: e });
        }
        if (isOnvifError(e) && e.isNotAuthorized) {
          throw run.fail('auth', 'auth', 'unchanged', `The device at ${where} refused StartFirmwareUpgrade for user '${device.user ?? ''}': a firmware upgrade needs an Administrator. Nothing was sent.${said(e)}`, { cause: e });
        }
        throw wrap(e, 'unchanged');
      }
      if (typeof started.UploadUri !== 'string' || !started.UploadUri) {
        throw run.fail('bad-response', 'refused', 'unchanged', `${where} answered StartFirmwareUpgrade without an UploadUri. Nothing was sent.`);
      }
      const uploadUri = reachable(device, started.UploadUri);
      const delayMs = Math.max(0, durationMs(started.UploadDelay) ?? 0);
      downtimeEstimateMs = Math.max(0, durationMs(started.ExpectedDownTime) ?? DEFAULT_DOWNTIME_MS);
      run.step(`StartFirmwareUpgrade: upload after ${delayMs / 1000} s, expected down time ${downtimeEstimateMs / 1000} s`);
      const maxDelay = timeouts.maxUploadDelayMs ?? DEFAULT_MAX_UPLOAD_DELAY_MS;
      if (delayMs > maxDelay) {
        throw run.fail(
          'timeout',
          'upload-delay',
          'unchanged',
          `${where} asks to wait ${Math.round(delayMs / 1000)} s before the upload (UploadDelay), more than the ${Math.round(maxDelay / 1000)} s allowed. No image was sent; raise timeouts.maxUploadDelayMs to wait that long.`,
        );
      }

      // ---------------------------------------------------------------- waiting (UploadDelay)
      if (delayMs > 0) {
        const until = Date.now() + delayMs;
        for (let left = delayMs; left > 0; left = until - Date.now()) {
          run.progress({ phase: 'waiting', text: `waiting ${Math.ceil(left / 1000)} s`, remainingMs: left });
          await sleep(Math.min(1000, left), signal);
          checkAbort();
        }
        run.step(`waited UploadDelay (${delayMs / 1000} s)`);
      }
      // Events raised before our pull point exists never arrive: give the subscription a moment to be up.
      await follower?.whenListening(EVENTS_READY_MS, signal);
      checkAbort();

      // ---------------------------------------------------------------- uploading
      run.enter('uploading', 'uploading 0 %');
      uploadStarted = Date.now();
      sent = 0;
      let res: UploadResult;
      try {
        res = await device.upload(uploadUri, () => source.open(), {
          size,
          fileKind: 'firmware',
          timeoutMs: stallMs,
          answerTimeoutMs: timeouts.answerMs ?? Math.max(downtimeEstimateMs, MIN_ANSWER_WAIT_MS),
          signal,
          onSent: (n) => {
            sent = n;
            if (n >= size) {
              imageSent = true;
              run.progress({ phase: 'uploading', text: 'uploading 100 %', percent: 100, bytes: size, total: size });
            }
          },
          onProgress: onUploadProgress,
        });
      } catch (e) {
        if (signal?.aborted) throw aborted();
        const status = isOnvifError(e) ? e.httpStatus : undefined;
        // A 404 before any image byte went out: the device took nothing, so one fresh address is safe.
        if (status === 404 && !expiredOnce && sent === 0) {
          expiredOnce = true;
          run.step('the upload address expired (HTTP 404) before the device took the image: asking for a new one, once', false);
          continue;
        }
        const outcome = await uploadFailure(run, e, status, sent, size, signal);
        if (outcome === 'unknown') {
          answered = 'unknown';
          warnings.push(unknownWarning(e, where));
          break;
        }
        throw outcome;
      }
      answered = 'accepted';
      run.step(`upload: ${formatBytes(sent)} in ${((Date.now() - uploadStarted) / 1000).toFixed(1)} s, answered HTTP ${res.status}${res.body.length ? ` "${deviceText(res.body.toString('utf8'), 120)}"` : ''}`);
      break;
    }
  } else {
    // ---------------------------------------------------------------- legacy MTOM
    await follower?.whenListening(EVENTS_READY_MS, signal);
    checkAbort();
    run.enter('uploading', 'uploading 0 %');
    const request = mtomRequest(source);
    uploadStarted = Date.now();
    let res: UploadResult | undefined;
    try {
      res = await device.upload(device.url.toString(), () => request.open(), {
        size: request.size,
        contentType: request.contentType,
        fileKind: 'firmware',
        acceptAnyStatus: true,
        timeoutMs: stallMs,
        answerTimeoutMs: timeouts.answerMs ?? Math.max(downtimeEstimateMs, MIN_ANSWER_WAIT_MS),
        signal,
        onSent: (n) => {
          sent = Math.min(n, size);
          if (n >= request.size) imageSent = true;
        },
        onProgress: (p) => onUploadProgress({ bytes: p.bytes, percent: p.percent }),
      });
    } catch (e) {
      if (signal?.aborted) throw aborted();
      const outcome = await uploadFailure(run, e, isOnvifError(e) ? e.httpStatus : undefined, imageSent ? size : sent, size, signal);
      if (outcome !== 'unknown') throw outcome;
      warnings.push(unknownWarning(e, where));
    }
    answered = res ? await legacyAnswer(run, res, signal) : 'unknown';
    if (res) sent = size;
  }
  checkAbort();

  // ------------------------------------------------------------------ flashing, rebooting
  const uploadMs = Date.now() - uploadStarted;
  let downtimeMs: number;
  try {
    downtimeMs = await waitThroughRestart(run, downtimeEstimateMs, timeouts, signal);
  } catch (e) {
    throw wrap(e, 'unknown', 'not-back');
  }

  // ------------------------------------------------------------------ verifying
  run.enter('verifying', 'verifying');
  let after: FirmwareState;
  try {
    after = await reconnectAndRead(run, signal);
  } catch (e) {
    throw wrap(e, 'unknown', 'not-back');
  }
  run.step(`back: ${after.model} runs ${after.firmwareVersion} (${after.profileQState})`);
  const tail = { after };
  if (after.profileQState === 'FactoryDefault') {
    throw run.fail(
      'bad-response',
      'factory-default',
      after.firmwareVersion !== before.firmwareVersion ? 'upgraded' : 'unknown',
      `${where} came back from the upgrade in Factory Default State (firmware ${after.firmwareVersion}): the device reset itself and has no users, so anyone on the network may configure it. Commission it again now (the configure node's commission task, or onvifq task <address> commission).`,
      tail,
    );
  }
  if (after.firmwareVersion === before.firmwareVersion) {
    throw run.fail(
      'bad-response',
      'not-applied',
      'unchanged',
      `The upgrade was not applied: ${where} came back still running ${before.firmwareVersion}${answered === 'accepted' ? ' although it accepted the image' : ''}. Check the device's log; the image may not suit this hardware.`,
      tail,
    );
  }
  if (options.expectVersion !== undefined && after.firmwareVersion !== options.expectVersion) {
    throw run.fail(
      'bad-response',
      'wrong-version',
      'upgraded',
      `${where} now runs ${after.firmwareVersion}, not the expected ${options.expectVersion} (it ran ${before.firmwareVersion} before). Check that the image is the version you meant.`,
      tail,
    );
  }
  if (after.model !== before.model) warnings.push(`The model changed from ${before.model} to ${after.model}: check that the image was meant for this device.`);
  if (after.hardwareId !== before.hardwareId) warnings.push(`The hardware id changed from ${before.hardwareId} to ${after.hardwareId}.`);
  for (const k of ['hostname', 'interfaces', 'gateway'] as const) {
    const b = before.network?.[k];
    const a = after.network?.[k];
    if (b !== undefined && a !== undefined && JSON.stringify(a) !== JSON.stringify(b)) {
      warnings.push(`The network ${k} changed during the upgrade (Core says it must survive): check the device's network settings.`);
    }
  }
  let eventTopics: number | undefined;
  if (device.session?.services.some((s) => s.namespace === NS.tev)) {
    try {
      eventTopics = (await listEventTopics(device)).length;
      run.step(`event topics re-read: ${eventTopics}`);
    } catch (e) {
      if (signal?.aborted) throw aborted();
      warnings.push(`The new firmware's event topics could not be read (${(e as Error).message}); event subscriptions may need a restart.`);
    }
  }
  run.enter('done', `v${after.firmwareVersion}`);
  run.step(`upgraded ${before.firmwareVersion} → ${after.firmwareVersion}`);
  return {
    address: where,
    method,
    before,
    after,
    uploadBytes: sent,
    uploadMs,
    downtimeMs,
    warnings,
    steps: run.steps,
    ...(eventTopics !== undefined ? { eventTopics } : {}),
    ...(backupResult ? { backup: backupResult } : {}),
  };
}

function unknownWarning(e: unknown, where: string): string {
  const how = isOnvifError(e) && e.kind === 'timeout' ? 'did not answer in time' : 'closed the connection without an answer';
  return `${where} received the whole image but ${how}; the outcome was only known from the version it came back with.`;
}

/**
 * What a failed upload means. 'unknown' = the whole image went out, so the device may be flashing: the
 * caller verifies instead of failing. Otherwise the FirmwareError to throw.
 */
async function uploadFailure(run: UpgradeRun, e: unknown, status: number | undefined, sent: number, size: number, signal?: AbortSignal): Promise<FirmwareError | 'unknown'> {
  const where = run.device.displayAddress;
  const text = said(e);
  switch (status) {
    case 415:
      return run.fail('invalid-input', 'rejected', 'unchanged', `The device at ${where} rejected the image (HTTP 415): it is not valid for this model (${run.before?.model ?? 'unknown model'}). The device keeps its firmware; do not retry with the same file.${text}`, { cause: e });
    case 500: {
      // Outcome unknown: say what it runs now if it still answers, so nobody retries blindly.
      let after: FirmwareState | undefined;
      try {
        run.device.reset();
        after = await readFirmwareState(run.device, signal);
      } catch {
        after = undefined;
      }
      const now = after ? ` It now reports firmware ${after.firmwareVersion}.` : ' Its version could not be read right now.';
      return run.fail('bad-response', 'device-failed', 'unknown', `The device at ${where} failed while upgrading (HTTP 500); the outcome is unknown.${now} Re-read its version before any retry.${text}`, { cause: e, after });
    }
    case 401:
      return run.fail('auth', 'auth', 'unchanged', `The device at ${where} refused the credentials for the firmware upload (HTTP 401). Not retried, to avoid locking the account; check the username and password.${text}`, { cause: e });
    case 403:
      return run.fail('auth', 'auth', 'unchanged', `The device at ${where} refused the firmware upload for user '${run.device.user ?? ''}' (HTTP 403): an Administrator account is needed.${text}`, { cause: e });
    case 404:
      return run.fail('invalid-input', 'expired', 'unchanged', `The device at ${where} answered 404 twice: the upload address expired or was unknown even right after StartFirmwareUpgrade. No image was taken; check the device's clock and network path, then try again.${text}`, { cause: e, retryable: true });
    case 408:
      return run.fail('timeout', 'refused', 'unchanged', `The device at ${where} gave up waiting for the image (HTTP 408): the upload was too slow. It keeps its firmware; check the network and try again.${text}`, { cause: e, retryable: true });
    case 411:
      return run.fail('bad-response', 'refused', 'unchanged', `The device at ${where} wants the image size first (HTTP 411 Length Required). This library always sends Content-Length, so something in between (a proxy) removed it. The device keeps its firmware.${text}`, { cause: e });
    case 413:
      return run.fail('invalid-input', 'refused', 'unchanged', `The device at ${where} refused the image as too large (HTTP 413): check it is the right image for ${run.before?.model ?? 'this model'}. The device keeps its firmware.${text}`, { cause: e });
    case 503:
      return run.fail('bad-response', 'refused', 'unchanged', `The device at ${where} was not ready for the image (HTTP 503) although UploadDelay had passed. It keeps its firmware; try again later.${text}`, { cause: e, retryable: true });
    case undefined:
      break;
    default:
      return run.fail('bad-response', 'refused', 'unchanged', `The device at ${where} refused the firmware upload with HTTP ${status}. It keeps its firmware.${text}`, { cause: e });
  }
  if (isOnvifError(e) && e.kind === 'auth') return run.fail('auth', 'auth', 'unchanged', (e as Error).message, { cause: e });
  if (sent >= size) return 'unknown';
  const at = `${percentOf(sent, size)} % (${formatBytes(sent)} of ${formatBytes(size)})`;
  if (isOnvifError(e) && e.kind === 'timeout') {
    return run.fail('timeout', 'interrupted', 'unchanged', `The device at ${where} stopped reading the image at ${at}. It did not get the whole image and keeps its firmware; check the network and try again.`, { cause: e, retryable: true });
  }
  if (isOnvifError(e) && e.kind === 'invalid-input') {
    return run.fail('invalid-input', 'image', 'unchanged', `Reading the image failed at ${at}: ${(e as Error).message} The device did not get the whole image and keeps its firmware.`, { cause: e, retryable: true });
  }
  return run.fail(
    isOnvifError(e) ? e.kind : 'unreachable',
    'interrupted',
    'unchanged',
    `The connection to ${where} broke at ${at} of the image (${(e as Error).message}). The device did not get the whole image and keeps its firmware; check the network and try again.`,
    { cause: e, retryable: true },
  );
}

/** The legacy operation's answer: a SOAP response (the device restarts after it) or a fault. */
async function legacyAnswer(run: UpgradeRun, res: UploadResult, signal?: AbortSignal): Promise<'accepted'> {
  const where = run.device.displayAddress;
  let envelope;
  try {
    envelope = parseEnvelope(res.body);
  } catch {
    envelope = undefined;
  }
  const fault = envelope?.fault;
  if (res.status >= 200 && res.status < 300 && envelope && !fault) {
    const message = envelope.content ? textOf(envelope.content, 'Message') : undefined;
    run.step(`UpgradeSystemFirmware accepted${message ? `: "${deviceText(message, 120)}"` : ''}`);
    return 'accepted';
  }
  const reason = fault ? ` The device said: "${deviceText(fault.reason)}".` : '';
  const detail = { httpStatus: res.status, cause: new OnvifError('fault', fault?.reason ?? `HTTP ${res.status}`, { code: fault?.code, subcodes: fault?.subcodes, reason: fault?.reason, httpStatus: res.status, operation: 'UpgradeSystemFirmware' }) };
  const has = (s: string) => !!fault?.subcodes.some((x) => x.endsWith(`:${s}`) || x === s);
  if (has('InvalidFirmware')) {
    return Promise.reject(run.fail('invalid-input', 'rejected', 'unchanged', `The device at ${where} rejected the image (ter:InvalidFirmware): it is not valid for this model. The device keeps its firmware; do not retry with the same file.${reason}`, detail));
  }
  if (has('FirmwareUpgradeFailed')) {
    let after: FirmwareState | undefined;
    try {
      run.device.reset();
      after = await readFirmwareState(run.device, signal);
    } catch {
      after = undefined;
    }
    return Promise.reject(
      run.fail('fault', 'device-failed', 'unknown', `The device at ${where} failed while upgrading (ter:FirmwareUpgradeFailed); the outcome is unknown.${after ? ` It now reports firmware ${after.firmwareVersion}.` : ''} Re-read its version before any retry.${reason}`, { ...detail, after }),
    );
  }
  if (has('NotAuthorized') || res.status === 403) {
    return Promise.reject(run.fail('auth', 'auth', 'unchanged', `The device at ${where} refused UpgradeSystemFirmware for user '${run.device.user ?? ''}': an Administrator account is needed.${reason}`, detail));
  }
  if (has('ActionNotSupported')) {
    return Promise.reject(run.fail('unsupported', 'unsupported', 'unchanged', `The device at ${where} does not support UpgradeSystemFirmware.${reason}`, detail));
  }
  if (res.status === 415) return Promise.reject(await uploadFailure(run, detail.cause, 415, 0, 1, signal));
  return Promise.reject(run.fail('bad-response', 'refused', 'unknown', `The device at ${where} answered UpgradeSystemFirmware with HTTP ${res.status}${fault ? ` (${fault.subcodes.join(' / ')})` : ''}.${reason}`, detail));
}

/** Does the device answer at all (anonymous GetSystemDateAndTime; a fault is an answer)? */
async function answers(device: OnvifDevice, signal?: AbortSignal): Promise<boolean> {
  try {
    await device.send(device.url.toString(), el(NS.tds, 'GetSystemDateAndTime'), {
      anonymous: true,
      operation: 'GetSystemDateAndTime',
      action: `${NS.tds}/GetSystemDateAndTime`,
      timeoutMs: PROBE_TIMEOUT_MS,
      signal,
    });
    return true;
  } catch (e) {
    if (signal?.aborted) throw e;
    if (isOnvifError(e) && ['unreachable', 'timeout', 'bad-response', 'broken-http', 'closed'].includes(e.kind)) return false;
    return true;
  }
}

/**
 * Devices keep answering while they flash, then go away for about ExpectedDownTime. Watch for the going
 * (flashing), wait most of the announced time, then poll until it answers (rebooting). Resolves with how
 * long it was away (0 when it never went).
 */
async function waitThroughRestart(run: UpgradeRun, downtimeMs: number, timeouts: FirmwareTimeouts, signal?: AbortSignal): Promise<number> {
  const device = run.device;
  const where = device.displayAddress;
  run.enter('flashing', 'flashing…');
  device.reset();
  const watchUntil = Date.now() + (timeouts.goneWithinMs ?? Math.max(downtimeMs, 10_000));
  let goneAt: number | undefined;
  while (Date.now() < watchUntil) {
    if (!(await answers(device, signal))) {
      goneAt = Date.now();
      break;
    }
    await sleep(PROBE_INTERVAL_MS, signal);
    if (signal?.aborted) throw new OnvifError('closed', 'cancelled');
  }
  if (goneAt === undefined) {
    run.step(`the device kept answering for ${Math.round((timeouts.goneWithinMs ?? Math.max(downtimeMs, 10_000)) / 1000)} s and did not restart`, false);
    return 0;
  }
  run.step('the device went away to restart');
  const backMs = timeouts.backMs ?? Math.max(3 * downtimeMs, downtimeMs + 120_000);
  const deadline = goneAt + backMs;
  const quietUntil = goneAt + downtimeMs * 0.8;
  for (;;) {
    const now = Date.now();
    const remaining = Math.max(0, goneAt + downtimeMs - now);
    run.progress({ phase: 'rebooting', text: 'rebooting…', remainingMs: remaining });
    if (now < quietUntil) {
      // No point knocking while it said it would be away.
      await sleep(Math.min(1000, quietUntil - now), signal);
    } else {
      if (await answers(device, signal)) break;
      if (Date.now() >= deadline) {
        throw run.fail(
          'timeout',
          'not-back',
          'unknown',
          `${where} did not come back within ${Math.round(backMs / 1000)} s after it went away to install the firmware (it expected ${Math.round(downtimeMs / 1000)} s). It may still be flashing: do not power it off; check it in a few minutes, and check its address.`,
        );
      }
      await sleep(PROBE_INTERVAL_MS, signal);
    }
    if (signal?.aborted) throw new OnvifError('closed', 'cancelled');
  }
  const away = Date.now() - goneAt;
  run.step(`the device is back after ${(away / 1000).toFixed(1)} s`);
  return away;
}

/** Reconnect with the same address and credentials (Core: both survive an upgrade) and read the state. */
async function reconnectAndRead(run: UpgradeRun, signal?: AbortSignal): Promise<FirmwareState> {
  const device = run.device;
  const where = device.displayAddress;
  // A device that just came back may answer the clock before the rest is up: a few tries, never after an auth refusal.
  for (let attempt = 1; ; attempt++) {
    try {
      device.reset();
      await device.connect();
      return await readFirmwareState(device, signal);
    } catch (e) {
      if (signal?.aborted) throw e;
      if (isOnvifError(e) && e.isNotAuthorized) {
        throw run.fail(
          'auth',
          'auth',
          'unknown',
          `${where} is back after the upgrade but refuses the credentials that worked before. Core requires users to survive an upgrade, so this is a device fault; not retried, to avoid locking the account. Check the device (a factory reset may have happened).`,
          { cause: e },
        );
      }
      if (attempt >= 3) throw e;
      await sleep(1000, signal);
    }
  }
}
