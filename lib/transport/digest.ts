import { randomBytes } from 'node:crypto';
import { deviceText } from '../errors';
import { hexDigest } from '../util/hex-digest';
import type { DigestAlgorithm, DigestChallenge } from './types';

/** One challenge of any scheme from a WWW-Authenticate value (RFC 7235 §2.1). */
export interface AuthChallenge {
  /** Scheme as written (`Digest`, `Basic`, ...). */
  scheme: string;
  /** Parameters with lower-case names and unquoted values. */
  params: Record<string, string>;
  /** token68 form (`Negotiate abc==`), when used instead of parameters. */
  token68?: string;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parse every challenge in one or more WWW-Authenticate values. Handles several challenges in one
 * header, quoted and unquoted values, empty values, folded lines (Dahua, QUIRKS.md §5) and stray commas.
 */
export function parseAuthChallenges(header: string | string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  if (Array.isArray(header)) return header.flatMap((h) => parseAuthChallenges(h));
  const s = header.replace(/\r?\n[ \t]+/g, ' ');
  const out: AuthChallenge[] = [];
  let i = 0;
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < s.length && TOKEN_CHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    while (i < s.length && /[\s,]/.test(s[i]!)) i++;
    if (i >= s.length) break;
    const scheme = readToken();
    if (!scheme) {
      i++; // skip a character we cannot read rather than loop forever
      continue;
    }
    const challenge: AuthChallenge = { scheme, params: {} };
    out.push(challenge);
    // Parameters until the next scheme (a token not followed by '=').
    for (;;) {
      while (i < s.length && /[\s,]/.test(s[i]!)) i++;
      if (i >= s.length) break;
      const mark = i;
      const name = readToken();
      skipWs();
      if (!name || s[i] !== '=') {
        if (!name) {
          i++;
          continue;
        }
        i = mark; // a new challenge starts here
        break;
      }
      // token68 (e.g. `abc==`) is a token followed only by '=' signs then a comma or the end.
      const afterEq = s.slice(i).match(/^=+\s*(,|$)/);
      if (afterEq && Object.keys(challenge.params).length === 0) {
        challenge.token68 = name + s.slice(i, i + afterEq[0].replace(/[\s,]/g, '').length);
        i += afterEq[0].length;
        break;
      }
      i++; // '='
      skipWs();
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++; // closing quote
      } else {
        const start = i;
        while (i < s.length && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
        value = s.slice(start, i);
      }
      challenge.params[name.toLowerCase()] = value;
    }
  }
  return out;
}

/** The Digest challenges among the WWW-Authenticate values, in the order the server sent them. */
export function parseDigestChallenges(wwwAuthenticate: string | string[] | undefined): DigestChallenge[] {
  return parseAuthChallenges(wwwAuthenticate)
    .filter((c) => c.scheme.toLowerCase() === 'digest')
    .map((c) => {
      const p = c.params;
      return {
        realm: p.realm ?? '',
        nonce: p.nonce ?? '',
        algorithm: (p.algorithm || 'MD5').toUpperCase(),
        qop: (p.qop ?? '')
          .split(',')
          .map((q) => q.trim().toLowerCase())
          .filter(Boolean),
        opaque: p.opaque,
        stale: (p.stale ?? '').toLowerCase() === 'true',
        domain: p.domain,
        charset: p.charset,
        userhash: (p.userhash ?? '').toLowerCase() === 'true',
        params: { ...p },
      };
    });
}

const SUPPORTED: Record<string, DigestAlgorithm> = {
  MD5: 'MD5',
  'MD5-SESS': 'MD5-sess',
  'SHA-256': 'SHA-256',
  'SHA-256-SESS': 'SHA-256-sess',
};
// Stronger first; the brief (and RFC 7616 §3.7) prefers SHA-256 whenever it is offered.
const PREFERENCE: DigestAlgorithm[] = ['SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

export function supportedAlgorithm(challenge: DigestChallenge): DigestAlgorithm | undefined {
  // Own keys only: the name comes from the device.
  return Object.hasOwn(SUPPORTED, challenge.algorithm) ? SUPPORTED[challenge.algorithm] : undefined;
}

/**
 * Why this client cannot answer a challenge (for the error message), or undefined when it can: it needs a
 * known algorithm, a nonce, and qop auth, auth-int or none.
 */
export function unusableReason(challenge: DigestChallenge): string | undefined {
  if (!supportedAlgorithm(challenge)) {
    return `algorithm ${deviceText(challenge.algorithm, 40)}, which this client does not support (it supports MD5, SHA-256 and their -sess forms)`;
  }
  if (!challenge.nonce) return 'an empty nonce, so there is nothing to answer';
  if (challenge.qop.length > 0 && !challenge.qop.includes('auth') && !challenge.qop.includes('auth-int')) {
    return `qop "${deviceText(challenge.qop.join(','), 40)}", which this client does not support (it supports auth and auth-int)`;
  }
  return undefined;
}

/** Pick the challenge to answer: usable (see unusableReason), strongest first. */
export function chooseDigestChallenge(challenges: DigestChallenge[]): DigestChallenge | undefined {
  const usable = challenges.filter((c) => unusableReason(c) === undefined);
  usable.sort((a, b) => PREFERENCE.indexOf(supportedAlgorithm(a)!) - PREFERENCE.indexOf(supportedAlgorithm(b)!));
  return usable[0];
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  /** request-target as sent (path and query). */
  uri: string;
  /** 'auth', 'auth-int', or undefined for RFC 2069 style. */
  qop?: 'auth' | 'auth-int';
  /** 8 hex digits; required with qop. */
  nc?: string;
  /** required with qop and for -sess. */
  cnonce?: string;
  /** entity body, for auth-int. */
  body?: Buffer | string;
}

function hashFor(algorithm: DigestAlgorithm): (data: string | Buffer) => string {
  const name = algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  return (data) => hexDigest(name, data);
}

/** The `response` value of RFC 7616 §3.4.1 (and RFC 2069 when qop is absent). */
export function computeDigestResponse(input: DigestInput): string {
  const H = hashFor(input.algorithm);
  let ha1 = H(`${input.username}:${input.realm}:${input.password}`);
  if (input.algorithm.endsWith('-sess')) ha1 = H(`${ha1}:${input.nonce}:${input.cnonce ?? ''}`);
  const a2 = input.qop === 'auth-int' ? `${input.method}:${input.uri}:${H(input.body ?? '')}` : `${input.method}:${input.uri}`;
  const ha2 = H(a2);
  if (!input.qop) return H(`${ha1}:${input.nonce}:${ha2}`);
  return H(`${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`);
}

function quote(v: string): string {
  return `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * A nonce we answer repeatedly: nc counts up, each request gets its own cnonce, so after the first
 * challenge every operation costs one request (RFC 7616 §3.4 nonce reuse). What does not change between
 * requests is computed once: HA1 (per username and password), HA2 (per method and URI, without auth-int) and
 * the header's fixed parameters; a request then costs one hash.
 */
export class DigestSession {
  readonly algorithm: DigestAlgorithm;
  readonly qop?: 'auth' | 'auth-int';
  private nc = 0;
  private readonly hash: (data: string | Buffer) => string;
  /**
   * cnonce = a random per-session prefix and the request's count: unpredictable to the server and never repeated
   * within the nonce, without asking the system for random bytes on every request.
   */
  private readonly cnoncePrefix = randomBytes(8).toString('hex');
  private ha1?: { username: string; password: string; value: string; identity: string };
  /** HA2 and the quoted uri per `method uri`; a device has a handful of service paths. */
  private readonly perUri = new Map<string, { ha2: string; uri: string }>();
  /** `, realm=..., nonce=..., ` as sent, and what follows the response (opaque, qop). */
  private readonly realmAndNonce: string;
  private readonly opaquePart: string;

  constructor(readonly challenge: DigestChallenge) {
    const alg = supportedAlgorithm(challenge);
    if (!alg) throw new Error(`unsupported digest algorithm ${challenge.algorithm}`);
    this.algorithm = alg;
    if (challenge.qop.includes('auth')) this.qop = 'auth';
    else if (challenge.qop.includes('auth-int')) this.qop = 'auth-int';
    this.hash = hashFor(alg);
    this.realmAndNonce = `realm=${quote(challenge.realm)}, nonce=${quote(challenge.nonce)}`;
    this.opaquePart = challenge.opaque !== undefined ? `, opaque=${quote(challenge.opaque)}` : '';
  }

  /** Requests answered with this nonce so far. */
  get count(): number {
    return this.nc;
  }

  /** HA1 before any -sess folding, and the username parameter as sent; recomputed only when the credentials change. */
  private credentials(username: string, password: string): { value: string; identity: string } {
    const cached = this.ha1;
    if (cached && cached.username === username && cached.password === password) return cached;
    const c = this.challenge;
    let identity: string;
    if (c.userhash) identity = `username=${quote(this.hash(`${username}:${c.realm}`))}, userhash=true`;
    else if (/^[\x20-\x7e]*$/.test(username)) identity = `username=${quote(username)}`;
    // RFC 7616 §3.4.4: non-ASCII names go in username* (RFC 5987 encoding).
    else identity = `username*=UTF-8''${encodeURIComponent(username)}`;
    this.ha1 = { username, password, value: this.hash(`${username}:${c.realm}:${password}`), identity };
    return this.ha1;
  }

  private forUri(method: string, uri: string): { ha2: string; uri: string } {
    const key = `${method} ${uri}`;
    let entry = this.perUri.get(key);
    if (!entry) {
      entry = { ha2: this.hash(`${method}:${uri}`), uri: quote(uri) };
      if (this.perUri.size >= 64) this.perUri.clear();
      this.perUri.set(key, entry);
    }
    return entry;
  }

  /** The Authorization header value for the next request. */
  authorization(username: string, password: string, method: string, uri: string, body?: Buffer | string): string {
    const c = this.challenge;
    const count = ++this.nc;
    const nc = count.toString(16).padStart(8, '0');
    const cnonce = `${this.cnoncePrefix}${nc}`;
    const { value: baseHa1, identity } = this.credentials(username, password);
    const sess = this.algorithm.endsWith('-sess');
    const ha1 = sess ? this.hash(`${baseHa1}:${c.nonce}:${cnonce}`) : baseHa1;
    const target = this.forUri(method, uri);
    const ha2 = this.qop === 'auth-int' ? this.hash(`${method}:${uri}:${this.hash(body ?? '')}`) : target.ha2;
    const response = this.qop ? this.hash(`${ha1}:${c.nonce}:${nc}:${cnonce}:${this.qop}:${ha2}`) : this.hash(`${ha1}:${c.nonce}:${ha2}`);
    let header = `Digest ${identity}, ${this.realmAndNonce}, uri=${target.uri}, algorithm=${this.algorithm}, response="${response}"${this.opaquePart}`;
    if (this.qop) header += `, qop=${this.qop}, nc=${nc}, cnonce="${cnonce}"`;
    else if (sess) header += `, cnonce="${cnonce}"`;
    return header;
  }
}
