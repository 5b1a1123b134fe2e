import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { XmlElement } from '../xml/parse';
import { NS } from '../xml/namespaces';
import { attr, child, descendant, text } from '../xml/query';
import type { SimulatedUser } from './state';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

const PASSWORD_DIGEST_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';

function hash(algorithm: DigestAlgorithm, s: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(s, 'utf8').digest('hex');
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
  while ((m = re.exec(rest))) out[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  return out;
}

export type DigestResult =
  | { ok: true; user: SimulatedUser }
  | { ok: false; stale: boolean; why: string };

/**
 * Server side of HTTP digest (RFC 2617 / RFC 7616, qop=auth). Nonces carry their issue time and an
 * HMAC, so an expired nonce can be told apart from a forged one (expired → stale=true) without
 * remembering every nonce ever issued; nonce counts are remembered per live nonce and must increase.
 */
export class DigestServer {
  private readonly secret = randomBytes(32);
  readonly opaque = randomBytes(8).toString('hex');
  private readonly lastNc = new Map<string, number>();

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
    const issued = now.toString(16);
    return `${issued}${this.sign(issued)}`;
  }

  /** Issue time of a nonce we made, or undefined for a forged/unknown one. */
  private nonceIssued(nonce: string): number | undefined {
    if (nonce.length <= 32) return undefined;
    const issued = nonce.slice(0, -32);
    if (!/^[0-9a-f]+$/.test(issued) || !safeEqual(nonce.slice(-32), this.sign(issued))) return undefined;
    return parseInt(issued, 16);
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
    const issued = this.nonceIssued(nonce);
    if (issued === undefined) return { ok: false, stale: false, why: 'unknown nonce' };
    const user = users.find((u) => u.username === username);
    if (!user) return { ok: false, stale: false, why: 'unknown user' };
    if (user.password === '' && !this.emptyPasswordsSignIn) return { ok: false, stale: false, why: 'empty passwords do not sign in' };
    const ha1 = hash(algorithm, `${username}:${this.realm}:${user.password}`);
    const ha2 = hash(algorithm, `${method}:${uri}`);
    const expected = hash(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
    if (!safeEqual(expected, response.toLowerCase())) return { ok: false, stale: false, why: 'wrong password' };
    // Correct credentials on an old nonce: tell the client to retry with a fresh one, no password prompt.
    if (Date.now() - issued > this.nonceLifetimeMs) {
      this.lastNc.delete(nonce);
      return { ok: false, stale: true, why: 'nonce expired' };
    }
    const count = parseInt(nc, 16);
    const last = this.lastNc.get(nonce) ?? 0;
    if (count <= last) return { ok: false, stale: false, why: 'nonce count replayed' };
    this.lastNc.set(nonce, count);
    this.prune();
    return { ok: true, user };
  }

  private prune(): void {
    if (this.lastNc.size < 1000) return;
    for (const nonce of this.lastNc.keys()) {
      const issued = this.nonceIssued(nonce);
      if (issued === undefined || Date.now() - issued > this.nonceLifetimeMs) this.lastNc.delete(nonce);
    }
  }

  /** Forget nonce counts (a reboot). */
  reset(): void {
    this.lastNc.clear();
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

  private prune(deviceNow: number): void {
    for (const [nonce, until] of this.seen) if (until < deviceNow) this.seen.delete(nonce);
  }

  reset(): void {
    this.seen.clear();
  }
}
