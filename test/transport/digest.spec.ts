import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DigestSession,
  chooseDigestChallenge,
  computeDigestResponse,
  parseAuthChallenges,
  parseDigestChallenges,
  passwordDigest,
  usernameTokenHeader,
} from '../../lib/transport';
import { serializeXml } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import { parseXml, type XmlElement } from '../../lib/xml/parse';
import { descendant } from '../../lib/xml/query';
import { skipWith } from '../support/shared';
import { parseAuthorization } from './soap-server';

const SHARED = path.resolve(__dirname, '../../../shared');
const REAL = path.join(SHARED, 'fixtures/real');

function needShared(ctx: Mocha.Context, p: string): void {
  if (!fs.existsSync(p)) skipWith(ctx, `skipped: ${p} is absent (the shared reference folder is not on this machine)`);
}

/** The WWW-Authenticate values in a capture: raw header lines (folded lines joined) or a JSON header map. */
function wwwAuthenticateIn(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    const v = (JSON.parse(text) as Record<string, string | string[]>)['www-authenticate'];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  }
  const head = text.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  return head
    .split(/\r?\n/)
    .filter((l) => /^www-authenticate:/i.test(l))
    .map((l) => l.slice(l.indexOf(':') + 1).trim());
}

describe('transport: digest computation (RFC 7616 §3.9.1 worked example)', () => {
  // Inputs and expected responses of RFC 7616 §3.9.1 (user Mufasa, GET /dir/index.html).
  const rfc = {
    username: 'Mufasa',
    password: 'Circle of Life',
    realm: 'http-auth@example.org',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    method: 'GET',
    uri: '/dir/index.html',
    qop: 'auth' as const,
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };

  it('MD5 gives 8ca523f5e9506fed4657c9700eebdbec', () => {
    assert.equal(computeDigestResponse({ ...rfc, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
  });

  it('SHA-256 gives 753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1', () => {
    assert.equal(computeDigestResponse({ ...rfc, algorithm: 'SHA-256' }), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('-sess variants fold nonce and cnonce into HA1 (RFC 7616 §3.4.2), on the same inputs', () => {
    const sess = computeDigestResponse({ ...rfc, algorithm: 'SHA-256-sess' });
    const plain = computeDigestResponse({ ...rfc, algorithm: 'SHA-256' });
    assert.match(sess, /^[0-9a-f]{64}$/);
    assert.notEqual(sess, plain);
    // A different cnonce changes a -sess answer twice over (HA1 and the final hash), so it must differ.
    assert.notEqual(computeDigestResponse({ ...rfc, algorithm: 'SHA-256-sess', cnonce: 'other' }), sess);
    assert.match(computeDigestResponse({ ...rfc, algorithm: 'MD5-sess' }), /^[0-9a-f]{32}$/);
  });

  it('SHA-256-sess and MD5-sess on the RFC inputs agree with the RFC 7616 §3.4.2 formula computed by openssl', function () {
    // RFC 7616 has no -sess worked example; compute one with an independent tool instead.
    const openssl = (alg: string, s: string) => {
      try {
        return execFileSync('openssl', ['dgst', `-${alg}`, '-r'], { input: s }).toString().split(' ')[0]!;
      } catch {
        return undefined;
      }
    };
    if (!openssl('sha256', '')) skipWith(this, 'skipped: the openssl command is not installed');
    for (const [alg, name] of [
      ['sha256', 'SHA-256-sess'],
      ['md5', 'MD5-sess'],
    ] as const) {
      const ha1 = openssl(alg, `${openssl(alg, `${rfc.username}:${rfc.realm}:${rfc.password}`)}:${rfc.nonce}:${rfc.cnonce}`);
      const ha2 = openssl(alg, `${rfc.method}:${rfc.uri}`);
      const expected = openssl(alg, `${ha1}:${rfc.nonce}:${rfc.nc}:${rfc.cnonce}:${rfc.qop}:${ha2}`);
      assert.equal(computeDigestResponse({ ...rfc, algorithm: name }), expected, name);
    }
  });

  it('the Authorization header of a session reproduces the RFC response and counts nc in 8 hex digits', () => {
    const [challenge] = parseDigestChallenges(
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
    const session = new DigestSession(challenge!);
    const first = parseAuthorization(session.authorization('Mufasa', 'Circle of Life', 'GET', '/dir/index.html'));
    assert.equal(first.nc, '00000001');
    assert.equal(first.qop, 'auth');
    assert.equal(first.algorithm, 'SHA-256');
    assert.equal(first.opaque, 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS');
    assert.equal(first.response, computeDigestResponse({ ...rfc, algorithm: 'SHA-256', cnonce: first.cnonce! }));
    for (let i = 2; i <= 17; i++) session.authorization('Mufasa', 'x', 'GET', '/');
    const later = parseAuthorization(session.authorization('Mufasa', 'x', 'GET', '/'));
    assert.equal(later.nc, '00000012');
    assert.notEqual(later.cnonce, first.cnonce);
  });
});

describe('transport: WWW-Authenticate parsing', () => {
  it('splits several challenges in one header and across headers, quoted or not', () => {
    const one = parseDigestChallenges('Digest realm="a", nonce="n1", algorithm=SHA-256, qop="auth", Digest realm="a", nonce="n2", algorithm="MD5", stale=true');
    assert.deepEqual(
      one.map((c) => [c.nonce, c.algorithm, c.stale]),
      [
        ['n1', 'SHA-256', false],
        ['n2', 'MD5', true],
      ],
    );
    const two = parseDigestChallenges(['Basic realm="x"', 'Digest realm="b", nonce="n3", stale="false", qop=auth', 'Digest realm="b", nonce="n4", stale="TRUE"']);
    assert.deepEqual(
      two.map((c) => [c.nonce, c.stale, c.qop]),
      [
        ['n3', false, ['auth']],
        ['n4', true, []],
      ],
    );
    assert.equal(two[1]!.algorithm, 'MD5', 'MD5 when algorithm is absent');
  });

  it('unescapes quoted-pairs, keeps commas inside quotes, tolerates stray commas and token68', () => {
    const all = parseAuthChallenges('Negotiate abc123==, , Digest realm="a\\"b, c", nonce="x,y", domain="/onvif/ /x"');
    assert.equal(all[0]!.scheme, 'Negotiate');
    assert.equal(all[0]!.token68, 'abc123==');
    assert.equal(all[1]!.params.realm, 'a"b, c');
    assert.equal(all[1]!.params.nonce, 'x,y');
    assert.equal(all[1]!.params.domain, '/onvif/ /x');
  });

  it('prefers SHA-256 over MD5 whatever the order, and skips algorithms it cannot answer', () => {
    const chosen = chooseDigestChallenge(
      parseDigestChallenges(['Digest realm="r", nonce="m", algorithm=MD5, qop="auth"', 'Digest realm="r", nonce="s", algorithm=SHA-256, qop="auth"']),
    );
    assert.equal(chosen?.nonce, 's');
    assert.equal(chooseDigestChallenge(parseDigestChallenges('Digest realm="r", nonce="z", algorithm=SHA-512-256, qop="auth"')), undefined);
    assert.equal(chooseDigestChallenge(parseDigestChallenges('Digest realm="r", nonce="z", qop="auth-int"'))?.nonce, 'z');
  });

  it('parses every real 401 capture in fixtures/real/HTTP401', function () {
    const dir = path.join(REAL, 'HTTP401');
    needShared(this, dir);
    const seen: Record<string, ReturnType<typeof parseAuthChallenges>> = {};
    for (const f of fs.readdirSync(dir)) seen[f] = parseAuthChallenges(wwwAuthenticateIn(path.join(dir, f)));
    assert.ok(Object.keys(seen).length >= 5);

    const axis = parseDigestChallenges(wwwAuthenticateIn(path.join(dir, 'axis-AXIS_WS_ACCC8E494578-1.json')));
    assert.equal(axis.length, 1);
    assert.equal(axis[0]!.realm, 'AXIS_WS_ACCC8E494578');
    assert.equal(axis[0]!.algorithm, 'MD5');
    assert.deepEqual(axis[0]!.qop, ['auth']);
    assert.match(axis[0]!.nonce, /^t6fuOp51BQA=/);

    // Folded header line, no space after commas, empty opaque, quoted lower-case stale.
    for (const f of ['dahua-IPC-HDW1025C-header-only-1.http.txt', 'unstated-dahua-style-192.168.100.94-1.http.txt']) {
      const [d] = parseDigestChallenges(wwwAuthenticateIn(path.join(dir, f)));
      assert.ok(d, f);
      assert.match(d.realm, /^Login to /);
      assert.equal(d.opaque, '');
      assert.equal(d.stale, false);
      assert.deepEqual(d.qop, ['auth']);
      assert.match(d.nonce, /^b252aWYtZGlnZXN0Oj/);
    }

    const [tvt] = parseDigestChallenges(wwwAuthenticateIn(path.join(dir, 'tvt-IPC-fw4.2-1.http.txt')));
    assert.deepEqual(tvt!.qop, ['auth', 'auth-int']);
    assert.equal(tvt!.opaque, 'e18c435d');
    assert.equal(new DigestSession(tvt!).qop, 'auth', 'auth is chosen from the list');

    const gsoap = seen['unstated-gsoap-port888-192.168.1.167-888-1.http.txt']!;
    assert.deepEqual(gsoap.map((c) => [c.scheme, c.params.realm]), [['Basic', 'gSOAP Web Service']]);
    assert.equal(parseDigestChallenges(wwwAuthenticateIn(path.join(dir, 'unstated-gsoap-port888-192.168.1.167-888-1.http.txt'))).length, 0);
  });

  it('reads the non-RFC Authentication-Info of fixtures/real/HTTPHeaders-200-AuthenticationInfo (quoted nc)', function () {
    const dir = path.join(REAL, 'HTTPHeaders-200-AuthenticationInfo');
    needShared(this, dir);
    for (const f of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const line = text.split(/\r?\n/).find((l) => /^authentication-info:/i.test(l))!;
      const [info] = parseAuthChallenges(line.slice(line.indexOf(':') + 1).trim());
      assert.equal(info!.scheme, 'Digest');
      assert.equal(info!.params.nc, '00000001');
      assert.equal(info!.params.qop, 'auth');
      assert.match(info!.params.rspauth!, /^[0-9a-f]{32}$/);
    }
  });

  it('parses the 401s that third-party peers sent (fixtures/peers/digest-*)', function () {
    const dir = path.join(SHARED, 'fixtures/peers');
    needShared(this, dir);
    const lighttpd = fs.readFileSync(path.join(dir, 'digest-lighttpd/sha256-and-md5-offered-curl-digest.response.xml'), 'utf8');
    const headers = lighttpd
      .split(/\r?\n/)
      .filter((l) => l.startsWith('WWW-Authenticate:'))
      .map((l) => l.slice(17).trim());
    const parsed = parseDigestChallenges(headers);
    assert.deepEqual(parsed.map((c) => c.algorithm), ['SHA-256', 'MD5']);
    assert.equal(parsed[0]!.charset, 'UTF-8');
    assert.equal(chooseDigestChallenge(parsed)!.algorithm, 'SHA-256');
  });
});

describe('transport: WS-UsernameToken', () => {
  const nonce = Buffer.from([...Array(16).keys()]);

  it('PasswordDigest matches the worked example (nonce 00..0f, 2026-01-15T10:00:00.000Z, Secret-Pass1)', () => {
    assert.equal(passwordDigest(nonce, '2026-01-15T10:00:00.000Z', 'Secret-Pass1'), 'SdHTTAWFnT8GPJIMyj5X+woEdnI=');
  });

  it('builds the same header as shared/onvif/examples/GetDeviceInformation.xml', function () {
    const file = path.join(SHARED, 'onvif/examples/GetDeviceInformation.xml');
    needShared(this, file);
    const expected = descendant(parseXml(fs.readFileSync(file)), 'Security')!;
    const ours = parseXml(serializeXml(usernameTokenHeader('admin', 'Secret-Pass1', '2026-01-15T10:00:00.000Z', nonce)));
    const shape = (e: XmlElement): unknown => ({
      ns: e.ns,
      local: e.local,
      attrs: e.attributes
        .filter((a) => a.prefix !== 'xmlns' && a.name !== 'xmlns')
        .map((a) => [a.ns, a.local, a.value])
        .sort(),
      text: e.children.length ? undefined : e.text.trim(),
      children: e.children.map(shape),
    });
    assert.deepEqual(shape(ours), shape(expected));
    assert.equal(ours.ns, NS.wsse);
  });
});
