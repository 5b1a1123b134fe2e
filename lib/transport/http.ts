import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import type { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { urlToHttpOptions } from 'node:url';
import { OnvifError, deviceText } from '../errors';
import { formatBytes } from '../util/format';
import type { TlsOptions } from './types';

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

/** Build the keep-alive agents a client uses. */
export function createAgents(tlsOptions: TlsOptions = {}): { http: http.Agent; https: https.Agent } {
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
    https: new VerifyingHttpsAgent(pin, tlsOptions.rejectUnauthorized !== false, { ...common, ca: tlsOptions.ca }),
  };
}

const UNREACHABLE_CODES: Record<string, string> = {
  ECONNREFUSED: 'refused the connection (nothing listens on that port)',
  ECONNRESET: 'closed the connection unexpectedly',
  EHOSTUNREACH: 'cannot be reached (no route to host)',
  ENETUNREACH: 'cannot be reached (network unreachable)',
  EHOSTDOWN: 'is down',
  ETIMEDOUT: 'did not accept the connection in time',
  ENOTFOUND: 'has a host name that does not resolve',
  EAI_AGAIN: 'has a host name that could not be resolved right now',
  EPIPE: 'closed the connection while the request was being sent',
  EADDRNOTAVAIL: 'cannot be reached from this machine (address not available)',
};

// What Node's HTTP parser (llhttp) refused in an answer, in plain words. The device did answer: this is not "unreachable".
const BROKEN_HTTP_CODES: Record<string, string> = {
  HPE_INVALID_CONSTANT: 'its first line is not an HTTP status line',
  HPE_INVALID_VERSION: 'an HTTP version that does not exist',
  HPE_INVALID_STATUS: 'a status code that is not a three-digit number',
  HPE_HEADER_OVERFLOW: `headers larger than the ${http.maxHeaderSize / 1024} kB Node.js accepts`,
  HPE_INVALID_HEADER_TOKEN: 'a header with a forbidden character (such as NUL, or a space in its name)',
  HPE_INVALID_CONTENT_LENGTH: 'a Content-Length that is not a plain number (negative, or with other characters)',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'a Content-Length given twice, or together with chunked encoding',
  HPE_INVALID_TRANSFER_ENCODING: 'a Transfer-Encoding that contradicts the Content-Length',
  HPE_INVALID_CHUNK_SIZE: 'a chunk size that is not a hexadecimal number (garbled chunked encoding)',
  HPE_CR_EXPECTED: 'line ends that are not CR LF',
  HPE_LF_EXPECTED: 'line ends that are not CR LF',
  HPE_UNEXPECTED_SPACE: 'a stray space in the status line or a header',
  HPE_CLOSED_CONNECTION: 'more data after it said it would close the connection',
};

function brokenHttpError(err: NodeJS.ErrnoException & { reason?: string }, where: string, operation?: string): OnvifError {
  const what = BROKEN_HTTP_CODES[err.code ?? ''] ?? deviceText(err.reason ?? err.message);
  return new OnvifError(
    'broken-http',
    `The device at ${where} answered with broken HTTP (${what}), which cannot be read safely. ` +
      'Check that the address points at the ONVIF service (not another program on that port), and look for a firmware update.',
    { address: where, operation, cause: err },
  );
}

const TLS_CODE = /CERT|SSL|TLS|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_SSL|HANDSHAKE/;

function networkError(err: NodeJS.ErrnoException, where: string, operation?: string): OnvifError {
  if (err instanceof OnvifError) return err;
  const code = err.code ?? '';
  if (code.startsWith('HPE_')) return brokenHttpError(err, where, operation);
  const details = { address: where, operation, cause: err };
  if (TLS_CODE.test(code) || /ssl|tls|certificate|wrong version number/i.test(err.message)) {
    return new OnvifError(
      'tls',
      `The secure connection to ${where} failed (${deviceText(err.message)}). Check that the port speaks https and the device's TLS settings.`,
      details,
    );
  }
  const what = UNREACHABLE_CODES[code] ?? `could not be reached (${deviceText(code || err.message)})`;
  return new OnvifError('unreachable', `The device at ${where} ${what}. Check the address, the port and that the device is powered and on the network.`, details);
}

/**
 * A response body gathered in memory. Runs of small chunks are merged as they come, so a device that answers in
 * one-byte chunks costs a few Buffer objects per 64 kB rather than one per byte (an 8 MB answer sent that way
 * held millions of them: hundreds of MB of heap).
 */
class BodyCollector {
  private readonly blocks: Buffer[] = [];
  private small: Buffer[] = [];
  private smallBytes = 0;

  add(chunk: Buffer): void {
    if (chunk.length >= 16 * 1024) {
      this.flush();
      this.blocks.push(chunk);
      return;
    }
    this.small.push(chunk);
    this.smallBytes += chunk.length;
    if (this.small.length >= 256 || this.smallBytes >= 64 * 1024) this.flush();
  }

  result(): Buffer {
    this.flush();
    return this.blocks.length === 1 ? this.blocks[0]! : Buffer.concat(this.blocks);
  }

  private flush(): void {
    if (this.small.length === 0) return;
    this.blocks.push(Buffer.concat(this.small, this.smallBytes));
    this.small = [];
    this.smallBytes = 0;
  }
}

export interface SendResult extends RawResponse {
  /** The request went out on a kept-alive socket (a failure there may only mean the server dropped it). */
  reusedSocket: boolean;
}

/** A request's overall time limit; `fire` runs once it passes. */
interface Deadline {
  at: number;
  fire(): void;
}

/**
 * The overall time limits of the requests in flight, on one timer armed for the earliest of them. A later deadline
 * (the usual case: calls one after another with the same timeout) leaves the timer as it is; when it fires, what is due
 * fires and it is armed again for the earliest left. So a request costs a Set entry rather than a timer of its own.
 * The timer holds the process open only while a request is in flight, as a timer per request did.
 */
class Deadlines {
  private readonly pending = new Set<Deadline>();
  private timer?: NodeJS.Timeout;
  private armedFor = Infinity;

  add(ms: number, fire: () => void): Deadline {
    const d: Deadline = { at: performance.now() + ms, fire };
    this.pending.add(d);
    if (d.at < this.armedFor) this.arm(d.at);
    else if (this.pending.size === 1) this.timer?.ref();
    return d;
  }

  remove(d: Deadline): void {
    if (this.pending.delete(d) && this.pending.size === 0) this.timer?.unref();
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    // Rounded up: a timer never fires early, so nothing is found "not yet due" by a fraction of a millisecond.
    this.timer = setTimeout(() => this.due(), Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(at - performance.now()))));
  }

  private due(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const d of this.pending) {
      if (d.at <= now) {
        this.pending.delete(d);
        d.fire();
      } else if (d.at < next) next = d.at;
    }
    if (next < this.armedFor && this.pending.size > 0) this.arm(next);
  }
}

const deadlines = new Deadlines();
/** setTimeout's longest wait; a later deadline is looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

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
 * `req.headers` is sent as given (Content-Length is added to it): pass an object of this request's own.
 */
export function sendOnce(agents: { http: http.Agent; https: https.Agent }, req: RawRequest): Promise<SendResult> {
  const isHttps = req.url.protocol === 'https:';
  const mod = isHttps ? https : http;
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
    const r = mod.request(
      Object.assign({}, requestOptionsOf(req.url), {
        method: req.method,
        headers,
        agent: isHttps ? agents.https : agents.http,
      }),
      (res) => {
        const declared = Number(res.headers['content-length']);
        const tooLarge = () =>
          new OnvifError(
            'too-large',
            `The answer from ${where()} is larger than the ${formatBytes(req.maxResponseBytes)} limit; it was not read. Raise maxResponseBytes if this is expected.`,
            { address: where(), operation: req.operation, httpStatus: res.statusCode },
          );
        if (Number.isFinite(declared) && declared > req.maxResponseBytes) {
          finish(tooLarge());
          r.destroy();
          return;
        }
        const cutOff = () =>
          new OnvifError('bad-response', `The answer from ${where()} was cut off before it was complete (HTTP ${res.statusCode}).`, {
            address: where(),
            operation: req.operation,
            httpStatus: res.statusCode,
          });
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
      const secs = req.timeoutMs / 1000;
      finish(
        new OnvifError(
          'timeout',
          `No complete answer from ${where()} within ${secs} s${req.operation ? ` (${req.operation})` : ''}. ` +
            'Check that the device is on and the address is right; raise the timeout for slow operations.',
          { address: where(), operation: req.operation },
        ),
      );
      r.destroy();
    });
    const onAbort = () => {
      finish(new OnvifError('closed', `The request to ${where()} was cancelled.`, { address: where(), operation: req.operation }));
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
export function sendStreaming(agents: { http: http.Agent; https: https.Agent }, req: StreamRequest): Promise<StreamResult> {
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
      const cutOff = () =>
        new OnvifError('bad-response', `The answer from ${where} was cut off before it was complete (HTTP ${status}).`, {
          address: where,
          operation: req.operation,
          httpStatus: status,
        });
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
