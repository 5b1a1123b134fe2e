import type { XmlContent } from '../xml/build';
import type { ParsedEnvelope } from '../soap/envelope';

/** How the client authenticates. `auto`: digest when challenged, UsernameToken when the device answers NotAuthorized without a challenge; never both at once. */
export type AuthMode = 'auto' | 'digest' | 'ws-security' | 'none';

/** What was actually used on the last successful request. */
export type AuthMethodInUse = 'none' | 'digest-MD5' | 'digest-MD5-sess' | 'digest-SHA-256' | 'digest-SHA-256-sess' | 'ws-security' | 'basic';

export interface TlsOptions {
  /** PEM CA certificate(s) to trust in addition to (or instead of) the system store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** SHA-256 fingerprint of the device certificate (hex, colons optional). When set, the certificate must match it; the chain is not checked. */
  fingerprint?: string;
  /** false = accept any certificate (self-signed). Only when the user chose it knowingly. Default true. */
  rejectUnauthorized?: boolean;
}

export interface TransportOptions {
  username?: string;
  password?: string;
  auth?: AuthMode;
  /** Allow HTTP Basic when a device offers only Basic over plain http (default false: refuse with a clear error). Over https Basic is allowed. */
  allowBasic?: boolean;
  /** Per-request timeout in ms (default 10000). */
  timeoutMs?: number;
  /** Response body cap in bytes (default 10 MB). */
  maxResponseBytes?: number;
  tls?: TlsOptions;
  /** Device clock minus local clock, in ms, used for WS-UsernameToken `Created` (settable by the session). */
  clockOffsetMs?: number;
  /**
   * Called to re-measure the clock offset once after a refused WS-UsernameToken; returns the new offset. It must
   * read the clock with `anonymousOnly` (signing in would need the clock); the token is sent again only when
   * the offset moved.
   */
  remeasureClock?: () => Promise<number>;
  /** Carried by this client's wire-trace messages (see trace.ts), so a listener can pick one client's traffic. */
  traceLabel?: string;
}

export interface SoapCallOptions {
  /** SOAP action URI, sent as the `action` parameter of the Content-Type. */
  action?: string;
  /** Extra SOAP header blocks (WS-Addressing, echoed reference parameters). */
  headers?: XmlContent[];
  /**
   * Send without any credentials (PRE_AUTH operations such as GetSystemDateAndTime). When the device refuses,
   * the request is signed in, since some firmware protects even PRE_AUTH operations (QUIRKS.md §6, Vivotek).
   */
  anonymous?: boolean;
  /** With `anonymous`: never sign in, even when refused (the clock read behind a re-measure, which signing in would need). */
  anonymousOnly?: boolean;
  /** Override the timeout for this call (long polls). */
  timeoutMs?: number;
  /** Operation name, for error messages. */
  operation?: string;
  signal?: AbortSignal;
}

export interface SoapResponse extends ParsedEnvelope {
  httpStatus: number;
  headers: Record<string, string | string[] | undefined>;
}

/** Digest hash algorithms this client can answer (RFC 7616 §3.2; names upper-cased as on the wire). */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

/** One `WWW-Authenticate: Digest ...` challenge, parameters unquoted. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  /** As the server wrote it, upper-cased; 'MD5' when absent (RFC 7616 §3.3). */
  algorithm: string;
  /** Offered qop values (`auth`, `auth-int`); empty = RFC 2069 style (no nc/cnonce). */
  qop: string[];
  opaque?: string;
  /** true only for `stale=true` (quoted or not, any case). */
  stale: boolean;
  domain?: string;
  charset?: string;
  /** RFC 7616 §3.4.4: the server wants the username hashed. */
  userhash: boolean;
  /** All parameters as parsed (lower-case names), for diagnostics. */
  params: Record<string, string>;
}
