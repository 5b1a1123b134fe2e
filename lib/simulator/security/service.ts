import { el, type XmlContent, type XmlNode } from '../../xml/build';
import { NS } from '../../xml/namespaces';
import type { XmlElement } from '../../xml/parse';
import { child, children, text } from '../../xml/query';
import type { AccessClass } from '../access';
import type { EventItem } from '../events/service';
import { actionNotSupported, invalidArgVal, SimFault } from '../faults';
import type { OperationHandler, SimulatedService, SoapEndpoint } from '../service';
import type { DeviceState } from '../state';
import { readBool } from '../values';
import {
  createCsr, createSelfSigned, generateRsaKey, parseCertificate, pemOfDer, publicPemOfCertificate, publicPemOfPrivate, readPkcs12,
  SIGNATURE_ALGORITHMS, signedBy, spkiOfCertificate, spkiOfPublicPem, type DnAttribute,
} from './crypto';
import { emptyKeystore, newId, type KeystoreState, type KeyStatus, type StoredKey } from './keystore';

/** Where the Security Configuration Service (`tas`) listens. */
export const SECURITY_SERVICE_PATH = '/onvif/security_service';
export const SECURITY_SERVICE_VERSION = { major: 2, minor: 60 };
export const KEY_STATUS_TOPIC = 'tns1:Advancedsecurity/Keystore/KeyStatus';

/** How the simulated keystore behaves (SimulatorOptions.security). */
export interface SecurityOptions {
  /**
   * Which capability attribute names GetServiceCapabilities uses: 'both' (default), 'current' only, or
   * 'deprecated' only (RSAKeyPairGeneration, PKCS10ExternalCertificationWithRSA, ...), as Profile Q-era firmware does.
   */
  capabilityNames?: 'both' | 'current' | 'deprecated';
  /** Limits (small ones provoke the …Reached faults). Defaults: 8 keys, 16 certificates, 8 paths, 4 passphrases, 2 TLS paths. */
  maxKeys?: number;
  maxCertificates?: number;
  maxCertificationPaths?: number;
  maxPassphrases?: number;
  maxTlsCertificationPaths?: number;
  /** RSA key lengths CreateRSAKeyPair accepts (default [2048, 3072]). */
  rsaKeyLengths?: number[];
  /** Extra time a key takes to generate beyond the real generation, ms (default 200). */
  keyGenerationDelayMs?: number;
  /** Password-based encryption algorithms listed for PKCS#12 (default: both forge can write). */
  passwordBasedEncryptionAlgorithms?: string[];
}

/** Access classes of the `tas` operations (AdvSec per-operation tables). */
export const SECURITY_ACCESS_CLASS: Record<string, AccessClass> = {
  GetServiceCapabilities: 'PRE_AUTH',
  CreateRSAKeyPair: 'WRITE_SYSTEM',
  GetKeyStatus: 'READ_SYSTEM_SECRET',
  GetPrivateKeyStatus: 'READ_SYSTEM_SECRET',
  GetAllKeys: 'READ_SYSTEM_SECRET',
  DeleteKey: 'UNRECOVERABLE',
  CreatePKCS10CSR: 'READ_SYSTEM',
  CreateSelfSignedCertificate: 'WRITE_SYSTEM',
  UploadCertificate: 'WRITE_SYSTEM',
  GetCertificate: 'READ_SYSTEM_SECRET',
  GetAllCertificates: 'READ_SYSTEM_SECRET',
  DeleteCertificate: 'UNRECOVERABLE',
  CreateCertificationPath: 'WRITE_SYSTEM',
  GetCertificationPath: 'READ_SYSTEM_SECRET',
  GetAllCertificationPaths: 'READ_SYSTEM_SECRET',
  DeleteCertificationPath: 'UNRECOVERABLE',
  UploadPassphrase: 'WRITE_SYSTEM',
  GetAllPassphrases: 'READ_SYSTEM_SECRET',
  DeletePassphrase: 'UNRECOVERABLE',
  UploadCertificateWithPrivateKeyInPKCS12: 'WRITE_SYSTEM',
  AddServerCertificateAssignment: 'WRITE_SYSTEM',
  RemoveServerCertificateAssignment: 'WRITE_SYSTEM',
  ReplaceServerCertificateAssignment: 'WRITE_SYSTEM',
  GetAssignedServerCertificates: 'READ_SYSTEM_SECRET',
  GetEnabledTLSVersions: 'READ_SYSTEM',
};

/** The TLS listener of the device's server, as the security service drives it. */
export interface TlsListener {
  readonly listening: boolean;
  listen(port: number, context: { key: string; cert: string }): Promise<void>;
  setContext(context: { key: string; cert: string }): void;
  close(): Promise<void>;
}

/** What the security service needs from the device. */
export interface SecurityHost {
  readonly state: DeviceState;
  deviceNow(): number;
  raiseEvent(topic: string, item: EventItem): void;
  /** Persist and announce a change. */
  changed(what: string): void;
  tls: TlsListener;
  /** Names the device answers to (IP address, host name), for a self-signed certificate's subjectAltName. */
  names(): string[];
  /** A TLS listener problem (port taken), for the device's 'error' event. */
  problem(e: unknown): void;
}

const tas = (local: string, ...kids: XmlContent[]): XmlNode => el(NS.tas, local, undefined, ...kids);

/** DN element names of tas:DistinguishedName and forge's attribute names. */
const DN_ATTRIBUTES: Record<string, string> = {
  Country: 'countryName', Organization: 'organizationName', OrganizationalUnit: 'organizationalUnitName',
  DistinguishedNameQualifier: 'dnQualifier', StateOrProvinceName: 'stateOrProvinceName', CommonName: 'commonName',
  SerialNumber: 'serialNumber', Locality: 'localityName', Title: 'title', Surname: 'surname', GivenName: 'givenName',
  Initials: 'initials', Pseudonym: 'pseudonym', GenerationQualifier: 'generationQualifier',
};

const sender = (specific: string, reason: string) => invalidArgVal(specific, reason);
const receiver = (specific: string, reason: string) => new SimFault('Receiver', ['Action', specific], reason);

function requiredText(req: XmlElement, local: string): string {
  const v = text(child(req, local))?.trim();
  if (!v) throw invalidArgVal('InvalidArgs', `${local} is missing.`);
  return v;
}

function optionalAlias(req: XmlElement, local = 'Alias'): string | undefined {
  const v = text(child(req, local));
  return v === undefined || v === '' ? undefined : v;
}

function readBase64(req: XmlElement, local: string): Buffer {
  const v = requiredText(req, local).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw invalidArgVal('InvalidArgVal', `${local} is not base64.`);
  return Buffer.from(v, 'base64');
}

function readSubject(req: XmlElement): DnAttribute[] {
  const subject = child(req, 'Subject');
  const attrs: DnAttribute[] = [];
  for (const c of subject?.children ?? []) {
    const name = DN_ATTRIBUTES[c.local];
    const value = text(c)?.trim();
    if (name && value) attrs.push({ name, value });
  }
  if (!attrs.length) throw sender('InvalidSubject', 'The Subject has no attribute this device understands; give at least a CommonName.');
  return attrs;
}

function readSignatureHash(req: XmlElement): 'sha256' | 'sha384' | 'sha512' {
  const oid = text(child(child(req, 'SignatureAlgorithm'), 'algorithm'))?.trim() ?? '';
  const hash = SIGNATURE_ALGORITHMS[oid];
  if (!hash) throw sender('UnsupportedSignatureAlgorithm', `Signature algorithm ${oid || '(none)'} is not supported; use sha256WithRSAEncryption (1.2.840.113549.1.1.11).`);
  return hash;
}

function readDate(req: XmlElement, local: string): Date | undefined {
  const v = text(child(req, local))?.trim();
  if (!v) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw sender('InvalidDateTime', `${local} '${v}' is not an xs:dateTime.`);
  return d;
}

/**
 * The Security Configuration Service (`tas`, AdvSec §5) of the simulated device: the keystore with real
 * crypto, and the TLS server it feeds. HTTPS itself is switched by SetNetworkProtocols in the device service
 * (tlsProblem says whether it may be); this service then runs the device's real HTTPS listener with the
 * assigned certification path and swaps the certificate live when the assignment is replaced.
 */
export class SecurityService implements SimulatedService {
  readonly name = 'security';
  private readonly options: Required<SecurityOptions>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private corruptNext = 0;
  private wrongCertificate?: { key: string; cert: string };
  private running = false;
  private servedContext?: string;
  private servedPort?: number;
  private tlsChain: Promise<void> = Promise.resolve();
  readonly endpoints: readonly SoapEndpoint[];

  constructor(private readonly host: SecurityHost, options: SecurityOptions = {}) {
    this.options = {
      capabilityNames: 'both', maxKeys: 8, maxCertificates: 16, maxCertificationPaths: 8, maxPassphrases: 4, maxTlsCertificationPaths: 2,
      rsaKeyLengths: [2048, 3072], keyGenerationDelayMs: 200, passwordBasedEncryptionAlgorithms: ['pbeWithSHAAnd3-KeyTripleDES-CBC', 'PBES2-AES256-CBC'],
      ...options,
    };
    this.endpoints = this.buildEndpoints();
  }

  private get ks(): KeystoreState {
    const s = this.host.state;
    s.keystore ??= emptyKeystore();
    return s.keystore;
  }

  /** The next key generations end `corrupt` (tests). */
  injectCorruptKey(times = 1): void {
    this.corruptNext += times;
  }

  /** Serve a certificate other than the assigned one (tests: a device that got TLS wrong). Undefined: back to normal. */
  async serveWrongCertificate(on: boolean): Promise<void> {
    if (on) {
      const key = await generateRsaKey(2048);
      const now = new Date(this.host.deviceNow());
      const der = createSelfSigned(key, {
        subject: [{ name: 'commonName', value: 'not-the-configured-certificate' }], notBefore: new Date(now.getTime() - 60_000),
        notAfter: new Date(now.getTime() + 86_400_000), hash: 'sha256', altNames: this.host.names(),
      });
      this.wrongCertificate = { key: key.privatePem, cert: pemOfDer(der) };
    } else {
      this.wrongCertificate = undefined;
    }
    this.reconcileTls();
  }

  /** Why HTTPS cannot be turned on now, undefined when it can (SetNetworkProtocols → EnablingTlsFailed). */
  tlsProblem(): string | undefined {
    if (!this.servingContext()) return 'no certification path with a private key is assigned to the TLS server; create one and call AddServerCertificateAssignment first';
    return undefined;
  }

  // ------------------------------------------------------------------------------------------ life

  onStart(): void {
    this.running = true;
    // A key still generating when the device went down never finishes.
    for (const k of this.ks.keys) if (k.status === 'generating') k.status = 'corrupt';
    this.reconcileTls();
  }

  async onStop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.reconcileTls();
    await this.tlsChain;
  }

  onReboot(): void {
    this.running = false;
    this.reconcileTls();
  }

  onReady(): void {
    this.running = true;
    this.reconcileTls();
  }

  onChange(): void {
    this.reconcileTls();
  }

  /** The key and chain the TLS server should use now: the first assigned path whose leaf has a private key. */
  private servingContext(): { key: string; cert: string } | undefined {
    const ks = this.host.state.keystore;
    if (!ks) return undefined;
    for (const pathId of ks.assignedServerPaths) {
      const path = ks.paths.find((p) => p.id === pathId);
      const certs = path?.certificateIds.map((id) => ks.certificates.find((c) => c.id === id));
      if (!certs || certs.some((c) => !c)) continue;
      const key = ks.keys.find((k) => k.id === certs[0]!.keyId);
      if (!key?.privatePem) continue;
      return { key: key.privatePem, cert: certs.map((c) => pemOfDer(Buffer.from(c!.der, 'base64'))).join('') };
    }
    return undefined;
  }

  /**
   * Bring the HTTPS listener in line with the state: on with the assigned chain when HTTPS is enabled, off
   * otherwise. A new listener binds synchronously (loopback address), so the SetNetworkProtocols answer that
   * turned it on goes out after the port is open.
   */
  private reconcileTls(): void {
    const https = this.host.state.protocols.find((p) => p.name === 'HTTPS');
    const context = this.wrongCertificate ?? this.servingContext();
    const port = https?.ports[0];
    const want = this.running && https?.enabled && context && port ? { context, port } : undefined;
    const tls = this.host.tls;
    if (want && tls.listening && this.servedPort === want.port) {
      const key = want.context.cert + want.context.key;
      if (key !== this.servedContext) {
        tls.setContext(want.context);
        this.servedContext = key;
      }
      return;
    }
    if (!want && !tls.listening) return;
    const restart = async () => {
      if (tls.listening) await tls.close();
      this.servedContext = undefined;
      this.servedPort = undefined;
      if (!want) return;
      this.servedContext = want.context.cert + want.context.key;
      this.servedPort = want.port;
      await tls.listen(want.port, want.context).catch((e: unknown) => this.host.problem(e));
    };
    if (!tls.listening) {
      // Start at once (same tick) so that the port is open before the answer leaves.
      this.tlsChain = restart();
      return;
    }
    this.tlsChain = this.tlsChain.then(restart);
  }

  // ------------------------------------------------------------------------------------------ keystore helpers

  private key(id: string): StoredKey {
    const k = this.ks.keys.find((x) => x.id === id);
    if (!k) throw sender('KeyID', `There is no key ${id} in the keystore (GetAllKeys lists them).`);
    return k;
  }

  private setKeyStatus(k: StoredKey, status: KeyStatus): void {
    const old = k.status;
    k.status = status;
    this.host.raiseEvent(KEY_STATUS_TOPIC, { source: { KeyID: k.id }, data: { OldStatus: old, NewStatus: status } });
  }

  private checkAlias(alias: string | undefined): void {
    if (alias !== undefined && alias.length > 64) throw invalidArgVal('InvalidArgVal', 'An Alias may have at most 64 characters.');
  }

  private certificateEl(c: { id: string; keyId: string; alias?: string; der: string }, local = 'Certificate'): XmlNode {
    return tas(local, tas('CertificateID', c.id), tas('KeyID', c.keyId), c.alias !== undefined ? tas('Alias', c.alias) : undefined, tas('CertificateContent', c.der));
  }

  private checkChain(ders: Buffer[]): void {
    const parsed = ders.map((d) => parseCertificate(d)!);
    for (let i = 0; i + 1 < parsed.length; i++) {
      if (!signedBy(parsed[i]!, parsed[i + 1]!)) {
        throw sender('InvalidCertificationPath', `Certificate ${i + 1} of the path is not signed by certificate ${i + 2}; order the path leaf first, each followed by its issuer.`);
      }
    }
  }

  // ------------------------------------------------------------------------------------------ operations

  private capabilities(): XmlNode {
    const o = this.options;
    const current = o.capabilityNames !== 'deprecated';
    const deprecated = o.capabilityNames !== 'current';
    return tas(
      'Capabilities',
      el(NS.tas, 'KeystoreCapabilities', {
        MaximumNumberOfKeys: o.maxKeys,
        MaximumNumberOfCertificates: o.maxCertificates,
        MaximumNumberOfCertificationPaths: o.maxCertificationPaths,
        RSAKeyPairGeneration: deprecated ? true : undefined,
        KeyPairGeneration: current ? 'RSA' : undefined,
        RSAKeyLengths: o.rsaKeyLengths.join(' '),
        PKCS10ExternalCertificationWithRSA: deprecated ? true : undefined,
        PKCS10: current ? true : undefined,
        SelfSignedCertificateCreationWithRSA: deprecated ? true : undefined,
        SelfSignedCertificateCreation: current ? true : undefined,
        X509Versions: '3',
        MaximumNumberOfPassphrases: o.maxPassphrases,
        PKCS12CertificateWithRSAPrivateKeyUpload: deprecated ? true : undefined,
        PKCS12: current ? true : undefined,
        PasswordBasedEncryptionAlgorithms: o.passwordBasedEncryptionAlgorithms.join(' '),
      }),
      el(NS.tas, 'TLSServerCapabilities', {
        TLSServerSupported: '1.2 1.3', EnabledVersionsSupported: false, MaximumNumberOfTLSCertificationPaths: o.maxTlsCertificationPaths,
        TLSClientAuthSupported: false, CnMapsToUserSupported: false,
      }),
    );
  }

  private createRsaKeyPair(req: XmlElement): XmlNode {
    const length = Number(requiredText(req, 'KeyLength'));
    const alias = optionalAlias(req);
    this.checkAlias(alias);
    if (!this.options.rsaKeyLengths.includes(length)) {
      throw sender('KeyLength', `RSA keys of ${length} bits are not supported; use one of ${this.options.rsaKeyLengths.join(', ')}.`);
    }
    const ks = this.ks;
    if (ks.keys.length >= this.options.maxKeys) throw receiver('MaximumNumberOfKeysReached', `The keystore holds ${this.options.maxKeys} keys, its maximum; delete unused keys first.`);
    const k: StoredKey = { id: newId(ks, 'Key'), alias, status: 'generating', externallyGenerated: false };
    ks.keys.push(k);
    this.host.changed('keystore');
    this.host.raiseEvent(KEY_STATUS_TOPIC, { source: { KeyID: k.id }, data: { NewStatus: 'generating' } });
    const corrupt = this.corruptNext > 0;
    if (corrupt) this.corruptNext--;
    const delay = this.options.keyGenerationDelayMs;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void (async () => {
        const material = corrupt ? undefined : await generateRsaKey(length).catch(() => undefined);
        // The state may have been replaced meanwhile (factory default, restore): then the key is gone.
        const live = this.host.state.keystore?.keys.find((x) => x === k);
        if (!live || !this.running) return;
        if (material) Object.assign(live, { privatePem: material.privatePem, publicPem: material.publicPem });
        this.setKeyStatus(live, material ? 'ok' : 'corrupt');
        this.host.changed('keystore');
      })();
    }, delay);
    this.timers.add(timer);
    return tas('CreateRSAKeyPairResponse', tas('KeyID', k.id), tas('EstimatedCreationTime', `PT${Math.max(1, Math.ceil((delay + 500) / 1000))}S`));
  }

  private getAllKeys(): XmlNode {
    return tas(
      'GetAllKeysResponse',
      ...this.ks.keys.map((k) =>
        tas(
          'KeyAttribute', tas('KeyID', k.id), k.alias !== undefined ? tas('Alias', k.alias) : undefined,
          k.status === 'ok' ? tas('hasPrivateKey', k.privatePem ? 'true' : 'false') : undefined, tas('KeyStatus', k.status),
          tas('externallyGenerated', k.externallyGenerated ? 'true' : 'false'), tas('securelyStored', 'false'),
        ),
      ),
    );
  }

  private deleteKey(req: XmlElement): XmlNode {
    const k = this.key(requiredText(req, 'KeyID'));
    const user = this.ks.certificates.find((c) => c.keyId === k.id);
    if (user) throw sender('ReferenceExists', `Key ${k.id} is used by certificate ${user.id}; delete the certificate first.`);
    this.ks.keys = this.ks.keys.filter((x) => x !== k);
    this.host.changed('keystore');
    return tas('DeleteKeyResponse');
  }

  private usableKey(id: string): StoredKey & { privatePem: string; publicPem: string } {
    const k = this.key(id);
    if (k.status !== 'ok') throw sender('InvalidKeyStatus', `Key ${k.id} is ${k.status}, not ok; ${k.status === 'generating' ? 'wait for KeyStatus ok' : 'delete it and create a new one'}.`);
    if (!k.privatePem || !k.publicPem) throw sender('InvalidKeyStatus', `Key ${k.id} has no private key on the device.`);
    return k as StoredKey & { privatePem: string; publicPem: string };
  }

  private createCsr(req: XmlElement): XmlNode {
    const subject = readSubject(req);
    const k = this.usableKey(requiredText(req, 'KeyID'));
    const hash = readSignatureHash(req);
    const der = createCsr({ privatePem: k.privatePem, publicPem: k.publicPem }, subject, hash);
    return tas('CreatePKCS10CSRResponse', tas('PKCS10CSR', der.toString('base64')));
  }

  private checkCertificateRoom(): void {
    if (this.ks.certificates.length >= this.options.maxCertificates) {
      throw receiver('MaximumNumberOfCertificatesReached', `The keystore holds ${this.options.maxCertificates} certificates, its maximum; delete unused certificates first.`);
    }
  }

  private createSelfSigned(req: XmlElement): XmlNode {
    const version = text(child(req, 'X509Version'))?.trim();
    if (version && version !== '3') throw sender('UnsupportedX509Version', `X.509 version ${version} is not supported; this device makes version 3 certificates.`);
    const subject = readSubject(req);
    const k = this.usableKey(requiredText(req, 'KeyID'));
    const alias = optionalAlias(req);
    this.checkAlias(alias);
    const hash = readSignatureHash(req);
    const now = this.host.deviceNow();
    const notBefore = readDate(req, 'notValidBefore') ?? new Date(now - 60_000);
    const notAfter = readDate(req, 'notValidAfter') ?? new Date('9999-12-31T23:59:59Z');
    if (notAfter <= notBefore) throw sender('InvalidDateTime', 'notValidAfter must be later than notValidBefore.');
    this.checkCertificateRoom();
    const der = createSelfSigned({ privatePem: k.privatePem, publicPem: k.publicPem }, { subject, notBefore, notAfter, hash, altNames: this.host.names() });
    const id = newId(this.ks, 'Cert');
    this.ks.certificates.push({ id, alias, keyId: k.id, der: der.toString('base64') });
    this.host.changed('keystore');
    return tas('CreateSelfSignedCertificateResponse', tas('CertificateID', id));
  }

  private uploadCertificate(req: XmlElement): XmlNode {
    const der = readBase64(req, 'Certificate');
    const cert = parseCertificate(der);
    if (!cert) throw sender('BadCertificate', 'The Certificate is not a DER-encoded X.509 certificate (send the DER bytes base64-encoded, not PEM text).');
    const alias = optionalAlias(req);
    const keyAlias = optionalAlias(req, 'KeyAlias');
    this.checkAlias(alias);
    const privateKeyRequired = readBool(req, 'PrivateKeyRequired') ?? false;
    const spki = spkiOfCertificate(cert);
    const ks = this.ks;
    let key = ks.keys.find((k) => k.publicPem && spkiOfPublicPem(k.publicPem) === spki);
    if (privateKeyRequired && !key?.privatePem) {
      throw receiver('NoMatchingPrivateKey', 'No key pair on the device has the private key of this certificate; sign a CSR made by this device (CreatePKCS10CSR) or upload the key with PKCS#12.');
    }
    this.checkCertificateRoom();
    if (!key) {
      if (ks.keys.length >= this.options.maxKeys) throw receiver('MaximumNumberOfKeysReached', `The keystore holds ${this.options.maxKeys} keys, its maximum; delete unused keys first.`);
      key = { id: newId(ks, 'Key'), alias: keyAlias, status: 'ok', publicPem: publicPemOfCertificate(cert), externallyGenerated: true };
      ks.keys.push(key);
    }
    const id = newId(ks, 'Cert');
    ks.certificates.push({ id, alias, keyId: key.id, der: der.toString('base64') });
    this.host.changed('keystore');
    return tas('UploadCertificateResponse', tas('CertificateID', id), tas('KeyID', key.id));
  }

  private certificate(id: string) {
    const c = this.ks.certificates.find((x) => x.id === id);
    if (!c) throw sender('CertificateID', `There is no certificate ${id} in the keystore (GetAllCertificates lists them).`);
    return c;
  }

  private deleteCertificate(req: XmlElement): XmlNode {
    const c = this.certificate(requiredText(req, 'CertificateID'));
    const path = this.ks.paths.find((p) => p.certificateIds.includes(c.id));
    if (path) throw sender('ReferenceExists', `Certificate ${c.id} is part of certification path ${path.id}; delete the path first.`);
    this.ks.certificates = this.ks.certificates.filter((x) => x !== c);
    this.host.changed('keystore');
    return tas('DeleteCertificateResponse');
  }

  private checkPathRoom(): void {
    if (this.ks.paths.length >= this.options.maxCertificationPaths) {
      throw receiver('MaximumNumberOfCertificationPathsReached', `The keystore holds ${this.options.maxCertificationPaths} certification paths, its maximum; delete unused paths first.`);
    }
  }

  private createPath(req: XmlElement): XmlNode {
    const ids = children(child(req, 'CertificateIDs'), 'CertificateID').map((e) => text(e)?.trim() ?? '');
    if (!ids.length) throw invalidArgVal('InvalidArgs', 'CertificateIDs is empty; list the leaf first, then its issuers.');
    const certs = ids.map((id) => this.certificate(id));
    const alias = optionalAlias(req);
    this.checkAlias(alias);
    this.checkChain(certs.map((c) => Buffer.from(c.der, 'base64')));
    this.checkPathRoom();
    const id = newId(this.ks, 'Path');
    this.ks.paths.push({ id, alias, certificateIds: ids });
    this.host.changed('keystore');
    return tas('CreateCertificationPathResponse', tas('CertificationPathID', id));
  }

  private path(id: string, specific = 'CertificationPathID') {
    const p = this.ks.paths.find((x) => x.id === id);
    if (!p) throw sender(specific, `There is no certification path ${id} (GetAllCertificationPaths lists them).`);
    return p;
  }

  private deletePath(req: XmlElement): XmlNode {
    const p = this.path(requiredText(req, 'CertificationPathID'));
    if (this.ks.assignedServerPaths.includes(p.id)) {
      throw sender('ReferenceExists', `Certification path ${p.id} is assigned to the TLS server; remove or replace the assignment first.`);
    }
    this.ks.paths = this.ks.paths.filter((x) => x !== p);
    this.host.changed('keystore');
    return tas('DeleteCertificationPathResponse');
  }

  private uploadPassphrase(req: XmlElement): XmlNode {
    const passphrase = text(child(req, 'Passphrase')) ?? '';
    const alias = optionalAlias(req, 'PassphraseAlias');
    this.checkAlias(alias);
    if (this.ks.passphrases.length >= this.options.maxPassphrases) {
      throw receiver('MaximumNumberOfPassphrasesReached', `The keystore holds ${this.options.maxPassphrases} passphrases, its maximum; delete unused passphrases first.`);
    }
    const id = newId(this.ks, 'Pass');
    this.ks.passphrases.push({ id, alias, passphrase });
    this.host.changed('keystore');
    return tas('UploadPassphraseResponse', tas('PassphraseID', id));
  }

  private passphrase(id: string): string {
    const p = this.ks.passphrases.find((x) => x.id === id);
    if (!p) throw sender('PassphraseID', `There is no passphrase ${id} (GetAllPassphrases lists them).`);
    return p.passphrase;
  }

  private uploadPkcs12(req: XmlElement): XmlNode {
    const bytes = readBase64(req, 'CertWithPrivateKey');
    const pathAlias = optionalAlias(req, 'CertificationPathAlias');
    const keyAlias = optionalAlias(req, 'KeyAlias');
    this.checkAlias(pathAlias);
    this.checkAlias(keyAlias);
    const ignoreExtra = readBool(req, 'IgnoreAdditionalCertificates') ?? false;
    const inline = text(child(req, 'Passphrase'));
    const encryptionId = text(child(req, 'EncryptionPassphraseID'))?.trim();
    const integrityId = text(child(req, 'IntegrityPassphraseID'))?.trim();
    // An inline passphrase overrides the IDs (AdvSec §5.2.6.3.4).
    const passphrase = inline ?? (encryptionId ? this.passphrase(encryptionId) : integrityId ? this.passphrase(integrityId) : undefined);
    if (inline === undefined && integrityId) this.passphrase(integrityId);
    const contents = readPkcs12(bytes, passphrase);
    if (contents === 'BadPKCS12File') throw sender('BadPKCS12File', 'The file is not a PKCS#12 (PFX) file with integrity protection.');
    if (contents === 'DecryptionFailed') throw sender('DecryptionFailed', 'The PKCS#12 file could not be decrypted with the given passphrase; check the passphrase.');
    if (contents.privateKeys.length !== 1 || !contents.certificates.length) {
      throw sender('BadPKCS12File', `The PKCS#12 file must hold one private key and its certificate (it holds ${contents.privateKeys.length} keys, ${contents.certificates.length} certificates).`);
    }
    const privatePem = contents.privateKeys[0]!;
    const publicPem = publicPemOfPrivate(privatePem);
    const spki = spkiOfPublicPem(publicPem);
    const parsed = contents.certificates.map((der) => ({ der, cert: parseCertificate(der) }));
    if (parsed.some((p) => !p.cert)) throw sender('BadPKCS12File', 'A certificate in the PKCS#12 file is not a valid X.509 certificate.');
    const leafIndex = parsed.findIndex((p) => spkiOfCertificate(p.cert!) === spki);
    if (leafIndex < 0) throw sender('PublicPrivateKeyMismatch', 'No certificate in the PKCS#12 file belongs to its private key; pack the key with its own certificate.');
    // The path in file order, leaf first.
    const ordered = [parsed[leafIndex]!, ...parsed.filter((_, i) => i !== leafIndex)];
    const chain = ignoreExtra ? [ordered[0]!] : ordered;
    this.checkChain(chain.map((c) => c.der));
    const ks = this.ks;
    const existing = chain.map((c) => ks.certificates.find((x) => x.der === c.der.toString('base64')));
    const newCerts = existing.filter((x) => !x).length;
    const extraKeys = chain.slice(1).filter((c, i) => !existing[i + 1] && !ks.keys.some((k) => k.publicPem && spkiOfPublicPem(k.publicPem) === spkiOfCertificate(c.cert!))).length;
    if (ks.keys.length + 1 + extraKeys > this.options.maxKeys) throw receiver('MaximumNumberOfKeysReached', `The keystore holds ${this.options.maxKeys} keys, its maximum; delete unused keys first.`);
    if (ks.certificates.length + newCerts > this.options.maxCertificates) {
      throw receiver('MaximumNumberOfCertificatesReached', `The keystore holds ${this.options.maxCertificates} certificates, its maximum; delete unused certificates first.`);
    }
    this.checkPathRoom();
    const key: StoredKey = { id: newId(ks, 'Key'), alias: keyAlias, status: 'ok', privatePem, publicPem, externallyGenerated: true };
    ks.keys.push(key);
    const ids = chain.map((c, i) => {
      if (existing[i]) return existing[i]!.id;
      const certSpki = spkiOfCertificate(c.cert!);
      let owner = i === 0 ? key : ks.keys.find((k) => k.publicPem && spkiOfPublicPem(k.publicPem) === certSpki);
      if (!owner) {
        owner = { id: newId(ks, 'Key'), status: 'ok', publicPem: publicPemOfCertificate(c.cert!), externallyGenerated: true };
        ks.keys.push(owner);
      }
      const id = newId(ks, 'Cert');
      ks.certificates.push({ id, keyId: owner.id, der: c.der.toString('base64') });
      return id;
    });
    const pathId = newId(ks, 'Path');
    ks.paths.push({ id: pathId, alias: pathAlias, certificateIds: ids });
    this.host.changed('keystore');
    return tas('UploadCertificateWithPrivateKeyInPKCS12Response', tas('CertificationPathID', pathId), tas('KeyID', key.id));
  }

  private checkAssignable(pathId: string, specific: string): void {
    const p = this.path(pathId, specific);
    const leaf = this.certificate(p.certificateIds[0]!);
    const key = this.ks.keys.find((k) => k.id === leaf.keyId);
    if (!key?.privatePem) throw sender('NoPrivateKey', `The leaf of path ${p.id} has no private key on the device; a TLS server needs one.`);
  }

  private httpsOn(): boolean {
    return this.host.state.protocols.some((p) => p.name === 'HTTPS' && p.enabled);
  }

  private addAssignment(req: XmlElement): XmlNode {
    const id = requiredText(req, 'CertificationPathID');
    this.checkAssignable(id, 'CertificationPathID');
    const ks = this.ks;
    if (ks.assignedServerPaths.includes(id)) return tas('AddServerCertificateAssignmentResponse');
    if (ks.assignedServerPaths.length >= this.options.maxTlsCertificationPaths) {
      throw receiver('MaximumNumberOfTLSCertificationPathsReached', `The TLS server already has ${this.options.maxTlsCertificationPaths} certification paths; replace one (ReplaceServerCertificateAssignment) instead.`);
    }
    ks.assignedServerPaths.push(id);
    this.host.changed('keystore');
    return tas('AddServerCertificateAssignmentResponse');
  }

  private removeAssignment(req: XmlElement): XmlNode {
    const id = requiredText(req, 'CertificationPathID');
    const ks = this.ks;
    if (!ks.assignedServerPaths.includes(id)) throw sender('CertificationPathID', `Certification path ${id} is not assigned to the TLS server.`);
    if (this.httpsOn() && ks.assignedServerPaths.length === 1) {
      throw sender('ReferenceExists', `HTTPS is on and uses path ${id}; use ReplaceServerCertificateAssignment, or turn HTTPS off first.`);
    }
    ks.assignedServerPaths = ks.assignedServerPaths.filter((x) => x !== id);
    this.host.changed('keystore');
    return tas('RemoveServerCertificateAssignmentResponse');
  }

  private replaceAssignment(req: XmlElement): XmlNode {
    const oldId = requiredText(req, 'OldCertificationPathID');
    const newId_ = requiredText(req, 'NewCertificationPathID');
    const ks = this.ks;
    if (!ks.assignedServerPaths.includes(oldId)) throw sender('OldCertificationPathID', `Certification path ${oldId} is not assigned to the TLS server.`);
    this.checkAssignable(newId_, 'NewCertificationPathID');
    ks.assignedServerPaths = ks.assignedServerPaths.map((x) => (x === oldId ? newId_ : x)).filter((x, i, a) => a.indexOf(x) === i);
    this.host.changed('keystore');
    return tas('ReplaceServerCertificateAssignmentResponse');
  }

  private operations(): Record<string, (req: XmlElement) => XmlNode> {
    const ks = () => this.ks;
    return {
      GetServiceCapabilities: () => tas('GetServiceCapabilitiesResponse', this.capabilities()),
      CreateRSAKeyPair: (r) => this.createRsaKeyPair(r),
      GetKeyStatus: (r) => tas('GetKeyStatusResponse', tas('KeyStatus', this.key(requiredText(r, 'KeyID')).status)),
      GetPrivateKeyStatus: (r) => tas('GetPrivateKeyStatusResponse', tas('hasPrivateKey', this.key(requiredText(r, 'KeyID')).privatePem ? 'true' : 'false')),
      GetAllKeys: () => this.getAllKeys(),
      DeleteKey: (r) => this.deleteKey(r),
      CreatePKCS10CSR: (r) => this.createCsr(r),
      CreateSelfSignedCertificate: (r) => this.createSelfSigned(r),
      UploadCertificate: (r) => this.uploadCertificate(r),
      GetCertificate: (r) => tas('GetCertificateResponse', this.certificateEl(this.certificate(requiredText(r, 'CertificateID')))),
      GetAllCertificates: () => tas('GetAllCertificatesResponse', ...ks().certificates.map((c) => this.certificateEl(c))),
      DeleteCertificate: (r) => this.deleteCertificate(r),
      CreateCertificationPath: (r) => this.createPath(r),
      GetCertificationPath: (r) => {
        const p = this.path(requiredText(r, 'CertificationPathID'));
        return tas('GetCertificationPathResponse', tas('CertificationPath', ...p.certificateIds.map((id) => tas('CertificateID', id)), p.alias !== undefined ? tas('Alias', p.alias) : undefined));
      },
      GetAllCertificationPaths: () => tas('GetAllCertificationPathsResponse', ...ks().paths.map((p) => tas('CertificationPathID', p.id))),
      DeleteCertificationPath: (r) => this.deletePath(r),
      UploadPassphrase: (r) => this.uploadPassphrase(r),
      GetAllPassphrases: () =>
        tas('GetAllPassphrasesResponse', ...ks().passphrases.map((p) => tas('PassphraseAttribute', tas('PassphraseID', p.id), p.alias !== undefined ? tas('Alias', p.alias) : undefined))),
      DeletePassphrase: (r) => {
        const id = requiredText(r, 'PassphraseID');
        this.passphrase(id);
        ks().passphrases = ks().passphrases.filter((p) => p.id !== id);
        this.host.changed('keystore');
        return tas('DeletePassphraseResponse');
      },
      UploadCertificateWithPrivateKeyInPKCS12: (r) => this.uploadPkcs12(r),
      AddServerCertificateAssignment: (r) => this.addAssignment(r),
      RemoveServerCertificateAssignment: (r) => this.removeAssignment(r),
      ReplaceServerCertificateAssignment: (r) => this.replaceAssignment(r),
      GetAssignedServerCertificates: () => tas('GetAssignedServerCertificatesResponse', ...ks().assignedServerPaths.map((id) => tas('CertificationPathID', id))),
      GetEnabledTLSVersions: () => tas('GetEnabledTLSVersionsResponse', tas('Versions', '1.2 1.3')),
    };
  }

  private buildEndpoints(): SoapEndpoint[] {
    const ops = this.operations();
    const wrap = (handler: (req: XmlElement) => XmlNode): OperationHandler => (request) => {
      // Validate-then-change is the rule; a snapshot makes "all or nothing" hold even if a handler forgets.
      const snapshot = JSON.stringify(this.host.state.keystore ?? null);
      try {
        return handler(request);
      } catch (e) {
        if (e instanceof SimFault) this.host.state.keystore = (JSON.parse(snapshot) as KeystoreState | null) ?? undefined;
        throw e;
      }
    };
    return [
      {
        at: (path: string) => path === SECURITY_SERVICE_PATH,
        namespaces: [NS.tas],
        operations: Object.fromEntries(Object.entries(ops).map(([name, h]) => [name, wrap(h)])),
        accessClass: (op: string) => SECURITY_ACCESS_CLASS[op] ?? 'READ_SYSTEM',
        unsupported: (op: string) => actionNotSupported(`The security configuration service does not support ${op}.`),
        listing: { namespace: NS.tas, path: SECURITY_SERVICE_PATH, version: SECURITY_SERVICE_VERSION, capabilities: () => this.capabilities() },
      },
    ];
  }
}
