import { createWriteStream, promises as fsp } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { OnvifError, deviceText } from '../errors';
import type { SoapClient } from '../transport/client';
import { recyclingFileStream } from './source';

/** How far a transfer got; `total` and `percent` only when the size is known. */
export interface TransferProgress {
  bytes: number;
  total?: number;
  percent?: number;
}

interface CommonOptions {
  onProgress?(p: TransferProgress): void;
  signal?: AbortSignal;
  /** Idle timeout, ms: the transfer fails when nothing moved for this long (default 30 s). */
  timeoutMs?: number;
}

export interface DownloadOptions extends CommonOptions {
  /** A Writable, a file path, or 'buffer' (default) to get the bytes back in memory. */
  to?: Writable | string;
}

export interface DownloadResult {
  bytes: number;
  /** The bytes, when `to` was 'buffer'. */
  buffer?: Buffer;
  /** The file written, when `to` was a path. */
  file?: string;
  contentType?: string;
}

/**
 * A Buffer, a file path, a stream (sent once; give `size` so the device sees a Content-Length), a function that opens
 * the stream again for each attempt (give `size`), or a source that can be opened again ({ open, size }, e.g.
 * recyclingFileStream for large files), so a digest challenge after the start can be answered.
 */
export type UploadSource = Buffer | string | Readable | (() => Readable) | ReopenableSource;

/** A body that can be opened once per attempt (so an auth challenge after the start can be answered). */
export interface ReopenableSource {
  open(): Readable;
  size: number;
}

export interface UploadOptions extends CommonOptions {
  /** Default application/octet-stream. */
  contentType?: string;
  /** Size of a stream source, for Content-Length and progress. */
  size?: number;
  /** What the file is, for messages (a 415 says "not a valid firmware image", not "not a backup"). Default 'backup'. */
  fileKind?: UploadFileKind;
  /** Once the whole body is sent, wait this long for the answer, ms (default: timeoutMs). */
  answerTimeoutMs?: number;
  /** Every body byte handed to the connection (unthrottled; onProgress is throttled). */
  onSent?(bytes: number): void;
  /** Return answers other than 2xx (with their body) instead of throwing: the caller reads them (a SOAP fault). */
  acceptAnyStatus?: boolean;
  /**
   * Word a non-2xx answer for what was uploaded (an app package's 415 means another thing than a backup's);
   * undefined falls back to the generic wording. `deviceSaid` is the start of the answer as text.
   */
  describeStatus?(status: number, deviceSaid: string, details: { httpStatus: number; address: string; deviceText?: string }): OnvifError | undefined;
}

export type UploadFileKind = 'backup' | 'firmware' | 'app' | 'file';

export interface UploadResult {
  status: number;
  bytes: number;
  /** The device's answer (small). */
  body: Buffer;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** Progress is reported at most this often (node status updates are not free). */
const PROGRESS_INTERVAL_MS = 200;

function progressReporter(onProgress: ((p: TransferProgress) => void) | undefined, total: number | undefined) {
  let lastAt = 0;
  let lastPercent = -1;
  return (bytes: number, final = false) => {
    if (!onProgress) return;
    const percent = total ? Math.min(100, Math.floor((bytes / total) * 100)) : undefined;
    const now = Date.now();
    if (!final && now - lastAt < PROGRESS_INTERVAL_MS && percent === lastPercent) return;
    lastAt = now;
    lastPercent = percent ?? -1;
    onProgress(total ? { bytes, total, percent } : { bytes });
  };
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** What a 415 means, by what was uploaded. */
const REJECTED: Record<UploadFileKind, string> = {
  backup: 'it is not a backup for this device',
  firmware: 'it is not a valid firmware image for this model; the device keeps its firmware',
  app: 'it is not an app package this device can install',
  file: 'the device cannot use this file',
};

/** Plain words for HTTP statuses a device sends about a transfer. */
function statusError(status: number, body: Buffer, url: URL, what: 'download' | 'upload', fileKind: UploadFileKind = 'backup'): OnvifError {
  const where = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
  const said = body.toString('utf8', 0, Math.min(body.length, 4096)).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  const detail = said ? ` The device said: "${deviceText(said)}".` : '';
  const details = { httpStatus: status, address: where, deviceText: said || undefined };
  switch (status) {
    case 415:
      return new OnvifError('invalid-input', `The device rejected the file (HTTP 415): ${REJECTED[fileKind]}.${detail}`, details);
    case 404:
      return new OnvifError(
        'invalid-input',
        `The device has nothing at ${url.pathname} (HTTP 404): the ${what} address is unknown or has expired. Ask the device for a new one and try again.${detail}`,
        details,
      );
    case 403:
      return new OnvifError('auth', `The device refused the ${what} (HTTP 403): this user may not do it; an Administrator account is needed.${detail}`, details);
    case 413:
      return new OnvifError('invalid-input', `The device refused the file as too large (HTTP 413).${detail}`, details);
    default:
      return new OnvifError('bad-response', `The ${what} from ${where} failed with HTTP ${status}.${detail}`, details);
  }
}

/** Counts bytes on their way to the real destination (which keeps its backpressure). */
function countingSink(target: Writable, onBytes: (n: number) => void): Writable {
  let bytes = 0;
  const sink = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      onBytes(bytes);
      if (target.write(chunk)) cb();
      else target.once('drain', () => cb());
    },
    final(cb) {
      let done = false;
      const once = (e?: Error | null) => {
        if (done) return;
        done = true;
        cb(e ?? undefined);
      };
      target.once('error', once);
      target.end((e?: Error | null) => once(e));
    },
    destroy(err, cb) {
      if (err) target.destroy(err);
      cb(err);
    },
  });
  // A destination that fails (no such folder, disk full) fails the download.
  target.once('error', (e) => sink.destroy(e));
  return sink;
}

/**
 * GET `url` with the session's credentials, streaming the body to a Writable, a file, or a Buffer.
 * Memory stays flat for Writable and file targets whatever the size.
 */
export async function download(client: SoapClient, url: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const to = options.to ?? 'buffer';
  const target = new URL(url);
  let total: number | undefined;
  let contentType: string | undefined;
  const chunks: Buffer[] = [];
  let fileStream: Writable | undefined;
  let received = 0;
  let report = progressReporter(options.onProgress, undefined);
  const res = await client.transfer(url, {
    method: 'GET',
    headers: { Accept: '*/*' },
    idleTimeoutMs: options.timeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    signal: options.signal,
    operation: 'download',
    sink: (_status, headers) => {
      const length = Number(headers['content-length']);
      total = Number.isFinite(length) && length >= 0 ? length : undefined;
      contentType = header(headers['content-type']);
      report = progressReporter(options.onProgress, total);
      let dest: Writable;
      if (to === 'buffer') {
        dest = new Writable({
          write(chunk: Buffer, _enc, cb) {
            chunks.push(chunk);
            cb();
          },
        });
      } else if (typeof to === 'string') {
        dest = fileStream = createWriteStream(to);
      } else {
        dest = to;
      }
      return countingSink(dest, (n) => {
        received = n;
        report(n);
      });
    },
  }).catch(async (e) => {
    if (fileStream && typeof to === 'string') await fsp.rm(to, { force: true });
    throw fileError(e, typeof to === 'string' ? to : undefined, 'write');
  });
  if (res.status < 200 || res.status >= 300) throw statusError(res.status, res.body, target, 'download');
  report(received, true);
  const result: DownloadResult = { bytes: received, contentType };
  if (to === 'buffer') result.buffer = Buffer.concat(chunks);
  else if (typeof to === 'string') result.file = to;
  return result;
}

/**
 * POST `source` to `url` with the session's credentials, streamed (a file is read as it goes out).
 * Resolves for 2xx answers; 415, 404, 403 and others become OnvifErrors that say what the device meant.
 */
export async function upload(client: SoapClient, url: string, source: UploadSource, options: UploadOptions = {}): Promise<UploadResult> {
  const target = new URL(url);
  let size = options.size;
  let body: () => Buffer | Readable;
  let replayable = true;
  if (Buffer.isBuffer(source)) {
    size = source.length;
    body = () => source;
  } else if (typeof source === 'string') {
    let stat;
    try {
      stat = await fsp.stat(source);
    } catch (e) {
      throw fileError(e, source, 'read');
    }
    if (!stat.isFile()) throw new OnvifError('invalid-input', `${source} is not a file; give the path of the file to upload.`);
    size = stat.size;
    body = () => recyclingFileStream(source);
  } else if (typeof source === 'function') {
    body = source;
  } else if (source instanceof Readable) {
    replayable = false;
    body = () => source;
  } else if (source && typeof (source as ReopenableSource).open === 'function' && Number.isFinite((source as ReopenableSource).size)) {
    const reopenable = source as ReopenableSource;
    size = reopenable.size;
    body = () => reopenable.open();
  } else {
    throw new OnvifError('invalid-input', 'Nothing to upload: give a Buffer, a file path or a readable stream.');
  }
  const report = progressReporter(options.onProgress, size);
  let sent = 0;
  const answer: Buffer[] = [];
  const res = await client
    .transfer(url, {
      method: 'POST',
      headers: { 'Content-Type': options.contentType ?? 'application/octet-stream' },
      body,
      bodyLength: size,
      replayable,
      idleTimeoutMs: options.timeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      answerTimeoutMs: options.answerTimeoutMs,
      signal: options.signal,
      operation: 'upload',
      onBodyBytes: (n) => {
        sent = n;
        options.onSent?.(n);
        report(n);
      },
      // Answers to an upload are short status texts; keep them.
      sink: () => {
        let kept = 0;
        return new Writable({
          write(chunk: Buffer, _enc, cb) {
            if (kept < 1024 * 1024) answer.push(chunk);
            kept += chunk.length;
            cb();
          },
        });
      },
    })
    .catch((e) => {
      throw fileError(e, typeof source === 'string' ? source : undefined, 'read');
    });
  const ok = res.status >= 200 && res.status < 300;
  if (!ok && !options.acceptAnyStatus) {
    const said = deviceSaid(res.body);
    const own = options.describeStatus?.(res.status, said, { httpStatus: res.status, address: hostAndPort(target), deviceText: said || undefined });
    throw own ?? statusError(res.status, res.body, target, 'upload', options.fileKind);
  }
  report(sent, true);
  return { status: res.status, bytes: sent, body: ok ? Buffer.concat(answer) : res.body };
}

function hostAndPort(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
}

/** The start of a device's answer as plain text (markup removed). */
function deviceSaid(body: Buffer): string {
  return body.toString('utf8', 0, Math.min(body.length, 4096)).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
}

/** File-system problems in words; other errors pass through. */
function fileError(e: unknown, file: string | undefined, how: 'read' | 'write'): unknown {
  const code = (e as NodeJS.ErrnoException)?.code ?? ((e as OnvifError)?.cause as NodeJS.ErrnoException | undefined)?.code;
  if (!file || !code) return e;
  if (code === 'ENOENT') {
    return new OnvifError('invalid-input', how === 'read' ? `The file ${file} does not exist. Check the path.` : `The folder for ${file} does not exist. Create it or choose another path.`, { cause: e });
  }
  if (code === 'EACCES' || code === 'EPERM') return new OnvifError('invalid-input', `No permission to ${how} ${file}.`, { cause: e });
  if (code === 'EISDIR') return new OnvifError('invalid-input', `${file} is a folder; give a file path.`, { cause: e });
  if (code === 'ENOSPC') return new OnvifError('invalid-input', `The disk is full while writing ${file}.`, { cause: e });
  return e;
}
