import { isOnvifError, OnvifError } from '../errors';
import type { OnvifDevice } from '../device/onvif-device';
import { parseNotifications } from '../events/notifications';
import { PullPoint } from '../events/pull-point';
import { NS } from '../xml/namespaces';
import { certificateInfo, type CertificateInfo } from './crypto';

/** What the device's keystore and TLS server can do, read from either capability name set (AdvSec §5.5.7, App. E). */
export interface KeystoreCapabilities {
  /** Key types the device generates (RSAKeyPairGeneration → ['RSA']). */
  keyPairGeneration: string[];
  rsaKeyLengths: number[];
  pkcs10: boolean;
  selfSignedCertificates: boolean;
  pkcs12: boolean;
  maxKeys?: number;
  maxCertificates?: number;
  maxCertificationPaths?: number;
  maxPassphrases?: number;
  passwordBasedEncryptionAlgorithms: string[];
  /** TLS versions the server supports, e.g. ['1.2', '1.3']; empty: no TLS server. */
  tlsServerSupported: string[];
  maxTlsCertificationPaths?: number;
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : v === undefined || v === null ? [] : [String(v)]);
const num = (v: unknown): number | undefined => (v === undefined || v === null || v === '' || Number.isNaN(Number(v)) ? undefined : Number(v));
const flag = (v: unknown): boolean => v === true || v === 'true' || v === '1';

/** Read tas:Capabilities as decoded by OnvifDevice.call, whichever attribute names the firmware uses. */
export function readKeystoreCapabilities(raw: Record<string, unknown>): KeystoreCapabilities {
  const caps = (raw.Capabilities ?? raw) as Record<string, Record<string, unknown> | undefined>;
  const k = caps.KeystoreCapabilities ?? {};
  const t = caps.TLSServerCapabilities ?? {};
  const generation = list(k.KeyPairGeneration);
  if (flag(k.RSAKeyPairGeneration) && !generation.includes('RSA')) generation.push('RSA');
  if (flag(k.ECCKeyPairGeneration) && !generation.includes('ECC')) generation.push('ECC');
  return {
    keyPairGeneration: generation,
    rsaKeyLengths: list(k.RSAKeyLengths).map(Number).filter((n) => n > 0),
    pkcs10: flag(k.PKCS10) || flag(k.PKCS10ExternalCertificationWithRSA),
    selfSignedCertificates: flag(k.SelfSignedCertificateCreation) || flag(k.SelfSignedCertificateCreationWithRSA),
    pkcs12: flag(k.PKCS12) || flag(k.PKCS12CertificateWithRSAPrivateKeyUpload),
    maxKeys: num(k.MaximumNumberOfKeys),
    maxCertificates: num(k.MaximumNumberOfCertificates),
    maxCertificationPaths: num(k.MaximumNumberOfCertificationPaths),
    maxPassphrases: num(k.MaximumNumberOfPassphrases),
    passwordBasedEncryptionAlgorithms: list(k.PasswordBasedEncryptionAlgorithms),
    tlsServerSupported: list(t.TLSServerSupported),
    maxTlsCertificationPaths: num(t.MaximumNumberOfTLSCertificationPaths),
  };
}

/** What to do about each keystore fault, by its most specific subcode. */
const ADVICE: Record<string, string> = {
  MaximumNumberOfKeysReached: 'the keystore is full: list the keys (inventory) and delete the ones no certificate uses',
  MaximumNumberOfCertificatesReached: 'the keystore holds as many certificates as it can: delete certificates no certification path uses',
  MaximumNumberOfCertificationPathsReached: 'the keystore holds as many certification paths as it can: delete paths that are not assigned to the TLS server',
  MaximumNumberOfPassphrasesReached: 'the device holds as many passphrases as it can: delete unused ones, or give the passphrase inline',
  MaximumNumberOfTLSCertificationPathsReached: 'the TLS server has as many certificates as it can take: replace the assigned one instead of adding another',
  KeyLength: 'the device does not make keys of that length: pick one of the RSA key lengths its capabilities list',
  KeyID: 'the key does not exist (any more): read the inventory again',
  CertificateID: 'the certificate does not exist (any more): read the inventory again',
  CertificationPathID: 'the certification path does not exist or is not assigned: read the inventory again',
  OldCertificationPathID: 'the path to replace is not the one assigned to the TLS server: read the inventory again',
  NewCertificationPathID: 'the new certification path does not exist: create it first',
  InvalidKeyStatus: 'the key is not ready (still generating, or corrupt): wait for KeyStatus ok, or delete a corrupt key and create a new one',
  NoMatchingPrivateKey: 'the certificate was not made for a key this device holds: have the CA sign a CSR the device created, or upload certificate and key together as PKCS#12',
  NoPrivateKey: "the path's leaf certificate has no private key on the device, so it cannot serve TLS: use a certificate for a key the device generated, or PKCS#12",
  ReferenceExists: 'it is still in use: while HTTPS is on, swap certificates with ReplaceServerCertificateAssignment; delete paths before their certificates and certificates before their keys',
  BadCertificate: 'the file is not a DER X.509 certificate: convert PEM to DER (base64 of the bytes between the BEGIN/END lines)',
  BadPKCS12File: 'the file is not a usable PKCS#12: pack exactly one certificate with its private key, with integrity protection',
  DecryptionFailed: 'the PKCS#12 passphrase is wrong',
  PublicPrivateKeyMismatch: 'the private key in the PKCS#12 does not belong to its certificate',
  PassphraseID: 'the passphrase ID is unknown: upload the passphrase first or give it inline',
  InvalidCertificationPath: 'the certificates do not form a chain: order them leaf first, each followed by the certificate that signed it',
  EnablingTlsFailed: 'the device could not turn HTTPS on: assign a certification path with a private key to the TLS server first (AddServerCertificateAssignment)',
  UnsupportedSignatureAlgorithm: 'the device does not sign with that algorithm: use sha256WithRSAEncryption',
  InvalidSubject: 'the certificate subject is not acceptable: give at least a CommonName',
  InvalidDateTime: 'the validity dates are not acceptable',
};

/** A keystore fault with a message that says what to do; other errors unchanged. */
export function explainKeystoreError(e: unknown, operation: string): unknown {
  if (!isOnvifError(e) || e.kind !== 'fault') return e;
  const specific = [...(e.subcodes ?? [])].reverse().map((s) => s.replace(/^.*:/, '')).find((s) => ADVICE[s]);
  if (!specific) return e;
  const err = new OnvifError('fault', `${operation} was refused (${specific}): ${ADVICE[specific]}.${e.reason ? ` The device said: ${e.reason}` : ''}`, {
    code: e.code, subcodes: e.subcodes, reason: e.reason, reasons: e.reasons, httpStatus: e.httpStatus, address: e.address, operation, cause: e,
  });
  return err;
}

export interface KeyInfo {
  keyId: string;
  alias?: string;
  status: string;
  hasPrivateKey?: boolean;
  externallyGenerated?: boolean;
}

export interface KeystoreCertificate extends CertificateInfo {
  certificateId: string;
  keyId: string;
  alias?: string;
  /** DER, base64, as the device holds it. */
  der: string;
}

export interface CertificationPathInfo {
  pathId: string;
  alias?: string;
  /** Leaf first. */
  certificateIds: string[];
}

export interface KeystoreInventory {
  keys: KeyInfo[];
  certificates: KeystoreCertificate[];
  paths: CertificationPathInfo[];
  /** Path IDs assigned to the TLS server. */
  assignedServerPaths: string[];
}

export type DnInput = Partial<Record<'CommonName' | 'Organization' | 'OrganizationalUnit' | 'Country' | 'Locality' | 'StateOrProvinceName', string>>;

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const KEY_STATUS_TOPIC = 'tns1:Advancedsecurity/Keystore/KeyStatus';

/**
 * The device's keystore and TLS server assignment (`tas`, AdvSec §5.2-5.3) over an OnvifDevice session. Every
 * refusal comes back as an OnvifError that says what to do (explainKeystoreError).
 */
export class Keystore {
  constructor(readonly device: OnvifDevice) {}

  private async call<T = Record<string, unknown>>(operation: string, params: Record<string, unknown> = {}): Promise<T> {
    try {
      return (await this.device.call(`tas:${operation}`, params as never)) as T;
    } catch (e) {
      throw explainKeystoreError(e, operation);
    }
  }

  /** Does the device offer the security configuration service? */
  async available(): Promise<boolean> {
    await this.device.connect();
    return !!this.device.serviceAddress(NS.tas);
  }

  async capabilities(): Promise<KeystoreCapabilities> {
    if (!(await this.available())) {
      throw new OnvifError('unsupported', `${this.device.displayAddress} has no security configuration service (Advanced Security), so its TLS cannot be configured over ONVIF; use the device's web page.`);
    }
    return readKeystoreCapabilities(await this.call('GetServiceCapabilities'));
  }

  /**
   * Create an RSA key pair and wait until it is ready: by the KeyStatus event (a pull point opened before the
   * request, so the event cannot be missed), or by polling GetKeyStatus. A key that ends `corrupt` is deleted
   * and reported.
   */
  async createRsaKey(options: { length: number; alias?: string; waitBy?: 'event' | 'poll'; timeoutMs?: number }): Promise<string> {
    const timeoutMs = options.timeoutMs ?? 120_000;
    let pullPoint: PullPoint | undefined;
    if (options.waitBy !== 'poll') {
      pullPoint = await PullPoint.create(this.device, Math.ceil(timeoutMs / 1000) + 30).then((r) => r.pullPoint, () => undefined);
    }
    try {
      const r = await this.call<{ KeyID: string }>('CreateRSAKeyPair', { KeyLength: options.length, ...(options.alias ? { Alias: options.alias } : {}) });
      const status = pullPoint ? await this.waitByEvent(pullPoint, r.KeyID, timeoutMs).catch(() => this.waitByPolling(r.KeyID, timeoutMs)) : await this.waitByPolling(r.KeyID, timeoutMs);
      if (status !== 'ok') {
        await this.call('DeleteKey', { KeyID: r.KeyID }).catch(() => undefined);
        throw new OnvifError('fault', `The device failed to generate key ${r.KeyID} (status ${status}); it was deleted. Try again; if it keeps failing the device's key generator is broken.`, { operation: 'CreateRSAKeyPair' });
      }
      return r.KeyID;
    } finally {
      if (pullPoint) await pullPoint.unsubscribe().catch(() => undefined);
    }
  }

  private async waitByEvent(pullPoint: PullPoint, keyId: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    // A missed event must not hang us: check the status once in a while too.
    while (Date.now() < deadline) {
      const { response } = await pullPoint.pull(Math.max(1, Math.min(5, Math.ceil((deadline - Date.now()) / 1000))), 50);
      for (const e of parseNotifications(response)) {
        if (e.topic === KEY_STATUS_TOPIC && String(e.source.KeyID) === keyId && e.data.NewStatus !== 'generating') return String(e.data.NewStatus);
      }
      const status = await this.keyStatus(keyId);
      if (status !== 'generating') return status;
    }
    throw new OnvifError('timeout', `Key ${keyId} was still generating after ${Math.round(timeoutMs / 1000)} s.`);
  }

  private async waitByPolling(keyId: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
      const status = await this.keyStatus(keyId);
      if (status !== 'generating') return status;
      if (Date.now() > deadline) throw new OnvifError('timeout', `Key ${keyId} was still generating after ${Math.round(timeoutMs / 1000)} s.`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  async keyStatus(keyId: string): Promise<string> {
    return (await this.call<{ KeyStatus: string }>('GetKeyStatus', { KeyID: keyId })).KeyStatus;
  }

  /** A PKCS#10 CSR for a key of the device, signed by that key (DER). */
  async createCsr(keyId: string, subject: DnInput): Promise<Buffer> {
    const r = await this.call<{ PKCS10CSR: string }>('CreatePKCS10CSR', { Subject: subject, KeyID: keyId, SignatureAlgorithm: { algorithm: SHA256_WITH_RSA } });
    return Buffer.from(r.PKCS10CSR, 'base64');
  }

  async createSelfSignedCertificate(keyId: string, subject: DnInput, options: { alias?: string; notValidAfter?: Date } = {}): Promise<string> {
    const r = await this.call<{ CertificateID: string }>('CreateSelfSignedCertificate', {
      X509Version: 3, Subject: subject, KeyID: keyId, ...(options.alias ? { Alias: options.alias } : {}),
      ...(options.notValidAfter ? { notValidAfter: options.notValidAfter.toISOString().replace(/\.\d+Z$/, 'Z') } : {}),
      SignatureAlgorithm: { algorithm: SHA256_WITH_RSA },
    });
    return r.CertificateID;
  }

  /** Upload a DER certificate; privateKeyRequired for a server certificate (its key must be on the device). */
  async uploadCertificate(der: Buffer, options: { alias?: string; privateKeyRequired?: boolean } = {}): Promise<{ certificateId: string; keyId: string }> {
    const r = await this.call<{ CertificateID: string; KeyID: string }>('UploadCertificate', {
      Certificate: der.toString('base64'), ...(options.alias ? { Alias: options.alias } : {}), PrivateKeyRequired: options.privateKeyRequired ?? false,
    });
    return { certificateId: r.CertificateID, keyId: r.KeyID };
  }

  /** Upload certificate + key as PKCS#12, with the passphrase inline or stored on the device (passphraseId). */
  async uploadPkcs12(bytes: Buffer, options: { passphrase?: string; passphraseId?: string; pathAlias?: string; keyAlias?: string }): Promise<{ pathId: string; keyId: string }> {
    const r = await this.call<{ CertificationPathID: string; KeyID: string }>('UploadCertificateWithPrivateKeyInPKCS12', {
      CertWithPrivateKey: bytes.toString('base64'),
      ...(options.pathAlias ? { CertificationPathAlias: options.pathAlias } : {}),
      ...(options.keyAlias ? { KeyAlias: options.keyAlias } : {}),
      ...(options.passphraseId ? { EncryptionPassphraseID: options.passphraseId } : {}),
      ...(options.passphrase !== undefined ? { Passphrase: options.passphrase } : {}),
    });
    return { pathId: r.CertificationPathID, keyId: r.KeyID };
  }

  async uploadPassphrase(passphrase: string, alias?: string): Promise<string> {
    return (await this.call<{ PassphraseID: string }>('UploadPassphrase', { Passphrase: passphrase, ...(alias ? { PassphraseAlias: alias } : {}) })).PassphraseID;
  }

  async deletePassphrase(id: string): Promise<void> {
    await this.call('DeletePassphrase', { PassphraseID: id });
  }

  async createCertificationPath(certificateIds: string[], alias?: string): Promise<string> {
    const r = await this.call<{ CertificationPathID: string }>('CreateCertificationPath', { CertificateIDs: { CertificateID: certificateIds }, ...(alias ? { Alias: alias } : {}) });
    return r.CertificationPathID;
  }

  async assignedServerPaths(): Promise<string[]> {
    return list((await this.call<{ CertificationPathID?: unknown }>('GetAssignedServerCertificates')).CertificationPathID);
  }

  async addServerAssignment(pathId: string): Promise<void> {
    await this.call('AddServerCertificateAssignment', { CertificationPathID: pathId });
  }

  async replaceServerAssignment(oldPathId: string, newPathId: string): Promise<void> {
    await this.call('ReplaceServerCertificateAssignment', { OldCertificationPathID: oldPathId, NewCertificationPathID: newPathId });
  }

  async removeServerAssignment(pathId: string): Promise<void> {
    await this.call('RemoveServerCertificateAssignment', { CertificationPathID: pathId });
  }

  async certificationPath(pathId: string): Promise<CertificationPathInfo> {
    const r = await this.call<{ CertificationPath: { CertificateID?: unknown; Alias?: string } }>('GetCertificationPath', { CertificationPathID: pathId });
    return { pathId, alias: r.CertificationPath.Alias, certificateIds: list(r.CertificationPath.CertificateID) };
  }

  async certificate(certificateId: string): Promise<KeystoreCertificate> {
    const r = await this.call<{ Certificate: RawCertificate }>('GetCertificate', { CertificateID: certificateId });
    return describeCertificate(r.Certificate);
  }

  async deleteCertificationPath(pathId: string): Promise<void> {
    await this.call('DeleteCertificationPath', { CertificationPathID: pathId });
  }

  async deleteCertificate(certificateId: string): Promise<void> {
    await this.call('DeleteCertificate', { CertificateID: certificateId });
  }

  async deleteKey(keyId: string): Promise<void> {
    await this.call('DeleteKey', { KeyID: keyId });
  }

  /** Every key, certificate (read: subject, issuer, SAN, fingerprint, expiry) and path, and the TLS server's assignment. */
  async inventory(): Promise<KeystoreInventory> {
    const rawKeys = (await this.call<{ KeyAttribute?: RawKey[] }>('GetAllKeys')).KeyAttribute ?? [];
    const rawCerts = (await this.call<{ Certificate?: RawCertificate[] }>('GetAllCertificates')).Certificate ?? [];
    const pathIds = list((await this.call<{ CertificationPathID?: unknown }>('GetAllCertificationPaths')).CertificationPathID);
    const paths: CertificationPathInfo[] = [];
    for (const id of pathIds) paths.push(await this.certificationPath(id));
    return {
      keys: rawKeys.map((k) => ({ keyId: k.KeyID, alias: k.Alias, status: k.KeyStatus, hasPrivateKey: k.hasPrivateKey, externallyGenerated: k.externallyGenerated })),
      certificates: rawCerts.map(describeCertificate),
      paths,
      assignedServerPaths: await this.assignedServerPaths(),
    };
  }

  /**
   * Delete a path and what only it used, in the order referential integrity needs: the path, then its
   * certificates no other path uses, then their keys no other certificate uses. Keys and certificates shared
   * with other paths (a CA used twice) stay.
   */
  async deletePathAndUnused(pathId: string): Promise<void> {
    const inv = await this.inventory();
    const path = inv.paths.find((p) => p.pathId === pathId);
    if (!path) return;
    await this.deleteCertificationPath(pathId);
    const otherCertIds = new Set(inv.paths.filter((p) => p.pathId !== pathId).flatMap((p) => p.certificateIds));
    const removedCerts = inv.certificates.filter((c) => path.certificateIds.includes(c.certificateId) && !otherCertIds.has(c.certificateId));
    for (const c of removedCerts) await this.deleteCertificate(c.certificateId);
    const remaining = inv.certificates.filter((c) => !removedCerts.includes(c));
    for (const keyId of new Set(removedCerts.map((c) => c.keyId))) {
      if (!remaining.some((c) => c.keyId === keyId)) await this.deleteKey(keyId);
    }
  }
}

interface RawKey {
  KeyID: string;
  Alias?: string;
  KeyStatus: string;
  hasPrivateKey?: boolean;
  externallyGenerated?: boolean;
}

interface RawCertificate {
  CertificateID: string;
  KeyID: string;
  Alias?: string;
  CertificateContent: string;
}

function describeCertificate(c: RawCertificate): KeystoreCertificate {
  return { certificateId: c.CertificateID, keyId: c.KeyID, alias: c.Alias, der: c.CertificateContent, ...certificateInfo(Buffer.from(c.CertificateContent, 'base64')) };
}
