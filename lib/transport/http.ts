import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import type { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { urlToHttpOptions } from 'node:url';
import { OnvifError, deviceText } from '../errors';
import type { TlsOptions } from './types';
import { deadlines } from './deadlines';
import { cancelledError, cutOffError, networkError, timeoutError, tooLargeError } from './exchange-errors';
import { ConnectionPool } from './connection-pool';
import { BodyCollector } from './response-reader';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** WWW-Authenticate values, one entry per header line. */
  wwwAuthenticate: string[];
  body: Buffer;
}

export interface RawRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer | string;
  timeoutMs: number;
  maxResponseBytes: number;
  operation?: string;
  signal?: AbortSignal;
  /** `host:port` of `url` for messages, when the caller has it already. */
  where?: string;
}

/** `host:port` for messages; never includes credentials from the URL. */
export function hostPort(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
}

/** Hex SHA-256 fingerprint, lower case without separators; undefined if it is not 64 hex digits. */
export function normaliseFingerprint(fp: string): string | undefined {
  const hex = fp.replace(/[\s:]/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

function colonHex(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join(':');
}

type CreateConnectionCallback = (err: Error | null, socket?: Duplex) => void;

/**
 * An https agent that verifies the server before the request is written: pinned fingerprint, or the
 * usual chain + hostname check. Doing it here (rather than letting Node reject) lets the error show
 * the certificate fingerprint the user can pin, and guarantees no credentials leave before the check.
 */
class VerifyingHttpsAgent extends https.Agent {
  constructor(
    private readonly pin: string | undefined,
    private readonly verify: boolean,
    options: https.AgentOptions,
  ) {
    // Session resumption would skip the certificate on reconnects; keep every handshake full.
    super({ ...options, rejectUnauthorized: false, maxCachedSessions: 0 });
  }

  override createConnection(options: tls.ConnectionOptions & { host?: string; servername?: string }, callback: CreateConnectionCallback): undefined {
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    const where = `${options.host}:${options.port}`;
    const onError = (err: Error) => {
      socket.removeListener('secureConnect', onSecure);
      callback(err);
    };
    const onSecure = () => {
      socket.removeListener('error', onError);
      const cert = socket.getPeerCertificate();
      const seen = cert?.fingerprint256 ? normaliseFingerprint(cert.fingerprint256) : undefined;
      const seenText = seen ? colonHex(seen) : 'none';
      let problem: string | undefined;
      if (this.pin) {
        if (seen !== this.pin) {
          problem =
            `The certificate of ${where} does not match the pinned fingerprint. Seen SHA-256 ${seenText}, ` +
            `pinned ${colonHex(this.pin)}. If the device's certificate was replaced on purpose, pin the new fingerprint; otherwise do not connect.`;
        }
      } else if (this.verify) {
        let reason: string | undefined;
        if (!socket.authorized) reason = String(socket.authorizationError ?? 'unverified certificate');
        else {
          const idErr = tls.checkServerIdentity(options.servername || options.host || '', cert as tls.PeerCertificate);
          if (idErr) reason = idErr.message;
        }
        if (reason) {
          problem =
            `The certificate of ${where} could not be verified (${deviceText(reason)}). Certificate SHA-256 fingerprint: ${seenText}. ` +
            `Add the CA that issued it, pin this fingerprint after checking it on the device, or knowingly accept unverified certificates (rejectUnauthorized: false).`;
        }
      }
      if (problem) {
        socket.destroy();
        callback(new OnvifError('tls', problem));
        return;
      }
      callback(null, socket);
    };
    socket.once('error', onError);
    socket.once('secureConnect', onSecure);
    return undefined;
  }
}

/** How a client's requests go out: SOAP over plain http on the connection pool, the rest on node:http agents. */
export interface Agents {
  http: http.Agent;
  https: https.Agent;
  pool: ConnectionPool;
}

/** Build the keep-alive agents a client uses. */
export function createAgents(tlsOptions: TlsOptions = {}): Agents {
  const common = { keepAlive: true, maxSockets: 8, maxFreeSockets: 8 };
  let pin: string | undefined;
  if (tlsOptions.fingerprint !== undefined) {
    pin = normaliseFingerprint(tlsOptions.fingerprint);
    if (!pin) {
      throw new OnvifError(
        'invalid-input',
        'The pinned certificate fingerprint must be a SHA-256 fingerprint: 64 hexadecimal digits, with or without colons.',
      );
    }
  }
  return {
    http: new http.Agent(common),
    pool: new ConnectionPool(common.maxSockets),
    https: new VerifyingHttpsAgent(pin, tlsOptions.rejectUnauthorized !== false, { ...common, ca: tlsOptions.ca }),
  };
}

export interface SendResult extends RawResponse {
  /** The request went out on a kept-alive socket (a failure there may only mean the server dropped it). */
  reusedSocket: boolean;
}

/** node:http options for a URL, worked out once per URL (the request copies them). */
const requestOptions = new WeakMap<URL, http.RequestOptions>();

function requestOptionsOf(url: URL): http.RequestOptions {
  let o = requestOptions.get(url);
  if (!o) {
    o = urlToHttpOptions(url);
    requestOptions.set(url, o);
  }
  return o;
}

/** The WWW-Authenticate values of an answer, one per header line; read from the raw headers only when there are any. */
function wwwAuthenticateOf(res: http.IncomingMessage): string[] {
  if (res.headers['www-authenticate'] === undefined) return [];
  const out: string[] = [];
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 16 && raw[i]!.toLowerCase() === 'www-authenticate') out.push(raw[i + 1]!);
  return out;
}

/**
 * One HTTP exchange with a hard overall timeout and a streamed size cap. Always settles with a RawResponse or an OnvifError.
 * Plain http goes through the client's ConnectionPool; https through node:https and the verifying agent.
 * `req.headers` is sent as given (Content-Length is added to it): pass an object of this request's own.
 */
export function sendOnce(agents: Agents, req: RawRequest): Promise<SendResult> {
  if (req.url.protocol === 'http:') return agents.pool.send(req);
  return new Promise<SendResult>((resolve, reject) => {
    let settled = false;
    let reused = false;
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
    const headers = req.headers;
    if (body) headers['Content-Length'] = String(body.length);
    // Only messages need host:port; most exchanges end without one.
    const where = () => req.where ?? hostPort(req.url);
    const finish = (err: OnvifError | undefined, res?: SendResult) => {
      if (settled) return;
      settled = true;
      deadlines.remove(deadline);
      req.signal?.removeEventListener('abort', onAbort);
      if (err) {
        (err as OnvifError & { reusedSocket?: boolean }).reusedSocket = reused;
        reject(err);
      } else resolve(res!);
    };
    const r = https.request(
      Object.assign({}, requestOptionsOf(req.url), {
        method: req.method,
        headers,
        agent: agents.https,
      }),
      (res) => {
        const declared = Number(res.headers['content-length']);
        const tooLarge = () => tooLargeError(where(), req.operation, res.statusCode, req.maxResponseBytes);
        if (Number.isFinite(declared) && declared > req.maxResponseBytes) {
          finish(tooLarge());
          r.destroy();
          return;
        }
        const cutOff = () => cutOffError(where(), req.operation, res.statusCode);
        // Most answers come in one chunk: keep it as it is, and gather only when a second one comes.
        let first: Buffer | undefined;
        let chunks: BodyCollector | undefined;
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > req.maxResponseBytes) {
            finish(tooLarge());
            res.destroy();
            r.destroy();
            return;
          }
          if (chunks) chunks.add(chunk);
          else if (!first) first = chunk;
          else {
            chunks = new BodyCollector();
            chunks.add(first);
            chunks.add(chunk);
          }
        });
        res.on('end', () => {
          if (!res.complete) return finish(cutOff());
          finish(undefined, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            wwwAuthenticate: wwwAuthenticateOf(res),
            body: chunks ? chunks.result() : (first ?? EMPTY),
            reusedSocket: reused,
          });
        });
        res.on('aborted', () => finish(cutOff()));
        res.on('error', (e) => finish(networkError(e, where(), req.operation)));
      },
    );
    r.on('socket', () => {
      reused = r.reusedSocket;
    });
    r.on('error', (e: NodeJS.ErrnoException) => finish(networkError(e, where(), req.operation)));
    const deadline = deadlines.add(req.timeoutMs, () => {
      finish(timeoutError(where(), req.operation, req.timeoutMs));
      r.destroy();
    });
    const onAbort = () => {
      finish(cancelledError(where(), req.operation));
      r.destroy();
    };
    if (req.signal?.aborted) {
      onAbort();
      return;
    }
    req.signal?.addEventListener('abort', onAbort, { once: true });
    r.end(body);
  });
}

const EMPTY = Buffer.alloc(0);

export interface StreamRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  /** A Buffer, or a stream piped with backpressure (memory stays flat whatever its size). */
  body?: Buffer | Readable;
  /** Content-Length for a stream body; without it the body goes out chunked. */
  bodyLength?: number;
  /** No byte moving either way for this long fails the transfer (large files take long, so there is no overall limit). */
  idleTimeoutMs: number;
  /**
   * Once the whole request body is sent, wait this long for the answer instead of idleTimeoutMs (a device
   * verifies or flashes a firmware image before it answers). Default: idleTimeoutMs.
   */
  answerTimeoutMs?: number;
  /** Cap for answers that are read into memory (errors, challenges). */
  maxResponseBytes: number;
  operation?: string;
  signal?: AbortSignal;
  /** Body bytes handed to the socket so far (upload progress). */
  onBodyBytes?(sent: number): void;
  /**
   * Called once the status and headers are in: a Writable takes the body as a stream (download),
   * undefined reads it into `body` (challenges, errors, small answers).
   */
  sinkFor(status: number, headers: http.IncomingHttpHeaders): Writable | undefined;
}

export interface StreamResult extends SendResult {
  /** The body went to the sink instead of `body`. */
  streamed: boolean;
  /** Bytes of the response body received. */
  receivedBytes: number;
  /** Some of the request body was handed to the socket (a stream body cannot be sent again then). */
  bodyStarted: boolean;
}

/** Bytes of a streamed request body that may wait for the socket at once. */
const SEND_WINDOW_BYTES = 4 * 1024 * 1024;

/** How long to wait for `100 Continue` before sending the body anyway (RFC 9110 §10.1.1: servers may ignore Expect). */
const CONTINUE_WAIT_MS = 1000;

/**
 * One streamed HTTP exchange: the request body is piped (with `Expect: 100-continue`, so an auth challenge
 * costs no upload), the answer body goes to a sink chosen from the status. Always settles with a
 * StreamResult or an OnvifError; the timeout is an idle timeout, reset by every chunk either way.
 */
export function sendStreaming(agents: Agents, req: StreamRequest): Promise<StreamResult> {
  const where = hostPort(req.url);
  const isHttps = req.url.protocol === 'https:';
  const mod = isHttps ? https : http;
  return new Promise<StreamResult>((resolve, reject) => {
    let settled = false;
    let reused = false;
    let bodyStarted = false;
    let timer: NodeJS.Timeout | undefined;
    let bodySent = false;
    const headers: Record<string, string> = { ...req.headers };
    const body = req.body;
    const isStreamBody = body !== undefined && !Buffer.isBuffer(body);
    if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
    else if (body && req.bodyLength !== undefined) headers['Content-Length'] = String(req.bodyLength);
    if (body) headers.Expect = '100-continue';

    const finish = (err: OnvifError | undefined, res?: StreamResult) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      if (isStreamBody) (body as Readable).pause();
      if (err) {
        (err as OnvifError & { reusedSocket?: boolean; bodyStarted?: boolean }).reusedSocket = reused;
        // Some of the body left: the failure is not a stale kept-alive socket, and the body must not go out again.
        (err as OnvifError & { bodyStarted?: boolean }).bodyStarted = bodyStarted;
        r.destroy();
        reject(err);
      } else resolve(res!);
    };
    let timerMs = 0;
    const touch = () => {
      const waitingForAnswer = bodySent && req.answerTimeoutMs !== undefined;
      const ms = waitingForAnswer ? req.answerTimeoutMs! : req.idleTimeoutMs;
      // Called for every chunk of a large transfer: restarting the same timer is much cheaper than a new one.
      if (timer && timerMs === ms) {
        timer.refresh();
        return;
      }
      if (timer) clearTimeout(timer);
      timerMs = ms;
      timer = setTimeout(() => {
        finish(
          new OnvifError(
            'timeout',
            waitingForAnswer
              ? `${where} received the whole request but did not answer within ${ms / 1000} s${req.operation ? ` (${req.operation})` : ''}.`
              : `The transfer with ${where} stalled: nothing moved for ${ms / 1000} s${req.operation ? ` (${req.operation})` : ''}. ` +
                'Check that the device is still on the network; raise the timeout for slow devices.',
            { address: where, operation: req.operation },
          ),
        );
      }, ms);
    };

    const r = mod.request(req.url, { method: req.method, headers, agent: isHttps ? agents.https : agents.http });
    let continueTimer: NodeJS.Timeout | undefined;
    const sendBody = () => {
      if (continueTimer) clearTimeout(continueTimer);
      continueTimer = undefined;
      if (bodyStarted || settled) return;
      bodyStarted = true;
      if (!body) return void r.end();
      if (Buffer.isBuffer(body)) {
        r.end(body, () => req.onBodyBytes?.(body.length));
        return;
      }
      // Pumped by hand rather than piped: a byte counts as sent when the socket took it (the write's callback),
      // not when it was read from the source, so a connection that breaks half way reports how far it really got.
      // A few MB may wait for the socket, so reading the source overlaps with sending (a bounded window, not
      // the socket's 16 kB: large uploads then go as fast as the connection, and memory stays flat).
      let sent = 0;
      let inFlight = 0;
      let paused = false;
      // A source that reuses its read buffers (RecyclingReadable in lib/transfer/source.ts) gets each one back
      // once the socket has taken its bytes, and not before: until then the request may still hold it.
      const recycle = (body as Readable & { recycle?: (chunk: Buffer) => void }).recycle?.bind(body);
      body.on('data', (chunk: Buffer) => {
        if (settled) return;
        inFlight += chunk.length;
        r.write(chunk, (e) => {
          inFlight -= chunk.length;
          if (e || settled) return;
          recycle?.(chunk);
          sent += chunk.length;
          touch();
          req.onBodyBytes?.(sent);
          if (paused && inFlight <= SEND_WINDOW_BYTES / 2) {
            paused = false;
            body.resume();
          }
        });
        if (inFlight >= SEND_WINDOW_BYTES) {
          paused = true;
          body.pause();
        }
      });
      body.once('end', () => {
        if (!settled) r.end();
      });
      body.once('error', (e) =>
        finish(new OnvifError('invalid-input', `Reading the file to send failed: ${e.message}`, { address: where, operation: req.operation, cause: e })),
      );
    };

    r.on('socket', () => {
      reused = r.reusedSocket;
    });
    r.on('continue', sendBody);
    // Every byte of the request is out: from now on the device is working on it (answerTimeoutMs).
    r.on('finish', () => {
      bodySent = true;
      if (!settled && req.answerTimeoutMs !== undefined) touch();
    });
    r.on('error', (e: NodeJS.ErrnoException) => finish(networkError(e, where, req.operation)));
    r.on('response', (res) => {
      touch();
      // An answer before the body went out (a challenge, a refusal): do not send it at all.
      if (!bodyStarted && continueTimer) clearTimeout(continueTimer);
      const status = res.statusCode ?? 0;
      const base = { status, headers: res.headers, wwwAuthenticate: wwwAuthenticateOf(res), reusedSocket: reused, bodyStarted };
      const cutOff = () => cutOffError(where, req.operation, status);
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        touch();
      });
      res.on('aborted', () => finish(cutOff()));
      // Also after the sink is done: a reset socket must not become an uncaught error.
      res.on('error', (e) => finish(received > 0 ? cutOff() : networkError(e, where, req.operation)));
      const sink = req.sinkFor(status, res.headers);
      if (sink) {
        let sinkFailure: Error | undefined;
        sink.once('error', (e: Error) => (sinkFailure ??= e));
        pipeline(res, sink).then(
          () => finish(res.complete ? undefined : cutOff(), { ...base, body: Buffer.alloc(0), streamed: true, receivedBytes: received, bodyStarted }),
          (e: Error) => finish(e instanceof OnvifError ? e : sinkFailure ? sinkError(sinkFailure, where, req.operation) : cutOff()),
        );
        return;
      }
      const chunks = new BodyCollector();
      res.on('data', (chunk: Buffer) => {
        if (received <= req.maxResponseBytes) chunks.add(chunk);
      });
      res.on('end', () => {
        if (!res.complete) return finish(cutOff());
        const done = { ...base, body: chunks.result(), streamed: false, receivedBytes: received, bodyStarted };
        // A body we declared but never sent leaves the connection unusable: close it.
        if (body && (!bodyStarted || isStreamBody)) r.destroy();
        finish(undefined, done);
      });
    });
    const onAbort = () => finish(new OnvifError('closed', `The transfer with ${where} was cancelled.`, { address: where, operation: req.operation }));
    if (req.signal?.aborted) return onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    touch();
    if (body) {
      r.flushHeaders();
      continueTimer = setTimeout(sendBody, CONTINUE_WAIT_MS);
    } else {
      sendBody();
    }
  });
}

function sinkError(e: Error, where: string, operation?: string): OnvifError {
  return new OnvifError('invalid-input', `Storing what ${where} sent failed: ${e.message}`, { address: where, operation, cause: e });
}
