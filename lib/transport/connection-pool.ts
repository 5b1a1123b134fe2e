import * as net from 'node:net';
import { OnvifError } from '../errors';
import { deadlines } from './deadlines';
import { brokenHttpError, cancelledError, cutOffError, networkError, timeoutError, tooLargeError } from './exchange-errors';
import { HttpFramingError, ResponseReader } from './response-reader';
import type { RawRequest, SendResult } from './http';

/**
 * Kept-alive connections for the SOAP exchanges over plain http: a request is one write of head and body on a
 * socket of the pool, the answer is read by ResponseReader. node:http's request, agent and parser machinery cost this
 * client as much CPU per call as everything else it does for a call (the bench: 564 µs per call with it, 219–253 without);
 * this costs a fraction of that. https and file transfers stay on node:http (TLS verification, streaming,
 * 100-continue), with connections of their own.
 *
 * As node:http's agent does: at most `maxSockets` connections per device, the rest wait in order; an idle
 * connection is unref'd (it never holds the process open) and closed a second before the device's Keep-Alive
 * timeout, or after IDLE_LIMIT_MS; a failure on a reused connection before any answer is marked `reusedSocket`,
 * so the client may send once more on a fresh one.
 */

/** An idle connection is closed after this long without a Keep-Alive hint from the device. */
const IDLE_LIMIT_MS = 30_000;

/** How long an idle connection is kept: a second less than the device's Keep-Alive timeout, else IDLE_LIMIT_MS. */
function idleMsFor(hintMs: number | undefined): number {
  return hintMs === undefined ? IDLE_LIMIT_MS : Math.max(0, Math.min(hintMs - 1000, IDLE_LIMIT_MS));
}

/** Header values must not break the head (a username with a line break would inject headers). */
const BREAKS_HEAD = /[\r\n\0]/;

interface Exchange {
  readonly req: RawRequest;
  readonly where: string;
  readonly bytes: Buffer;
  readonly reader: ResponseReader;
  settle(err: OnvifError | undefined, res?: SendResult): void;
}

/** One connection to a device; `reused` once it has carried an answer. */
class Connection {
  exchange?: Exchange;
  reused = false;
  closed = false;
  private idleTimer?: NodeJS.Timeout;

  constructor(
    readonly socket: net.Socket,
    private readonly onGone: (c: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // 'end' before 'close': a close-delimited body is complete when the device ends its side.
    socket.on('end', () => this.onClose());
    socket.on('error', (e: NodeJS.ErrnoException) => this.onClose(e));
    socket.on('close', () => this.onClose());
  }

  /** Send an exchange on this connection. */
  start(ex: Exchange): void {
    this.exchange = ex;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.socket.ref();
    this.socket.write(ex.bytes);
  }

  /** Back to the pool after an answer: unref'd, closed after `idleMs`. */
  idle(idleMs: number): void {
    this.reused = true;
    this.socket.unref();
    this.idleTimer = setTimeout(() => this.destroy(), idleMs);
    this.idleTimer.unref();
  }

  destroy(): void {
    this.socket.destroy();
    this.onClose();
  }

  private onData(chunk: Buffer): void {
    const ex = this.exchange;
    // Bytes nobody asked for: the connection cannot be trusted with the next request.
    if (!ex) return this.destroy();
    let rest: Buffer | undefined;
    try {
      rest = ex.reader.feed(chunk);
    } catch (e) {
      return this.fail(ex, e instanceof HttpFramingError ? brokenHttpError(e, ex.where, ex.req.operation) : (e as OnvifError));
    }
    // A declared length over the limit is refused as soon as the head is in, before any more of the body is read.
    const head = ex.reader.head;
    if (ex.reader.size > ex.req.maxResponseBytes || (head?.contentLength ?? 0) > ex.req.maxResponseBytes) {
      return this.fail(ex, tooLargeError(ex.where, ex.req.operation, head?.status, ex.req.maxResponseBytes));
    }
    if (rest !== undefined) this.answer(ex, rest.length === 0);
  }

  private answer(ex: Exchange, reusable: boolean): void {
    const head = ex.reader.head!;
    this.exchange = undefined;
    ex.settle(undefined, {
      status: head.status,
      headers: head.headers,
      wwwAuthenticate: head.wwwAuthenticate,
      body: ex.reader.body(),
      reusedSocket: this.reused,
    });
    // An answer that came while part of the request was still unsent (an early refusal) leaves that part in the way.
    if (reusable && head.keepAlive && !this.closed && this.socket.writableLength === 0) {
      this.idle(idleMsFor(head.keepAliveHintMs));
      this.onGone(this); // tells the pool it is free (it checks `exchange` and `closed`)
    } else this.destroy();
  }

  /** Fail the exchange in flight and drop the connection. */
  fail(ex: Exchange, err: OnvifError): void {
    if (this.exchange === ex) this.exchange = undefined;
    this.destroy();
    ex.settle(err);
  }

  private onClose(err?: NodeJS.ErrnoException): void {
    const ex = this.exchange;
    if (ex) {
      this.exchange = undefined;
      if (ex.reader.end()) this.answer(ex, false);
      else if (ex.reader.head) ex.settle(cutOffError(ex.where, ex.req.operation, ex.reader.head.status));
      else {
        const e = err ?? Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        ex.settle(Object.assign(networkError(e, ex.where, ex.req.operation), { reusedSocket: this.reused }));
      }
    }
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.socket.destroy();
    this.onGone(this);
  }
}

/** The connections to one device and the requests waiting for one. */
interface Host {
  /** To connect to (an IPv6 address without brackets). */
  readonly hostname: string;
  readonly port: number;
  readonly idle: Connection[];
  readonly busy: Set<Connection>;
  readonly waiting: Array<{ ex: Exchange; run: (c: Connection) => void }>;
}

export class ConnectionPool {
  private readonly hosts = new Map<string, Host>();

  constructor(private readonly maxSockets = 8) {}

  /**
   * One HTTP exchange with a hard overall timeout and a size cap, as sendOnce. Always settles with an answer or an
   * OnvifError. `req.headers` is sent as given, with Host, Content-Length and Connection added.
   */
  send(req: RawRequest): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      const url = req.url;
      const port = Number(url.port) || 80;
      const key = `${url.hostname}:${port}`;
      const where = req.where ?? key;
      let bytes: Buffer;
      try {
        bytes = requestBytes(req);
      } catch (e) {
        reject(Object.assign(e as OnvifError, { address: where, operation: req.operation }));
        return;
      }
      if (req.signal?.aborted) return reject(cancelledError(where, req.operation));
      let settled = false;
      let connection: Connection | undefined;
      const host = this.host(key, url.hostname, port);
      /** Give up on this exchange: its connection (if it has one) goes; a waiting place is given back. */
      const abandon = (err: OnvifError) => {
        if (connection) return connection.fail(ex, err);
        const i = host.waiting.findIndex((w) => w.ex === ex);
        if (i >= 0) host.waiting.splice(i, 1);
        ex.settle(err);
      };
      const onAbort = () => abandon(cancelledError(where, req.operation));
      const deadline = deadlines.add(req.timeoutMs, () => abandon(timeoutError(where, req.operation, req.timeoutMs)));
      const ex: Exchange = {
        req,
        where,
        bytes,
        reader: new ResponseReader(),
        settle: (err, res) => {
          if (settled) return;
          settled = true;
          deadlines.remove(deadline);
          req.signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve(res!);
        },
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      this.dispatch(key, host, ex, (c) => {
        connection = c;
        c.start(ex);
      });
    });
  }

  /** Close every connection; exchanges in flight fail as if the device had closed them. The pool stays usable. */
  destroy(): void {
    for (const host of [...this.hosts.values()]) for (const c of [...host.idle, ...host.busy]) c.destroy();
  }

  private host(key: string, hostname: string, port: number): Host {
    let h = this.hosts.get(key);
    if (!h) {
      h = { hostname: hostname.startsWith('[') ? hostname.slice(1, -1) : hostname, port, idle: [], busy: new Set(), waiting: [] };
      this.hosts.set(key, h);
    }
    return h;
  }

  /** Run an exchange on an idle connection (the most recently used), a new one, or queue it. */
  private dispatch(key: string, host: Host, ex: Exchange, run: (c: Connection) => void): void {
    const idle = host.idle.pop();
    if (idle) {
      host.busy.add(idle);
      return run(idle);
    }
    if (host.busy.size >= this.maxSockets) {
      host.waiting.push({ ex, run });
      return;
    }
    const c = new Connection(net.connect({ host: host.hostname, port: host.port }), (done) => this.released(key, host, done));
    host.busy.add(c);
    run(c);
  }

  /** A connection finished an exchange (kept for the next) or closed: the next waiting request gets a connection. */
  private released(key: string, host: Host, c: Connection): void {
    host.busy.delete(c);
    const at = host.idle.indexOf(c);
    if (at >= 0) host.idle.splice(at, 1);
    if (!c.closed && !c.exchange) host.idle.push(c);
    const next = host.waiting.shift();
    if (next) this.dispatch(key, host, next.ex, next.run);
    else if (host.idle.length === 0 && host.busy.size === 0 && this.hosts.get(key) === host) this.hosts.delete(key);
  }
}

/** Head and body of a request in one buffer: one write, one segment for a small request. */
function requestBytes(req: RawRequest): Buffer {
  const body = req.body;
  const bodyLength = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  let head = `${req.method} ${req.url.pathname}${req.url.search} HTTP/1.1\r\nHost: ${req.url.host}\r\nConnection: keep-alive\r\n`;
  for (const name in req.headers) {
    const value = req.headers[name]!;
    if (BREAKS_HEAD.test(value) || BREAKS_HEAD.test(name)) {
      throw new OnvifError('invalid-input', `The ${name} header would contain a line break or NUL (check the username and other settings for such characters); not sent.`);
    }
    if (name.toLowerCase() !== 'content-length') head += `${name}: ${value}\r\n`;
  }
  if (body !== undefined) head += `Content-Length: ${bodyLength}\r\n`;
  head += '\r\n';
  // Header text goes out as latin1, as node:http sends it.
  const headLength = Buffer.byteLength(head, 'latin1');
  const out = Buffer.allocUnsafe(headLength + bodyLength);
  out.write(head, 0, 'latin1');
  if (typeof body === 'string') out.write(body, headLength, 'utf8');
  else if (body) body.copy(out, headLength);
  return out;
}
