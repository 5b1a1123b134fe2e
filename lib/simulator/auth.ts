import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { XmlElement } from '../xml/parse';
import { hexDigest } from '../util/hex-digest';
import { NS } from '../xml/namespaces';
import { attr, child, descendant, text } from '../xml/query';
import type { SimulatedUser } from './state';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

const PASSWORD_DIGEST_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';

function hash(algorithm: DigestAlgorithm, s: string): string {
  return hexDigest(algorithm === 'MD5' ? 'md5' : 'sha256', s);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Parse `Digest k=v, k="v"` (quoted values may hold commas). Undefined when not a Digest header. */
export function parseDigestAuthorization(header: string | undefined): Record<string, string> | undefined {
  if (!header || !/^Digest\s+/i.test(header)) return undefined;
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  const rest = header.replace(/^Digest\s+/i, '');
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest))) {
    const quoted = m[2];
    // Unescaping only where there is something to unescape: it was most of the cost of a request's digest check.
    out[m[1]!.toLowerCase()] = quoted === undefined ? m[3]! : quoted.includes('\\') ? quoted.replace(/\\(.)/g, '$1') : quoted;
  }
  return out;
}

export type DigestResult =
  | { ok: true; user: SimulatedUser }
  | { ok: false; stale: boolean; why: string };

/**
 * How far below the highest nonce count seen a count may still arrive. Concurrent requests on one nonce can
 * overtake each other on their way in; real devices accept a window of counts rather than a strictly rising one.
 */
export const NONCE_COUNT_WINDOW = 64;

/** What the server remembers of a live nonce: when it was issued, and the counts used within the window. */
interface LiveNonce {
  issued: number;
  highest: number;
  /** Counts above `highest - NONCE_COUNT_WINDOW` already used. */
  used: Set<number>;
}

/**
 * Server side of HTTP digest (RFC 2617 / RFC 7616, qop=auth). Nonces carry their issue time, a serial and an
 * HMAC, so an expired nonce can be told apart from a forged one (expired → stale=true) without remembering
 * every nonce ever issued; the HMAC is checked once per nonce, which is then remembered while it lives. Each
 * nonce count may be used once; counts may arrive out of order within NONCE_COUNT_WINDOW.
 */
export class DigestServer {
  private readonly secret = randomBytes(32);
  readonly opaque = randomBytes(8).toString('hex');
  private readonly live = new Map<string, LiveNonce>();
  /** Makes every nonce unique, also two issued in the same millisecond (each client's nonce counts start at 1). */
  private serial = 0;
  /** Digest answers are computed with the same HA1 and HA2 again and again: one hash each per combination. */
  private readonly hashes = new Map<string, string>();

  constructor(
    readonly realm: string,
    private readonly nonceLifetimeMs: number,
    /** false: an account with an empty password never signs in (it would be open to anyone). */
    private readonly emptyPasswordsSignIn = true,
  ) {}

  private sign(issued: string): string {
    return createHmac('sha256', this.secret).update(issued).digest('hex').slice(0, 32);
  }

  newNonce(now = Date.now()): string {
    this.serial = (this.serial + 1) % 0x100000000;
    const issued = `${now.toString(16)}${this.serial.toString(16).padStart(8, '0')}`;
    return `${issued}${this.sign(issued)}`;
  }

  /** Issue time of a nonce we made, or undefined for a forged/unknown one. */
  private nonceIssued(nonce: string): number | undefined {
    if (nonce.length <= 40) return undefined;
    const issued = nonce.slice(0, -32);
    if (!/^[0-9a-f]+$/.test(issued) || !safeEqual(nonce.slice(-32), this.sign(issued))) return undefined;
    return parseInt(issued.slice(0, -8), 16);
  }

  /** The nonce as remembered, checking its signature only the first time it is seen. */
  private lookUp(nonce: string): LiveNonce | undefined {
    const known = this.live.get(nonce);
    if (known) return known;
    const issued = this.nonceIssued(nonce);
    return issued === undefined ? undefined : { issued, highest: 0, used: new Set() };
  }

  /** H(s), remembered for the strings that repeat (A1 and A2). */
  private cachedHash(algorithm: DigestAlgorithm, s: string): string {
    const key = `${algorithm}\u0000${s}`;
    let h = this.hashes.get(key);
    if (h === undefined) {
      h = hash(algorithm, s);
      if (this.hashes.size >= 1024) this.hashes.clear();
      this.hashes.set(key, h);
    }
    return h;
  }

  /** One `WWW-Authenticate` value per algorithm, in the device's order of preference (Core §5.9.3.2). */
  challenges(algorithms: DigestAlgorithm[], stale = false): string[] {
    const nonce = this.newNonce();
    return algorithms.map(
      (a) => `Digest realm="${this.realm}", qop="auth", algorithm=${a}, nonce="${nonce}", opaque="${this.opaque}"${stale ? ', stale=true' : ''}`,
    );
  }

  verify(params: Record<string, string>, method: string, requestUri: string, users: SimulatedUser[], algorithms: DigestAlgorithm[]): DigestResult {
    const algorithm = (params.algorithm ?? 'MD5').toUpperCase() as DigestAlgorithm;
    if (!algorithms.includes(algorithm)) return { ok: false, stale: false, why: `algorithm ${params.algorithm ?? 'MD5'} not offered` };
    const { username, nonce, uri, response, cnonce, nc, qop, realm } = params;
    if (!username || !nonce || !uri || !response) return { ok: false, stale: false, why: 'incomplete digest credentials' };
    if (realm !== this.realm) return { ok: false, stale: false, why: 'wrong realm' };
    if (qop !== 'auth' || !cnonce || !nc || !/^[0-9a-fA-F]{1,8}$/.test(nc)) return { ok: false, stale: false, why: 'qop=auth with nc and cnonce required' };
    if (params.opaque !== undefined && params.opaque !== this.opaque) return { ok: false, stale: false, why: 'wrong opaque' };
    if (uri !== requestUri) return { ok: false, stale: false, why: 'digest uri does not match the request' };
    const live = this.lookUp(nonce);
    if (!live) return { ok: false, stale: false, why: 'unknown nonce' };
    const user = users.find((u) => u.username === username);
    if (!user) return { ok: false, stale: false, why: 'unknown user' };
    if (user.password === '' && !this.emptyPasswordsSignIn) return { ok: false, stale: false, why: 'empty passwords do not sign in' };
    const ha1 = this.cachedHash(algorithm, `${username}:${this.realm}:${user.password}`);
    const ha2 = this.cachedHash(algorithm, `${method}:${uri}`);
    const expected = hash(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
    if (!safeEqual(expected, response.toLowerCase())) return { ok: false, stale: false, why: 'wrong password' };
    // Correct credentials on an old nonce: tell the client to retry with a fresh one, no password prompt.
    if (Date.now() - live.issued > this.nonceLifetimeMs) {
      this.live.delete(nonce);
      return { ok: false, stale: true, why: 'nonce expired' };
    }
    const count = parseInt(nc, 16);
    if (count <= live.highest - NONCE_COUNT_WINDOW || live.used.has(count)) return { ok: false, stale: false, why: 'nonce count replayed' };
    live.used.add(count);
    if (count > live.highest) {
      live.highest = count;
      if (live.used.size > 2 * NONCE_COUNT_WINDOW) for (const c of live.used) if (c <= count - NONCE_COUNT_WINDOW) live.used.delete(c);
    }
    if (!this.live.has(nonce)) {
      this.prune();
      this.live.set(nonce, live);
    }
    return { ok: true, user };
  }

  private prune(): void {
    if (this.live.size < 1000) return;
    const now = Date.now();
    for (const [nonce, l] of this.live) if (now - l.issued > this.nonceLifetimeMs) this.live.delete(nonce);
  }

  /** Forget nonce counts (a reboot). */
  reset(): void {
    this.live.clear();
  }
}

export type UsernameTokenResult = { ok: true; user: SimulatedUser } | { ok: false; why: string };

/** The wsse:UsernameToken in a SOAP header, or undefined when there is none. */
export function findUsernameToken(header: XmlElement | undefined): XmlElement | undefined {
  const security = child(header, 'Security', NS.wsse);
  return security ? child(security, 'UsernameToken', NS.wsse) : undefined;
}

/**
 * WS-UsernameToken PasswordDigest (Core §5.9.5): Base64(SHA-1(nonce ‖ created ‖ password)), with both
 * Nonce and Created required, Created within the window of the DEVICE clock, and every nonce used once.
 */
export class UsernameTokenVerifier {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    /** false: an account with an empty password never signs in. */
    private readonly emptyPasswordsSignIn = true,
  ) {}

  verify(token: XmlElement, users: SimulatedUser[], deviceNow: number): UsernameTokenResult {
    const username = text(token, 'Username');
    const passwordEl = child(token, 'Password');
    const nonceB64 = text(token, 'Nonce');
    const created = text(descendant(token, 'Created', NS.wsu) ?? child(token, 'Created'));
    if (!username || !passwordEl) return { ok: false, why: 'UsernameToken without Username or Password' };
    if (attr(passwordEl, 'Type') !== PASSWORD_DIGEST_TYPE) return { ok: false, why: 'only PasswordDigest is accepted' };
    if (!nonceB64 || !created) return { ok: false, why: 'UsernameToken needs both Nonce and Created' };
    const createdMs = Date.parse(created);
    if (Number.isNaN(createdMs)) return { ok: false, why: 'Created is not a date' };
    if (Math.abs(createdMs - deviceNow) > this.windowMs) return { ok: false, why: 'Created is outside the accepted window of the device clock' };
    const user = users.find((u) => u.username === username);
    if (!user) return { ok: false, why: 'unknown user' };
    if (user.password === '' && !this.emptyPasswordsSignIn) return { ok: false, why: 'empty passwords do not sign in' };
    const nonce = Buffer.from(nonceB64, 'base64');
    const expected = createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(user.password, 'utf8')])).digest('base64');
    if (!safeEqual(expected, passwordEl.text.trim())) return { ok: false, why: 'wrong password' };
    this.prune(deviceNow);
    if (this.seen.has(nonceB64)) return { ok: false, why: 'nonce replayed' };
    // Keep the nonce as long as a token carrying it could still pass the Created check.
    this.seen.set(nonceB64, createdMs + this.windowMs);
    return { ok: true, user };
  }

  /**
   * Forget nonces whose tokens can no longer pass the Created check. Oldest first, stopping at the first one still
   * needed: tokens arrive roughly in Created order, so this costs what it removes, not the size of the map (a full
   * pass on every request slowed every client over a long run). One that arrived out of order is kept a little longer.
   */
  private prune(deviceNow: number): void {
    for (const [nonce, until] of this.seen) {
      if (until >= deviceNow) break;
      this.seen.delete(nonce);
    }
  }

  reset(): void {
    this.seen.clear();
  }
}
