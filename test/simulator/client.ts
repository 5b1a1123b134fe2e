/**
 * Minimal raw SOAP/HTTP client for the simulator tests: its own digest and UsernameToken code, so the
 * tests do not agree with the simulator just because they share code with it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { parseEnvelope, type ParsedEnvelope } from '../../lib/soap/envelope';

export const TDS = 'http://www.onvif.org/ver10/device/wsdl';
export const TT = 'http://www.onvif.org/ver10/schema';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Raw header lines (name, value, name, value, ...), to see repeated WWW-Authenticate headers. */
  rawHeaders: string[];
  body: string;
}

export function post(url: string, body: string, headers: Record<string, string> = {}, method = 'POST'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method, agent: false, headers: { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A SOAP 1.2 request for a device-service operation. `inner` is the XML inside the operation element (tds/tt prefixes declared). */
export function envelope(operation: string, inner = '', header = ''): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="${TDS}" xmlns:tt="${TT}">` +
    (header ? `<s:Header>${header}</s:Header>` : '') +
    `<s:Body><tds:${operation}>${inner}</tds:${operation}></s:Body></s:Envelope>`
  );
}

export function usernameToken(username: string, password: string, created: string, nonce: Buffer = randomBytes(16)): string {
  const digest = createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(password)])).digest('base64');
  return (
    '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" ' +
    'xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken>' +
    `<wsse:Username>${username}</wsse:Username>` +
    `<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</wsse:Password>` +
    `<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}

export function challenges(res: RawResponse): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    if (res.rawHeaders[i]!.toLowerCase() !== 'www-authenticate') continue;
    const v = res.rawHeaders[i + 1]!;
    const params: Record<string, string> = { scheme: v.split(' ')[0]! };
    for (const m of v.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) params[m[1]!] = m[2] ?? m[3]!;
    out.push(params);
  }
  return out;
}

export interface DigestSession {
  challenge: Record<string, string>;
  nc: number;
}

export function digestHeader(s: DigestSession, username: string, password: string, uri = '/onvif/device_service', method = 'POST', ncOverride?: number): string {
  const alg = s.challenge.algorithm ?? 'MD5';
  const h = (x: string) => createHash(alg === 'SHA-256' ? 'sha256' : 'md5').update(x).digest('hex');
  const nc = (ncOverride ?? ++s.nc).toString(16).padStart(8, '0');
  const cnonce = randomBytes(8).toString('hex');
  const ha1 = h(`${username}:${s.challenge.realm}:${password}`);
  const response = h(`${ha1}:${s.challenge.nonce}:${nc}:${cnonce}:auth:${h(`${method}:${uri}`)}`);
  return `Digest username="${username}", realm="${s.challenge.realm}", nonce="${s.challenge.nonce}", uri="${uri}", algorithm=${alg}, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}", opaque="${s.challenge.opaque}"`;
}

/** Send, answer a 401 with digest (preferring `algorithm`, else the first offered), return the final answer. */
export async function digestCall(url: string, body: string, username: string, password: string, algorithm?: string): Promise<RawResponse & { session?: DigestSession }> {
  const first = await post(url, body);
  if (first.status !== 401) return first;
  const offered = challenges(first);
  const challenge = offered.find((c) => !algorithm || c.algorithm === algorithm);
  if (!challenge) throw new Error(`algorithm ${algorithm} not offered: ${JSON.stringify(offered)}`);
  const session = { challenge, nc: 0 };
  const second = await post(url, body, { Authorization: digestHeader(session, username, password) });
  return { ...second, session };
}

export function parse(res: RawResponse): ParsedEnvelope {
  return parseEnvelope(res.body);
}

/** Subcodes of a fault answer, e.g. ['ter:InvalidArgVal', 'ter:UsernameClash']. */
export function faultOf(res: RawResponse): { code: string; subcodes: string[] } | undefined {
  const f = parse(res).fault;
  return f && { code: f.code, subcodes: f.subcodes };
}

/** Text of the first descendant element with this local name. */
export function textOf(res: RawResponse, local: string): string | undefined {
  const find = (e: ParsedEnvelope['envelope']): ParsedEnvelope['envelope'] | undefined => {
    if (e.local === local) return e;
    for (const c of e.children) {
      const f = find(c);
      if (f) return f;
    }
    return undefined;
  };
  return find(parse(res).body)?.text.trim();
}

export function allTexts(res: RawResponse, local: string): string[] {
  const out: string[] = [];
  const walk = (e: ParsedEnvelope['envelope']) => {
    if (e.local === local) out.push(e.text.trim());
    e.children.forEach(walk);
  };
  walk(parse(res).body);
  return out;
}
