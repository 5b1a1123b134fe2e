/**
 * The connection pool that carries SOAP over plain http (lib/transport/connection-pool.ts) and the response reader
 * under it: answers read as node:http reads them (the same bytes through both, including answers captured from real
 * devices), connections kept alive, limited and given up as node:http's agent does.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { OnvifError } from '../../lib/errors';
import { ConnectionPool } from '../../lib/transport/connection-pool';
import { HttpFramingError, ResponseReader } from '../../lib/transport/response-reader';
import { SoapClient } from '../../lib/transport/client';
import { el } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import { rejection } from '../support/rejection';
import { SHARED, skipWith } from '../support/shared';

/** One request as the server saw it, and the socket to answer on. */
interface Seen {
  head: string;
  body: Buffer;
  socket: net.Socket;
  /** 1 for the first connection the server accepted, 2 for the second... */
  connection: number;
}

/** A server on raw sockets: `answer` decides what each request gets (bytes, nothing, a close). */
async function scriptedServer(answer: (req: Seen) => void) {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const closedByPeer: number[] = [];
  const server = net.createServer((socket) => {
    const connection = ++connections;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      closedByPeer.push(connection);
    });
    let seen = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      for (;;) {
        const end = seen.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = seen.toString('latin1', 0, end);
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (seen.length < end + 4 + length) return;
        const body = seen.subarray(end + 4, end + 4 + length);
        seen = seen.subarray(end + 4 + length);
        answer({ head, body, socket, connection });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: new URL(`http://127.0.0.1:${port}/onvif/device_service`),
    get connections() {
      return connections;
    },
    closedByPeer,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const okAnswer = (body: string, extra = '') => `HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

/** The outcome of reading an answer, comparable between node:http and the pool. */
type Outcome = { status: number; body: string; headers: Record<string, unknown>; www: string[] } | { error: string };

function viaNodeHttp(url: URL): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (!res.complete) return resolve({ error: 'cut-off' });
        const www: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() === 'www-authenticate') www.push(res.rawHeaders[i + 1]!);
        resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('latin1'), headers: { ...res.headers }, www });
      });
      res.on('aborted', () => resolve({ error: 'cut-off' }));
      res.on('error', () => resolve({ error: 'cut-off' }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end('x');
  });
}

async function viaPool(pool: ConnectionPool, url: URL): Promise<Outcome> {
  try {
    const r = await pool.send({ method: 'POST', url, headers: {}, body: 'x', timeoutMs: 5000, maxResponseBytes: 1024 * 1024 });
    return { status: r.status, body: r.body.toString('latin1'), headers: { ...r.headers }, www: r.wwwAuthenticate };
  } catch (e) {
    const err = e as OnvifError;
    if (err.kind === 'broken-http') return { error: String((err.cause as NodeJS.ErrnoException).code) };
    if (err.kind === 'bad-response' && /cut off/.test(err.message)) return { error: 'cut-off' };
    return { error: `${err.kind}: ${err.message}` };
  }
}

/** Answers that real firmware and hostile servers send, each read by both. */
const ANSWERS: Record<string, string> = {
  'no reason phrase': 'HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nhi',
  'HTTP/1.0 with a length': 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi',
  'HTTP/1.0 to the close': 'HTTP/1.0 200 OK\r\n\r\nhi there',
  'Connection: close, no length': 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello',
  'a 100 Continue first': 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi',
  'empty lines before the status line': '\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi',
  'chunked with an extension and a trailer': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nhi\r\n3\r\n th\r\n0\r\nX-T: 1\r\n\r\n',
  'Chunked in capitals': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n',
  'gzip then chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
  'chunked then gzip (read to the close)': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nhi',
  'a tab and spaces around a value': 'HTTP/1.1 200 OK\r\nX-C:\ta b\t\r\nContent-Length:  2 \r\n\r\nhi',
  'latin1 in a value': 'HTTP/1.1 200 OK\r\nX-C: a\xe9b\r\nContent-Length: 2\r\n\r\nhi',
  'two WWW-Authenticate lines': 'HTTP/1.1 401 U\r\nWWW-Authenticate: Digest a=1\r\nwww-authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n',
  'repeated headers (joined, first wins, set-cookie)':
    'HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\nServer: one\r\nServer: two\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n',
  '204 with a length': 'HTTP/1.1 204 No\r\nContent-Length: 2\r\n\r\n',
  'status 099 and 600': 'HTTP/1.1 600 X\r\nContent-Length: 2\r\n\r\nhi',
  'an escape in the reason': 'HTTP/1.1 200 \x1b[31mOK\r\nContent-Length: 2\r\n\r\nhi',
  'bare LF line ends': 'HTTP/1.1 200 OK\nContent-Length: 2\n\nhi',
  'one bare LF': 'HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nhi',
  'a folded header': 'HTTP/1.1 200 OK\r\nX-A: a\r\n  b\r\nContent-Length: 2\r\n\r\nhi',
  'a space before the colon': 'HTTP/1.1 200 OK\r\nX-A : a\r\nContent-Length: 2\r\n\r\nhi',
  'a line without a colon': 'HTTP/1.1 200 OK\r\nXYZ\r\nContent-Length: 2\r\n\r\nhi',
  'NUL, ^A and DEL in values': 'HTTP/1.1 200 OK\r\nX-C: a\x01b\r\nContent-Length: 2\r\n\r\nhi',
  'a lower-case http': 'http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi',
  'not HTTP at all': 'hello world\r\n\r\n',
  'a four-digit status': 'HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nhi',
  'Content-Length twice, same value': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi',
  'Content-Length +2': 'HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nhi',
  'a chunk size with a space': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 \r\nhi\r\n0\r\n\r\n',
  'a chunk size overflowing': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nhi\r\n0\r\n\r\n',
  'chunk data without its CR LF': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiXX0\r\n\r\n',
  'a body shorter than its length': 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhi',
  'a chunked body cut off': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhi',
  'a 20 kB header': `HTTP/1.1 200 OK\r\nX-P: ${'a'.repeat(20_000)}\r\nContent-Length: 0\r\n\r\n`,
};

/**
 * Where the pool says more than node:http on purpose: Content-Length with Transfer-Encoding is a framing conflict,
 * which llhttp files under "invalid Content-Length" (the message would then speak of a number that is fine).
 */
const DIFFERENT_ON_PURPOSE: Record<string, [Outcome, Outcome]> = {
  'Content-Length with Transfer-Encoding': [{ error: 'HPE_INVALID_CONTENT_LENGTH' }, { error: 'HPE_UNEXPECTED_CONTENT_LENGTH' }],
};

describe('transport: the connection pool for SOAP over plain http', () => {
  const closers: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });
  const pool = () => {
    const p = new ConnectionPool(8);
    closers.push(() => p.destroy());
    return p;
  };
  const serve = async (answer: (req: Seen) => void) => {
    const s = await scriptedServer(answer);
    closers.push(() => s.close());
    return s;
  };
  const serveBytes = (bytes: string | Buffer) => serve(({ socket }) => void socket.end(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes));

  describe('answers read as node:http reads them', () => {
    for (const [what, bytes] of Object.entries(ANSWERS)) {
      it(what, async () => {
        const srv = await serveBytes(bytes);
        assert.deepEqual(await viaPool(pool(), srv.url), await viaNodeHttp(srv.url));
      });
    }

    it('Content-Length with Transfer-Encoding: refused by both, under a code that names the conflict', async () => {
      const srv = await serveBytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n2\r\nhi\r\n0\r\n\r\n');
      const [node, ours] = DIFFERENT_ON_PURPOSE['Content-Length with Transfer-Encoding']!;
      assert.deepEqual(await viaNodeHttp(srv.url), node);
      assert.deepEqual(await viaPool(pool(), srv.url), ours);
    });

    it('every answer captured from real devices (../shared/fixtures/real/HTTP*)', async function () {
      const root = path.join(SHARED, 'fixtures/real');
      if (!fs.existsSync(root)) skipWith(this, `the real captures are not at ${root}`);
      const files = fs
        .readdirSync(root)
        .filter((d) => d.startsWith('HTTP'))
        .flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => f.endsWith('.http.txt')).map((f) => path.join(root, d, f)));
      assert.ok(files.length >= 4, `only ${files.length} captured answers found`);
      // Some captures are a head without its body, or header lines without a status line: refused alike, by both.
      let answers = 0;
      for (const file of files) {
        const srv = await serveBytes(fs.readFileSync(file));
        const ours = await viaPool(pool(), srv.url);
        assert.deepEqual(ours, await viaNodeHttp(srv.url), path.basename(file));
        if ('status' in ours) answers++;
      }
      assert.ok(answers >= 2, `${answers} of ${files.length} captures read as whole answers`);
    });

    it('an answer split anywhere reads the same as in one piece (every split point, and byte by byte)', () => {
      const answer = Buffer.from('HTTP/1.1 401 U\r\nWWW-Authenticate: Digest a=1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nNEXT', 'latin1');
      const read = (pieces: Buffer[]) => {
        const r = new ResponseReader();
        let rest: Buffer | undefined;
        for (const p of pieces) {
          assert.equal(rest, undefined, 'complete before the last piece');
          rest = r.feed(p);
        }
        return { status: r.head?.status, www: r.head?.wwwAuthenticate, body: r.body().toString(), rest: rest?.toString() };
      };
      const whole = read([answer]);
      assert.deepEqual(whole, { status: 401, www: ['Digest a=1'], body: 'abcde', rest: 'NEXT' });
      for (let at = 1; at < answer.length - 4; at++) assert.deepEqual(read([answer.subarray(0, at), answer.subarray(at)]), whole, `split at ${at}`);
      const bytes = [...answer.subarray(0, answer.length - 4)].map((b) => Buffer.from([b]));
      assert.deepEqual(read([...bytes.slice(0, -1), Buffer.concat([bytes.at(-1)!, Buffer.from('NEXT')])]), whole);
    });

    it('a refused answer throws HttpFramingError with the llhttp code', () => {
      assert.throws(() => new ResponseReader().feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')), (e: unknown) => e instanceof HttpFramingError && e.code === 'HPE_INVALID_CONTENT_LENGTH');
    });
  });

  describe('connections', () => {
    it('sequential calls share one kept-alive connection; the request goes out whole, UTF-8 body and Host included', async () => {
      const seen: Seen[] = [];
      const srv = await serve((req) => {
        seen.push(req);
        req.socket.write(okAnswer('<ok/>'));
      });
      const p = pool();
      const body = '<a>Gerät – 摄像机</a>';
      for (let i = 0; i < 5; i++) {
        const r = await p.send({ method: 'POST', url: srv.url, headers: { 'Content-Type': 'application/soap+xml' }, body, timeoutMs: 5000, maxResponseBytes: 1 << 20 });
        assert.equal(r.status, 200);
        assert.equal(r.body.toString(), '<ok/>');
        assert.equal(r.reusedSocket, i > 0);
      }
      assert.equal(srv.connections, 1);
      assert.equal(seen.length, 5);
      assert.equal(seen[0]!.body.toString('utf8'), body);
      assert.match(seen[0]!.head, new RegExp(`^POST /onvif/device_service HTTP/1\\.1\\r\\nHost: 127\\.0\\.0\\.1:${srv.url.port}\\r\\n`));
      assert.match(seen[0]!.head, new RegExp(`\\r\\nContent-Length: ${Buffer.byteLength(body)}(\\r\\n|$)`));
    });

    it('a device that closes every connection (gSOAP: Connection: close) gets a new one per call', async () => {
      const srv = await serve(({ socket }) => void socket.end(okAnswer('<ok/>', 'Connection: close\r\n')));
      const p = pool();
      for (let i = 0; i < 3; i++) assert.equal((await p.send({ method: 'POST', url: srv.url, headers: {}, body: 'x', timeoutMs: 5000, maxResponseBytes: 1 << 20 })).status, 200);
      assert.equal(srv.connections, 3);
    });

    it('20 calls at once use at most 8 connections, and all are answered', async () => {
      const srv = await serve(({ socket }) => setImmediate(() => socket.write(okAnswer('<ok/>'))));
      const p = pool();
      const all = await Promise.all(Array.from({ length: 20 }, () => p.send({ method: 'POST', url: srv.url, headers: {}, body: 'x', timeoutMs: 5000, maxResponseBytes: 1 << 20 })));
      assert.deepEqual(new Set(all.map((r) => r.status)), new Set([200]));
      assert.ok(srv.connections <= 8, `${srv.connections} connections`);
    });

    it('a connection the device dropped while idle costs one resend through SoapClient, not an error', async () => {
      let requests = 0;
      const srv = await serve(({ socket, connection }) => {
        requests++;
        // The second request arrives on the kept-alive connection, which this device has given up on.
        if (connection === 1 && requests === 2) return void socket.destroy();
        socket.write(okAnswer(`<s:Envelope xmlns:s="${NS.soap}"><s:Body><ok/></s:Body></s:Envelope>`));
      });
      const client = new SoapClient({ timeoutMs: 5000 });
      closers.push(() => client.close());
      await client.call(srv.url.href, el(NS.tds, 'GetSystemDateAndTime'));
      const second = await client.call(srv.url.href, el(NS.tds, 'GetSystemDateAndTime'));
      assert.equal(second.content?.local, 'ok');
      assert.equal(requests, 3);
      assert.equal(srv.connections, 2);
    });

    it("the device's Keep-Alive: timeout=1 is honoured: the idle connection is closed by the client", async () => {
      const srv = await serve(({ socket }) => void socket.write(okAnswer('<ok/>', 'Keep-Alive: timeout=1\r\n')));
      await pool().send({ method: 'POST', url: srv.url, headers: {}, body: 'x', timeoutMs: 5000, maxResponseBytes: 1 << 20 });
      // The server side sees the close (waited for, not slept on).
      while (srv.closedByPeer.length === 0) await new Promise((r) => setImmediate(r));
      assert.deepEqual(srv.closedByPeer, [1]);
    });

    it('an idle kept-alive connection does not hold the process open (a script that never closes its client exits)', async function () {
      this.timeout(20_000);
      const srv = await serve(({ socket }) => void socket.write(okAnswer(`<s:Envelope xmlns:s="${NS.soap}"><s:Body><ok/></s:Body></s:Envelope>`)));
      const client = path.join(__dirname, '../../lib/transport/client.ts');
      const script =
        `const { SoapClient } = require(${JSON.stringify(client)});` +
        `(async () => { const c = new SoapClient(); for (let i = 0; i < 3; i++) await c.call(${JSON.stringify(srv.url.href)}, { ns: 'urn:t', local: 'Get' }); console.log('called'); })();`;
      // Without the unref the connection stays open (no Keep-Alive hint: 30 s) and this waits until the test times out.
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script]);
      assert.equal(stdout.trim(), 'called');
      assert.equal(srv.connections, 1);
    });

    it('an answer before the whole request went out (an early refusal of a large body): the connection is not used again', async () => {
      // Answers as soon as it has a head, and reads nothing more on that connection, as a device refusing a body does.
      const sockets: net.Socket[] = [];
      const server = net.createServer((socket) => {
        sockets.push(socket);
        socket.on('error', () => undefined);
        socket.once('data', () => {
          socket.pause();
          socket.write('HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      closers.push(() => {
        for (const s of sockets) s.destroy();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      });
      const url = new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/onvif/device_service`);
      const p = pool();
      const big = await p.send({ method: 'POST', url, headers: {}, body: Buffer.alloc(32 * 1024 * 1024, 97), timeoutMs: 10_000, maxResponseBytes: 1 << 20 });
      assert.equal(big.status, 413);
      const small = await p.send({ method: 'POST', url, headers: {}, body: 'x', timeoutMs: 10_000, maxResponseBytes: 1 << 20 });
      assert.equal(small.status, 413);
      assert.equal(sockets.length, 2);
    });

    it('bytes after the answer: the answer is taken, the connection is not used again', async () => {
      const srv = await serve(({ socket }) => void socket.write(okAnswer('<ok/>') + 'HTTP/1.1 500 Oops\r\n\r\n'));
      const p = pool();
      for (let i = 0; i < 2; i++) assert.equal((await p.send({ method: 'POST', url: srv.url, headers: {}, body: 'x', timeoutMs: 5000, maxResponseBytes: 1 << 20 })).body.toString(), '<ok/>');
      assert.equal(srv.connections, 2);
    });
  });

  describe('failures', () => {
    const send = (p: ConnectionPool, url: URL, more: Partial<Parameters<ConnectionPool['send']>[0]> = {}) =>
      p.send({ method: 'POST', url, headers: {}, body: 'x', timeoutMs: 5000, maxResponseBytes: 1 << 20, operation: 'GetDeviceInformation', ...more });

    it('a header with a line break is refused before anything is sent', async () => {
      const srv = await serve(({ socket }) => void socket.write(okAnswer('<ok/>')));
      const e = await rejection<OnvifError>(send(pool(), srv.url, { headers: { Authorization: 'Digest username="a\r\nX-Evil: 1"' } }));
      assert.equal(e.kind, 'invalid-input');
      assert.match(e.message, /Authorization header would contain a line break/);
      assert.equal(srv.connections, 0);
    });

    it('no answer in time: a timeout naming the operation, and the connection is closed', async () => {
      const srv = await serve(() => undefined);
      const e = await rejection<OnvifError>(send(pool(), srv.url, { timeoutMs: 200 }));
      assert.equal(e.kind, 'timeout');
      assert.match(e.message, /within 0\.2 s \(GetDeviceInformation\)/);
      while (srv.closedByPeer.length === 0) await new Promise((r) => setImmediate(r));
    });

    it('a call waiting for a connection can time out or be cancelled without taking one', async () => {
      const held: net.Socket[] = [];
      const srv = await serve(({ socket }) => void held.push(socket));
      const p = new ConnectionPool(1);
      closers.push(() => p.destroy());
      const first = send(p, srv.url);
      const ac = new AbortController();
      const waiting = [send(p, srv.url, { timeoutMs: 100 }), send(p, srv.url, { signal: ac.signal })];
      ac.abort();
      const [timedOut, cancelled] = await Promise.all(waiting.map((w) => rejection<OnvifError>(w)));
      assert.equal(timedOut.kind, 'timeout');
      assert.equal(cancelled.kind, 'closed');
      while (held.length === 0) await new Promise((r) => setImmediate(r));
      held[0]!.write(okAnswer('<ok/>'));
      assert.equal((await first).status, 200);
      assert.equal(srv.connections, 1);
    });

    it('a declared length over the limit is refused unread; a chunked one once it passes the limit', async () => {
      const declared = await serveBytes(`HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n`);
      assert.equal((await rejection<OnvifError>(send(pool(), declared.url, { maxResponseBytes: 1000 }))).kind, 'too-large');
      const chunk = `400\r\n${'a'.repeat(1024)}\r\n`;
      const chunked = await serveBytes(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(4)}0\r\n\r\n`);
      const e = await rejection<OnvifError>(send(pool(), chunked.url, { maxResponseBytes: 3000 }));
      assert.equal(e.kind, 'too-large');
      assert.match(e.message, /larger than the .* limit/);
    });

    it('a closed port is unreachable; a connection dropped before any answer says so', async () => {
      const srv = await serve(({ socket }) => void socket.destroy());
      const dropped = await rejection<OnvifError>(send(pool(), srv.url));
      assert.equal(dropped.kind, 'unreachable');
      assert.match(dropped.message, /closed the connection unexpectedly/);
      await srv.close();
      const refused = await rejection<OnvifError>(send(pool(), srv.url));
      assert.equal(refused.kind, 'unreachable');
      assert.match(refused.message, /refused the connection/);
    });
  });
});
