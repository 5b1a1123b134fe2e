/**
 * A streaming reader of multipart bodies (MTOM/XOP requests, RFC 2046 §5.1): parts are handed over as
 * they arrive, so an attachment of any size passes through without being held in memory.
 */
export interface MultipartHandlers {
  /** A part begins; header names are lower case. */
  part(headers: Record<string, string>): void;
  data(chunk: Buffer): void;
  partEnd(): void;
}

const MAX_HEADER_BLOCK = 16 * 1024;

export class MultipartReader {
  private readonly delimiter: Buffer;
  // The body's first delimiter has no CRLF before it; pretending it had one makes every delimiter alike.
  private buf: Buffer = Buffer.from('\r\n');
  private state: 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done' = 'preamble';
  /** Why the body is not a readable multipart, once it is known. */
  problem?: string;

  constructor(
    boundary: string,
    private readonly handlers: MultipartHandlers,
  ) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  get done(): boolean {
    return this.state === 'done';
  }

  push(chunk: Buffer): void {
    if (this.problem || this.state === 'done') return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const keep = this.delimiter.length - 1;
      switch (this.state) {
        case 'preamble': {
          const i = this.buf.indexOf(this.delimiter);
          if (i < 0) {
            this.buf = this.buf.subarray(Math.max(0, this.buf.length - keep));
            return;
          }
          this.buf = this.buf.subarray(i + this.delimiter.length);
          this.state = 'after-delimiter';
          break;
        }
        case 'after-delimiter': {
          if (this.buf.length < 2) return;
          if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) {
            this.state = 'done';
            return;
          }
          const eol = this.buf.indexOf('\r\n');
          if (eol < 0) return;
          this.buf = this.buf.subarray(eol + 2);
          this.state = 'headers';
          break;
        }
        case 'headers': {
          const end = this.buf.indexOf('\r\n\r\n');
          const empty = this.buf.subarray(0, 2).toString() === '\r\n';
          if (end < 0 && !empty) {
            if (this.buf.length > MAX_HEADER_BLOCK) this.problem = 'a part header block is too long';
            return;
          }
          const block = empty ? '' : this.buf.subarray(0, end).toString('utf8');
          this.buf = this.buf.subarray(empty ? 2 : end + 4);
          const headers: Record<string, string> = {};
          for (const line of block.split('\r\n')) {
            const colon = line.indexOf(':');
            if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
          }
          this.handlers.part(headers);
          this.state = 'body';
          break;
        }
        case 'body': {
          const i = this.buf.indexOf(this.delimiter);
          if (i < 0) {
            const safe = this.buf.length - keep;
            if (safe > 0) {
              this.handlers.data(this.buf.subarray(0, safe));
              this.buf = this.buf.subarray(safe);
            }
            return;
          }
          if (i > 0) this.handlers.data(this.buf.subarray(0, i));
          this.handlers.partEnd();
          this.buf = this.buf.subarray(i + this.delimiter.length);
          this.state = 'after-delimiter';
          break;
        }
        default:
          return;
      }
    }
  }
}

/** A parameter of a Content-Type header (boundary, start, type), unquoted. */
export function contentTypeParam(contentType: string, name: string): string | undefined {
  const re = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i');
  const m = re.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}
