/**
 * The simulated keystore (AdvSec §5.2) as plain JSON in the device state, so it persists with the rest and a
 * hard factory default forgets it. Private keys are kept as PEM: this is a simulator, not an HSM.
 */
export interface KeystoreState {
  /** Next number for generated IDs (KeyID, CertificateID, ...): IDs are never reused. */
  nextId: number;
  keys: StoredKey[];
  certificates: StoredCertificate[];
  paths: StoredPath[];
  passphrases: StoredPassphrase[];
  /** Certification path IDs assigned to the TLS server (AdvSec §5.3.3). */
  assignedServerPaths: string[];
}

export type KeyStatus = 'ok' | 'generating' | 'corrupt';

export interface StoredKey {
  id: string;
  alias?: string;
  status: KeyStatus;
  /** PKCS#8 PEM; absent for a public-only key (a CA certificate's). */
  privatePem?: string;
  /** SPKI PEM; absent while generating or when corrupt. */
  publicPem?: string;
  externallyGenerated: boolean;
}

export interface StoredCertificate {
  id: string;
  alias?: string;
  keyId: string;
  /** DER, base64. */
  der: string;
}

export interface StoredPath {
  id: string;
  alias?: string;
  /** Leaf first. */
  certificateIds: string[];
}

export interface StoredPassphrase {
  id: string;
  alias?: string;
  passphrase: string;
}

export function emptyKeystore(): KeystoreState {
  return { nextId: 1, keys: [], certificates: [], paths: [], passphrases: [], assignedServerPaths: [] };
}

/** A fresh ID with a kind prefix, e.g. 'Key-3'. */
export function newId(ks: KeystoreState, kind: 'Key' | 'Cert' | 'Path' | 'Pass'): string {
  return `${kind}-${ks.nextId++}`;
}
