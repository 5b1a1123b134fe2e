import { promises as fsp, type promises } from 'node:fs';
import { Readable } from 'node:stream';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import * as path from 'node:path';
import { OnvifError } from '../errors';
import type { UploadSource } from './transfer';

/** What to upload, as a caller names it: the bytes, a file, or a URL to stream from (never held in memory). */
export type FileSource = Buffer | { file: string } | { url: string };

/** A source ready for upload(): the stream or file, its size, and what it looks like. */
export interface OpenedSource {
  source: UploadSource;
  size: number;
  /** File name (for messages and guessing the type). */
  name?: string;
  /** Content-Type the URL's server gave. */
  contentType?: string;
  /** First bytes (up to 64), for recognising the format; absent for URLs. */
  head?: Buffer;
  /** Release what was opened when the upload does not happen (a URL's response). */
  discard(): void;
}

function fail(message: string): never {
  throw new OnvifError('invalid-input', message);
}

/**
 * Open a source for a streamed upload: a Buffer as is, a file by path (checked, its size known), a URL by
 * GET (http or https, TLS verified; redirects followed up to 5 times), its body streamed straight into the
 * upload. A URL must give a Content-Length, because device uploads need one.
 */
export async function openFileSource(src: FileSource, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<OpenedSource> {
  if (Buffer.isBuffer(src) || src instanceof Uint8Array) {
    const b = Buffer.isBuffer(src) ? src : Buffer.from(src);
    if (b.length === 0) fail('The package is empty (a Buffer of 0 bytes).');
    return { source: b, size: b.length, head: b.subarray(0, 64), discard: () => undefined };
  }
  if (src && typeof src === 'object' && typeof (src as { file?: unknown }).file === 'string') {
    const file = (src as { file: string }).file.trim();
    if (!file) fail('The file path is empty.');
    const stat = await fsp.stat(file).catch(() => undefined);
    if (!stat) fail(`The file ${file} does not exist. Check the path.`);
    if (!stat.isFile()) fail(`${file} is not a file; give the path of a file.`);
    if (stat.size === 0) fail(`The file ${file} is empty.`);
    const fh = await fsp.open(file, 'r');
    const head = Buffer.alloc(Math.min(64, stat.size));
    try {
      await fh.read(head, 0, head.length, 0);
    } finally {
      await fh.close();
    }
    const size = stat.size;
    return { source: { open: () => recyclingFileStream(file), size }, size, name: path.basename(file), head, discard: () => undefined };
  }
  if (src && typeof src === 'object' && typeof (src as { url?: unknown }).url === 'string') {
    return openUrl((src as { url: string }).url, options, 0);
  }
  return fail('Give the file to upload as a Buffer, { file: "/path" } or { url: "http://..." }.');
}

async function openUrl(raw: string, options: { signal?: AbortSignal; timeoutMs?: number }, redirects: number): Promise<OpenedSource> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return fail(`${JSON.stringify(raw)} is not a URL; give an http:// or https:// address.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`Only http:// and https:// URLs can be downloaded, not ${url.protocol}.`);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsGet : httpGet)(url, { signal: options.signal, timeout: options.timeoutMs ?? 30_000 }, resolve);
    req.on('timeout', () => req.destroy(new OnvifError('timeout', `${url.host} did not answer the download of ${url.pathname} in time.`)));
    req.on('error', (e) =>
      reject(e instanceof OnvifError ? e : new OnvifError('unreachable', `Could not download ${redact(url)}: ${(e as Error).message}.`, { cause: e })),
    );
  });
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400 && res.headers.location) {
    res.resume();
    if (redirects >= 5) fail(`Too many redirects downloading ${redact(url)}.`);
    return openUrl(new URL(res.headers.location, url).toString(), options, redirects + 1);
  }
  if (status < 200 || status >= 300) {
    res.resume();
    throw new OnvifError('invalid-input', `Downloading ${redact(url)} failed with HTTP ${status}; check the URL.`, { httpStatus: status });
  }
  const length = Number(res.headers['content-length']);
  if (!Number.isFinite(length) || length <= 0) {
    res.destroy();
    fail(`${redact(url)} gives no Content-Length (or 0 bytes); devices need the size of an upload. Download the file first and pass { file }.`);
  }
  const type = res.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return { source: res, size: length, name: path.basename(url.pathname) || undefined, contentType: type || undefined, discard: () => res.destroy() };
}

/** A URL without its credentials and query (which may hold tokens), for messages. */
function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** A stream whose chunks the consumer may hand back for reuse once it no longer needs their bytes. */
export interface RecyclingReadable extends Readable {
  /** `chunk` (as this stream gave it) may be overwritten now: the socket has taken its bytes. */
  recycle(chunk: Buffer): void;
}

/**
 * A file as a stream that reads into reused buffers instead of a new buffer per read. Fresh buffers cost page
 * faults and garbage for every slice: an upload of 200 MB that way took twice curl's CPU, and the freed buffers
 * piled up to 20-30 MB of RSS until the next full GC. A buffer is reused only after the consumer hands it back
 * (sendStreaming does, from each socket write's callback); a consumer that never does (pipe(), a wrapping
 * stream) simply gets fresh buffers, so reuse can never overwrite bytes that still wait to be sent.
 */
export function recyclingFileStream(file: string, chunkBytes = 256 * 1024, keep = 32): RecyclingReadable {
  const free: Buffer[] = [];
  // Buffers given out whole and not handed back yet: only these may come back, and each only once.
  const lent = new Set<Buffer>();
  let fh: promises.FileHandle | undefined;
  const stream = new Readable({
    highWaterMark: chunkBytes,
    async construct(cb) {
      try {
        fh = await fsp.open(file, 'r');
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    async read() {
      const buf = free.pop() ?? Buffer.allocUnsafeSlow(chunkBytes);
      try {
        const { bytesRead } = await fh!.read(buf, 0, buf.length, null);
        if (bytesRead === buf.length) lent.add(buf);
        this.push(bytesRead === 0 ? null : bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      } catch (e) {
        this.destroy(e as Error);
      }
    },
    destroy(err, cb) {
      lent.clear();
      free.length = 0;
      const h = fh;
      fh = undefined;
      if (!h) return cb(err);
      h.close().then(() => cb(err), () => cb(err));
    },
  }) as RecyclingReadable;
  stream.recycle = (chunk: Buffer) => {
    if (lent.delete(chunk) && free.length < keep) free.push(chunk);
  };
  return stream;
}
