/**
 * The wire trace: every HTTP request the client sends and every answer it gets, published on the
 * `node:diagnostics_channel` channel `onvifq:wire` with credentials, nonces and passwords already redacted,
 * so a user filing a bug can attach it. Nothing is built while nobody subscribes.
 */
import * as diagnosticsChannel from 'node:diagnostics_channel';

/** The channel name; subscribe with `subscribeWireTrace()` or `diagnostics_channel.subscribe()`. */
export const WIRE_TRACE_CHANNEL = 'onvifq:wire';

interface WireTraceCommon {
  /** Pairs a request with its answer or failure; unique within the process. */
  id: number;
  /** The `traceLabel` of the client that sent it (the Node-RED config node's id, ...), when it has one. */
  label?: string;
  /** The ONVIF operation, or 'download' / 'upload' for file transfers, when known. */
  operation?: string;
  /** When this was published, ISO-8601 UTC. */
  time: string;
}

export interface WireTraceRequest extends WireTraceCommon {
  type: 'request';
  method: string;
  /** Without user info; password-like query parameters redacted. */
  url: string;
  /** As sent by the client (Node adds Host and Connection), secrets redacted. */
  headers: Record<string, string>;
  /** The body as text, secrets redacted; absent for file transfers (only `bodyBytes`) and bodyless requests. */
  body?: string;
  /** Size of the body in bytes, when known (a streamed upload without a declared length: unknown). */
  bodyBytes?: number;
  /** A file transfer: the body is streamed and never copied into the trace. */
  streamed: boolean;
}

export interface WireTraceAnswer extends WireTraceCommon {
  type: 'answer';
  status: number;
  headers: Record<string, string | string[]>;
  /** The body as text, secrets redacted; absent when it went to a file transfer's destination. */
  body?: string;
  /** Bytes of the answer's body received. */
  bodyBytes: number;
  /** Request body bytes handed to the network (streamed uploads). */
  sentBytes?: number;
  streamed: boolean;
  durationMs: number;
}

export interface WireTraceFailure extends WireTraceCommon {
  type: 'failure';
  /** The OnvifError kind (timeout, unreachable, too-large, ...). */
  kind: string;
  message: string;
  durationMs: number;
}

/** One message on the `onvifq:wire` channel. */
export type WireTraceMessage = WireTraceRequest | WireTraceAnswer | WireTraceFailure;

const channel = diagnosticsChannel.channel(WIRE_TRACE_CHANNEL);

/** Somebody listens: only then is anything of the trace built. */
export function wireTraceActive(): boolean {
  return channel.hasSubscribers;
}

/**
 * Receive every wire trace message (optionally only those of clients with `label`). Returns the function
 * that stops it. Format a message for people with `formatWireTrace()`.
 */
export function subscribeWireTrace(listener: (message: WireTraceMessage) => void, options: { label?: string } = {}): () => void {
  const onMessage = (message: unknown) => {
    const m = message as WireTraceMessage;
    if (options.label === undefined || m.label === options.label) listener(m);
  };
  // diagnostics_channel.subscribe(name, fn) is the current API (Node 18.7+); Channel#subscribe serves 18.5 and 18.6.
  if (typeof diagnosticsChannel.subscribe === 'function') {
    diagnosticsChannel.subscribe(WIRE_TRACE_CHANNEL, onMessage);
    return () => {
      diagnosticsChannel.unsubscribe(WIRE_TRACE_CHANNEL, onMessage);
    };
  }
  channel.subscribe(onMessage);
  return () => {
    channel.unsubscribe(onMessage);
  };
}

/** One message as text: a first line (`>>` request, `<<` answer, `!!` failure), then headers and body. */
export function formatWireTrace(m: WireTraceMessage): string {
  const what = m.operation ? ` ${m.operation}` : '';
  switch (m.type) {
    case 'request': {
      const size = m.bodyBytes === undefined ? (m.streamed ? ' (streamed body, size unknown)' : '') : ` (${m.bodyBytes} bytes${m.streamed ? ', streamed' : ''})`;
      return joinParts(`>> #${m.id}${what} ${m.method} ${m.url}${size}`, m.headers, m.body);
    }
    case 'answer': {
      const moved = m.streamed ? `, ${m.bodyBytes} bytes received${m.sentBytes !== undefined ? `, ${m.sentBytes} bytes sent` : ''}, streamed` : '';
      return joinParts(`<< #${m.id}${what} HTTP ${m.status} after ${m.durationMs} ms${moved}`, m.headers, m.body);
    }
    case 'failure':
      return `!! #${m.id}${what} failed after ${m.durationMs} ms (${m.kind}): ${m.message}`;
  }
}

function joinParts(first: string, headers: Record<string, string | string[]>, body: string | undefined): string {
  const lines = [first];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`   ${name}: ${v}`);
  }
  if (body) lines.push('', body);
  return lines.join('\n');
}

let lastId = 0;

/** Builds and publishes one request's trace; the client calls it only when `wireTraceActive()`. */
export class WireTraceRecorder {
  private readonly id = ++lastId;
  private readonly started = Date.now();
  /** Request body bytes handed to the network so far (streamed uploads). */
  sentBytes?: number;

  constructor(
    private readonly label: string | undefined,
    private readonly operation: string | undefined,
  ) {}

  request(method: string, url: URL, headers: Record<string, string>, body: Buffer | string | undefined, streamed: boolean, bodyBytes?: number): void {
    const sentHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) sentHeaders[name] = redactHeader(name, value) as string;
    if (body !== undefined && !streamed) {
      bodyBytes = Buffer.byteLength(body);
      sentHeaders['Content-Length'] ??= String(bodyBytes);
    }
    this.publish({
      type: 'request',
      method,
      url: redactUrl(url),
      headers: sentHeaders,
      ...(body !== undefined && !streamed ? { body: bodyText(body) } : {}),
      ...(bodyBytes !== undefined ? { bodyBytes } : {}),
      streamed,
    });
  }

  /** `streamed`/`receivedBytes`: a file transfer's answer, whose body may have gone to its destination. */
  answer(res: {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    wwwAuthenticate: string[];
    body: Buffer;
    streamed?: boolean;
    receivedBytes?: number;
  }): void {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = redactHeader(name, value);
    // One line per challenge, as sent (Node joins repeated WWW-Authenticate headers with commas).
    if (res.wwwAuthenticate.length > 1) headers['www-authenticate'] = redactHeader('www-authenticate', res.wwwAuthenticate);
    const transfer = res.receivedBytes !== undefined;
    this.publish({
      type: 'answer',
      status: res.status,
      headers,
      ...(!res.streamed && res.body.length > 0 ? { body: bodyText(res.body) } : {}),
      bodyBytes: res.receivedBytes ?? res.body.length,
      ...(this.sentBytes !== undefined ? { sentBytes: this.sentBytes } : {}),
      streamed: transfer,
      durationMs: Date.now() - this.started,
    });
  }

  failure(error: unknown): void {
    const e = error as { kind?: unknown; message?: unknown };
    this.publish({
      type: 'failure',
      kind: typeof e?.kind === 'string' ? e.kind : 'error',
      message: redactBody(String(e?.message ?? error)),
      durationMs: Date.now() - this.started,
    });
  }

  private publish(m: Omit<WireTraceRequest, keyof WireTraceCommon> | Omit<WireTraceAnswer, keyof WireTraceCommon> | Omit<WireTraceFailure, keyof WireTraceCommon>): void {
    channel.publish({
      id: this.id,
      ...(this.label !== undefined ? { label: this.label } : {}),
      ...(this.operation !== undefined ? { operation: this.operation } : {}),
      time: new Date().toISOString(),
      ...m,
    } as WireTraceMessage);
  }
}

/** Bodies longer than this are cut in the trace (a capped answer can be 10 MB). */
const TRACE_BODY_CHARS = 64 * 1024;
const REDACTED = '[redacted]';

function bodyText(body: Buffer | string): string {
  const head = typeof body === 'string' ? body.slice(0, TRACE_BODY_CHARS) : body.subarray(0, TRACE_BODY_CHARS).toString('utf8');
  // Binary answers (a backup file on an error path) say what they are instead of filling the trace with noise.
  if (head.includes('\u0000')) return `[${Buffer.byteLength(body)} bytes of binary data]`;
  const total = typeof body === 'string' ? body.length : body.length;
  return redactBody(head) + (total > TRACE_BODY_CHARS ? `\n[... ${total - TRACE_BODY_CHARS} more]` : '');
}

/**
 * The contents of password and nonce elements (WS-UsernameToken Password and Nonce, CreateUsers / SetUser
 * Password, 802.1X and Wi-Fi passphrases), whatever their prefix; self-closing elements have nothing to hide.
 */
const SECRET_ELEMENT = /(<((?:[\w.-]+:)?(?:Password|Passphrase|Nonce))\b[^>]*(?<!\/)>)([\s\S]*?)(<\/\2\s*>)/g;

export function redactBody(text: string): string {
  return text.replace(SECRET_ELEMENT, (_m, open: string, _name: string, _content: string, close: string) => `${open}${REDACTED}${close}`);
}

/** Digest parameters that prove knowledge of the password or let a request be replayed. */
const DIGEST_SECRETS = new Set(['nonce', 'cnonce', 'response', 'opaque', 'nextnonce', 'rspauth']);
/** What is kept of a digest Authorization header: who signed in and how, never the proof. */
const AUTHORIZATION_KEPT = new Set(['username', 'realm', 'uri', 'algorithm', 'qop', 'nc', 'userhash']);

/** `name=value` / `name="value"` pairs of an auth header, in order. */
const AUTH_PARAM = /([\w-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)/g;

export function redactHeader(name: string, value: string | string[]): string | string[] {
  if (Array.isArray(value)) return value.map((v) => redactHeader(name, v) as string);
  switch (name.toLowerCase()) {
    case 'authorization':
    case 'proxy-authorization':
      return redactAuthorization(value);
    case 'www-authenticate':
    case 'proxy-authenticate':
    case 'authentication-info':
      return value.replace(AUTH_PARAM, (all, key: string) => (DIGEST_SECRETS.has(key.toLowerCase()) ? `${key}=${REDACTED}` : all));
    case 'cookie':
    case 'set-cookie':
      return REDACTED;
    default:
      return value;
  }
}

/** Scheme and user name only (plus, for digest, the non-secret parameters that tell how it was computed). */
function redactAuthorization(value: string): string {
  const [scheme, ...rest] = value.trim().split(/\s+/);
  const params = rest.join(' ');
  switch (scheme.toLowerCase()) {
    case 'digest': {
      const kept: string[] = [];
      for (const [, key, v] of params.matchAll(AUTH_PARAM)) {
        if (!AUTHORIZATION_KEPT.has(key.toLowerCase())) continue;
        kept.push(key.toLowerCase() === 'uri' ? `${key}="${redactPath(v.replace(/^"|"$/g, ''))}"` : `${key}=${v}`);
      }
      return `${scheme} ${[...kept, `nonce=${REDACTED}`, `cnonce=${REDACTED}`, `response=${REDACTED}`].join(', ')}`;
    }
    case 'basic': {
      const decoded = Buffer.from(params, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon >= 0 ? `${scheme} username="${decoded.slice(0, colon)}", password=${REDACTED}` : `${scheme} ${REDACTED}`;
    }
    default:
      return `${scheme} ${REDACTED}`;
  }
}

/** Query parameters that look like they carry a secret. */
const SECRET_QUERY = /pass|pwd|secret|token|key|auth/i;

/** A request target (`/upload?token=...`) with password-like query parameters redacted. */
function redactPath(path: string): string {
  const u = new URL(path, 'http://host');
  return u.search ? redactUrl(u).slice(u.origin.length) : path;
}

export function redactUrl(url: URL): string {
  const u = new URL(url.href);
  // Plain letters: brackets would come out percent-encoded.
  if (u.password) u.password = 'redacted';
  for (const key of [...u.searchParams.keys()]) if (SECRET_QUERY.test(key)) u.searchParams.set(key, 'redacted');
  return u.href;
}
