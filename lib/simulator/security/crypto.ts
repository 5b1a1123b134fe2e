import { generateKeyPair, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

/**
 * The simulated keystore's real crypto: RSA keys from node:crypto, CSRs and certificates built and signed by
 * node-forge with the device's own key, certificates parsed and chains checked by node:crypto, PKCS#12 read by
 * node-forge. Everything a real device would refuse is refused here too (see security/service.ts).
 */

/** RSA signature algorithms the simulated device signs with (Baseline: SHA-2 family), by OID. */
export const SIGNATURE_ALGORITHMS: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

/** 16 random bytes whose first byte is 0x01-0x7f: a positive, minimally encoded DER INTEGER (RFC 5280 §4.1.2.2). */
function positiveSerial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f || 1;
  return b.toString('hex');
}

export interface RsaKeyMaterial {
  privatePem: string;
  publicPem: string;
}

export function generateRsaKey(bits: number): Promise<RsaKeyMaterial> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      { modulusLength: bits, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } },
      (err, publicPem, privatePem) => (err ? reject(err) : resolve({ privatePem, publicPem })),
    );
  });
}

/** One RDN attribute as forge takes it. */
export interface DnAttribute {
  name: string;
  value: string;
}

function forgeDigest(hash: 'sha256' | 'sha384' | 'sha512'): forge.md.MessageDigest {
  return hash === 'sha256' ? forge.md.sha256.create() : hash === 'sha384' ? forge.md.sha384.create() : forge.md.sha512.create();
}

function derOfForgeCert(cert: forge.pki.Certificate): Buffer {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

/** PKCS#10 CSR signed by the device key (DER). */
export function createCsr(key: RsaKeyMaterial, subject: DnAttribute[], hash: 'sha256' | 'sha384' | 'sha512'): Buffer {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(key.publicPem);
  csr.setSubject(subject);
  csr.sign(forge.pki.privateKeyFromPem(key.privatePem), forgeDigest(hash));
  return Buffer.from(forge.asn1.toDer(forge.pki.certificationRequestToAsn1(csr)).getBytes(), 'binary');
}

export interface SelfSignedInput {
  subject: DnAttribute[];
  notBefore: Date;
  notAfter: Date;
  hash: 'sha256' | 'sha384' | 'sha512';
  /** Names the device answers to: IP addresses and host names for subjectAltName. */
  altNames: string[];
}

/** Self-signed X.509 v3 server certificate (DER), valid for the device's own names. */
export function createSelfSigned(key: RsaKeyMaterial, input: SelfSignedInput): Buffer {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(key.publicPem);
  cert.serialNumber = positiveSerial();
  cert.validity.notBefore = input.notBefore;
  cert.validity.notAfter = input.notAfter;
  cert.setSubject(input.subject);
  cert.setIssuer(input.subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: input.altNames.map((n) => (/^[\d.]+$|:/.test(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(key.privatePem), forgeDigest(input.hash));
  return derOfForgeCert(cert);
}

/** A DER certificate parsed, or undefined when it is not one. */
export function parseCertificate(der: Buffer): X509Certificate | undefined {
  if (der.length < 16 || der[0] !== 0x30) return undefined;
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

/** SubjectPublicKeyInfo DER (base64) of a PEM public key or certificate, to match keys and certificates. */
export function spkiOfPublicPem(publicPem: string): string {
  return createPublicKey(publicPem).export({ type: 'spki', format: 'der' }).toString('base64');
}

export function spkiOfCertificate(cert: X509Certificate): string {
  return cert.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

export function publicPemOfCertificate(cert: X509Certificate): string {
  return cert.publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** Is `child` issued and signed by `issuer`? */
export function signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

export function pemOfDer(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

export type Pkcs12Problem = 'BadPKCS12File' | 'DecryptionFailed';

export interface Pkcs12Contents {
  /** DER certificates in file order. */
  certificates: Buffer[];
  /** PKCS#8 PEM private keys. */
  privateKeys: string[];
}

/** Read a PKCS#12 file with its passphrase; a string says why it was refused. */
export function readPkcs12(bytes: Buffer, passphrase: string | undefined): Pkcs12Contents | Pkcs12Problem {
  let asn1: forge.asn1.Asn1;
  try {
    asn1 = forge.asn1.fromDer(forge.util.createBuffer(bytes.toString('binary')));
  } catch {
    return 'BadPKCS12File';
  }
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, true, passphrase ?? '');
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return /password|MAC|decrypt|Invalid/i.test(message) ? 'DecryptionFailed' : 'BadPKCS12File';
  }
  const certificates: Buffer[] = [];
  const privateKeys: string[] = [];
  try {
    for (const bag of p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? []) {
      if (bag.cert) certificates.push(derOfForgeCert(bag.cert));
    }
    for (const type of [forge.pki.oids.pkcs8ShroudedKeyBag, forge.pki.oids.keyBag]) {
      for (const bag of p12.getBags({ bagType: type })[type] ?? []) {
        if (bag.key) privateKeys.push(forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key))));
      }
    }
  } catch {
    // A bag that decrypted to garbage: the passphrase was wrong for that part.
    return 'DecryptionFailed';
  }
  return { certificates, privateKeys };
}

/** The public key (PEM) of a PKCS#8 private key. */
export function publicPemOfPrivate(privatePem: string): string {
  return createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString();
}
