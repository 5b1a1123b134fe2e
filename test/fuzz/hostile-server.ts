/**
 * The fuzz's counterpart: a raw `net` HTTP server on 127.0.0.1 that answers each request as the current input
 * says (a mutated body with HTTP 200, or a transport fault: cut connections, slow-loris, 100 MB bodies streamed
 * without buffering, redirect and 401 loops, broken HTTP framing), and a UDP responder that answers WS-Discovery
 * probes with mutated datagrams. Raw sockets, because node:http would refuse to send most of these faults.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import net from 'node:net';
import { BASE_PLACEHOLDER, RELATES_PLACEHOLDER } from './seeds';

export type TransportFault =
  | 'none'
  | 'bad-status'
  | 'wrong-content-type'
  | 'chunked'
  | 'cut-headers'
  | 'cut-body'
  | 'reset'
  | 'close-no-answer'
  | 'slow-loris'
  | 'stall'
  | 'huge-chunked'
  | 'huge-declared'
  | 'redirect-loop'
  | '401-loop'
  | 'not-authorized-loop'
  | 'garbage-http';

export interface Reply {
  fault: TransportFault;
  body: Buffer;
  /** Fault parameters, drawn with the input (so a replay repeats them): status, challenge, framing variant... */
  status?: number;
  challenge?: string;
  variant?: number;
}

export interface SeenRequest {
  operation: string;
  path: string;
}

/** How the server answers one request of the current input. */
export type Plan = (request: SeenRequest, nth: number) => Reply;

/** What the huge-* faults stream: more than any cap, so the client must stop reading. */
export const HUGE_BYTES = 100 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, '<a>x</a>');

const NOT_AUTHORIZED = Buffer.from(
  '<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error"><env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>ter:NotAuthorized</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">Sender not Authorized</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>',
);

/** Framing a well-behaved HTTP parser must refuse (or survive). */
const GARBAGE_HEADS: Array<(body: Buffer) => Buffer> = [
  (b) => Buffer.concat([Buffer.from(`HTTX/1.1 200 OK\r\nContent-Length: ${b.length}\r\n\r\n`), b]),
  (b) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type application/soap+xml\r\nContent-Length: ${b.length}\r\n\r\n`), b]),
  (b) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n`), b]),
  (b) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${b.length}\r\nContent-Length: ${b.length + 7}\r\n\r\n`), b]),
  (b) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`), b, Buffer.from('\r\n0\r\n\r\n')]),
  (b) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\nContent-Type: application/soap+xml\nContent-Length: ${b.length}\n\n`), b]),
  (b) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nX-Null: a\u0000b\r\nContent-Length: ${b.length}\r\n\r\n`, 'latin1'), b]),
  (b) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nX-Long: ${'a'.repeat(100_000)}\r\nContent-Length: ${b.length}\r\n\r\n`), b]),
  (b) => b, // HTTP/0.9 style: the body with no status line at all
  (b) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${Math.max(0, b.length - 10)}\r\n\r\n`), b, Buffer.from('HTTP/1.1 500 Oops\r\n\r\n')]),
  (b) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n0\r\n\r\n')]),
  (b) => Buffer.concat([Buffer.from(`HTTP/1.1 2000 OK\r\nContent-Length: ${b.length}\r\n\r\n`), b]),
  (b) => Buffer.concat([Buffer.from(`HTTP/1.1 200 \u001b[31mOK\r\nContent-Length: ${b.length}\r\n\r\n`, 'latin1'), b]),
  (b) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: ${b.length}\r\n\r\n`), b]),
  (b) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${b.length}\r\n\r\n`), b]),
];
export const GARBAGE_VARIANTS = GARBAGE_HEADS.length;

export const BAD_STATUSES = [500, 400, 403, 404, 405, 415, 503, 202, 204, 301, 199, 299, 600, 999];

function head(status: number, headers: Record<string, string>, reason = 'X'): Buffer {
  const lines = [`HTTP/1.1 ${status} ${reason}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

function substitute(body: Buffer, placeholder: string, value: string): Buffer {
  if (body.indexOf(placeholder) < 0) return body;
  return Buffer.from(body.toString('latin1').split(placeholder).join(value), 'latin1');
}

interface Pending {
  socket: net.Socket;
  buffer: Buffer;
}

export class HostileHttpServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  plan: Plan = () => ({ fault: 'close-no-answer', body: Buffer.alloc(0) });
  /** Requests of the current input (the plan's `nth`). */
  requests = 0;
  port = 0;

  constructor() {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** A new input: new plan, request count from zero, nothing left over from the last input. */
  reset(plan: Plan): void {
    this.dropConnections();
    this.plan = plan;
    this.requests = 0;
  }

  dropConnections(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined); // the client hanging up mid-answer is what these tests do
    const pending: Pending = { socket, buffer: Buffer.alloc(0) };
    socket.on('data', (chunk: Buffer) => {
      pending.buffer = Buffer.concat([pending.buffer, chunk]);
      this.drain(pending);
    });
  }

  /** Answer every complete request in the buffer (keep-alive: several per connection). */
  private drain(p: Pending): void {
    for (;;) {
      const end = p.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headText = p.buffer.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headText)?.[1] ?? 0);
      const expectContinue = /\r\nexpect:\s*100-continue/i.test(headText);
      if (p.buffer.length < end + 4 + length) {
        if (expectContinue && !(p as Pending & { continued?: boolean }).continued) {
          (p as Pending & { continued?: boolean }).continued = true;
          p.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
        }
        return;
      }
      const body = p.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
      p.buffer = p.buffer.subarray(end + 4 + length);
      (p as Pending & { continued?: boolean }).continued = false;
      const path = headText.split(' ')[1] ?? '/';
      const operation = /<([\w.-]+:)?Body[^>]*>\s*<([\w.-]+:)?([\w.-]+)/.exec(body)?.[3] ?? '';
      const nth = this.requests++;
      let reply: Reply;
      try {
        reply = this.plan({ operation, path }, nth);
      } catch {
        reply = { fault: 'close-no-answer', body: Buffer.alloc(0) };
      }
      if (!this.answer(p.socket, { ...reply, body: substitute(reply.body, BASE_PLACEHOLDER, this.base) }, path)) return;
    }
  }

  /** Write one answer; false when the connection cannot carry another request. */
  private answer(socket: net.Socket, r: Reply, path: string): boolean {
    const soap = 'application/soap+xml; charset=utf-8';
    const plain = (status: number, contentType: string | undefined, body: Buffer, extra: Record<string, string> = {}) => {
      const h: Record<string, string> = { ...(contentType ? { 'Content-Type': contentType } : {}), 'Content-Length': String(body.length), ...extra };
      socket.write(Buffer.concat([head(status, h), body]));
    };
    switch (r.fault) {
      case 'none':
        plain(200, soap, r.body);
        return true;
      case 'bad-status':
        plain(r.status ?? 500, soap, r.body);
        return true;
      case 'wrong-content-type':
        plain(200, (r.variant ?? 0) % 3 === 0 ? undefined : (r.variant ?? 0) % 3 === 1 ? 'text/html' : 'application/octet-stream', r.body);
        return true;
      case 'chunked': {
        // A correct chunked answer in random-sized pieces: must read as the whole body.
        // Written into one buffer: three small Buffers per piece made this server, not the client, the fuzz run's
        // largest user of memory on multi-megabyte bodies.
        const step = 1 + ((r.variant ?? 7) % 997);
        const h = head(200, { 'Content-Type': soap, 'Transfer-Encoding': 'chunked' });
        const sizeLine = `${step.toString(16)}\r\n`;
        const out = Buffer.allocUnsafe(h.length + Math.ceil(r.body.length / step) * (sizeLine.length + 2) + r.body.length + 5);
        let at = h.copy(out, 0);
        for (let i = 0; i < r.body.length; i += step) {
          const piece = r.body.subarray(i, i + step);
          at += out.write(`${piece.length.toString(16)}\r\n`, at, 'latin1');
          at += piece.copy(out, at);
          at += out.write('\r\n', at, 'latin1');
        }
        at += out.write('0\r\n\r\n', at, 'latin1');
        socket.write(out.subarray(0, at));
        return true;
      }
      case 'cut-headers': {
        const h = head(200, { 'Content-Type': soap, 'Content-Length': String(r.body.length) });
        socket.end(h.subarray(0, Math.max(1, (r.variant ?? 0) % h.length)));
        return false;
      }
      case 'cut-body': {
        const h = head(200, { 'Content-Type': soap, 'Content-Length': String(r.body.length + 1) });
        socket.write(Buffer.concat([h, r.body.subarray(0, (r.variant ?? 0) % (r.body.length + 1))]));
        if ((r.variant ?? 0) % 2) socket.resetAndDestroy();
        else socket.end();
        return false;
      }
      case 'reset':
        socket.resetAndDestroy();
        return false;
      case 'close-no-answer':
        socket.end();
        return false;
      case 'slow-loris': {
        // The answer dribbles out a few bytes at a time, slower than any timeout allows.
        const all = Buffer.concat([head(200, { 'Content-Type': soap, 'Content-Length': String(r.body.length) }), r.body]);
        let at = 0;
        const drip = () => {
          if (socket.destroyed || at >= all.length) return;
          socket.write(all.subarray(at, at + 1 + ((r.variant ?? 0) % 8)));
          at += 1 + ((r.variant ?? 0) % 8);
          this.later(40, drip);
        };
        drip();
        return false;
      }
      case 'stall':
        // Headers, then silence with the connection open.
        socket.write(head(200, { 'Content-Type': soap, 'Content-Length': String(r.body.length + 100) }));
        socket.write(r.body.subarray(0, Math.floor(r.body.length / 2)));
        return false;
      case 'huge-chunked':
      case 'huge-declared': {
        // 100 MB streamed from one 64 kB buffer with backpressure: the server never holds the body.
        const chunked = r.fault === 'huge-chunked';
        socket.write(head(200, chunked ? { 'Content-Type': soap, 'Transfer-Encoding': 'chunked' } : { 'Content-Type': soap, 'Content-Length': String(HUGE_BYTES) }));
        let sent = 0;
        const pump = () => {
          while (!socket.destroyed && sent < HUGE_BYTES) {
            sent += CHUNK.length;
            const ok = chunked ? socket.write(Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')])) : socket.write(CHUNK);
            if (!ok) return void socket.once('drain', pump);
          }
          if (!socket.destroyed) socket.end(chunked ? '0\r\n\r\n' : '');
        };
        pump();
        return false;
      }
      case 'redirect-loop': {
        const status = [301, 302, 303, 307, 308][(r.variant ?? 0) % 5]!;
        plain(status, 'text/html', Buffer.alloc(0), { Location: (r.variant ?? 0) % 2 ? path : `${this.base}${path}` });
        return true;
      }
      case '401-loop': {
        const nonce = `${Date.now().toString(16)}${Math.floor(Math.random() * 1e9).toString(16)}`;
        const challenge = (r.challenge ?? 'Digest realm="fuzz", nonce="{{NONCE}}", qop="auth"').split('{{NONCE}}').join(nonce);
        plain(401, 'text/html', r.body, challenge ? { 'WWW-Authenticate': challenge } : {});
        return true;
      }
      case 'not-authorized-loop':
        plain(r.status ?? 400, soap, NOT_AUTHORIZED);
        return true;
      case 'garbage-http':
        socket.end(GARBAGE_HEADS[(r.variant ?? 0) % GARBAGE_HEADS.length]!(r.body));
        return false;
    }
  }
}

/** Answers every WS-Discovery probe with the current input's datagrams (RelatesTo set to the probe's MessageID). */
export class HostileUdpResponder {
  private socket?: UdpSocket;
  replies: Buffer[] = [];
  port = 0;

  async start(): Promise<void> {
    const socket = createSocket('udp4');
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => undefined);
    this.port = socket.address().port;
    socket.on('message', (msg, rinfo) => {
      const id = /MessageID[^>]*>([^<]+)</.exec(msg.toString('utf8'))?.[1] ?? '';
      for (const r of this.replies) {
        const datagram = substitute(r, RELATES_PLACEHOLDER, id);
        socket.send(datagram.subarray(0, 65_000), rinfo.port, rinfo.address, () => undefined);
      }
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.socket ? this.socket.close(() => resolve()) : resolve()));
  }
}
