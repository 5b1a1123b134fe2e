import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chooseContentType } from '../../lib/apps';
import { OnvifError } from '../../lib/errors';
import { openFileSource, recyclingFileStream } from '../../lib/transfer';
import { useApps } from './support';
import { waitFor } from '../support/wait';

/** A server that hashes what is POSTed to it (slowly at first, so backpressure holds chunks back), or serves `files`. */
async function server(files: Record<string, { body: Buffer; length?: boolean; status?: number }> = {}): Promise<{ base: string; hashes: string[]; close(): Promise<void> }> {
  const hashes: string[] = [];
  const s: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/refuse') {
      // Refused at once, whatever the body: the client must not keep the file open.
      res.writeHead(403, { Connection: 'close' }).end('not allowed');
      req.socket.end();
      return;
    }
    if (req.method === 'POST') {
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => {
        h.update(c);
        // Pause now and then: the sender must not reuse a buffer the socket still holds. The long first pause lets
        // the sender fill the kernel's buffers and its own send window, so many chunks wait in the request at once.
        if (++n === 1) {
          req.pause();
          setTimeout(() => req.resume(), 300);
        } else if (n % 50 === 0) {
          req.pause();
          setTimeout(() => req.resume(), 5);
        }
      });
      req.on('end', () => {
        hashes.push(h.digest('hex'));
        res.end('ok');
      });
      return;
    }
    const f = files[req.url ?? ''];
    if (!f) return void res.writeHead(404).end('not here');
    res.writeHead(f.status ?? 200, f.length === false ? {} : { 'Content-Length': f.body.length });
    res.end(f.body);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    hashes,
    close: () => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(() => resolve()));
    },
  };
}

describe('apps: package sources and Content-Type choice', function () {
  this.timeout(30_000);
  const env = useApps();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'onvifq-sources-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a file is uploaded byte for byte through the recycled read buffers, also when the receiver is slow', async () => {
    const data = randomBytes(16 * 1024 * 1024 + 123);
    const file = path.join(dir, 'big.bin');
    writeFileSync(file, data);
    const srv = await server();
    // The session is with a simulated device; the upload goes to the hashing server.
    const device = env.open(await env.sim({ auth: 'none' }), {});
    try {
      const opened = await openFileSource({ file });
      assert.equal(opened.size, data.length);
      await device.upload(`${srv.base}/upload`, opened.source, { size: opened.size });
      // A second attempt opens the file again (the source is reopenable).
      await device.upload(`${srv.base}/upload`, opened.source, { size: opened.size });
      const expected = createHash('sha256').update(data).digest('hex');
      assert.deepEqual(srv.hashes, [expected, expected]);
    } finally {
      await srv.close();
    }
  });

  it('a refused upload leaves the file closed (not open until garbage collection)', async () => {
    const file = path.join(dir, 'refused.bin');
    writeFileSync(file, randomBytes(4 * 1024 * 1024));
    const srv = await server();
    const device = env.open(await env.sim({ auth: 'none' }), {});
    const openHere = () => readdirSync('/proc/self/fd').some((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
    try {
      const opened = await openFileSource({ file });
      await assert.rejects(device.upload(`${srv.base}/refuse`, opened.source, { size: opened.size }), /403|refused|not allowed/i);
      await waitFor('the refused upload to close its file', () => !openHere(), 5000);
    } finally {
      await srv.close();
    }
  });

  it('a reader that keeps every chunk and hands none back gets the file intact (buffers are reused only when handed back)', async () => {
    const data = randomBytes(5 * 256 * 1024 + 77);
    const file = path.join(dir, 'kept.bin');
    writeFileSync(file, data);
    const kept: Buffer[] = [];
    for await (const chunk of recyclingFileStream(file, 256 * 1024)) kept.push(chunk as Buffer);
    assert.equal(kept.length, 6);
    assert.ok(Buffer.concat(kept).equals(data), 'the chunks read hold the file as it is');
    // Handed back, a chunk is read into again; one that was not lent (the short last one) is ignored.
    const stream = recyclingFileStream(file, 256 * 1024);
    const seen = new Set<Buffer>();
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      seen.add(chunk as Buffer);
      stream.recycle(chunk as Buffer);
    }
    assert.ok(chunks === 6 && seen.size <= 3, `buffers handed back are read into again (${chunks} chunks in ${seen.size} buffers)`);
  });

  it('bad sources are refused with what to do', async () => {
    const srv = await server({ '/nolength': { body: Buffer.from('x'), length: false }, '/ok.zip': { body: Buffer.from('PK\u0003\u0004zz') } });
    try {
      const refused = (src: unknown, re: RegExp) => assert.rejects(openFileSource(src as never), (e: OnvifError) => e.kind === 'invalid-input' && re.test(e.message));
      await refused({ file: path.join(dir, 'missing.app') }, /does not exist/);
      writeFileSync(path.join(dir, 'empty.app'), '');
      await refused({ file: path.join(dir, 'empty.app') }, /is empty/);
      await refused(Buffer.alloc(0), /empty/);
      await refused({ url: 'ftp://example.invalid/x' }, /Only http/);
      await refused({ url: `${srv.base}/missing` }, /HTTP 404/);
      await refused({ url: `${srv.base}/nolength` }, /no Content-Length/);
      await refused('just text', /Buffer, \{ file/);
      const ok = await openFileSource({ url: `${srv.base}/ok.zip` });
      assert.deepEqual([ok.size, ok.name], [6, 'ok.zip']);
      ok.discard();
    } finally {
      await srv.close();
    }
  });

  it('chooses the Content-Type from FormatsSupported, or refuses before sending', () => {
    const sim = Buffer.from('ONVIFQ-SIM-APP/1\n{}');
    assert.equal(chooseContentType(['application/vnd.onvifq.sim-app'], undefined, { head: sim }), 'application/vnd.onvifq.sim-app');
    assert.equal(chooseContentType(['application/x-tar', 'application/zip'], undefined, { head: Buffer.from('PK\u0003\u0004') }), 'application/zip');
    assert.equal(chooseContentType(['application/x-tar', 'application/zip'], undefined, { head: Buffer.from('....'), name: 'app.tar' }), 'application/x-tar');
    assert.equal(chooseContentType(['application/x-custom'], undefined, { head: Buffer.from('????') }), 'application/x-custom');
    assert.equal(chooseContentType([], 'application/x-custom', {}), 'application/x-custom');
    assert.throws(() => chooseContentType(['application/x-tar', 'application/zip'], undefined, { head: Buffer.from('????') }), /Cannot tell which of the device's formats/);
    assert.throws(() => chooseContentType(['application/x-tar'], 'application/zip', {}), /does not install application\/zip packages/);
  });
});
