import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { sleep } from '../util/sleep';
import { buildEnvelope, NotSoapError, parseEnvelope, type ParsedEnvelope } from '../soap/envelope';
import type { XmlNode } from '../xml/build';
import { NS, UNDECLARED_NS_PREFIX } from '../xml/namespaces';
import { XmlParseError } from '../xml/parse';
import { levelMayUse, parseAccessPolicy, type AccessPolicyTable } from './access';
import { DigestServer, findUsernameToken, parseDigestAuthorization, UsernameTokenVerifier, type DigestAlgorithm, type DigestResult } from './auth';
import { EventFault } from './events/faults';
import { faultElement, notAuthorized, SimFault } from './faults';
import type { HttpReply, HttpRoute, SimulatedRequest, SimulatedService, SoapCall, SoapEndpoint } from './service';
import type { DeviceState, SimulatedUser } from './state';

export interface InjectedFault {
  kind: 'drop' | 'http500' | 'malformed' | 'html' | 'delay';
  operation?: string;
  times?: number;
  delayMs?: number;
}

/** What the server needs from the device it serves. */
export interface ServerHost {
  /** The live state: users, hashing algorithms, Factory Default, the access policy. */
  readonly state: DeviceState;
  /** Device clock, ms since epoch (WS-UsernameToken Created times are checked against it). */
  deviceNow(): number;
  /** 'request' with the SimulatedRequest once answered (or dropped). */
  emit(event: 'request', record: SimulatedRequest): boolean;
}

export interface ServerOptions {
  host: string;
  /** Mechanisms accepted once Operational. */
  auth: 'digest' | 'ws-security' | 'any' | 'none';
  latencyMs: number;
  usernameTokenWindowMs: number;
  digestNonceLifetimeMs: number;
  /** false: an account with an empty password never signs in (strict Profile Q, defaultAdmin). */
  emptyPasswordsSignIn: boolean;
  /** Path named in the 404 answer (the device service). */
  homePath: string;
}

const MAX_REQUEST_BYTES = 1024 * 1024;
/**
 * The request log keeps the latest this many entries: a long run (a bench, a soak test) must not grow it without
 * bound. Trimmed in one go when it reaches twice this, so logging stays O(1) per request and the log a plain array.
 */
export const REQUEST_LOG_LIMIT = 10_000;
const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';
const REALM = 'ONVIF-Q-Simulator';


function redactPasswords(body: string): string {
  if (!body.includes('Password') && !body.includes('Passphrase')) return body;
  return body.replace(/(<(?:[\w.-]+:)?(?:Password|Passphrase)\b[^>]*>)[^<]*(<\/)/g, '$1***$2');
}

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * The one HTTP server of a simulated device, shared by its services: routing by path, SOAP 1.2 parsing,
 * digest and WS-UsernameToken authentication with the access policy, fault injection, latency, and the
 * request log. What each path does is the services' business (service.ts).
 */
export class SimulatorServer {
  readonly requests: SimulatedRequest[] = [];
  readonly stats: { httpRequests: number; byOperation: Record<string, number>; unauthorized: number } = { httpRequests: 0, byOperation: {}, unauthorized: 0 };
  private readonly digest: DigestServer;
  private readonly usernameTokens: UsernameTokenVerifier;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private listenPort = 0;
  /** The HTTPS listener (AdvSec TLS server), when the device has HTTPS on: same routes, same authentication. */
  private tlsServer?: HttpsServer;
  private readonly tlsSockets = new Set<Socket>();
  private tlsListenPort = 0;
  private faults: Array<InjectedFault & { remaining: number }> = [];
  private policyCache?: { data: string; table?: AccessPolicyTable };

  constructor(
    private readonly host: ServerHost,
    private readonly options: ServerOptions,
    private readonly services: readonly SimulatedService[],
  ) {
    this.digest = new DigestServer(REALM, options.digestNonceLifetimeMs, options.emptyPasswordsSignIn);
    this.usernameTokens = new UsernameTokenVerifier(options.usernameTokenWindowMs, options.emptyPasswordsSignIn);
  }

  get port(): number {
    return this.listenPort;
  }

  private get state(): DeviceState {
    return this.host.state;
  }

  injectFault(fault: InjectedFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  listen(port: number): Promise<void> {
    const server = createServer((req, res) => void this.onRequest(req, res));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.host, () => {
        server.off('error', reject);
        this.listenPort = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  get tlsPort(): number {
    return this.tlsListenPort;
  }

  get tlsListening(): boolean {
    return !!this.tlsServer?.listening;
  }

  /**
   * Serve the same request handler over TLS on a second port with this key and chain (PEM, leaf first). For
   * an IP address the port is bound before this returns (Node binds synchronously), so a caller may answer
   * the request that turned HTTPS on right away.
   */
  listenTls(port: number, context: { key: string; cert: string }): Promise<void> {
    const server = createHttpsServer({ key: context.key, cert: context.cert, minVersion: 'TLSv1.2' }, (req, res) => void this.onRequest(req, res));
    server.on('connection', (s: Socket) => {
      this.tlsSockets.add(s);
      s.on('close', () => this.tlsSockets.delete(s));
    });
    // A client that gives up during the handshake (refused certificate) is not the device's problem.
    server.on('tlsClientError', () => undefined);
    this.tlsServer = server;
    return new Promise((resolve, reject) => {
      server.once('error', (e) => {
        if (this.tlsServer === server) this.tlsServer = undefined;
        reject(e);
      });
      server.listen(port, this.options.host, () => {
        this.tlsListenPort = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  /** Swap the certificate live: new connections get it, open ones keep theirs (ReplaceServerCertificateAssignment). */
  setTlsContext(context: { key: string; cert: string }): void {
    this.tlsServer?.setSecureContext({ key: context.key, cert: context.cert, minVersion: 'TLSv1.2' });
  }

  closeTls(): Promise<void> {
    const server = this.tlsServer;
    this.tlsServer = undefined;
    for (const s of this.tlsSockets) s.destroy();
    this.tlsSockets.clear();
    if (!server || !server.listening) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (!server || !server.listening) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  /** A reboot forgets digest nonces and seen UsernameToken nonces. */
  resetAuth(): void {
    this.digest.reset();
    this.usernameTokens.reset();
  }

  // ------------------------------------------------------------------------------------------ authentication

  get acceptsDigest(): boolean {
    return this.options.auth === 'digest' || this.options.auth === 'any';
  }

  get acceptsUsernameToken(): boolean {
    return this.options.auth === 'ws-security' || this.options.auth === 'any';
  }

  /** No credentials needed: Factory Default (there are none yet) or auth 'none'. */
  get open(): boolean {
    return this.state.factoryDefault || this.options.auth === 'none';
  }

  /** The HTTP digest credentials of a request checked (whatever the SOAP mechanisms), undefined when it has none. */
  verifyDigest(req: IncomingMessage, method: string, fallbackUri: string): DigestResult | undefined {
    const params = parseDigestAuthorization(req.headers.authorization);
    if (!params) return undefined;
    return this.digest.verify(params, req.method ?? method, req.url ?? fallbackUri, this.state.users, this.state.hashingAlgorithms as DigestAlgorithm[]);
  }

  /** WWW-Authenticate values, one per hashing algorithm. */
  digestChallenges(stale = false): string[] {
    return this.digest.challenges(this.state.hashingAlgorithms as DigestAlgorithm[], stale);
  }

  /** 401 with a SOAP NotAuthorized fault and the digest challenges. */
  challenge(stale = false): HttpReply {
    const f = notAuthorized('Authentication required: send HTTP digest credentials.');
    return {
      status: 401,
      headers: { 'Content-Type': SOAP_CONTENT_TYPE, 'WWW-Authenticate': this.digestChallenges(stale) },
      body: buildEnvelope(faultElement(f)),
    };
  }

  /** The access policy in force (the stored file, parsed once per change). */
  private get policy(): AccessPolicyTable | undefined {
    const data = this.state.accessPolicy?.data;
    if (!data) return undefined;
    if (this.policyCache?.data !== data) {
      const table = parseAccessPolicy(Buffer.from(data, 'base64'));
      // A file that no longer parses (hand-edited state file) falls back to the default policy.
      this.policyCache = { data, table: typeof table === 'string' ? undefined : table };
    }
    return this.policyCache.table;
  }

  /** Who is calling: a user, 'anonymous' (allowed without credentials), or the reply refusing them. */
  private authenticate(req: IncomingMessage, parsed: ParsedEnvelope, endpoint: SoapEndpoint, operation: string): SimulatedUser | 'anonymous' | HttpReply {
    if (this.open) return 'anonymous';
    let user: SimulatedUser | undefined;
    // Core §5.9.1: HTTP-level credentials are checked first, then the WS level.
    const digest = this.acceptsDigest ? this.verifyDigest(req, 'POST', this.options.homePath) : undefined;
    if (digest) {
      if (!digest.ok) return this.challenge(digest.stale);
      user = digest.user;
    }
    const token = this.acceptsUsernameToken ? findUsernameToken(parsed.header) : undefined;
    if (token) {
      const r = this.usernameTokens.verify(token, this.state.users, this.host.deviceNow());
      if (!r.ok) return this.faultReply(notAuthorized('The WS-UsernameToken was not accepted.'));
      user = r.user;
    }
    if (user) return user;
    if (levelMayUse('Anonymous', endpoint.accessClass(operation), this.policy)) return 'anonymous';
    return this.acceptsDigest ? this.challenge() : this.faultReply(notAuthorized('Authentication required: send a WS-UsernameToken.'));
  }

  // ------------------------------------------------------------------------------------------ requests

  private route(path: string, method: string, req?: IncomingMessage): HttpRoute | undefined {
    for (const s of this.services) for (const r of s.routes ?? []) if (r.matches(path, method, req)) return r;
    return undefined;
  }

  private endpoint(path: string): SoapEndpoint | undefined {
    for (const s of this.services) for (const e of s.endpoints ?? []) if (e.at(path)) return e;
    return undefined;
  }

  /** Add to the request log, dropping the oldest entries past REQUEST_LOG_LIMIT. */
  private log(record: SimulatedRequest): void {
    this.requests.push(record);
    if (this.requests.length >= 2 * REQUEST_LOG_LIMIT) this.requests.splice(0, this.requests.length - REQUEST_LOG_LIMIT);
  }

  private readBody(req: IncomingMessage): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_REQUEST_BYTES) {
          resolve(undefined);
          req.resume();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(size > MAX_REQUEST_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  private takeFault(operation: string | undefined): (InjectedFault & { remaining: number }) | undefined {
    const f = this.faults.find((x) => x.remaining > 0 && (!x.operation || x.operation === operation));
    if (!f) return undefined;
    f.remaining--;
    this.faults = this.faults.filter((x) => x.remaining > 0);
    return f;
  }

  /** Plain HTTP turned off by SetNetworkProtocols while HTTPS serves: the device only answers over TLS. */
  private plainHttpOff(req: IncomingMessage): boolean {
    if ((req.socket as TLSSocket).encrypted || !this.tlsListening) return false;
    return this.state.protocols.some((p) => p.name === 'HTTP' && !p.enabled);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.plainHttpOff(req)) {
      req.socket.destroy();
      return;
    }
    this.stats.httpRequests++;
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? '';
    const route = this.route(path, method, req);
    // Files (backup, restore) are streamed, never read into a SOAP request string.
    if (route?.body === 'stream') return this.onStream(req, res, path, route);
    let body = '';
    try {
      body = (await this.readBody(req)) ?? '';
    } catch {
      req.socket.destroy();
      return;
    }
    const endpoint = route ? undefined : this.endpoint(path);
    let parsed: ParsedEnvelope | undefined;
    let parseError: unknown;
    if (req.method === 'POST' && endpoint) {
      try {
        parsed = parseEnvelope(body);
      } catch (e) {
        parseError = e;
      }
    }
    const operation = parsed?.content?.local;
    const record: SimulatedRequest = {
      // req.headers is this request's own object, never changed after it arrived: kept as it is.
      time: new Date().toISOString(), method, path, headers: req.headers, body: redactPasswords(body), operation, status: 0,
    };
    if (operation) this.stats.byOperation[operation] = (this.stats.byOperation[operation] ?? 0) + 1;
    this.log(record);

    const injected = this.takeFault(operation);
    if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
    if (injected?.kind === 'delay') await sleep(injected.delayMs ?? 1000);
    if (injected?.kind === 'drop') {
      req.socket.destroy();
      this.host.emit('request', record);
      return;
    }

    // A waiting PullMessages ends when its caller hangs up. The signal is made only for a handler that asks for it:
    // aborting one builds an exception, which every other request would pay for on its close.
    let hangUp: AbortController | undefined;
    let hungUp = false;
    res.on('close', () => {
      hungUp = true;
      hangUp?.abort();
    });
    const signal = (): AbortSignal => {
      if (!hangUp) {
        hangUp = new AbortController();
        if (hungUp) hangUp.abort();
      }
      return hangUp.signal;
    };
    let reply: HttpReply;
    try {
      if (injected && injected.kind !== 'delay') reply = this.injectedReply(injected.kind);
      else if (route) reply = await route.handle(req, record);
      else reply = await this.answer(req, path, endpoint, parsed, parseError, signal);
    } catch (e) {
      if (e instanceof SimFault) reply = this.faultReply(e);
      else reply = this.faultReply(new SimFault('Receiver', ['Action'], 'The simulated device failed internally.'));
    }
    if (res.destroyed) {
      this.host.emit('request', record);
      return;
    }
    record.status = reply.status;
    if (reply.status === 401 || (reply.status >= 400 && /NotAuthorized/.test(String(reply.body)))) this.stats.unauthorized++;
    res.on('finish', () => {
      this.host.emit('request', record);
      // Let the bytes leave before a reboot or reset tears things down.
      for (const a of reply.after ?? []) setImmediate(a);
    });
    res.writeHead(reply.status, { ...reply.headers, 'Content-Length': Buffer.byteLength(reply.body) });
    res.end(reply.body);
  }

  /** A route that reads the request itself: no injected faults, plain-text 500 when it fails. */
  private async onStream(req: IncomingMessage, res: ServerResponse, path: string, route: HttpRoute): Promise<void> {
    const record: SimulatedRequest = {
      time: new Date().toISOString(), method: req.method ?? '', path, headers: req.headers, body: '', status: 0,
    };
    this.log(record);
    let reply: HttpReply;
    try {
      if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
      reply = await route.handle(req, record);
    } catch {
      reply = { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'The simulated device failed internally.\n' };
    }
    // Status 0: the route dropped the connection on purpose (an injected outcome); nothing to answer.
    if (res.destroyed || req.socket.destroyed || reply.status === 0) {
      req.socket.destroy();
      this.host.emit('request', record);
      return;
    }
    // An unread upload body must not be left in the socket when we answer early (refusal before the data).
    if (!req.complete) res.setHeader('Connection', 'close');
    record.status = reply.status;
    res.on('finish', () => {
      this.host.emit('request', record);
      for (const a of reply.after ?? []) setImmediate(a);
    });
    const body = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
    res.writeHead(reply.status, { ...reply.headers, 'Content-Length': body.length });
    res.end(body);
    if (!req.complete) req.resume();
  }

  private injectedReply(kind: 'http500' | 'malformed' | 'html'): HttpReply {
    if (kind === 'http500') return this.faultReply(new SimFault('Receiver', ['Action'], 'Injected failure: the device had an internal error.', 500));
    if (kind === 'malformed') {
      return {
        status: 200,
        headers: { 'Content-Type': SOAP_CONTENT_TYPE },
        body: `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="${NS.soap}" xmlns:tds="${NS.tds}"><env:Body><tds:GetDeviceInformationResponse><tds:Manufacturer>onvifq</tds:Manufact`,
      };
    }
    return {
      status: 200,
      headers: { 'Content-Type': 'text/html; charset=utf-8' },
      body: '<!DOCTYPE html><html><head><title>Web login</title></head><body><h1>Please log in</h1><form method="post"><input name="user"></form></body></html>',
    };
  }

  private soapReply(status: number, content: XmlNode, after?: Array<() => void>): HttpReply {
    return { status, headers: { 'Content-Type': SOAP_CONTENT_TYPE }, body: buildEnvelope(content), after };
  }

  private faultReply(f: SimFault): HttpReply {
    return this.soapReply(f.httpStatus, f instanceof EventFault ? f.toElement() : faultElement(f));
  }

  /** 'http://host:port' as the caller reached us (Host header), so addresses work behind NAT too. */
  private baseUrl(req: IncomingMessage): string {
    const encrypted = !!(req.socket as TLSSocket).encrypted;
    const scheme = encrypted ? 'https' : 'http';
    if (req.headers.host) return `${scheme}://${req.headers.host}`;
    const h = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `${scheme}://${h}:${encrypted ? this.tlsListenPort : this.listenPort}`;
  }

  private async answer(
    req: IncomingMessage, path: string, endpoint: SoapEndpoint | undefined, parsed: ParsedEnvelope | undefined, parseError: unknown, signal: () => AbortSignal,
  ): Promise<HttpReply> {
    if (!endpoint) return { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: `No service at ${path}. The device service is at ${this.options.homePath}.\n` };
    if (req.method !== 'POST') return { status: 405, headers: { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'POST' }, body: 'Use POST.\n' };
    if (!parsed) {
      const why = parseError instanceof XmlParseError || parseError instanceof NotSoapError ? parseError.message : 'empty or unreadable request';
      return this.faultReply(new SimFault('Sender', ['WellFormed'], `The request is not a well-formed SOAP envelope: ${why || 'empty body'}.`));
    }
    if (parsed.soapVersion === '1.1') return this.faultReply(new SimFault('VersionMismatch', [], 'This device speaks SOAP 1.2 only.'));
    const content = parsed.content;
    if (!content || !content.local) return this.faultReply(new SimFault('Sender', ['WellFormed'], 'The SOAP Body is empty.'));
    const operation = content.local;

    const who = this.authenticate(req, parsed, endpoint, operation);
    if (typeof who === 'object' && 'status' in who) return who;
    if (who !== 'anonymous' && !levelMayUse(who.level, endpoint.accessClass(operation), this.policy)) {
      return this.faultReply(notAuthorized(`The user level ${who.level} may not call ${operation}.`));
    }

    const after: Array<() => void> = [];
    const call: SoapCall = {
      header: parsed.header,
      path,
      baseUrl: this.baseUrl(req),
      get signal() {
        return signal();
      },
      afterResponse: (a) => after.push(a),
    };
    const ns = content.ns;
    const inNamespace = !endpoint.namespaces || endpoint.namespaces.includes(ns) || ns.startsWith(UNDECLARED_NS_PREFIX) || ns === '';
    const handler = inNamespace && hasOwn(endpoint.operations, operation) ? endpoint.operations[operation] : undefined;
    if (!handler) throw endpoint.unsupported(operation, call);
    return this.soapReply(200, await handler(content, call), after);
  }
}
