/**
 * What a user sees when a device answers with broken HTTP, or puts hostile text (terminal escapes, kilobytes
 * of names, text that trips the XML library) or several languages into its answers. Against servers on 127.0.0.1:
 * a raw TCP server for bytes no HTTP server library would write, the in-test SOAP server for the rest.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { DEVICE_TEXT_LIMIT, OnvifError } from '../../lib/errors';
import { getPreferredLanguage, setPreferredLanguage } from '../../lib/soap/fault';
import { download } from '../../lib/transfer';
import { SoapClient } from '../../lib/transport';
import { el } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import type { CallCost } from '../support/call-child';
import { rawHttpServer } from '../support/raw-http';
import { NS_SOAP, TestServer, envelope, sendSoap, type Handler } from './soap-server';
import { rejection } from '../support/rejection';

const GET_INFO = el(NS.tds, 'GetDeviceInformation');
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** A message with one device text cut at the limit, plus our own words around it. */
const MESSAGE_BOUND = DEVICE_TEXT_LIMIT + 400;

const expectError = (p: Promise<unknown>): Promise<OnvifError> => rejection(p);

const discard = () =>
  new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });

const execFileAsync = promisify(execFile);

describe('transport: hostile devices', function () {
  const clients: SoapClient[] = [];
  const closers: Array<() => Promise<void>> = [];
  const client = () => {
    const c = new SoapClient({ timeoutMs: 5000 });
    clients.push(c);
    return c;
  };
  const serve = async (handler: Handler) => {
    const s = await TestServer.start(handler);
    closers.push(() => s.stop());
    return s;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const close of closers.splice(0)) await close();
  });

  describe('broken HTTP is reported as broken HTTP, not as an unreachable device', () => {
    const ok = 'HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n';
    const cases: Array<[string, string, RegExp]> = [
      ['a bad status line', 'HTTX/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', /its first line is not an HTTP status line/],
      ['chunk-size garbage', `${ok}Transfer-Encoding: chunked\r\n\r\nzz\r\n<x/>\r\n0\r\n\r\n`, /a chunk size that is not a hexadecimal number/],
      ['chunk data without its line end', `${ok}Transfer-Encoding: chunked\r\n\r\n4\r\n<x/>XX0\r\n\r\n`, /chunk data not followed by its line end/],
      ['a 64 kB header', `${ok}X-Padding: ${'a'.repeat(64 * 1024)}\r\nContent-Length: 0\r\n\r\n`, /headers larger than the \d+ kB Node\.js accepts/],
      ['3000 headers', `${ok}${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join('')}Content-Length: 0\r\n\r\n`, /headers larger than/],
      ['a negative Content-Length', `${ok}Content-Length: -5\r\n\r\nhello`, /a Content-Length that is not a plain number/],
      ['a duplicate Content-Length', `${ok}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, /a Content-Length given twice/],
      ['a NUL in a header', `${ok}X-Model: M\x00X\r\nContent-Length: 0\r\n\r\n`, /a header with a forbidden character/],
    ];
    for (const [what, bytes, plainWords] of cases) {
      it(`${what}: kind broken-http, naming what was broken (SOAP call and file transfer)`, async () => {
        const srv = await rawHttpServer(bytes);
        closers.push(() => srv.close());
        const viaCall = await expectError(client().call(srv.url, GET_INFO, { operation: 'GetDeviceInformation' }));
        const viaTransfer = await expectError(client().transfer(srv.url, { method: 'GET', sink: discard, operation: 'GetSystemBackup' }));
        for (const e of [viaCall, viaTransfer]) {
          assert.equal(e.kind, 'broken-http', `${e.kind}: ${e.message}`);
          assert.match(e.message, /^The device at 127\.0\.0\.1:\d+ answered with broken HTTP \(/);
          assert.match(e.message, plainWords);
          assert.doesNotMatch(e.message, /could not be reached|powered|HPE_/);
          assert.match(String((e.cause as NodeJS.ErrnoException).code), /^HPE_/, 'the parser error stays in cause');
          assert.ok(!CONTROL.test(e.message));
        }
      });
    }

    it('a closed port is still unreachable, not broken HTTP', async () => {
      const srv = await rawHttpServer('');
      await srv.close();
      const e = await expectError(client().call(srv.url, GET_INFO));
      assert.equal(e.kind, 'unreachable');
    });
  });

  describe('device text in messages is cleaned and cut; the full text stays on the error', () => {
    const faultWith = (reason: string) =>
      envelope(
        `<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:InvalidArgVal</s:Value></s:Subcode></s:Code>` +
          `<s:Reason><s:Text xml:lang="en">${reason}</s:Text></s:Reason></s:Fault>`,
      );

    it('a fault reason with ESC, NUL and vertical tab: none reach the message; reason and deviceText keep them', async () => {
      const reason = 'Bad value\x1b[2J\x1b]0;pwned\x07 here\x00 and\x0b there &#27;[31mred';
      const srv = await serve((_req, res) => sendSoap(res, faultWith(reason), 400));
      const e = await expectError(client().call(srv.url, GET_INFO, { operation: 'SetHostname' }));
      assert.equal(e.kind, 'fault');
      assert.ok(!CONTROL.test(e.message), JSON.stringify(e.message));
      assert.match(e.message, /^SetHostname: Bad value \[2J \]0;pwned here and there \[31mred \(env:Sender \/ ter:InvalidArgVal\)/);
      const asSent = reason.replace('&#27;', '\x1b');
      assert.equal(e.reason, asSent);
      assert.equal(e.deviceText, asSent);
      assert.deepEqual(e.reasons, [{ lang: 'en', text: asSent }]);
    });

    it('a 5 kB fault reason: the message stays short, the reason stays whole', async () => {
      const reason = 'R'.repeat(5000);
      const srv = await serve((_req, res) => sendSoap(res, faultWith(reason), 400));
      const e = await expectError(client().call(srv.url, GET_INFO));
      assert.ok(e.message.length < MESSAGE_BOUND, `${e.message.length} characters`);
      assert.match(e.message, /R… \(4800 more characters\) \(env:Sender/);
      assert.equal(e.reason, reason);
    });

    it('a 5 kB tag name the XML parser complains about: a short message, the parser error whole in cause', async () => {
      const name = `t${'a'.repeat(5000)}`;
      const srv = await serve((_req, res) => sendSoap(res, envelope(`<${name}>x</${name}x>`)));
      const e = await expectError(client().call(srv.url, GET_INFO));
      assert.equal(e.kind, 'bad-response');
      assert.ok(e.message.length < MESSAGE_BOUND + 200, `${e.message.length} characters`);
      assert.ok(!e.message.includes('a'.repeat(DEVICE_TEXT_LIMIT + 1)));
      assert.ok(e.cause instanceof Error && e.cause.message.includes(name), 'the parser complaint stays whole in cause');
    });

    it('a reserved JavaScript name as a tag is an ordinary element: the answer reads, as plain data', async () => {
      const srv = await serve((_req, res) => sendSoap(res, envelope('<__proto__>x</__proto__>')));
      const res = await client().call(srv.url, GET_INFO);
      assert.equal(res.content?.local, '__proto__');
      assert.equal(Object.getPrototypeOf(res.content), Object.prototype);
    });

    for (const [what, body] of [['elements nested 300 deep', envelope(`${'<a>'.repeat(300)}${'</a>'.repeat(300)}`)]] as const) {
      it(`${what}: the parser's complaint is in plain words`, async () => {
        const srv = await serve((_req, res) => sendSoap(res, body));
        const e = await expectError(client().call(srv.url, GET_INFO));
        assert.equal(e.kind, 'bad-response');
        assert.doesNotMatch(e.message, /readTagExp|returned undefined|\[SECURITY\]|prototype pollution|Maximum nested tags/);
        assert.match(e.message, /HTTP 200 with .*, not a SOAP message \(.*XML.*\)/);
        assert.ok(e.cause instanceof Error, 'the original error stays in cause');
      });
    }

    it('an HTML error page with escapes and a 1 kB title: the message quotes it cleaned and cut, deviceText whole', async () => {
      const title = `Error\x1b[5m ${'T'.repeat(1000)}`;
      const srv = await serve((_req, res) => {
        res.writeHead(500, { 'Content-Type': 'text/html' });
        res.end(`<html><head><title>${title}</title></head><body>oops</body></html>`);
      });
      const e = await expectError(client().call(srv.url, GET_INFO));
      assert.equal(e.kind, 'bad-response');
      assert.ok(!CONTROL.test(e.message), JSON.stringify(e.message.slice(0, 100)));
      assert.ok(e.message.length < MESSAGE_BOUND, `${e.message.length} characters`);
      assert.match(e.message, /an HTML page "Error \[5m T+… \(\d+ more characters\)"/);
      assert.equal(e.deviceText, title);
    });

    it('a refused download whose error page has escapes and 2 kB of text: "The device said" cleaned and cut, deviceText whole', async () => {
      const page = `Storage\x1b[8m failure ${'s'.repeat(2000)}`;
      const srv = await serve((_req, res) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(page);
      });
      const e = await expectError(download(client(), `http://127.0.0.1:${srv.port}/backup.bin`));
      assert.equal(e.httpStatus, 500);
      assert.ok(!CONTROL.test(e.message), JSON.stringify(e.message.slice(0, 100)));
      assert.ok(e.message.length < MESSAGE_BOUND, `${e.message.length} characters`);
      assert.match(e.message, /The device said: "Storage \[8m failure s+… \(\d+ more characters\)"/);
      assert.equal(e.deviceText, page);
    });

    it('a long plain-text body: quoted short, deviceText whole (a body with control characters is not quoted at all)', async () => {
      const text = `Server busy, ${'x'.repeat(300)}`;
      const srv = await serve((req, res) => {
        res.writeHead(503, { 'Content-Type': 'text/plain' });
        res.end(req.body.includes('GetDeviceInformation') ? text : `Server busy\x1b[2K${'x'.repeat(300)}`);
      });
      const e = await expectError(client().call(srv.url, GET_INFO));
      assert.match(e.message, /HTTP 503 with "Server busy, x+… \(\d+ more characters\)"/);
      assert.equal(e.deviceText, text);
      const escaped = await expectError(client().call(srv.url, el(NS.tds, 'GetHostname')));
      assert.ok(!CONTROL.test(escaped.message), JSON.stringify(escaped.message.slice(0, 100)));
      assert.match(escaped.message, /HTTP 503 with \d+ bytes that are not text/);
    });
  });

  describe('fault reasons in several languages', () => {
    let saved: string | undefined;
    before(() => (saved = getPreferredLanguage()));
    afterEach(() => setPreferredLanguage(saved));
    const DE = 'Der Absender hat einen ungültigen Wert gesendet';
    const EN = 'The sender sent an invalid value';
    const multilingual = envelope(
      `<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:InvalidArgVal</s:Value></s:Subcode></s:Code>` +
        `<s:Reason><s:Text xml:lang="de">${DE}</s:Text><s:Text xml:lang="en">${EN}</s:Text></s:Reason></s:Fault>`,
    );

    for (const [preferred, expected] of [
      ['de', DE],
      ['en', EN],
      ['fr', EN],
    ] as const) {
      it(`preferred ${preferred}: the message says only "${expected.slice(0, 12)}…", both reasons stay on the error`, async () => {
        setPreferredLanguage(preferred);
        const srv = await serve((_req, res) => sendSoap(res, multilingual, 400));
        const e = await expectError(client().call(srv.url, GET_INFO, { operation: 'SetHostname' }));
        assert.equal(e.message, `SetHostname: ${expected} (env:Sender / ter:InvalidArgVal). The device rejected a value in the request; check the input.`);
        assert.equal(e.reason, expected);
        assert.deepEqual(e.reasons, [
          { lang: 'de', text: DE },
          { lang: 'en', text: EN },
        ]);
      });
    }

    it('no English text: the first one', async () => {
      setPreferredLanguage('fr');
      const srv = await serve((_req, res) =>
        sendSoap(
          res,
          `<s:Envelope xmlns:s="${NS_SOAP}"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason>` +
            `<s:Text xml:lang="de">${DE}</s:Text><s:Text xml:lang="nl">De afzender</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`,
          500,
        ),
      );
      const e = await expectError(client().call(srv.url, GET_INFO));
      assert.equal(e.reason, DE);
      assert.equal(e.reasons?.length, 2);
    });
  });
  it('an answer sent in tiny chunks costs memory like the same answer in one piece (4 MB in 7-byte chunks, in a process of its own)', async function () {
    this.timeout(60_000);
    const payload = `<?xml version="1.0"?><s:Envelope xmlns:s="${NS_SOAP}"><s:Body><x>${'a'.repeat(4 * 1024 * 1024)}</x></s:Body></s:Envelope>`;
    const pieces: string[] = [];
    for (let i = 0; i < payload.length; i += 7) {
      const piece = payload.slice(i, i + 7);
      pieces.push(`${piece.length.toString(16)}\r\n${piece}\r\n`);
    }
    const srv = await rawHttpServer(`HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nTransfer-Encoding: chunked\r\n\r\n${pieces.join('')}0\r\n\r\n`);
    try {
      const child = path.join(__dirname, '..', 'support', 'call-child.ts');
      const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', child, srv.url], { cwd: path.join(__dirname, '..', '..') });
      const cost = JSON.parse(stdout.trim().split('\n').pop()!) as CallCost;
      assert.equal(cost.ok, true, cost.error);
      // One Buffer object per chunk made this 250 MB and more.
      assert.ok(cost.peakRssGrowthMb < 100, `peak RSS grew by ${cost.peakRssGrowthMb} MB`);
    } finally {
      await srv.close();
    }
  });
});
