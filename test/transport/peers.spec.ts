/**
 * The digest client against digest servers written by others (shared/PEERS.md): Debian's lighttpd and
 * apache2 mod_auth_digest, and the npm http-auth package.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { OnvifError } from '../../lib/errors';
import { SoapClient } from '../../lib/transport';
import { el } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import { child } from '../../lib/xml/query';
import { skipWith } from '../support/shared';
import { APACHE, LIGHTTPD, htdigestLine, REALM, startApache, startLighttpd, type RunningPeer } from './peers';
import { requestsDuring } from '../support/wire';
import { deviceInfo, sendSoap } from './soap-server';

const USER = 'admin';
const PASSWORD = 'secret-Digest-7';
const GET_INFO = el(NS.tds, 'GetDeviceInformation');

function skipWithout(ctx: Mocha.Context, binary: string, pkg: string): void {
  if (!fs.existsSync(binary)) skipWith(ctx, `skipped: ${binary} is not installed (apt-get install -y --no-install-recommends ${pkg})`);
}

async function wrongPassword(url: string): Promise<{ error: OnvifError; client: SoapClient }> {
  const client = new SoapClient({ username: USER, password: 'not-the-password' });
  try {
    await client.call(url, GET_INFO);
  } catch (e) {
    client.close();
    assert.ok(e instanceof OnvifError);
    assert.ok(!e.message.includes('not-the-password'));
    return { error: e, client };
  }
  client.close();
  assert.fail('a wrong password must fail');
}

/** 20 calls: the first costs a 401 round-trip, every later one a single request. */
async function twentyCalls(url: string, expectedMethod: string, serverName: RegExp): Promise<SoapClient> {
  const client = new SoapClient({ username: USER, password: PASSWORD });
  try {
    const { requests } = await requestsDuring(async () => {
      for (let i = 0; i < 20; i++) {
        const r = await client.call(url, GET_INFO);
        assert.equal(child(r.content, 'SerialNumber')?.text, USER, 'the CGI saw the authenticated user');
        assert.match(child(r.content, 'Model')?.text ?? '', serverName);
      }
    });
    assert.equal(client.authMethod, expectedMethod);
    assert.equal(requests, 21);
    return client;
  } finally {
    client.close();
  }
}

describe('transport peers: lighttpd mod_auth digest', function () {
  this.timeout(30000);
  let peer: RunningPeer | undefined;
  afterEach(async () => {
    await peer?.stop();
    peer = undefined;
  });

  it('"SHA-256|MD5" offered: picks SHA-256; 20 calls = 21 requests at the server', async function () {
    skipWithout(this, LIGHTTPD, 'lighttpd');
    peer = await startLighttpd('SHA-256|MD5', USER, PASSWORD);
    await twentyCalls(peer.url, 'digest-SHA-256', /lighttpd/);
    await peer.stop();
    const log = peer.accessLog();
    assert.equal(log.length, 21);
    assert.match(log[0]!, /^401 /);
    assert.ok(log.slice(1).every((l) => l.startsWith('200 ')));
  });

  it('MD5 alone: digest-MD5', async function () {
    skipWithout(this, LIGHTTPD, 'lighttpd');
    peer = await startLighttpd('MD5', USER, PASSWORD);
    await twentyCalls(peer.url, 'digest-MD5', /lighttpd/);
  });

  it('wrong password: kind auth, one authenticated attempt', async function () {
    skipWithout(this, LIGHTTPD, 'lighttpd');
    peer = await startLighttpd('SHA-256|MD5', USER, PASSWORD);
    const { error } = await wrongPassword(peer.url);
    assert.equal(error.kind, 'auth');
    assert.match(error.message, /rejected the user 'admin' \(HTTP 401\)\. Check the username and password\./);
    await peer.stop();
    assert.deepEqual(peer.accessLog().map((l) => l.slice(0, 3)), ['401', '401']);
  });
});

describe('transport peers: apache2 mod_auth_digest', function () {
  this.timeout(30000);
  let peer: RunningPeer | undefined;
  afterEach(async () => {
    await peer?.stop();
    peer = undefined;
  });

  it('MD5 with domain=: 20 calls = 21 requests at the server', async function () {
    skipWithout(this, APACHE, 'apache2 apache2-utils');
    peer = await startApache(USER, PASSWORD);
    await twentyCalls(peer.url, 'digest-MD5', /Apache/);
    await peer.stop();
    const log = peer.accessLog();
    assert.equal(log.length, 21);
    assert.match(log[0]!, /^401 /);
  });

  it('wrong password (401 with an HTML body): kind auth, one authenticated attempt', async function () {
    skipWithout(this, APACHE, 'apache2 apache2-utils');
    peer = await startApache(USER, PASSWORD);
    const { error } = await wrongPassword(peer.url);
    assert.equal(error.kind, 'auth');
    assert.equal(error.httpStatus, 401);
    await peer.stop();
    assert.deepEqual(peer.accessLog().map((l) => l.slice(0, 3)), ['401', '401']);
  });
});

describe('transport peers: npm http-auth digest', function () {
  let server: http.Server | undefined;
  let requests = 0;
  let dir: string | undefined;
  afterEach(async () => {
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function startHttpAuth(algorithm: 'MD5' | 'MD5-sess'): Promise<string> {
    const auth = require('http-auth') as { digest(o: object): { check(cb: (req: http.IncomingMessage, res: http.ServerResponse) => void): http.RequestListener } };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-http-auth-'));
    const file = path.join(dir, 'htdigest');
    fs.writeFileSync(file, htdigestLine(USER, PASSWORD, REALM));
    const digest = auth.digest({ realm: REALM, file, qop: 'auth', algorithm });
    requests = 0;
    server = http.createServer((req, res) => {
      requests++;
      digest.check((rq, rs) => {
        rq.resume();
        rq.on('end', () => sendSoap(rs, deviceInfo(`http-auth ${(rq as http.IncomingMessage & { user?: string }).user}`)));
      })(req, res);
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/onvif/device_service`;
  }

  for (const algorithm of ['MD5', 'MD5-sess'] as const) {
    it(`${algorithm} (quoted algorithm, stale="false"): 20 calls = 21 requests; wrong password fails once`, async () => {
      const url = await startHttpAuth(algorithm);
      const c = new SoapClient({ username: USER, password: PASSWORD });
      try {
        for (let i = 0; i < 20; i++) {
          const r = await c.call(url, GET_INFO);
          assert.equal(child(r.content, 'Manufacturer')?.text, `http-auth ${USER}`);
        }
        assert.equal(c.authMethod, `digest-${algorithm}`);
        assert.equal(requests, 21);
      } finally {
        c.close();
      }
      requests = 0;
      const { error } = await wrongPassword(url);
      assert.equal(error.kind, 'auth');
      assert.equal(requests, 2, 'one unauthenticated request and exactly one authenticated attempt');
    });
  }
});
