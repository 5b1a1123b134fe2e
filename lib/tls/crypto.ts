import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';
import { OnvifError } from '../errors';

/**
 * Client-side crypto for TLS configuration, with node-forge: signing a device's CSR with the user's CA, packing
 * the user's certificate and key into PKCS#12, and reading certificates for the inventory. Private keys and
 * passphrases pass through here and nowhere else; nothing is logged.
 */

const invalid = (message: string) => new OnvifError('invalid-input', message);

/** One certificate as an installer reads it. */
/** 16 random bytes whose first byte is 0x01-0x7f: a positive, minimally encoded DER INTEGER (RFC 5280 §4.1.2.2). */
function positiveSerial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f || 1;
  return b.toString('hex');
}

export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** subjectAltName entries, e.g. ['IP Address:192.168.1.20', 'DNS:cam-1']. */
  subjectAltName: string[];
  /** SHA-256 fingerprint, colon-separated upper-case hex (as browsers and openssl show it). */
  fingerprint: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter (negative when expired). */
  daysLeft: number;
  selfSigned: boolean;
}

/**
 * PEM as pasted anywhere: a single-line input field drops the line breaks, Windows adds \r. Each block is
 * rebuilt with its base64 in 64-column lines, which every PEM reader takes.
 */
export function normalisePem(text: string): string {
  return text.replace(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g, (_m, label: string, body: string) => {
    const b64 = body.replace(/\s+/g, '');
    return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
  });
}

export function derOfPem(pem: string, what: string): Buffer[] {
  const blocks = [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  if (!blocks.length) throw invalid(`${what} is not a PEM certificate: it should contain -----BEGIN CERTIFICATE-----.`);
  return blocks;
}

export function pemOfDer(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

export function fingerprintOf(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

export function certificateInfo(der: Buffer, now = Date.now()): CertificateInfo {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    throw new OnvifError('bad-response', 'The device returned a certificate that is not valid DER X.509.');
  }
  const notAfter = new Date(cert.validTo);
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    subjectAltName: cert.subjectAltName ? cert.subjectAltName.split(/,\s*/) : [],
    fingerprint: fingerprintOf(der),
    serialNumber: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now) / 86_400_000),
    selfSigned: cert.subject === cert.issuer && verifiesWith(cert, cert),
  };
}

function verifiesWith(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function readCaKey(pem: string): forge.pki.rsa.PrivateKey {
  try {
    return forge.pki.privateKeyFromPem(normalisePem(pem));
  } catch {
    throw invalid('The CA key is not an unencrypted PEM RSA private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----).');
  }
}

function readForgeCert(pem: string, what: string): forge.pki.Certificate {
  try {
    return forge.pki.certificateFromPem(normalisePem(pem));
  } catch {
    throw invalid(`${what} is not a PEM RSA certificate.`);
  }
}

export interface SignCsrInput {
  /** The device's PKCS#10 CSR, DER. */
  csr: Buffer;
  caCertificate: string;
  caKey: string;
  /** Host names and IP addresses the device answers to (subjectAltName). */
  names: string[];
  validDays: number;
}

/**
 * Sign the device's CSR with the user's CA: the CSR's subject and public key (its self-signature checked), the
 * CA as issuer, serverAuth, and every name the device is reached by as subjectAltName. Returns the leaf, DER.
 */
export function signCsr(input: SignCsrInput): Buffer {
  const caCert = readForgeCert(input.caCertificate, 'The CA certificate');
  const caKey = readCaKey(input.caKey);
  const caPublic = caCert.publicKey as forge.pki.rsa.PublicKey;
  if (caPublic.n.compareTo(caKey.n) !== 0) throw invalid('The CA key does not belong to the CA certificate; give the key the CA certificate was made with.');
  let csr: ReturnType<typeof forge.pki.certificationRequestFromAsn1>;
  try {
    csr = forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(input.csr.toString('binary'))));
  } catch {
    throw new OnvifError('bad-response', 'The device returned a CSR that is not valid PKCS#10.');
  }
  if (!csr.verify()) throw new OnvifError('bad-response', "The device's CSR is not signed by its own key; do not use this device's key.");
  const cert = forge.pki.createCertificate();
  cert.publicKey = csr.publicKey!;
  cert.serialNumber = positiveSerial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(Math.min(now + input.validDays * 86_400_000, caCert.validity.notAfter.getTime()));
  cert.setSubject(csr.subject.attributes);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: input.names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

/** forge's PKCS#12 encryptions, and the names devices list in PasswordBasedEncryptionAlgorithms. */
const PKCS12_ENCRYPTIONS: Array<{ forge: 'aes256' | 'aes128' | '3des'; matches: RegExp }> = [
  { forge: 'aes256', matches: /aes-?256|pbes2/i },
  { forge: 'aes128', matches: /aes-?128/i },
  { forge: '3des', matches: /3-?key-?triple-?des|3des|des-ede3|tripledes/i },
];

/**
 * The strongest PKCS#12 encryption forge can write that the device lists. A device that lists nothing gets
 * 3DES (pbeWithSHAAnd3-KeyTripleDES-CBC), which every PKCS#12 reader understands.
 */
export function choosePkcs12Encryption(listed: string[]): 'aes256' | 'aes128' | '3des' {
  if (!listed.length) return '3des';
  for (const e of PKCS12_ENCRYPTIONS) if (listed.some((l) => e.matches.test(l))) return e.forge;
  throw new OnvifError(
    'unsupported',
    `The device lists only password-based encryptions this library cannot write (${listed.join(', ')}); make the PKCS#12 file with openssl and upload it yourself.`,
  );
}

export interface Pkcs12Input {
  certificate: string;
  privateKey: string;
  /** Issuers of the certificate (PEM), sent with it so the device serves the whole chain. */
  chain?: string;
  passphrase: string;
  encryption: 'aes256' | 'aes128' | '3des';
}

/** Pack the user's certificate, key and chain into PKCS#12 (DER), checking that key and certificate belong together. */
export function packPkcs12(input: Pkcs12Input): Buffer {
  const cert = readForgeCert(input.certificate, 'The certificate');
  let key: forge.pki.rsa.PrivateKey;
  try {
    key = forge.pki.privateKeyFromPem(normalisePem(input.privateKey));
  } catch {
    throw invalid('The private key is not an unencrypted PEM RSA private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----).');
  }
  if ((cert.publicKey as forge.pki.rsa.PublicKey).n.compareTo(key.n) !== 0) {
    throw invalid('The private key does not belong to the certificate; give the key the certificate was issued for.');
  }
  const chain = input.chain ? derOfPem(input.chain, 'The certificate chain').map((d) => readForgeCert(pemOfDer(d), 'A chain certificate')) : [];
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, [cert, ...chain], input.passphrase, { algorithm: input.encryption, generateLocalKeyId: true, friendlyName: 'onvifq' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

/** A passphrase for a one-time PKCS#12 upload. */
export function randomPassphrase(): string {
  return randomBytes(18).toString('base64url');
}
