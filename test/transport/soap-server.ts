/**
 * A small SOAP server for transport tests: the cases third-party peers cannot produce (NotAuthorized
 * without a challenge, stale nonces, WS-UsernameToken, odd bodies). Its digest and UsernameToken checks are
 * written here from the RFC / WSS texts, independently of lib/transport, so a bug there cannot hide itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { SoapClient } from '../../lib/transport';
import { parseXml } from '../../lib/xml/parse';
import { descendant } from '../../lib/xml/query';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: SeenRequest, res: http.ServerResponse) => void;

export class TestServer {
  readonly requests: SeenRequest[] = [];
  connections = 0;
  private readonly sockets = new Set<Socket>();
  handler: Handler;

  private constructor(
    readonly server: http.Server | https.Server,
    handler: Handler,
  ) {
    this.handler = handler;
    server.on('connection', (s: Socket) => {
      this.connections++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('secureConnection', () => undefined);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(seen);
        this.handler(seen, res);
      });
    });
  }

  static async start(handler: Handler, tls?: { key: string; cert: string }): Promise<TestServer> {
    const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }) : http.createServer();
    const t = new TestServer(server, handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return t;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `${this.server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${this.port}/onvif/device_service`;
  }

  /** Requests that carried an Authorization header / a WS-Security header. */
  get digestAttempts(): number {
    return this.requests.filter((r) => r.headers.authorization).length;
  }
  get tokenAttempts(): number {
    return this.requests.filter((r) => r.body.includes('UsernameToken')).length;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export const NS_SOAP = 'http://www.w3.org/2003/05/soap-envelope';

export function envelope(inner: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${NS_SOAP}" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" ` +
    `xmlns:ter="http://www.onvif.org/ver10/error"><s:Body>${inner}</s:Body></s:Envelope>`
  );
}

export function deviceInfo(manufacturer = 'TestVendor'): string {
  return envelope(
    `<tds:GetDeviceInformationResponse><tds:Manufacturer>${manufacturer}</tds:Manufacturer><tds:Model>M1</tds:Model>` +
      `<tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>SN1</tds:SerialNumber><tds:HardwareId>HW1</tds:HardwareId>` +
      `</tds:GetDeviceInformationResponse>`,
  );
}

export function faultXml(code: string, subcodes: string[], reason: string): string {
  let sub = '';
  for (const s of [...subcodes].reverse()) sub = `<s:Subcode><s:Value>${s}</s:Value>${sub}</s:Subcode>`;
  return envelope(
    `<s:Fault><s:Code><s:Value>${code}</s:Value>${sub}</s:Code><s:Reason><s:Text xml:lang="en">${reason}</s:Text></s:Reason></s:Fault>`,
  );
}

export function sendSoap(res: http.ServerResponse, xml: string, status = 200, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/soap+xml; charset=utf-8', ...headers });
  res.end(xml);
}

// ---------------------------------------------------------------------------------------------
// Digest, server side (RFC 7616 §3.4), kept deliberately separate from the client's code.

export type ServerAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

function h(alg: ServerAlgorithm, s: string): string {
  return createHash(alg.startsWith('SHA-256') ? 'sha256' : 'md5').update(s).digest('hex');
}

/** Parse `k=v, k="v"` from an Authorization header (simple: values never contain commas here except quoted). */
export function parseAuthorization(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z0-9*_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const m of header.replace(/^Digest\s+/i, '').matchAll(re)) out[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  return out;
}

export interface DigestServerOptions {
  users: Record<string, string>;
  realm?: string;
  /** Challenges to offer, in order; all in one header when `oneHeader`. */
  algorithms?: ServerAlgorithm[];
  oneHeader?: boolean;
  /** qop to offer; undefined = RFC 2069 style (no qop). */
  qop?: string;
  opaque?: string;
  /** Quote the algorithm value (`algorithm="MD5"`). */
  quoteAlgorithm?: boolean;
  /** A nonce is accepted for this many requests, then answered with stale=true. */
  nonceUses?: number;
  /** Answer every request with stale=true (a broken device), to prove the client does not loop. */
  alwaysStale?: boolean;
}

export class DigestGate {
  private readonly nonces = new Map<string, { uses: number; lastNc: number }>();
  /** Outcome of every Authorization checked: algorithm used, nc, cnonce, ok. */
  readonly checks: { algorithm: string; nc: string; cnonce: string; nonce: string; ok: boolean; reason?: string }[] = [];

  constructor(readonly options: DigestServerOptions) {}

  private challengeHeaders(stale: boolean): string[] {
    const o = this.options;
    const algs = o.algorithms ?? ['MD5'];
    const list = algs.map((alg) => {
      const nonce = randomBytes(12).toString('base64');
      this.nonces.set(nonce, { uses: 0, lastNc: 0 });
      const parts = [`realm="${o.realm ?? 'ONVIF'}"`];
      if (o.qop) parts.push(`qop="${o.qop}"`);
      parts.push(`nonce="${nonce}"`, o.quoteAlgorithm ? `algorithm="${alg}"` : `algorithm=${alg}`);
      if (o.opaque !== undefined) parts.push(`opaque="${o.opaque}"`);
      parts.push(stale ? 'stale=true' : 'stale=false');
      return `Digest ${parts.join(', ')}`;
    });
    return o.oneHeader ? [list.join(', ')] : list;
  }

  /** Returns true when the request is authenticated; otherwise answers 401 itself. */
  check(req: SeenRequest, res: http.ServerResponse): boolean {
    const header = req.headers.authorization;
    let stale = false;
    if (header && /^Digest /i.test(header)) {
      const p = parseAuthorization(header);
      const alg = (p.algorithm ?? 'MD5') as ServerAlgorithm;
      const record = this.nonces.get(p.nonce ?? '');
      const password = this.options.users[p.username ?? ''];
      let ok = false;
      let reason = '';
      if (!record) reason = 'unknown nonce';
      else if (password === undefined) reason = 'unknown user';
      else if (this.options.opaque !== undefined && p.opaque !== this.options.opaque) reason = 'opaque not echoed';
      else if (p.uri !== req.url) reason = 'uri mismatch';
      else {
        let ha1 = h(alg, `${p.username}:${this.options.realm ?? 'ONVIF'}:${password}`);
        if (alg.endsWith('-sess')) ha1 = h(alg, `${ha1}:${p.nonce}:${p.cnonce}`);
        const ha2 = h(alg, `${req.method}:${p.uri}`);
        const expected = p.qop ? h(alg, `${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) : h(alg, `${ha1}:${p.nonce}:${ha2}`);
        const nc = parseInt(p.nc ?? '0', 16);
        if (expected !== p.response) reason = 'wrong response';
        else if (this.options.alwaysStale || (this.options.nonceUses !== undefined && record.uses >= this.options.nonceUses)) {
          reason = 'stale';
          stale = true;
        } else if (p.qop && !(nc > record.lastNc)) reason = 'nc not increasing';
        else {
          ok = true;
          record.uses++;
          record.lastNc = nc;
        }
      }
      this.checks.push({ algorithm: alg, nc: p.nc ?? '', cnonce: p.cnonce ?? '', nonce: p.nonce ?? '', ok, reason });
      if (ok) return true;
    }
    res.writeHead(401, { 'WWW-Authenticate': this.challengeHeaders(stale), 'Content-Type': 'text/html' });
    res.end('<html><head><title>401 Unauthorized</title></head><body>401</body></html>');
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// WS-UsernameToken, server side (WSS UsernameToken Profile 1.0).

/**
 * Check the token in a SOAP request. `serverClockOffsetMs` is how far this "device" clock is ahead of
 * the machine clock; `Created` must be within `windowMs` of it.
 */
export function checkUsernameToken(
  body: string,
  users: Record<string, string>,
  serverClockOffsetMs = 0,
  windowMs = 5000,
): { ok: boolean; reason?: string; created?: string } {
  let doc;
  try {
    doc = parseXml(body);
  } catch {
    return { ok: false, reason: 'not XML' };
  }
  const token = descendant(doc, 'UsernameToken');
  if (!token) return { ok: false, reason: 'no token' };
  const username = descendant(token, 'Username')?.text ?? '';
  const password = descendant(token, 'Password');
  const nonce = descendant(token, 'Nonce')?.text ?? '';
  const created = descendant(token, 'Created')?.text ?? '';
  if (!password || !nonce || !created) return { ok: false, reason: 'incomplete token', created };
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(created)) return { ok: false, reason: `bad Created ${created}`, created };
  const secret = users[username];
  if (secret === undefined) return { ok: false, reason: 'unknown user', created };
  const expected = createHash('sha1')
    .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created), Buffer.from(secret)]))
    .digest('base64');
  if (password.text !== expected) return { ok: false, reason: 'wrong digest', created };
  const skew = Math.abs(Date.parse(created) - (Date.now() + serverClockOffsetMs));
  if (skew > windowMs) return { ok: false, reason: `clock skew ${skew} ms`, created };
  return { ok: true, created };
}

export const NOT_AUTHORIZED = faultXml('s:Sender', ['ter:NotAuthorized'], 'Sender not authorized');

/**
 * For a describe block: `serve(handler)` starts a TestServer, `client(options)` makes a SoapClient; both are
 * closed after each test.
 */
export function useServersAndClients(): {
  serve(handler: Handler): Promise<TestServer>;
  client(options?: ConstructorParameters<typeof SoapClient>[0]): SoapClient;
} {
  const servers: TestServer[] = [];
  const clients: SoapClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of servers.splice(0)) await s.stop();
  });
  return {
    async serve(handler) {
      const s = await TestServer.start(handler);
      servers.push(s);
      return s;
    },
    client(options = {}) {
      const c = new SoapClient(options);
      clients.push(c);
      return c;
    },
  };
}
