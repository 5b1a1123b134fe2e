/** A user's own small PKI for the TLS tests, made with node-forge: a CA, and server certificates it signs. */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface TestCa {
  certificate: string;
  key: string;
  cert: forge.pki.Certificate;
  privateKey: forge.pki.rsa.PrivateKey;
}

/** Positive and minimally encoded (first byte 0x01-0x7f), as RFC 5280 wants. */
function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f || 1;
  return b.toString('hex');
}

/** A 2048-bit RSA key pair (openssl on Debian refuses shorter ones), made natively: forge alone is slow at it. */
function rsaKeys(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const key = forge.pki.privateKeyFromPem(privateKey);
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

/** A self-signed CA. */
export function makeCa(name = 'onvifq test CA'): TestCa {
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86_400_000);
  const subject = [{ name: 'commonName', value: name }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }, { name: 'subjectKeyIdentifier' }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certificate: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey), cert, privateKey: keys.privateKey };
}

/** A server certificate and key signed by `ca`, naming `ips` (subjectAltName). */
export function makeServerCertificate(ca: TestCa, ips: string[], cn = 'camera.test'): { certificate: string; privateKey: string } {
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 90 * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: cn }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: ips.map((ip) => ({ type: 7, ip })) },
  ]);
  cert.sign(ca.privateKey, forge.md.sha256.create());
  return { certificate: forge.pki.certificateToPem(cert), privateKey: forge.pki.privateKeyToPem(keys.privateKey) };
}

export function derOf(pem: string): Buffer {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(forge.pki.certificateFromPem(pem))).getBytes(), 'binary');
}

/** PKCS#12 of a key and certificate with a passphrase (3DES), as openssl or a vendor tool would make it. */
export function pkcs12Of(keyPem: string, certPems: string[], passphrase: string): Buffer {
  const asn1 = forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(keyPem), certPems.map((c) => forge.pki.certificateFromPem(c)), passphrase, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

/**
 * `openssl s_client` against host:port: the certificates it was sent (PEM, leaf first) and its verify result
 * (with caFile: the chain checked against it and the IP address matched).
 */
export async function opensslSClient(port: number, caFile?: string): Promise<{ certificates: string[]; verify: string; output: string }> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-showcerts', ...(caFile ? ['-CAfile', caFile, '-verify_ip', '127.0.0.1', '-verify_return_error'] : [])];
  // Asynchronous: the simulated device answers from this very process.
  const output = await new Promise<string>((resolve) => {
    const child = execFile('openssl', args, { encoding: 'utf8', timeout: 20_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
    child.stdin?.end();
  });
  const certificates = [...output.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => `${m[0]}\n`);
  const verify = /Verify return code: (\d+ \([^)]*\))/.exec(output)?.[1] ?? 'none';
  return { certificates, verify, output };
}
