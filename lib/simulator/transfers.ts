import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BACKUP_CONTENT_TYPE, makeBackup, restoredState } from './backup';
import type { SimulatorServer } from './server';
import type { HttpReply, SimulatedRequest, SimulatedService } from './service';
import type { DeviceState } from './state';

/** HTTP GET: the configuration backup (GetSystemUris SystemBackupUri). */
export const BACKUP_PATH = '/onvifq/backup';
/** HTTP POST here + token: a restore upload (StartSystemRestore UploadUri). */
export const RESTORE_PATH_PREFIX = '/onvifq/restore/';

/** What backup and restore need from the device. */
export interface TransferHost {
  readonly state: DeviceState;
  deviceNow(): number;
  /** A backup went out (`bytes` long). */
  backedUp(bytes: number): void;
  /** Replace the configuration with a restored one; the device restarts after the answer. */
  restore(next: DeviceState): void;
  reboot(): void;
}

export interface TransferOptions {
  /** How long a StartSystemRestore upload URI stays usable, ms. */
  restoreUploadLifetimeMs: number;
  /** Largest restore upload accepted, bytes. */
  maxRestoreBytes: number;
  /** How long the restart after a restore keeps the device away (ExpectedDownTime). */
  rebootDowntimeMs: number;
}

/** Read a request body up to `max` bytes; undefined when it is larger (the rest is discarded, not buffered). */
function readCapped(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      if (!over) chunks.push(c);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const text = (status: number, body: string, headers: Record<string, string | string[]> = {}): HttpReply => ({
  status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, body,
});

/**
 * Backup and restore over HTTP (Core §8.3.2, §8.3.5): the backup download and the single-use restore
 * upload URIs that StartSystemRestore hands out. The SOAP side (GetSystemUris, StartSystemRestore) is
 * in the device service.
 */
export class TransferService implements SimulatedService {
  readonly name = 'transfers';
  readonly backupPath = BACKUP_PATH;
  readonly routes = [
    { matches: (path: string) => path === BACKUP_PATH, body: 'stream' as const, handle: (req: IncomingMessage) => this.backupReply(req) },
    {
      matches: (path: string) => path.startsWith(RESTORE_PATH_PREFIX),
      body: 'stream' as const,
      handle: (req: IncomingMessage, record: SimulatedRequest) => this.restoreReply(req, (req.url ?? '/').split('?')[0]!.slice(RESTORE_PATH_PREFIX.length), record),
    },
  ];
  /** Open restore uploads: token → expiry (host ms). Single use; a reboot forgets them. */
  private readonly restoreUploads = new Map<string, number>();

  constructor(
    private readonly host: TransferHost,
    private readonly server: SimulatorServer,
    private readonly options: TransferOptions,
  ) {}

  onReboot(): void {
    this.restoreUploads.clear();
  }

  /** Open a single-use restore upload: its path and how long the restore keeps the device away. */
  openRestoreUpload(): { path: string; downtimeMs: number } {
    const now = Date.now();
    for (const [t, until] of this.restoreUploads) if (until < now) this.restoreUploads.delete(t);
    const token = randomBytes(16).toString('hex');
    this.restoreUploads.set(token, now + this.options.restoreUploadLifetimeMs);
    return { path: `${RESTORE_PATH_PREFIX}${token}`, downtimeMs: this.options.rebootDowntimeMs };
  }

  /**
   * File transfers use HTTP digest whatever the SOAP mechanisms are (WS-UsernameToken cannot travel
   * with a GET or a binary POST), and need an Administrator: a backup holds every account's password and a
   * restore replaces the whole configuration (READ_SYSTEM_SECRET and UNRECOVERABLE). Undefined = allowed.
   */
  private refusal(req: IncomingMessage): HttpReply | undefined {
    if (this.server.open) return undefined;
    const challenge = (stale = false) =>
      text(401, 'Authentication required: send HTTP digest credentials of an Administrator.\n', { 'WWW-Authenticate': this.server.digestChallenges(stale) });
    const r = this.server.verifyDigest(req, 'GET', '/');
    if (!r) return challenge();
    if (!r.ok) return challenge(r.stale);
    if (r.user.level !== 'Administrator') return text(403, `The user level ${r.user.level} may not transfer the configuration; an Administrator may.\n`);
    return undefined;
  }

  private backupReply(req: IncomingMessage): HttpReply {
    if (req.method !== 'GET') return text(405, 'Use GET to download the backup.\n', { Allow: 'GET' });
    const refused = this.refusal(req);
    if (refused) return refused;
    const state = this.host.state;
    const file = makeBackup(state, this.host.deviceNow());
    this.host.backedUp(file.length);
    return {
      status: 200,
      headers: { 'Content-Type': BACKUP_CONTENT_TYPE, 'Content-Disposition': `attachment; filename="${state.deviceInformation.Model.replace(/[^\w.-]/g, '_')}-backup.json"` },
      body: file,
    };
  }

  /** Core §8.3.5: 415 for a file that is not a backup, 200 then apply and reboot. */
  private async restoreReply(req: IncomingMessage, token: string, record: SimulatedRequest): Promise<HttpReply> {
    if (req.method !== 'POST') return text(405, 'Use POST with the backup file as application/octet-stream.\n', { Allow: 'POST' });
    const refused = this.refusal(req);
    if (refused) return refused;
    const until = this.restoreUploads.get(token);
    if (until === undefined || until < Date.now()) {
      this.restoreUploads.delete(token);
      return text(404, 'This restore upload URI is unknown, used or expired: call StartSystemRestore for a new one.\n');
    }
    // Single use: whatever happens to this upload, the next one needs a new StartSystemRestore.
    this.restoreUploads.delete(token);
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/octet-stream') return text(415, `Send the backup as application/octet-stream (got '${type || 'no Content-Type'}').\n`);
    const max = this.options.maxRestoreBytes;
    const bytes = await readCapped(req, max);
    record.body = bytes === undefined ? `<more than ${max} bytes>` : `<${bytes.length} bytes>`;
    if (bytes === undefined) return text(413, `The file is larger than ${max} bytes: it is not a backup of this device.\n`);
    const next = restoredState(bytes, this.host.state);
    if (typeof next === 'string') return text(415, `The file was not restored: ${next}.\n`);
    this.host.restore(next);
    return { ...text(200, 'The configuration was restored; the device restarts now.\n'), after: [() => this.host.reboot()] };
  }
}
