import { maxHeaderSize } from 'node:http';

/**
 * Reads one HTTP/1.x response from the bytes of a connection, as Node's own parser (llhttp) does in its strict
 * mode: CR LF line ends, header names that are tokens, no control characters in values, one Content-Length,
 * chunked or length-delimited or close-delimited bodies, 1xx answers skipped. What it refuses carries the same
 * HPE_* code llhttp gives, so the error a user sees does not depend on which of the two read the answer.
 */

/** A response llhttp would refuse too; `code` is its HPE_* code. */
export class HttpFramingError extends Error {
  constructor(
    readonly code: string,
    readonly reason: string,
  ) {
    super(`Parse Error: ${reason}`);
  }
}

export interface ResponseHead {
  status: number;
  /** As Node gives them: lower-case names, repeated values joined with ", " (set-cookie an array, some first-wins). */
  headers: Record<string, string | string[]>;
  /** WWW-Authenticate values, one per header line. */
  wwwAuthenticate: string[];
  /** The connection may carry the next request after this answer. */
  keepAlive: boolean;
  /** The server's Keep-Alive timeout hint, in ms. */
  keepAliveHintMs?: number;
  /** Declared body length, when there is one. */
  contentLength?: number;
}

/** Headers Node keeps only the first of (node:_http_incoming matchKnownFields). */
const FIRST_WINS = new Set([
  'content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization', 'proxy-authorization', 'if-modified-since',
  'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag', 'last-modified', 'server', 'age', 'expires',
]);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters other than horizontal tab: never in a header value. */
const VALUE_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})(?: [^\r\n]*)?$/;
const CRLF_CRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
const HTTP_PREFIX = 'HTTP/';
/** Longest chunk-size line accepted (16 hex digits and an extension). */
const MAX_CHUNK_LINE = 4096;

/**
 * A response body gathered in memory. Runs of small chunks are merged as they come, so a device that answers in
 * one-byte chunks costs a few Buffer objects per 64 kB rather than one per byte (an 8 MB answer sent that way
 * held millions of them: hundreds of MB of heap).
 */
export class BodyCollector {
  private readonly blocks: Buffer[] = [];
  private small: Buffer[] = [];
  private smallBytes = 0;

  add(chunk: Buffer): void {
    if (chunk.length >= 16 * 1024) {
      this.flush();
      this.blocks.push(chunk);
      return;
    }
    this.small.push(chunk);
    this.smallBytes += chunk.length;
    if (this.small.length >= 256 || this.smallBytes >= 64 * 1024) this.flush();
  }

  result(): Buffer {
    this.flush();
    return this.blocks.length === 1 ? this.blocks[0]! : Buffer.concat(this.blocks);
  }

  private flush(): void {
    if (this.small.length === 0) return;
    this.blocks.push(Buffer.concat(this.small, this.smallBytes));
    this.small = [];
    this.smallBytes = 0;
  }
}

type Phase = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'close' | 'done';

export class ResponseReader {
  head?: ResponseHead;
  private phase: Phase = 'head';
  /** Bytes of a head, chunk-size line or trailer section not yet complete. */
  private partial?: Buffer;
  private remaining = 0;
  private readonly collected = new BodyCollector();
  /** Body bytes so far. */
  size = 0;

  /** The body read so far (the whole body once complete). */
  body(): Buffer {
    return this.size === 0 ? EMPTY : this.collected.result();
  }

  /**
   * Take the next bytes. Returns the bytes after the end of the response (an empty buffer when it ended exactly
   * at the end of `chunk`), or undefined while more is needed. Throws HttpFramingError.
   */
  feed(chunk: Buffer): Buffer | undefined {
    let data = chunk;
    while (data.length > 0 || this.phase === 'done') {
      switch (this.phase) {
        case 'head': {
          const rest = this.readHead(data);
          if (rest === undefined) return undefined;
          data = rest;
          break;
        }
        case 'length':
          data = this.takeCounted(data, 'done');
          break;
        case 'close':
          this.addBody(data);
          return undefined;
        case 'chunk-size': {
          const line = this.readLine(data, 'HPE_INVALID_CHUNK_SIZE', 'Chunk size line too long');
          if (!line) return undefined;
          data = line.rest;
          const size = /^([0-9a-fA-F]{1,16})(?:;[^\r\n]*)?$/.exec(line.text);
          if (!size) throw new HttpFramingError('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size');
          const n = parseInt(size[1]!, 16);
          if (!Number.isSafeInteger(n)) throw new HttpFramingError('HPE_INVALID_CHUNK_SIZE', 'Chunk size overflow');
          this.remaining = n;
          this.phase = n === 0 ? 'trailers' : 'chunk-data';
          break;
        }
        case 'chunk-data':
          data = this.takeCounted(data, 'chunk-end');
          break;
        case 'chunk-end': {
          const line = this.readLine(data, 'HPE_STRICT', 'Expected LF after chunk data');
          if (!line) return undefined;
          if (line.text !== '') throw new HttpFramingError('HPE_STRICT', 'Expected LF after chunk data');
          data = line.rest;
          this.phase = 'chunk-size';
          break;
        }
        case 'trailers': {
          const line = this.readLine(data, 'HPE_HEADER_OVERFLOW', 'Header overflow');
          if (!line) return undefined;
          data = line.rest;
          if (line.text === '') this.phase = 'done';
          break;
        }
        case 'done':
          return data;
      }
    }
    return undefined;
  }

  /** The connection closed: true when that ends the response (a body read until close). */
  end(): boolean {
    if (this.phase === 'close') this.phase = 'done';
    return this.phase === 'done';
  }

  /** Body bytes up to the `remaining` count (a Content-Length or a chunk); then on to `next`. Returns what follows. */
  private takeCounted(data: Buffer, next: Phase): Buffer {
    const take = Math.min(this.remaining, data.length);
    this.addBody(data.subarray(0, take));
    this.remaining -= take;
    if (this.remaining === 0) this.phase = next;
    return data.subarray(take);
  }

  private addBody(b: Buffer): void {
    if (b.length === 0) return;
    this.collected.add(b);
    this.size += b.length;
  }

  /** One CR LF-terminated line (for chunk sizes and trailers), or undefined while it is incomplete. */
  private readLine(data: Buffer, overflowCode: string, overflowReason: string): { text: string; rest: Buffer } | undefined {
    const all = this.partial ? Buffer.concat([this.partial, data]) : data;
    const lf = all.indexOf(10);
    if (lf < 0) {
      if (all.length > MAX_CHUNK_LINE) throw new HttpFramingError(overflowCode, overflowReason);
      this.partial = all;
      return undefined;
    }
    this.partial = undefined;
    if (lf === 0 || all[lf - 1] !== 13) throw new HttpFramingError('HPE_CR_EXPECTED', 'Missing expected CR');
    return { text: all.toString('latin1', 0, lf - 1), rest: all.subarray(lf + 1) };
  }

  /** Read until the end of the head; returns the bytes after it, or undefined while the head is incomplete. */
  private readHead(data: Buffer): Buffer | undefined {
    let all = this.partial ? Buffer.concat([this.partial, data]) : data;
    // Empty lines before a status line are skipped, as llhttp does.
    let start = 0;
    while (start + 1 < all.length && all[start] === 13 && all[start + 1] === 10) start += 2;
    if (start > 0) all = all.subarray(start);
    const end = all.indexOf(CRLF_CRLF);
    const headBytes = end < 0 ? all.length : end;
    if (headBytes > maxHeaderSize) throw new HttpFramingError('HPE_HEADER_OVERFLOW', 'Header overflow');
    if (end < 0) {
      // What cannot become a status line or has a bare LF where CR LF belongs is refused at once, not waited on.
      if (!HTTP_PREFIX.startsWith(all.toString('latin1', 0, 5))) {
        throw new HttpFramingError('HPE_INVALID_CONSTANT', 'Expected HTTP/');
      }
      checkLineEnds(all, all.length);
      this.partial = all;
      return undefined;
    }
    this.partial = undefined;
    checkLineEnds(all, end + 2);
    const lines = all.toString('latin1', 0, end).split('\r\n');
    const rest = all.subarray(end + 4);
    const status = parseStatusLine(lines[0]!);
    const head = parseHeaderLines(status, lines);
    if (status >= 100 && status < 200) return rest; // 100 Continue and friends: the real answer follows
    this.head = head;
    const te = head.headers['transfer-encoding'];
    const chunked = typeof te === 'string' && /(?:^|,)\s*chunked\s*$/i.test(te);
    if (status === 204 || status === 304) this.phase = 'done';
    else if (chunked) this.phase = 'chunk-size';
    else if (te !== undefined) this.phase = 'close';
    else if (head.contentLength !== undefined) {
      this.remaining = head.contentLength;
      this.phase = head.contentLength === 0 ? 'done' : 'length';
    } else this.phase = 'close';
    if (this.phase === 'close') head.keepAlive = false;
    return rest;
  }
}

/** Every LF before `upTo` must follow a CR. */
function checkLineEnds(b: Buffer, upTo: number): void {
  let at = b.indexOf(10);
  while (at >= 0 && at < upTo) {
    if (at === 0 || b[at - 1] !== 13) throw new HttpFramingError('HPE_CR_EXPECTED', 'Missing expected CR after header value');
    at = b.indexOf(10, at + 1);
  }
}

/** Optional whitespace around a header value: spaces and tabs only (String.trim would take more). */
function trimSpacesAndTabs(v: string): string {
  let a = 0;
  let b = v.length;
  while (a < b && (v.charCodeAt(a) === 32 || v.charCodeAt(a) === 9)) a++;
  while (b > a && (v.charCodeAt(b - 1) === 32 || v.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === v.length ? v : v.slice(a, b);
}

function parseStatusLine(line: string): number {
  if (!line.startsWith('HTTP/')) throw new HttpFramingError('HPE_INVALID_CONSTANT', 'Expected HTTP/');
  if (!/^HTTP\/\d\.\d /.test(line)) throw new HttpFramingError('HPE_INVALID_VERSION', 'Invalid HTTP version');
  const m = STATUS_LINE.exec(line);
  if (!m) throw new HttpFramingError('HPE_INVALID_STATUS', 'Invalid response status');
  return Number(m[1]);
}

function parseHeaderLines(status: number, lines: string[]): ResponseHead {
  const headers: Record<string, string | string[]> = {};
  const wwwAuthenticate: string[] = [];
  let contentLength: number | undefined;
  let connection = '';
  let keepAliveHint: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new HttpFramingError('HPE_INVALID_HEADER_TOKEN', 'Invalid header token');
    const raw = line.slice(colon + 1);
    if (VALUE_CONTROL.test(raw)) throw new HttpFramingError('HPE_INVALID_HEADER_TOKEN', 'Invalid header value char');
    const value = trimSpacesAndTabs(raw);
    const key = name.toLowerCase();
    if (key === 'content-length') {
      if (!/^\d+$/.test(value)) throw new HttpFramingError('HPE_INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length');
      if (contentLength !== undefined) throw new HttpFramingError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Duplicate Content-Length');
      contentLength = Number(value);
      if (!Number.isSafeInteger(contentLength)) throw new HttpFramingError('HPE_INVALID_CONTENT_LENGTH', 'Content-Length overflow');
    } else if (key === 'www-authenticate') wwwAuthenticate.push(value);
    else if (key === 'connection') connection += `,${value.toLowerCase()}`;
    else if (key === 'keep-alive') keepAliveHint = value;
    const known = headers[key];
    if (known === undefined) headers[key] = key === 'set-cookie' ? [value] : value;
    else if (Array.isArray(known)) known.push(value);
    else if (!FIRST_WINS.has(key)) headers[key] = `${known}, ${value}`;
  }
  if (contentLength !== undefined && headers['transfer-encoding'] !== undefined) {
    throw new HttpFramingError('HPE_UNEXPECTED_CONTENT_LENGTH', "Content-Length can't be present with Transfer-Encoding");
  }
  const http10 = lines[0]!.startsWith('HTTP/1.0');
  const tokens = connection.split(',').map((t) => t.trim());
  const keepAlive = http10 ? tokens.includes('keep-alive') : !tokens.includes('close');
  const hint = keepAliveHint ? /(?:^|,)\s*timeout=(\d+)/i.exec(keepAliveHint) : null;
  return { status, headers, wwwAuthenticate, keepAlive, keepAliveHintMs: hint ? Number(hint[1]) * 1000 : undefined, contentLength };
}
