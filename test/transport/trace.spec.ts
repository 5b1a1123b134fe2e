import * as assert from 'node:assert/strict';
import * as diagnosticsChannel from 'node:diagnostics_channel';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { WIRE_TRACE_CHANNEL, formatWireTrace, subscribeWireTrace, type WireTraceMessage } from '../../lib';
import { SimulatedDevice } from '../../lib/simulator';
import { download, upload } from '../../lib/transfer';
import { el } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import { DigestGate, NOT_AUTHORIZED, checkUsernameToken, envelope, parseAuthorization, sendSoap, useServersAndClients } from './soap-server';

const PASSWORD = 'Secret-Pass1';
const NEW_PASSWORD = 'N3w-Viewer-Secret';
const USERS = { admin: PASSWORD };

/** CreateUsers with a password, the way a commissioning flow sends it. */
const CREATE_USERS = el(
  NS.tds,
  'CreateUsers',
  undefined,
  el(NS.tds, 'User', undefined, el(NS.tt, 'Username', undefined, 'viewer1'), el(NS.tt, 'Password', undefined, NEW_PASSWORD), el(NS.tt, 'UserLevel', undefined, 'User')),
);
const CREATED = envelope('<tds:CreateUsersResponse/>');

/** Everything the trace published while `run` ran, as messages and as the formatted text a user would attach. */
async function traced(run: () => Promise<unknown>, options: { label?: string } = {}): Promise<{ messages: WireTraceMessage[]; text: string }> {
  const messages: WireTraceMessage[] = [];
  const stop = subscribeWireTrace((m) => messages.push(m), options);
  try {
    await run();
  } finally {
    stop();
  }
  return { messages, text: `${messages.map(formatWireTrace).join('\n')}\n${JSON.stringify(messages)}` };
}

function assertAbsent(text: string, secrets: Record<string, string | undefined>): void {
  for (const [what, secret] of Object.entries(secrets)) {
    assert.ok(secret && secret.length >= 6, `the test must know the ${what}`);
    assert.ok(!text.includes(secret), `the ${what} (${secret}) is in the trace`);
  }
}

describe('transport: the wire trace (diagnostics_channel onvifq:wire), secrets redacted', function () {
  const { serve, client } = useServersAndClients();

  it('CreateUsers with HTTP digest: the trace has the operation, the challenge and the answer, but no password, nonce, cnonce or digest response', async () => {
    const gate = new DigestGate({ users: USERS, algorithms: ['SHA-256'], qop: 'auth', opaque: 'opaque-value-1' });
    const srv = await serve((req, res) => gate.check(req, res) && sendSoap(res, CREATED));
    const c = client({ username: 'admin', password: PASSWORD });
    const { messages, text } = await traced(() => c.call(srv.url, CREATE_USERS, { operation: 'CreateUsers' }));

    assert.deepEqual(
      messages.map((m) => `${m.type} ${m.operation} ${m.type === 'answer' ? m.status : ''}`.trim()),
      ['request CreateUsers', 'answer CreateUsers 401', 'request CreateUsers', 'answer CreateUsers 200'],
    );
    assert.equal(messages[0]!.id, messages[1]!.id, 'a request and its answer share an id');
    assert.match(text, /<tt:Username>viewer1<\/tt:Username><tt:Password>\[redacted\]<\/tt:Password>/);
    assert.match(text, /CreateUsersResponse/);
    assert.match(text, /Authorization: Digest username="admin", realm="ONVIF", uri="\/onvif\/device_service", algorithm=SHA-256, qop=auth, nc=00000001, nonce=\[redacted\]/);
    assert.match(text, /www-authenticate: Digest realm="ONVIF", qop="auth", nonce=\[redacted\], algorithm=SHA-256, opaque=\[redacted\]/);

    const signedIn = parseAuthorization(srv.requests[1]!.headers.authorization!);
    assertAbsent(text, {
      password: PASSWORD,
      'new password': NEW_PASSWORD,
      nonce: signedIn.nonce,
      cnonce: signedIn.cnonce,
      'digest response': signedIn.response,
    });
  });

  it('WS-UsernameToken: the token Password digest and Nonce are redacted, Username and Created stay', async () => {
    const srv = await serve((req, res) => {
      if (!req.body.includes('UsernameToken')) return sendSoap(res, NOT_AUTHORIZED, 400);
      const check = checkUsernameToken(req.body, USERS);
      sendSoap(res, check.ok ? CREATED : NOT_AUTHORIZED, check.ok ? 200 : 400);
    });
    const c = client({ username: 'admin', password: PASSWORD });
    const { text } = await traced(() => c.call(srv.url, CREATE_USERS, { operation: 'CreateUsers' }));

    const sent = srv.requests[1]!.body;
    const tokenDigest = /<(?:\w+:)?Password\b[^>]*PasswordDigest[^>]*>([^<]+)</.exec(sent)?.[1];
    const tokenNonce = /<(?:\w+:)?Nonce\b[^>]*>([^<]+)</.exec(sent)?.[1];
    assert.match(text, /<wsse:Username>admin<\/wsse:Username><wsse:Password [^>]*>\[redacted\]<\/wsse:Password><wsse:Nonce [^>]*>\[redacted\]<\/wsse:Nonce><wsu:Created>/);
    assert.match(text, /<< #\d+ CreateUsers HTTP 200/);
    assertAbsent(text, { password: PASSWORD, 'new password': NEW_PASSWORD, 'token digest': tokenDigest, 'token nonce': tokenNonce });
  });

  it('HTTP Basic: scheme and user name only', async () => {
    const basic = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
    const srv = await serve((req, res) => {
      if (req.headers.authorization === basic) return sendSoap(res, CREATED);
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' });
      res.end();
    });
    const c = client({ username: 'admin', password: PASSWORD, allowBasic: true });
    const { text } = await traced(() => c.call(srv.url, CREATE_USERS, { operation: 'CreateUsers' }));
    assert.match(text, /Authorization: Basic username="admin", password=\[redacted\]/);
    assertAbsent(text, { password: PASSWORD, 'Basic credentials': basic.slice(6) });
  });

  it('file transfers: headers and byte counts, never the file; password-like query parameters redacted', async () => {
    const gate = new DigestGate({ users: USERS, algorithms: ['MD5'], qop: 'auth' });
    const file = Buffer.alloc(5000, 'F');
    const srv = await serve((req, res) => {
      if (!gate.check(req, res)) return;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(req.method === 'GET' ? Buffer.alloc(7000, 'D') : 'stored');
    });
    const c = client({ username: 'admin', password: PASSWORD });
    const base = `http://127.0.0.1:${srv.port}`;
    const { messages, text } = await traced(async () => {
      await upload(c, `${base}/upload?token=one-time-upload-token`, file);
      await download(c, `${base}/backup.bin`);
    });
    const requests = messages.filter((m) => m.type === 'request');
    const answers = messages.filter((m) => m.type === 'answer');
    assert.ok(requests.every((m) => m.streamed && m.body === undefined));
    assert.equal(requests.find((m) => m.operation === 'upload')!.bodyBytes, 5000);
    assert.match(text, /POST http:\/\/127\.0\.0\.1:\d+\/upload\?token=redacted/);
    const uploaded = answers.find((m) => m.operation === 'upload' && m.status === 200)!;
    assert.equal(uploaded.sentBytes, 5000);
    const downloaded = answers.find((m) => m.operation === 'download')!;
    assert.equal(downloaded.bodyBytes, 7000);
    assert.equal(downloaded.body, undefined);
    assert.match(text, /<< #\d+ download HTTP 200 after \d+ ms, 7000 bytes received, streamed/);
    assert.ok(!text.includes('FFFFFFFF') && !text.includes('DDDDDDDD'), 'file contents in the trace');
    assertAbsent(text, { password: PASSWORD, 'upload token': 'one-time-upload-token' });
  });

  it('a subscriber can take one client by its traceLabel; plain diagnostics_channel subscribers get the same messages', async () => {
    const srv = await serve((_req, res) => sendSoap(res, CREATED));
    const porch = client({ traceLabel: 'porch' });
    const garage = client({ traceLabel: 'garage' });
    const raw: unknown[] = [];
    const onRaw = (m: unknown) => raw.push(m);
    diagnosticsChannel.subscribe(WIRE_TRACE_CHANNEL, onRaw);
    try {
      const { messages } = await traced(
        async () => {
          await porch.call(srv.url, CREATE_USERS, { operation: 'CreateUsers' });
          await garage.call(srv.url, CREATE_USERS, { operation: 'CreateUsers' });
        },
        { label: 'porch' },
      );
      assert.equal(messages.length, 2);
      assert.ok(messages.every((m) => m.label === 'porch'));
    } finally {
      diagnosticsChannel.unsubscribe(WIRE_TRACE_CHANNEL, onRaw);
    }
    assert.equal(raw.length, 4);
  });

  it('a failed request is traced as a failure with its kind', async () => {
    const c = client({ timeoutMs: 2000 });
    const { messages } = await traced(() => c.call('http://127.0.0.2:9/onvif/device_service', CREATE_USERS, { operation: 'CreateUsers' }).catch(() => undefined));
    const failure = messages.find((m) => m.type === 'failure');
    assert.ok(failure && failure.type === 'failure');
    assert.ok(['unreachable', 'timeout'].includes(failure.kind), failure.kind);
  });

  it('OnvifDevice against the simulator: CreateUsers is traced with the answer, and no password is in it', async () => {
    const sim = new SimulatedDevice({ username: 'admin', password: PASSWORD, discovery: false });
    await sim.start();
    const device = new OnvifDevice({ address: sim.xaddr, username: 'admin', password: PASSWORD, traceLabel: 'sim' });
    try {
      const { messages, text } = await traced(async () => {
        await device.connect();
        await device.call('CreateUsers', { User: [{ Username: 'viewer1', Password: NEW_PASSWORD, UserLevel: 'User' }] });
      });
      assert.ok(messages.every((m) => m.label === 'sim'));
      assert.match(text, />> #\d+ CreateUsers POST http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service/);
      assert.match(text, /<< #\d+ CreateUsers HTTP 200/);
      assert.match(text, /CreateUsersResponse/);
      assertAbsent(text, { password: PASSWORD, 'new password': NEW_PASSWORD });
    } finally {
      await device.close();
      await sim.stop();
    }
  });
});
