import { isIP } from 'node:net';
import { isOnvifError, OnvifError } from '../errors';
import type { OnvifDevice } from '../device/onvif-device';
import type { TaskOptions } from '../configure/types';
import type { TtNetworkProtocol } from '../schema/onvif-types';
import type { TlsOptions } from '../transport/types';
import { NS } from '../xml/namespaces';
import {
  certificateInfo, choosePkcs12Encryption, derOfPem, fingerprintOf, normalisePem, packPkcs12, pemOfDer, randomPassphrase, signCsr, type CertificateInfo,
} from './crypto';
import { Keystore, type KeystoreCapabilities } from './keystore';
import { servedCertificates } from './probe';

/**
 * Where the device's TLS certificate comes from:
 * - 'self-signed' (C): the device makes a key and signs its own certificate; clients pin its fingerprint.
 * - 'ca' (A): the device makes a key and a CSR; the user's CA (certificate + key) signs it here, with the
 *   device's host name and IP address as subjectAltName; clients trust the CA.
 * - 'certificate' (B): a certificate and key the user already has (PEM), packed into PKCS#12 here and uploaded.
 */
export type CertificateSource = 'self-signed' | 'ca' | 'certificate';

export interface CertificateSourceParams {
  /** Default 'self-signed'; 'ca' when caCertificate is given, 'certificate' when certificate is given. */
  source?: CertificateSource;
  /** 'ca': the CA certificate (PEM) and its private key (PEM). Secrets: keep them in credentials. */
  caCertificate?: string;
  caKey?: string;
  /** 'certificate': the server certificate, its private key (secret) and its issuers (PEM). */
  certificate?: string;
  privateKey?: string;
  chain?: string;
  /** RSA key length for a key the device makes (default: 2048 when listed, else the device's first). */
  keyLength?: number;
  /** Validity of a certificate made here or by the device, days (default 365). */
  validDays?: number;
  /** Subject CommonName (default: the device's host name or address). */
  commonName?: string;
  /** How to wait for a key the device generates: 'event' (KeyStatus, default) or 'poll' (GetKeyStatus). */
  waitForKey?: 'event' | 'poll';
}

export interface EnableHttpsParams extends CertificateSourceParams {
  /** HTTPS port (default: the one the device reports for HTTPS). */
  httpsPort?: number;
  /** Turn plain HTTP off after HTTPS was verified (default false). */
  httpOff?: boolean;
}

export interface HttpsResult {
  source: CertificateSource;
  /** The device service over HTTPS: the address to configure. */
  address: string;
  /** How a client should verify the device from now on: the CA (A, B with issuers) or the pinned fingerprint (C). */
  tls: TlsOptions;
  /** SHA-256 fingerprint of the served certificate (pin it for C). */
  fingerprint: string;
  /** The CA certificate to trust (PEM), when there is one. */
  ca?: string;
  certificate: CertificateInfo;
  certificationPathId: string;
  keyId: string;
  /** Plain HTTP was turned off. */
  httpDisabled: boolean;
}

const SIXTY_DAYS = 60;

function invalid(message: string): OnvifError {
  return new OnvifError('invalid-input', message);
}

function pickSource(p: CertificateSourceParams): CertificateSource {
  const source = p.source ?? (p.caCertificate ? 'ca' : p.certificate ? 'certificate' : 'self-signed');
  if (!['self-signed', 'ca', 'certificate'].includes(source)) throw invalid(`source must be 'self-signed', 'ca' or 'certificate' (got ${JSON.stringify(p.source)}).`);
  if (source === 'ca' && (!p.caCertificate || !p.caKey)) throw invalid("source 'ca' needs caCertificate and caKey (PEM); keep the CA key in credentials.");
  if (source === 'certificate' && (!p.certificate || !p.privateKey)) throw invalid("source 'certificate' needs certificate and privateKey (PEM); keep the key in credentials.");
  if (p.validDays !== undefined && !(Number.isInteger(p.validDays) && p.validDays > 0 && p.validDays <= 3650)) throw invalid('validDays must be a whole number of days from 1 to 3650.');
  if (p.waitForKey !== undefined && p.waitForKey !== 'event' && p.waitForKey !== 'poll') throw invalid("waitForKey must be 'event' or 'poll'.");
  return source;
}

/** Names the device is reached by: the address in use and its host name. */
async function deviceNames(device: OnvifDevice): Promise<string[]> {
  const names = [device.url.hostname.replace(/^\[|\]$/g, '')];
  try {
    const h = (await device.call('GetHostname')).HostnameInformation;
    if (h?.Name && !names.includes(h.Name)) names.push(h.Name);
  } catch {
    // A device that hides its host name is reached by address only.
  }
  return names;
}

interface PreparedPath {
  pathId: string;
  keyId: string;
  leaf: Buffer;
  trust: TlsOptions;
  ca?: string;
}

/** Make a certification path on the device from the chosen source (nothing is assigned yet). */
async function preparePath(ks: Keystore, caps: KeystoreCapabilities, source: CertificateSource, p: CertificateSourceParams, names: string[], progress: (s: string, t: string, pc: number) => void): Promise<PreparedPath> {
  const validDays = p.validDays ?? 365;
  const commonName = p.commonName ?? names.find((n) => !isIP(n)) ?? names[0]!;
  const stamp = new Date().toISOString().slice(0, 10);
  if (source === 'certificate') {
    if (!caps.pkcs12) throw new OnvifError('unsupported', `${ks.device.displayAddress} does not take PKCS#12 uploads, so it cannot use an existing certificate; use source 'ca' or 'self-signed'.`);
    progress('pack', 'packing certificate and key (PKCS#12)', 20);
    const passphrase = randomPassphrase();
    const bytes = packPkcs12({ certificate: p.certificate!, privateKey: p.privateKey!, chain: p.chain, passphrase, encryption: choosePkcs12Encryption(caps.passwordBasedEncryptionAlgorithms) });
    progress('upload', 'uploading PKCS#12', 35);
    const r = await ks.uploadPkcs12(bytes, { passphrase, pathAlias: `onvifq-${stamp}` });
    const leaf = derOfPem(p.certificate!, 'The certificate')[0]!;
    const issuers = p.chain ? derOfPem(p.chain, 'The certificate chain') : [];
    const top = issuers.at(-1);
    const ca = p.caCertificate ? normalisePem(p.caCertificate) : top ? pemOfDer(top) : undefined;
    return { pathId: r.pathId, keyId: r.keyId, leaf, ca, trust: ca ? { ca } : { fingerprint: fingerprintOf(leaf) } };
  }
  const lengths = caps.rsaKeyLengths.length ? caps.rsaKeyLengths : [2048];
  const length = p.keyLength ?? (lengths.includes(2048) ? 2048 : lengths[0]!);
  if (!lengths.includes(length)) throw invalid(`keyLength ${length} is not one the device makes (${lengths.join(', ')}).`);
  if (!caps.keyPairGeneration.includes('RSA')) throw new OnvifError('unsupported', `${ks.device.displayAddress} does not generate RSA keys; use source 'certificate' (PKCS#12).`);
  progress('key', `generating a ${length}-bit key on the device`, 15);
  const keyId = await ks.createRsaKey({ length, alias: `onvifq-${stamp}`, waitBy: p.waitForKey ?? 'event' });
  try {
    if (source === 'self-signed') {
      if (!caps.selfSignedCertificates) throw new OnvifError('unsupported', `${ks.device.displayAddress} cannot make self-signed certificates; use source 'ca' or 'certificate'.`);
      progress('certificate', 'creating a self-signed certificate', 35);
      const certificateId = await ks.createSelfSignedCertificate(keyId, { CommonName: commonName }, { notValidAfter: new Date(Date.now() + validDays * 86_400_000), alias: `onvifq-${stamp}` });
      const leaf = Buffer.from((await ks.certificate(certificateId)).der, 'base64');
      const pathId = await ks.createCertificationPath([certificateId], `onvifq-${stamp}`);
      return { pathId, keyId, leaf, trust: { fingerprint: fingerprintOf(leaf) } };
    }
    if (!caps.pkcs10) throw new OnvifError('unsupported', `${ks.device.displayAddress} cannot make CSRs; use source 'certificate' (PKCS#12) or 'self-signed'.`);
    progress('csr', 'requesting a CSR from the device', 30);
    const csr = await ks.createCsr(keyId, { CommonName: commonName });
    progress('sign', 'signing the CSR with the CA', 35);
    const leaf = signCsr({ csr, caCertificate: p.caCertificate!, caKey: p.caKey!, names, validDays });
    const caDer = derOfPem(p.caCertificate!, 'The CA certificate')[0]!;
    // The CA goes in as a public-only certificate, once (a second device run reuses it).
    const inventory = await ks.inventory();
    const existingCa = inventory.certificates.find((c) => c.der === caDer.toString('base64'));
    const caId = existingCa?.certificateId ?? (await ks.uploadCertificate(caDer, { alias: 'onvifq-ca' })).certificateId;
    const leafId = (await ks.uploadCertificate(leaf, { alias: `onvifq-${stamp}`, privateKeyRequired: true })).certificateId;
    const pathId = await ks.createCertificationPath([leafId, caId], `onvifq-${stamp}`);
    const ca = pemOfDer(caDer);
    return { pathId, keyId, leaf, ca, trust: { ca } };
  } catch (e) {
    // Leave no half-made key behind.
    await cleanupKey(ks, keyId);
    throw e;
  }
}

async function cleanupKey(ks: Keystore, keyId: string): Promise<void> {
  try {
    const inv = await ks.inventory();
    for (const path of inv.paths) {
      const leaf = inv.certificates.find((c) => c.certificateId === path.certificateIds[0]);
      if (leaf?.keyId === keyId && !inv.assignedServerPaths.includes(path.pathId)) await ks.deletePathAndUnused(path.pathId);
    }
    const again = await ks.inventory();
    for (const c of again.certificates.filter((x) => x.keyId === keyId)) await ks.deleteCertificate(c.certificateId).catch(() => undefined);
    await ks.deleteKey(keyId).catch(() => undefined);
  } catch {
    // Best effort: the inventory shows what is left.
  }
}

function httpsUrl(device: OnvifDevice, port: number): string {
  const u = new URL(device.url.href);
  u.protocol = 'https:';
  u.port = String(port);
  return u.href;
}

/**
 * Check HTTPS before anything else changes: the served leaf is the certificate just configured, the chain
 * verifies against the CA (or the pin holds), GetDeviceInformation works over it with the session's
 * credentials, and GetServices gives https addresses. Returns the verified session (the caller closes it).
 */
async function verifyHttps(device: OnvifDevice, address: string, leaf: Buffer, trust: TlsOptions): Promise<OnvifDevice> {
  const url = new URL(address);
  let served: Buffer[] = [];
  // A real device may take a moment to restart its web server with TLS.
  for (let attempt = 0; ; attempt++) {
    try {
      served = await servedCertificates(url);
      break;
    } catch (e) {
      if (!isOnvifError(e) || e.kind !== 'unreachable' || attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  if (!served[0] || !served[0].equals(leaf)) {
    throw new OnvifError('tls', `${url.host} serves a certificate (SHA-256 ${served[0] ? fingerprintOf(served[0]) : 'none'}) other than the one just configured (${fingerprintOf(leaf)}).`);
  }
  const secure = device.derive({ address, tls: trust });
  try {
    await secure.connect();
    await secure.call('GetDeviceInformation');
    const plain = (secure.session?.services ?? []).filter((s) => !/^https:/i.test(s.reportedXaddr.trim()));
    if (plain.length) throw new OnvifError('bad-response', `Over HTTPS the device still names plain http addresses (${plain.map((s) => s.reportedXaddr).join(', ')}).`);
    return secure;
  } catch (e) {
    await secure.close();
    throw e;
  }
}

async function readProtocols(device: OnvifDevice): Promise<TtNetworkProtocol[]> {
  return (await device.call('GetNetworkProtocols')).NetworkProtocols ?? [];
}

function protocolsWith(all: TtNetworkProtocol[], name: string, enabled: boolean, port?: number): Array<{ Name: string; Enabled: boolean; Port: number[] }> {
  // Every protocol goes back as it was, except the one changed (a device may reset what a request leaves out).
  return all.map((p) => ({ Name: p.Name, Enabled: p.Name === name ? enabled : p.Enabled, Port: p.Name === name && port ? [port] : p.Port }));
}

async function setProtocols(device: OnvifDevice, protocols: Array<{ Name: string; Enabled: boolean; Port: number[] }>): Promise<void> {
  try {
    await device.call('SetNetworkProtocols', { NetworkProtocols: protocols as never });
  } catch (e) {
    throw explainProtocolsError(e);
  }
}

function explainProtocolsError(e: unknown): unknown {
  if (!isOnvifError(e) || e.kind !== 'fault' || !e.subcodes?.some((s) => /EnablingTlsFailed$/.test(s))) return e;
  return new OnvifError('fault', `The device refused to turn HTTPS on (EnablingTlsFailed): assign a certification path with a private key to its TLS server first.${e.reason ? ` The device said: ${e.reason}` : ''}`, {
    code: e.code, subcodes: e.subcodes, reason: e.reason, operation: 'SetNetworkProtocols', cause: e,
  });
}

/**
 * Turn on verified HTTPS in one step: make a certificate (source A, B or C), assign it, turn HTTPS on with every
 * other protocol unchanged, verify (served certificate, chain or pin, digest call, https service addresses),
 * and only then, when asked, turn plain HTTP off. When verification fails HTTPS is turned off again, the
 * previous assignment restored and the new certificate removed: the device is never left reachable only over
 * an unverified channel.
 */
export async function enableHttps(device: OnvifDevice, params: EnableHttpsParams = {}, options: TaskOptions = {}): Promise<HttpsResult> {
  const source = pickSource(params);
  if (params.httpsPort !== undefined && !(Number.isInteger(params.httpsPort) && params.httpsPort > 0 && params.httpsPort < 65536)) throw invalid('httpsPort must be a port number (1-65535).');
  const progress = (step: string, text: string, percent: number) => options.onProgress?.({ task: 'enableHttps', step, text: `enableHttps: ${text}`, percent });
  progress('capabilities', 'reading the keystore capabilities', 0);
  await device.connect();
  if (device.url.protocol === 'https:') throw invalid(`${device.displayAddress} is already reached over https; use renewCertificate to change its certificate.`);
  const ks = new Keystore(device);
  const caps = await ks.capabilities();
  if (!caps.tlsServerSupported.length) throw new OnvifError('unsupported', `${device.displayAddress} has no TLS server (TLSServerSupported is empty).`);
  const before = await readProtocols(device);
  const httpsBefore = before.find((p) => p.Name === 'HTTPS');
  if (!httpsBefore) throw new OnvifError('unsupported', `${device.displayAddress} does not list HTTPS among its network protocols.`);
  const port = params.httpsPort ?? httpsBefore.Port[0] ?? 443;
  const names = await deviceNames(device);
  const assignedBefore = await ks.assignedServerPaths();

  const prepared = await preparePath(ks, caps, source, params, names, progress);
  progress('assign', 'assigning the certificate to the TLS server', 50);
  const replaced = assignedBefore[0];
  try {
    if (replaced) await ks.replaceServerAssignment(replaced, prepared.pathId);
    else await ks.addServerAssignment(prepared.pathId);
  } catch (e) {
    await ks.deletePathAndUnused(prepared.pathId).catch(() => undefined);
    throw e;
  }
  const address = httpsUrl(device, port);
  let secure: OnvifDevice;
  try {
    progress('https-on', 'turning HTTPS on', 60);
    await setProtocols(device, protocolsWith(before, 'HTTPS', true, port));
    progress('verify', `verifying ${address}`, 70);
    secure = await verifyHttps(device, address, prepared.leaf, prepared.trust);
  } catch (e) {
    progress('rollback', 'verification failed: rolling back', 75);
    const rollbackProblem = await rollback(device, ks, before, replaced, prepared.pathId);
    const why = e instanceof Error ? e.message : String(e);
    throw new OnvifError(isOnvifError(e) ? e.kind : 'tls', `HTTPS on ${device.displayAddress} could not be verified, so it was rolled back (HTTPS ${httpsBefore.Enabled ? 'left as before' : 'off again'}, previous certificate kept, the new one removed): ${why}${rollbackProblem ? ` Rollback problem: ${rollbackProblem}` : ''}`, { cause: e, address: device.displayAddress });
  }
  try {
    let httpDisabled = false;
    if (params.httpOff) {
      progress('http-off', 'turning plain HTTP off', 85);
      // Over the verified HTTPS session: the HTTP one is about to go.
      await setProtocols(secure, protocolsWith(await readProtocols(secure), 'HTTP', false));
      await secure.call('GetDeviceInformation');
      httpDisabled = true;
    }
    if (replaced) await new Keystore(secure).deletePathAndUnused(replaced).catch(() => undefined);
    progress('done', `HTTPS verified at ${address}`, 100);
    return {
      source, address, tls: prepared.trust, fingerprint: fingerprintOf(prepared.leaf), ca: prepared.ca, certificate: certificateInfo(prepared.leaf),
      certificationPathId: prepared.pathId, keyId: prepared.keyId, httpDisabled,
    };
  } finally {
    await secure.close();
  }
}

/** Put protocols and assignment back and remove the new path; returns what could not be undone. */
async function rollback(device: OnvifDevice, ks: Keystore, protocols: TtNetworkProtocol[], replaced: string | undefined, newPathId: string): Promise<string | undefined> {
  const problems: string[] = [];
  const step = async (what: string, f: () => Promise<void>) => {
    try {
      await f();
    } catch (e) {
      problems.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  await step('restoring the network protocols', () => setProtocols(device, protocols.map((p) => ({ Name: p.Name, Enabled: p.Enabled, Port: p.Port }))));
  if (replaced) await step('restoring the previous certificate', () => ks.replaceServerAssignment(newPathId, replaced));
  else await step('removing the new assignment', () => ks.removeServerAssignment(newPathId));
  await step('deleting the new certificate', () => ks.deletePathAndUnused(newPathId));
  return problems.length ? problems.join('; ') : undefined;
}

export type RenewCertificateParams = CertificateSourceParams;

/**
 * Rotate the TLS certificate without downtime: a new key and certificate by the same kinds of source,
 * ReplaceServerCertificateAssignment while HTTPS stays on, verification, then the old path, certificate and key
 * deleted. If the new certificate does not verify, the old one is put back.
 */
export async function renewCertificate(device: OnvifDevice, params: RenewCertificateParams = {}, options: TaskOptions = {}): Promise<HttpsResult> {
  const source = pickSource(params);
  const progress = (step: string, text: string, percent: number) => options.onProgress?.({ task: 'renewCertificate', step, text: `renewCertificate: ${text}`, percent });
  await device.connect();
  const ks = new Keystore(device);
  const caps = await ks.capabilities();
  const protocols = await readProtocols(device);
  const https = protocols.find((p) => p.Name === 'HTTPS');
  const old = (await ks.assignedServerPaths())[0];
  if (!https?.Enabled || !old) throw invalid(`HTTPS is not on at ${device.displayAddress}; turn it on with enableHttps first.`);
  const port = https.Port[0] ?? 443;
  const names = await deviceNames(device);
  const prepared = await preparePath(ks, caps, source, params, names, progress);
  progress('replace', 'replacing the TLS certificate', 60);
  try {
    await ks.replaceServerAssignment(old, prepared.pathId);
  } catch (e) {
    await ks.deletePathAndUnused(prepared.pathId).catch(() => undefined);
    throw e;
  }
  const address = httpsUrl(device, port);
  let secure: OnvifDevice;
  try {
    progress('verify', `verifying ${address}`, 75);
    secure = await verifyHttps(device, address, prepared.leaf, prepared.trust);
  } catch (e) {
    // The old certificate goes back. A session over HTTPS trusting only the old certificate cannot connect
    // while the new one is served: then the undo goes through a session pinned to exactly the new certificate
    // (the one this task just made), never through an unverified one.
    let undo = ks;
    let pinned: OnvifDevice | undefined;
    const undone = await ks.replaceServerAssignment(prepared.pathId, old).then(() => true, (err: unknown) => {
      if (!isOnvifError(err) || err.kind !== 'tls') return false;
      pinned = device.derive({ tls: { fingerprint: fingerprintOf(prepared.leaf) } });
      undo = new Keystore(pinned);
      return undo.replaceServerAssignment(prepared.pathId, old).then(() => true, () => false);
    });
    if (undone) await undo.deletePathAndUnused(prepared.pathId).catch(() => undefined);
    await pinned?.close();
    const why = e instanceof Error ? e.message : String(e);
    if (!undone) {
      throw new OnvifError('tls', `The new certificate of ${device.displayAddress} could not be verified (${why}), and the old one could not be put back: assign certification path ${old} again (ReplaceServerCertificateAssignment) from a session that can reach the device.`, { cause: e });
    }
    throw new OnvifError(isOnvifError(e) ? e.kind : 'tls', `The new certificate of ${device.displayAddress} could not be verified; the old one is back in place: ${why}`, { cause: e });
  }
  try {
    progress('cleanup', 'deleting the old certificate and key', 90);
    // Through the verified session: one pinned to the old certificate no longer connects.
    await new Keystore(secure).deletePathAndUnused(old);
    progress('done', 'certificate renewed', 100);
    return {
      source, address, tls: prepared.trust, fingerprint: fingerprintOf(prepared.leaf), ca: prepared.ca, certificate: certificateInfo(prepared.leaf),
      certificationPathId: prepared.pathId, keyId: prepared.keyId, httpDisabled: !protocols.find((p) => p.Name === 'HTTP')?.Enabled,
    };
  } finally {
    await secure.close();
  }
}

export interface CertificateReportParams {
  /** Flag certificates that expire within this many days (default 60). */
  warnDays?: number;
}

export interface CertificateReport {
  https: { enabled: boolean; ports: number[] };
  /** The leaf of each assigned certification path. */
  certificates: Array<CertificateInfo & { certificationPathId: string }>;
  /** Fewest days left among them (undefined when none is assigned). */
  daysLeft?: number;
  notAfter?: string;
  /** Some certificate expires within warnDays (or has expired). */
  expiresSoon: boolean;
  warnDays: number;
}

/** The assigned certificates' expiry and days left, for a flow that warns before they expire. */
export async function certificateReport(device: OnvifDevice, params: CertificateReportParams = {}, options: TaskOptions = {}): Promise<CertificateReport> {
  const warnDays = params.warnDays ?? SIXTY_DAYS;
  if (!(Number.isInteger(warnDays) && warnDays >= 0)) throw invalid('warnDays must be a whole number of days (0 or more).');
  options.onProgress?.({ task: 'certificateReport', step: 'read', text: 'certificateReport: reading the assigned certificates', percent: 0 });
  await device.connect();
  if (!device.serviceAddress(NS.tas)) {
    throw new OnvifError('unsupported', `${device.displayAddress} has no security configuration service, so its certificates cannot be read over ONVIF.`);
  }
  const ks = new Keystore(device);
  const https = (await readProtocols(device)).find((p) => p.Name === 'HTTPS');
  const certificates: CertificateReport['certificates'] = [];
  for (const pathId of await ks.assignedServerPaths()) {
    const path = await ks.certificationPath(pathId);
    const leaf = await ks.certificate(path.certificateIds[0]!);
    const { der: _der, certificateId: _c, keyId: _k, alias: _a, ...info } = leaf;
    certificates.push({ ...info, certificationPathId: pathId });
  }
  const soonest = [...certificates].sort((a, b) => a.daysLeft - b.daysLeft)[0];
  options.onProgress?.({ task: 'certificateReport', step: 'done', text: soonest ? `certificateReport: ${soonest.daysLeft} days left` : 'certificateReport: no certificate assigned', percent: 100 });
  return {
    https: { enabled: !!https?.Enabled, ports: https?.Port ?? [] },
    certificates,
    daysLeft: soonest?.daysLeft,
    notAfter: soonest?.notAfter,
    expiresSoon: !!soonest && soonest.daysLeft <= warnDays,
    warnDays,
  };
}
