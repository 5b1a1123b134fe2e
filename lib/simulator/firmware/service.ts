import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { buildEnvelope, parseEnvelope } from '../../soap/envelope';
import { el } from '../../xml/build';
import { NS } from '../../xml/namespaces';
import { child } from '../../xml/query';
import { DEVICE_SERVICE_PATH } from '../device-service';
import type { EventItem } from '../events/service';
import { faultElement, SimFault } from '../faults';
import type { SimulatorServer } from '../server';
import type { HttpReply, HttpRoute, SimulatedRequest, SimulatedService } from '../service';
import type { DeviceState } from '../state';
import { FirmwareVerifier, type FirmwareCheck, type FirmwareHeader } from './image';
import { contentTypeParam, MultipartReader } from './multipart';

/** HTTP POST here + token: a firmware upload (StartFirmwareUpgrade UploadUri). */
export const FIRMWARE_PATH_PREFIX = '/onvifq/firmware/';

/**
 * How the device offers firmware upgrades: 'http' = StartFirmwareUpgrade + HTTP POST (capability
 * HttpFirmwareUpgrade), 'legacy' = only the deprecated MTOM UpgradeSystemFirmware (capability
 * FirmwareUpgrade), 'off' = neither.
 */
export type FirmwareUpgradeMode = 'http' | 'legacy' | 'off';

/**
 * What the next accepted upload does instead of a clean upgrade (SimulatedDevice.injectFirmwareOutcome):
 * - fail: reads the image, answers 500 (legacy: ter:FirmwareUpgradeFailed); the firmware is unchanged.
 * - slow: verifies for `answerAfterMs` before answering 200, then upgrades.
 * - close-after-body: reads the whole image and closes the connection without an answer; the upgrade is applied.
 * - drop-mid-body: closes the connection halfway through the image; nothing is applied.
 * - stall: stops reading halfway and never answers; nothing is applied.
 * - old-version: answers 200, flashes and restarts, but comes back with the old version.
 * - factory-default: upgrades, and comes back in Factory Default State (no users).
 * - status: reads the image, then answers this HTTP status (e.g. 408, 411); the firmware is unchanged.
 */
export type FirmwareOutcome =
  | { kind: 'fail' }
  | { kind: 'slow'; answerAfterMs: number }
  | { kind: 'close-after-body' }
  | { kind: 'drop-mid-body' }
  | { kind: 'stall' }
  | { kind: 'old-version' }
  | { kind: 'factory-default' }
  | { kind: 'status'; status: number };

export interface FirmwareOptions {
  mode: FirmwareUpgradeMode;
  /** StartFirmwareUpgrade's UploadDelay: a POST before it has passed is refused (503). */
  uploadDelayMs: number;
  /** StartFirmwareUpgrade's ExpectedDownTime, and how long the restart after an upgrade really takes. */
  expectedDownTimeMs: number;
  /** How long an upload URI stays usable. */
  uploadLifetimeMs: number;
  /** Largest image accepted (413 above). */
  maxFirmwareBytes: number;
  /** How long the device keeps answering SOAP while it flashes, before it restarts. */
  flashMs: number;
}

/** What the firmware service needs from the device. */
export interface FirmwareHost {
  readonly state: DeviceState;
  changed(what: string): void;
  /** Restart, away for `downtimeMs`. */
  reboot(downtimeMs: number): void;
  factoryReset(kind: 'Hard'): void;
  raiseEvent(topic: string, item: EventItem): void;
  /** Resolves once the raised events were pulled (at most `maxMs`). */
  eventsPulled(maxMs: number): Promise<void>;
  /** For tests: 'accepted', 'rejected', 'flashing', 'applied' as they happen. */
  report(step: 'accepted' | 'rejected' | 'flashing' | 'restarting', detail: string): void;
}

const text = (status: number, body: string, headers: Record<string, string | string[]> = {}): HttpReply => ({
  status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, body,
});
const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';
const soapFault = (f: SimFault): HttpReply => ({ status: f.httpStatus, headers: { 'Content-Type': SOAP_CONTENT_TYPE }, body: buildEnvelope(faultElement(f)) });
/** What a dropped connection "answers": the server sees the socket gone and sends nothing. */
const DROPPED: HttpReply = { status: 0, headers: {}, body: '' };

/**
 * Firmware upgrade (Core §8.3.9, Profile Q §8.1): the single-use upload URIs StartFirmwareUpgrade hands out
 * (the SOAP side is in the device service), the upload endpoint, the legacy MTOM UpgradeSystemFirmware,
 * and what the device does after it accepted an image: UploadStatus events, flashing while it still answers,
 * a restart that lasts ExpectedDownTime (Bye, pull points dropped), and back with the new FirmwareVersion,
 * a new LastReboot and a Hello. Network settings, users and scopes are kept.
 */
export class FirmwareService implements SimulatedService {
  readonly name = 'firmware';
  readonly routes: HttpRoute[] = [
    {
      matches: (path: string) => path.startsWith(FIRMWARE_PATH_PREFIX),
      body: 'stream',
      handle: (req, record) => this.uploadReply(req, (req.url ?? '/').split('?')[0]!.slice(FIRMWARE_PATH_PREFIX.length), record),
    },
    {
      // The legacy operation comes as MTOM (multipart/related) to the device service: streamed, not parsed as one SOAP string.
      matches: (path: string, method: string, req?: IncomingMessage) =>
        path === DEVICE_SERVICE_PATH && method === 'POST' && /^multipart\/related/i.test(String(req?.headers['content-type'] ?? '')),
      body: 'stream',
      handle: (req, record) => this.legacyReply(req, record),
    },
  ];
  /** Open uploads: token → when it may be used and until when. Single use; a reboot forgets them. */
  private readonly uploads = new Map<string, { notBefore: number; until: number }>();
  private outcome?: FirmwareOutcome;
  /** Uploads being read (a stalled one is ended by a restart or stop). */
  private readonly reading = new Set<IncomingMessage>();
  private flashTimer?: NodeJS.Timeout;

  constructor(
    private readonly host: FirmwareHost,
    private readonly server: SimulatorServer,
    readonly options: FirmwareOptions,
  ) {}

  /** The next accepted upload ends this way (once). */
  injectOutcome(outcome: FirmwareOutcome): void {
    this.outcome = outcome;
  }

  /** Forget every open upload URI, as a restart does (tests: an URI that expired before the POST). */
  expireUploads(): void {
    this.uploads.clear();
  }

  onReboot(): void {
    this.uploads.clear();
    for (const r of this.reading) r.socket.destroy();
  }

  onStop(): void {
    this.onReboot();
    if (this.flashTimer) clearTimeout(this.flashTimer);
    this.flashTimer = undefined;
  }

  /** StartFirmwareUpgrade: a fresh single-use upload path and the two durations the answer states. */
  openUpload(): { path: string; uploadDelayMs: number; downtimeMs: number } {
    const now = Date.now();
    for (const [t, u] of this.uploads) if (u.until < now) this.uploads.delete(t);
    const token = randomBytes(16).toString('hex');
    this.uploads.set(token, { notBefore: now + this.options.uploadDelayMs, until: now + this.options.uploadLifetimeMs });
    return { path: `${FIRMWARE_PATH_PREFIX}${token}`, uploadDelayMs: this.options.uploadDelayMs, downtimeMs: this.options.expectedDownTimeMs };
  }

  /** Same rule as backup and restore: HTTP digest, Administrator only (UNRECOVERABLE). Undefined = allowed. */
  private refusal(req: IncomingMessage, soap: boolean): HttpReply | undefined {
    if (this.server.open) return undefined;
    const challenge = (stale = false) =>
      soap ? this.server.challenge(stale) : text(401, 'Authentication required: send HTTP digest credentials of an Administrator.\n', { 'WWW-Authenticate': this.server.digestChallenges(stale) });
    const r = this.server.verifyDigest(req, 'POST', '/');
    if (!r) return challenge();
    if (!r.ok) return challenge(r.stale);
    if (r.user.level !== 'Administrator') {
      return soap
        ? soapFault(new SimFault('Sender', ['NotAuthorized'], `The user level ${r.user.level} may not upgrade the firmware; an Administrator may.`))
        : text(403, `The user level ${r.user.level} may not upgrade the firmware; an Administrator may.\n`);
    }
    return undefined;
  }

  /** Core §8.3.9: POST the image to UploadUri; 415 for an image this device cannot take, 500 when it fails. */
  private async uploadReply(req: IncomingMessage, token: string, record: SimulatedRequest): Promise<HttpReply> {
    if (req.method !== 'POST') return text(405, 'Use POST with the firmware image as application/octet-stream.\n', { Allow: 'POST' });
    if (this.options.mode !== 'http') return text(404, 'This device does not take firmware over HTTP.\n');
    const refused = this.refusal(req, false);
    if (refused) return refused;
    const upload = this.uploads.get(token);
    const now = Date.now();
    if (!upload || upload.until < now) {
      this.uploads.delete(token);
      return text(404, 'This firmware upload URI is unknown, used or expired: call StartFirmwareUpgrade for a new one.\n');
    }
    if (now < upload.notBefore) {
      const wait = Math.ceil((upload.notBefore - now) / 1000);
      return text(503, `Too early: StartFirmwareUpgrade said to wait UploadDelay before uploading (${wait} s left).\n`, { 'Retry-After': String(wait) });
    }
    // Single use: whatever happens to this upload, the next one needs a new StartFirmwareUpgrade.
    this.uploads.delete(token);
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/octet-stream') return text(415, `Send the firmware image as application/octet-stream (got '${type || 'no Content-Type'}').\n`);
    const declared = req.headers['content-length'];
    if (declared === undefined) return text(411, 'Content-Length is required: the device checks it has room for the image before flashing.\n');
    const length = Number(declared);
    if (length > this.options.maxFirmwareBytes) return text(413, `The image is ${length} bytes; this device takes at most ${this.options.maxFirmwareBytes}.\n`);
    const outcome = this.takeOutcome();
    const read = await this.readImage(req, length, outcome);
    record.body = `<${read.bytes} bytes of firmware>`;
    if (read.check === 'dropped') return DROPPED;
    return this.settle(read.check, outcome, {
      rejected: (why) => text(415, `The image was not accepted: ${why}. The firmware is unchanged.\n`),
      failed: () => text(500, 'Writing the image to flash failed. The firmware is unchanged.\n'),
      accepted: (h) => text(200, `Image ${h.version} for ${h.model} verified; flashing now, the device restarts in a moment.\n`),
    });
  }

  /** The deprecated MTOM operation (Core 24.12 §8.3.9 UpgradeSystemFirmware): the image is the xop:Include'd part. */
  private async legacyReply(req: IncomingMessage, record: SimulatedRequest): Promise<HttpReply> {
    record.operation = 'UpgradeSystemFirmware';
    const refused = this.refusal(req, true);
    if (refused) return refused;
    const contentType = String(req.headers['content-type']);
    const boundary = contentTypeParam(contentType, 'boundary');
    if (!boundary) return soapFault(new SimFault('Sender', ['WellFormed'], 'The multipart request names no boundary.'));
    if (this.options.mode !== 'legacy') {
      req.resume();
      return soapFault(new SimFault('Receiver', ['ActionNotSupported'], 'This device takes firmware with StartFirmwareUpgrade and an HTTP POST, not UpgradeSystemFirmware.'));
    }
    const outcome = this.takeOutcome();
    const verifier = new FirmwareVerifier(this.host.state.deviceInformation.Model);
    let root = '';
    let rootDone = false;
    let attachmentId: string | undefined;
    let current: 'root' | 'image' | 'other' = 'other';
    let images = 0;
    const reader = new MultipartReader(boundary, {
      part: (h) => {
        const id = (h['content-id'] ?? '').replace(/^<|>$/g, '');
        if (!rootDone) current = 'root';
        else if (attachmentId && id === attachmentId) {
          current = 'image';
          images++;
        } else current = 'other';
      },
      data: (c) => {
        if (current === 'root' && root.length < 1024 * 1024) root += c.toString('utf8');
        else if (current === 'image') verifier.push(c);
      },
      partEnd: () => {
        if (current === 'root') {
          rootDone = true;
          attachmentId = xopReference(root);
        }
      },
    });
    const length = Number(req.headers['content-length'] ?? NaN);
    const read = await this.readBody(req, length, outcome, (c) => reader.push(c));
    // The log keeps the SOAP part (for schema checks), not the image.
    record.body = root.replace(/(<(?:[\w.-]+:)?Password\b[^>]*>)[^<]*(<\/)/g, '$1***$2');
    if (read.dropped) return DROPPED;
    if (reader.problem || !reader.done) return soapFault(new SimFault('Sender', ['WellFormed'], `The MTOM request is not a complete multipart body${reader.problem ? `: ${reader.problem}` : ''}.`));
    if (!attachmentId) return soapFault(new SimFault('Sender', ['InvalidArgs', 'InvalidFirmware'], 'UpgradeSystemFirmware carries no xop:Include reference to the image.'));
    if (images !== 1) return soapFault(new SimFault('Sender', ['InvalidArgs', 'InvalidFirmware'], `The attachment ${attachmentId} the request refers to is missing.`));
    return this.settle(verifier.end(), outcome, {
      rejected: (why) => soapFault(new SimFault('Sender', ['InvalidArgs', 'InvalidFirmware'], `The image was not accepted: ${why}. The firmware is unchanged.`)),
      failed: () => soapFault(new SimFault('Receiver', ['Action', 'FirmwareUpgradeFailed'], 'Writing the image to flash failed. The firmware is unchanged.')),
      accepted: (h) => ({
        status: 200,
        headers: { 'Content-Type': SOAP_CONTENT_TYPE },
        body: buildEnvelope(el(NS.tds, 'UpgradeSystemFirmwareResponse', undefined, el(NS.tds, 'Message', undefined, `Image ${h.version} accepted; the device restarts now.`))),
      }),
    });
  }

  private takeOutcome(): FirmwareOutcome | undefined {
    const o = this.outcome;
    this.outcome = undefined;
    return o;
  }

  private async readImage(req: IncomingMessage, length: number, outcome: FirmwareOutcome | undefined): Promise<{ check: FirmwareCheck | 'dropped'; bytes: number }> {
    const verifier = new FirmwareVerifier(this.host.state.deviceInformation.Model);
    const read = await this.readBody(req, length, outcome, (c) => verifier.push(c));
    return { check: read.dropped ? 'dropped' : verifier.end(), bytes: read.bytes };
  }

  /**
   * Read an upload, raising UploadStatus as it goes; the injected mid-body outcomes happen here. `dropped`:
   * the connection is gone (dropped on purpose, stalled until a restart, or the client hung up).
   */
  private readBody(req: IncomingMessage, length: number, outcome: FirmwareOutcome | undefined, onData: (c: Buffer) => void): Promise<{ dropped: boolean; bytes: number }> {
    this.host.raiseEvent('tns1:Device/OperationMode/UploadInitiated', {});
    this.uploadStatus(0);
    return new Promise((resolve) => {
      let bytes = 0;
      let lastTenth = 0;
      let settled = false;
      const done = (dropped: boolean) => {
        if (settled) return;
        settled = true;
        this.reading.delete(req);
        resolve({ dropped, bytes });
      };
      this.reading.add(req);
      const halfway = Number.isFinite(length) ? length / 2 : Infinity;
      req.on('data', (c: Buffer) => {
        if (settled) return;
        bytes += c.length;
        onData(c);
        if (Number.isFinite(length) && length > 0) {
          const tenth = Math.floor((bytes / length) * 10);
          if (tenth > lastTenth) {
            lastTenth = tenth;
            this.uploadStatus(Math.min(100, tenth * 10));
          }
        }
        if (bytes >= halfway && outcome?.kind === 'drop-mid-body') {
          req.socket.destroy();
          done(true);
        } else if (bytes >= halfway && outcome?.kind === 'stall') {
          // Stop reading and never answer: the client's stall timeout has to notice.
          req.pause();
        }
      });
      req.on('end', () => done(false));
      req.on('close', () => done(!req.complete));
      req.on('error', () => done(true));
    });
  }

  private uploadStatus(percent: number): void {
    this.host.raiseEvent('tns1:Monitoring/UploadStatus', { data: { Status: String(percent) }, operation: 'Changed' });
  }

  /** The answer to a fully read image, and what the device does after it. */
  private async settle(
    check: FirmwareCheck,
    outcome: FirmwareOutcome | undefined,
    reply: { rejected(why: string): HttpReply; failed(): HttpReply; accepted(h: FirmwareHeader): HttpReply },
  ): Promise<HttpReply> {
    if (!check.ok) {
      this.host.report('rejected', check.why);
      return reply.rejected(check.why);
    }
    if (outcome?.kind === 'slow') await new Promise((r) => setTimeout(r, outcome.answerAfterMs));
    if (outcome?.kind === 'status') {
      this.host.report('rejected', `answered HTTP ${outcome.status} (injected)`);
      return text(outcome.status, `Injected answer ${outcome.status}. The firmware is unchanged.\n`);
    }
    if (outcome?.kind === 'fail') {
      this.host.report('rejected', 'flash write failed (injected)');
      return reply.failed();
    }
    this.host.report('accepted', `${check.header.model} ${check.header.version}`);
    if (outcome?.kind === 'close-after-body') {
      this.flashThenRestart(check.header, outcome);
      return DROPPED;
    }
    return { ...reply.accepted(check.header), after: [() => this.flashThenRestart(check.header, outcome)] };
  }

  /** Keeps answering while it "flashes", then restarts for ExpectedDownTime with the new firmware. */
  private flashThenRestart(header: FirmwareHeader, outcome: FirmwareOutcome | undefined): void {
    this.host.report('flashing', header.version);
    const timer = setTimeout(() => {
      this.host.raiseEvent('tns1:Device/OperationMode/ShutdownInitiated', {});
      // Like a real device, let the shutdown event go out before the network goes down (bounded: a pull point
      // nobody pulls must not hold the restart back). A stop in the meantime clears flashTimer: no restart then.
      void this.host.eventsPulled(500).then(() => {
        if (this.flashTimer === timer) this.restartWith(header, outcome);
      });
    }, this.options.flashMs);
    this.flashTimer = timer;
  }

  private restartWith(header: FirmwareHeader, outcome: FirmwareOutcome | undefined): void {
    this.flashTimer = undefined;
    if (outcome?.kind === 'factory-default') this.host.factoryReset('Hard');
    // The flash "did not take": the old image boots again.
    if (outcome?.kind !== 'old-version') this.host.state.deviceInformation.FirmwareVersion = header.version;
    this.host.changed('firmware');
    this.host.report('restarting', this.host.state.deviceInformation.FirmwareVersion);
    this.host.reboot(this.options.expectedDownTimeMs);
  }
}

/** The cid: the request's tds:Firmware refers to (xop:Include href), without "cid:". */
function xopReference(rootXml: string): string | undefined {
  try {
    const env = parseEnvelope(rootXml);
    const op = env.content;
    if (!op || op.local !== 'UpgradeSystemFirmware') return undefined;
    const include = child(child(op, 'Firmware'), 'Include');
    const href = include?.attributes.find((a) => a.local === 'href')?.value;
    return href ? decodeURIComponent(href.replace(/^cid:/i, '')) : undefined;
  } catch {
    return undefined;
  }
}
