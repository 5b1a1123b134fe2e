import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { PassThrough, Readable } from 'node:stream';
import { OnvifError, deviceText } from '../errors';
import { recyclingFileStream } from '../transfer/source';

/**
 * A firmware image: a Buffer, a file path, an http(s) URL (streamed from the server to the device, never
 * stored), or a stream factory `{ open: () => Readable, size }` (called once per attempt, so the upload can
 * answer an authentication challenge).
 */
export type FirmwareImage = Buffer | string | URL | FirmwareStreamSource;

export interface FirmwareStreamSource {
  open(): Readable;
  /** Exact size in bytes: the device gets a Content-Length, never a chunked body. */
  size: number;
  /** For messages, e.g. the file name. */
  name?: string;
}

/** An image ready to be sent, as many times as an upload needs. */
export interface OpenedImage {
  /** What the user gave, for messages (a URL without credentials, a path, 'buffer'). */
  name: string;
  size: number;
  /** A fresh stream of the whole image. */
  open(): Readable;
  /** Where it comes from. */
  from: 'buffer' | 'file' | 'url' | 'stream';
}

/** Read and write in 256 kB pieces: fewer socket writes for large images, memory stays flat. */
const SLICE_BYTES = 256 * 1024;

const invalid = (message: string) => new OnvifError('invalid-input', message);

/** Check the image is there and learn its size, before anything is sent to a device. */
export async function openImage(image: FirmwareImage, signal?: AbortSignal): Promise<OpenedImage> {
  if (Buffer.isBuffer(image) || image instanceof Uint8Array) {
    const buf = Buffer.isBuffer(image) ? image : Buffer.from(image);
    if (buf.length === 0) throw invalid('The firmware image is empty (0 bytes). Give the image file, its bytes or its URL.');
    // Sent in slices, so the upload reports progress and knows how far it got if the connection breaks.
    const open = () => Readable.from((function* () {
      for (let i = 0; i < buf.length; i += SLICE_BYTES) yield buf.subarray(i, i + SLICE_BYTES);
    })());
    return { name: 'buffer', size: buf.length, open, from: 'buffer' };
  }
  if (image instanceof URL || (typeof image === 'string' && /^https?:\/\//i.test(image.trim()))) return openUrl(new URL(String(image).trim()), signal);
  if (typeof image === 'string') {
    const file = image.trim();
    if (!file) throw invalid('No firmware image given: pass a file path, an http(s) URL or the image bytes.');
    let stat;
    try {
      stat = await fsp.stat(file);
    } catch {
      throw invalid(`The firmware file ${file} does not exist. Check the path.`);
    }
    if (!stat.isFile()) throw invalid(`${file} is not a file; give the path of the firmware image.`);
    if (stat.size === 0) throw invalid(`The firmware file ${file} is empty (0 bytes).`);
    return { name: file, size: stat.size, open: () => recyclingFileStream(file, SLICE_BYTES), from: 'file' };
  }
  if (image && typeof image === 'object' && typeof (image as FirmwareStreamSource).open === 'function') {
    const s = image as FirmwareStreamSource;
    if (!Number.isSafeInteger(s.size) || s.size <= 0) {
      throw invalid('A firmware stream source needs its exact size in bytes ({ open, size }): the device must get a Content-Length.');
    }
    return { name: s.name ?? 'stream', size: s.size, open: () => s.open(), from: 'stream' };
  }
  throw invalid('The firmware image must be a Buffer, a file path, an http(s) URL, or { open: () => stream, size }.');
}

/** The URL as it may appear in messages: no credentials, no query (which may hold a token). */
function shownUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** One GET; resolves at the headers. TLS verification stays on. */
function get(url: URL, signal?: AbortSignal): Promise<http.IncomingMessage> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { signal, headers: { Accept: 'application/octet-stream, */*', 'Accept-Encoding': 'identity' } }, resolve);
    req.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        signal?.aborted
          ? new OnvifError('closed', `Fetching the firmware image from ${shownUrl(url)} was cancelled.`)
          : new OnvifError('unreachable', `The firmware image at ${shownUrl(url)} could not be fetched (${deviceText(e.code ?? e.message)}). Check the URL and that the server is up.`, { cause: e }),
      ),
    );
  });
}

/** The size the server states, or an error saying why the image cannot be streamed to a device. */
function sizeOf(res: http.IncomingMessage, url: URL): number {
  if (res.statusCode !== 200) {
    throw invalid(
      `The server of ${shownUrl(url)} answered HTTP ${res.statusCode}${res.statusCode && res.statusCode >= 300 && res.statusCode < 400 ? ' (a redirect: give the final URL)' : ''}, not the image. Check the URL.`,
    );
  }
  const length = Number(res.headers['content-length']);
  if (!Number.isSafeInteger(length) || length <= 0) {
    throw invalid(
      `The server of ${shownUrl(url)} does not state the image size (no Content-Length), and the device needs it before the first byte. Download the image to a file and give its path.`,
    );
  }
  if (res.headers['content-encoding'] && res.headers['content-encoding'] !== 'identity') {
    throw invalid(`The server of ${shownUrl(url)} sends the image compressed (${res.headers['content-encoding']}); serve it as is, or download it to a file first.`);
  }
  return length;
}

/**
 * An image on a web server, streamed from it to the device: one GET to learn the size now, and one GET per
 * upload attempt. The image must not change in between (same Content-Length, or the upload fails).
 */
async function openUrl(url: URL, signal?: AbortSignal): Promise<OpenedImage> {
  const first = await get(url, signal);
  let size: number;
  try {
    size = sizeOf(first, url);
  } finally {
    first.destroy();
  }
  const open = () => {
    const out = new PassThrough({ highWaterMark: 256 * 1024 });
    get(url, signal).then(
      (res) => {
        try {
          if (sizeOf(res, url) !== size) throw invalid(`The image at ${shownUrl(url)} changed size while it was being sent; try again.`);
        } catch (e) {
          res.destroy();
          out.destroy(e as Error);
          return;
        }
        res.on('error', (e) => out.destroy(e));
        // A cancelled upload stops the download too.
        out.on('close', () => res.destroy());
        res.pipe(out);
      },
      (e: Error) => out.destroy(e),
    );
    return out;
  };
  return { name: shownUrl(url), size, open, from: 'url' };
}
