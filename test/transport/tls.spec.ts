import * as assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { OnvifError } from '../../lib/errors';
import { SoapClient } from '../../lib/transport';
import type { TransportOptions } from '../../lib/transport';
import { el } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import { child } from '../../lib/xml/query';
import { DigestGate, TestServer, deviceInfo, sendSoap } from './soap-server';
import { rejection } from '../support/rejection';

interface Issued {
  keyPem: string;
  certPem: string;
  /** SHA-256 of the DER certificate, hex lower case. */
  fingerprint: string;
}

/** Keys from Node's crypto (fast), certificates built and signed with node-forge. */
function issue(subjectCn: string, ipSan: string | undefined, issuer?: { cert: forge.pki.Certificate; key: forge.pki.PrivateKey }, isCa = false): Issued & { cert: forge.pki.Certificate; key: forge.pki.PrivateKey } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `0${Math.floor(Math.random() * 1e12).toString(16)}`;
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const subject = [{ name: 'commonName', value: subjectCn }];
  cert.setSubject(subject);
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : subject);
  const extensions: object[] = [{ name: 'basicConstraints', cA: isCa }];
  if (isCa) extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true });
  else extensions.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true }, { name: 'extKeyUsage', serverAuth: true });
  if (ipSan) extensions.push({ name: 'subjectAltName', altNames: [{ type: 7, ip: ipSan }] });
  cert.setExtensions(extensions);
  cert.sign((issuer?.key ?? key) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  const fingerprint = createHash('sha256').update(Buffer.from(der, 'binary')).digest('hex');
  return { keyPem, certPem: forge.pki.certificateToPem(cert), fingerprint, cert, key };
}

const colons = (hex: string) => hex.toUpperCase().match(/../g)!.join(':');

describe('transport: https with verification, custom CA and pinned fingerprints', function () {
  this.timeout(30000);
  let ca: ReturnType<typeof issue>;
  let signed: Issued; // issued by ca for 127.0.0.1
  let selfSigned: Issued; // CN=camera, no SAN for 127.0.0.1, as many devices ship
  let signedServer: TestServer;
  let selfServer: TestServer;
  const clients: SoapClient[] = [];
  const client = (opts: TransportOptions) => {
    const c = new SoapClient(opts);
    clients.push(c);
    return c;
  };
  const GET_INFO = el(NS.tds, 'GetDeviceInformation');

  before(async () => {
    ca = issue('Test Device CA', undefined, undefined, true);
    signed = issue('127.0.0.1', '127.0.0.1', ca);
    selfSigned = issue('camera.local', undefined);
    signedServer = await TestServer.start((_req, res) => sendSoap(res, deviceInfo('signed')), { key: signed.keyPem, cert: signed.certPem });
    selfServer = await TestServer.start((_req, res) => sendSoap(res, deviceInfo('self-signed')), { key: selfSigned.keyPem, cert: selfSigned.certPem });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => {
    await signedServer?.stop();
    await selfServer?.stop();
  });

  const failure = (p: Promise<unknown>): Promise<OnvifError> => rejection(p);

  it('verifies by default: a self-signed device fails with kind tls, its fingerprint, and how to fix it', async () => {
    const e = await failure(client({}).call(selfServer.url, GET_INFO));
    assert.equal(e.kind, 'tls');
    assert.ok(e.message.includes(colons(selfSigned.fingerprint)), e.message);
    assert.match(e.message, /Add the CA.*pin this fingerprint.*rejectUnauthorized: false/);
    assert.equal(selfServer.requests.length, 0, 'nothing was sent over the unverified connection');
  });

  it('trusts a device certificate issued by a custom CA (tls.ca)', async () => {
    const r = await client({ tls: { ca: ca.certPem } }).call(signedServer.url, GET_INFO);
    assert.equal(child(r.content, 'Manufacturer')?.text, 'signed');
    const e = await failure(client({}).call(signedServer.url, GET_INFO));
    assert.equal(e.kind, 'tls', 'without the CA the same server is refused');
  });

  it('a custom CA does not excuse a certificate for another host name', async () => {
    const other = issue('other-host', '10.9.9.9', ca);
    const srv = await TestServer.start((_req, res) => sendSoap(res, deviceInfo()), { key: other.keyPem, cert: other.certPem });
    try {
      const e = await failure(client({ tls: { ca: ca.certPem } }).call(srv.url, GET_INFO));
      assert.equal(e.kind, 'tls');
      assert.match(e.message, /127\.0\.0\.1/);
    } finally {
      await srv.stop();
    }
  });

  it('a pinned fingerprint (any case, with or without colons) accepts that self-signed certificate', async () => {
    for (const pin of [selfSigned.fingerprint, colons(selfSigned.fingerprint), colons(selfSigned.fingerprint).toLowerCase()]) {
      const r = await client({ tls: { fingerprint: pin } }).call(selfServer.url, GET_INFO);
      assert.equal(child(r.content, 'Manufacturer')?.text, 'self-signed');
    }
  });

  it('a wrong pin is refused even for a CA-valid certificate, showing the fingerprint seen; no credentials leave', async () => {
    const gate = new DigestGate({ users: { admin: 'pw-xyz' }, algorithms: ['MD5'], qop: 'auth' });
    signedServer.handler = (req, res) => gate.check(req, res) && sendSoap(res, deviceInfo('signed'));
    const before = signedServer.requests.length;
    const e = await failure(
      client({ username: 'admin', password: 'pw-xyz', allowBasic: true, tls: { ca: ca.certPem, fingerprint: selfSigned.fingerprint } }).call(signedServer.url, GET_INFO),
    );
    assert.equal(e.kind, 'tls');
    assert.ok(e.message.includes(`Seen SHA-256 ${colons(signed.fingerprint)}`), e.message);
    assert.ok(e.message.includes(colons(selfSigned.fingerprint)));
    assert.equal(signedServer.requests.length, before);
    signedServer.handler = (_req, res) => sendSoap(res, deviceInfo('signed'));
  });

  it('a malformed pin is an input error before anything is sent', () => {
    assert.throws(() => new SoapClient({ tls: { fingerprint: 'abc' } }), (e: unknown) => e instanceof OnvifError && e.kind === 'invalid-input');
  });

  it('rejectUnauthorized: false accepts the self-signed device, only when set', async () => {
    const r = await client({ tls: { rejectUnauthorized: false } }).call(selfServer.url, GET_INFO);
    assert.equal(child(r.content, 'Manufacturer')?.text, 'self-signed');
  });

  it('over https, Basic is allowed and the connection is kept alive', async () => {
    const pw = 'tls-basic-pw';
    const srv = await TestServer.start(
      (req, res) => {
        if (req.headers.authorization === `Basic ${Buffer.from(`admin:${pw}`).toString('base64')}`) return sendSoap(res, deviceInfo('basic'));
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' });
        res.end();
      },
      { key: signed.keyPem, cert: signed.certPem },
    );
    try {
      const c = client({ username: 'admin', password: pw, tls: { ca: ca.certPem } });
      for (let i = 0; i < 5; i++) await c.call(srv.url, GET_INFO);
      assert.equal(c.authMethod, 'basic');
      assert.equal(srv.requests.length, 6);
      assert.equal(srv.connections, 1);
    } finally {
      await srv.stop();
    }
  });

  it('plain http to an https port is a clear failure, not a hang', async () => {
    const e = await failure(client({ timeoutMs: 3000 }).call(selfServer.url.replace('https:', 'http:'), GET_INFO));
    assert.ok(['bad-response', 'unreachable'].includes(e.kind), `${e.kind}: ${e.message}`);
  });
});
