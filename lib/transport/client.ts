import { OnvifError, deviceText, isOnvifError } from '../errors';
import { buildEnvelope, parseEnvelope, type ParsedEnvelope } from '../soap/envelope';
import type { SoapFault } from '../soap/fault';
import type { XmlContent } from '../xml/build';
import { DigestSession, chooseDigestChallenge, parseAuthChallenges, parseDigestChallenges, unusableReason } from './digest';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable, type Writable } from 'node:stream';
import { createAgents, hostPort, sendOnce, sendStreaming, type Agents, type RawResponse, type SendResult, type StreamResult } from './http';
import { badResponseError, faultError, faultMessage, isNotAuthorizedFault } from './messages';
import type { AuthMethodInUse, AuthMode, SoapCallOptions, SoapResponse, TransportOptions } from './types';
import { WireTraceRecorder, wireTraceActive } from './trace';
import { createdTimestamp, usernameTokenHeader } from './wsse';

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
/** Safety net: no call ever sends more than this many requests, whatever a device answers. */
const MAX_ROUNDS = 5;
/**
 * A re-measured clock offset closer than this to the one the refused token was built with means the token's
 * timestamp was not the problem, so it is not sent again. Two whole-second readings of the same clock can
 * differ by about a second plus the round trip; no device window is that narrow.
 */
const CLOCK_CHANGE_WORTH_RETRY_MS = 2000;

/** How one request is authenticated. `reused` marks a nonce carried over from an earlier call. */
type Plan =
  | { kind: 'none' }
  | { kind: 'digest'; session: DigestSession; reused: boolean }
  | { kind: 'wsse' }
  | { kind: 'basic' };

/** What is sent, whatever the transport (buffered SOAP call or streamed transfer), and how it may authenticate. */
interface Exchange {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  soap: boolean;
  anonymous: boolean;
  /** Never sign in, even when the device refuses the anonymous request. */
  anonymousOnly: boolean;
  timeoutMs: number;
  operation?: string;
  signal?: AbortSignal;
  /** Declared size of a streamed body, for the trace. */
  bodyLength?: number;
}

/** What an answer means for the round loop: sign in (again) as the device asks, or the call's result. */
type Verdict<T> = { authenticate: true; fault?: SoapFault } | { authenticate: false; result: T };

/** The part of a round that differs between buffered SOAP calls and streamed transfers. */
interface Rounds<R extends SendResult, T> {
  /** The body of one request authenticated by `plan` (SOAP calls add the UsernameToken). Called once per request. */
  body(plan: Plan): Buffer | string | Readable | undefined;
  /** Send one request; rejects with an OnvifError. */
  send(headers: Record<string, string>, body: Buffer | string | Readable | undefined, trace?: WireTraceRecorder): Promise<R>;
  /** The request failed on a kept-alive socket the device had closed: may it go out once more? */
  resendable(): boolean;
  /** Judge an answer; throws when it ends the call with an error. */
  judge(res: R, plan: Plan): Verdict<T>;
}

/** What one call has already tried, so no auth step repeats (devices lock accounts). */
interface Attempts {
  freshNonceRetried: boolean;
  remeasured: boolean;
  /** How the device refused this exchange's anonymous first try (an anonymous exchange that then signed in). */
  anonymousRefusal?: string;
}

/** The device refused a request sent with `anonymousOnly`; `refusal` says how, for the caller's message. */
class AnonymousRefusedError extends OnvifError {
  constructor(
    message: string,
    readonly refusal: string,
    details: ConstructorParameters<typeof OnvifError>[2],
  ) {
    super('auth', message, details);
  }
}

export class SoapClient {
  private username?: string;
  private password?: string;
  private readonly mode: AuthMode;
  private readonly allowBasic: boolean;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly remeasureClock?: () => Promise<number>;
  private readonly traceLabel?: string;
  private readonly agents: Agents;
  /** Last accepted digest nonce per origin, answered again with increasing nc. */
  private readonly digestSessions = new Map<string, DigestSession>();
  /** The credentialed method the device accepted, so the next call starts with it. */
  private learned?: 'digest' | 'ws-security' | 'basic';
  private _authMethod: AuthMethodInUse = 'none';
  /**
   * The first refusal of the current credentials. While it stands they are not sent again: real devices lock an
   * account after a few failures, and a polling flow would get there in minutes. It lives here rather than in
   * OnvifDevice because every request that can carry credentials (SOAP calls, the connect sequence, file
   * transfers, the restart wait) goes through this client, and the credentials themselves live here.
   * Cleared by setCredentials() with other credentials and by forgetRefusal() (OnvifDevice.reconnect()).
   */
  private refusal?: OnvifError;
  clockOffsetMs: number;

  constructor(options: TransportOptions = {}) {
    this.username = options.username;
    this.password = options.password;
    this.mode = options.auth ?? 'auto';
    this.allowBasic = options.allowBasic ?? false;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.remeasureClock = options.remeasureClock;
    this.traceLabel = options.traceLabel;
    this.clockOffsetMs = options.clockOffsetMs ?? 0;
    this.agents = createAgents(options.tls);
  }

  /** What worked last. Anonymous successes do not overwrite a credentialed method already in use. */
  get authMethod(): AuthMethodInUse {
    return this._authMethod;
  }

  setCredentials(username?: string, password?: string): void {
    if (username !== this.username || password !== this.password) this.refusal = undefined;
    this.username = username;
    this.password = password;
    this.digestSessions.clear();
    if (this.learned !== 'ws-security') this.learned = undefined;
  }

  /** Send the current credentials again after the device refused them (an explicit reconnect by the user). */
  forgetRefusal(): void {
    this.refusal = undefined;
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
    this.agents.pool.destroy();
  }

  async call(url: string, body: XmlContent, options: SoapCallOptions = {}): Promise<SoapResponse> {
    const target = parseUrl(url);
    const where = targetOf(target).where;
    const contentType = contentTypeFor(options.action);
    const extraHeaders = options.headers ?? [];
    const ex: Exchange = {
      method: 'POST',
      headers: { 'Content-Type': contentType, Accept: 'application/soap+xml, text/xml, */*' },
      soap: true,
      anonymous: options.anonymous ?? false,
      anonymousOnly: (options.anonymous ?? false) && (options.anonymousOnly ?? false),
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      operation: options.operation,
      signal: options.signal,
    };
    return this.roundTrip<SendResult, SoapResponse>(target, ex, {
      body: (plan) =>
        buildEnvelope(
          body,
          plan.kind === 'wsse'
            ? [usernameTokenHeader(this.username ?? '', this.password ?? '', createdTimestamp(this.clockOffsetMs)), ...extraHeaders]
            : extraHeaders,
        ),
      send: (headers, requestBody) =>
        sendOnce(this.agents, {
          method: ex.method,
          url: target,
          where,
          headers,
          body: requestBody as Buffer | string | undefined,
          timeoutMs: ex.timeoutMs,
          maxResponseBytes: this.maxResponseBytes,
          operation: ex.operation,
          signal: ex.signal,
        }),
      resendable: () => true,
      judge: (res, plan) => {
        let envelope: ParsedEnvelope | undefined;
        let parseProblem: unknown;
        if (res.body.length > 0) {
          try {
            envelope = parseEnvelope(res.body, { maxBytes: this.maxResponseBytes });
          } catch (e) {
            parseProblem = e;
          }
        }
        const fault = envelope?.fault;
        if (res.status === 401 || isNotAuthorizedFault(fault)) return { authenticate: true, fault };
        if (!envelope) throw badResponseError(res.status, res.body, headerText(res.headers['content-type']), where, ex.operation, parseProblem);
        if (fault) {
          // Any fault other than NotAuthorized means the credentials got through.
          this.recordSuccess(target, plan);
          throw faultError(fault, res.status, where, ex.operation);
        }
        if (res.status < 200 || res.status >= 300) {
          throw badResponseError(res.status, res.body, headerText(res.headers['content-type']), where, ex.operation, 'a SOAP answer without a fault on an error status');
        }
        this.recordSuccess(target, plan);
        return { authenticate: false, result: { ...envelope, httpStatus: res.status, headers: res.headers } };
      },
    });
  }

  /**
   * A streamed HTTP GET/POST with the session's credentials (file transfers: backup, restore, firmware).
   * The body comes from `body()` once per attempt, so a file or Buffer can be sent again after a challenge;
   * a one-shot stream (`replayable: false`) is sent once, and usually needs no second try because the
   * digest nonce of the SOAP session is reused and `Expect: 100-continue` lets a challenge come first.
   * A 2xx answer's body goes to `sink(...)`; other answers come back buffered in `body` for the caller to judge.
   */
  async transfer(url: string, init: TransferInit): Promise<StreamResult> {
    const target = parseUrl(url);
    const where = targetOf(target).where;
    const ex: Exchange = {
      method: init.method,
      headers: init.headers ?? {},
      soap: false,
      anonymous: false,
      anonymousOnly: false,
      timeoutMs: init.idleTimeoutMs ?? this.timeoutMs,
      operation: init.operation,
      signal: init.signal,
      bodyLength: init.bodyLength,
    };
    let bodyUsed = false;
    return this.roundTrip<StreamResult, StreamResult>(target, ex, {
      body: () => {
        if (bodyUsed && init.replayable === false) {
          throw new OnvifError(
            'auth',
            `The device at ${where} asked to authenticate again after the upload had started; a stream cannot be sent twice. Pass a file path or a Buffer instead, or try again.`,
            { address: where, operation: init.operation },
          );
        }
        return init.body?.();
      },
      send: (headers, body, trace) =>
        closeUnsent(init, body, sendStreaming(this.agents, {
          method: init.method,
          url: target,
          headers,
          body: body as Buffer | Readable | undefined,
          bodyLength: init.bodyLength,
          idleTimeoutMs: ex.timeoutMs,
          answerTimeoutMs: init.answerTimeoutMs,
          maxResponseBytes: Math.min(this.maxResponseBytes, 1024 * 1024),
          operation: init.operation,
          signal: init.signal,
          onBodyBytes: trace
            ? (n) => {
                trace.sentBytes = n;
                init.onBodyBytes?.(n);
              }
            : init.onBodyBytes,
          sinkFor: (status, h) => (status >= 200 && status < 300 ? init.sink(status, h) : undefined),
        })),
      resendable: () => init.replayable !== false,
      judge: (res, plan) => {
        if (res.bodyStarted) bodyUsed = true;
        if (res.status === 401) return { authenticate: true };
        // Remember the nonce for the next call, without letting a file transfer change what SOAP calls use.
        if (plan.kind === 'digest') this.digestSessions.set(targetOf(target).origin, plan.session);
        return { authenticate: false, result: res };
      },
    });
  }

  private get hasCredentials(): boolean {
    return !!this.username;
  }

  /** Fail at once, without sending anything, when this exchange could send credentials the device already refused. */
  private holdBackRefused(where: string, ex: Exchange): void {
    const first = this.refusal;
    if (!first || ex.anonymousOnly || !this.hasCredentials || this.mode === 'none') return;
    throw new OnvifError(
      'auth',
      `Not sent: the device at ${where} already rejected the credentials of user '${this.username}', and sending them again could lock the account. ` +
        `First refusal: ${first.message} Set other credentials, or reconnect explicitly (OnvifDevice.reconnect(); in Node-RED, a redeploy) to try these again.`,
      { httpStatus: first.httpStatus, code: first.code, subcodes: first.subcodes, reason: first.reason, address: where, operation: ex.operation, cause: first },
    );
  }

  /** Remember the first refusal of the current credentials (see `refusal`) and return the error to throw. */
  private refused(error: OnvifError): OnvifError {
    this.refusal ??= error;
    return error;
  }

  private initialPlan(url: URL, ex: Exchange): Plan {
    if (ex.anonymous || !this.hasCredentials || this.mode === 'none') return { kind: 'none' };
    // Plain HTTP (file transfers) cannot carry a UsernameToken: those use digest even in a WS-Security session.
    if (this.mode === 'ws-security' || (this.mode === 'auto' && this.learned === 'ws-security')) {
      if (ex.soap) return { kind: 'wsse' };
      if (this.mode === 'ws-security' && !this.digestSessions.has(targetOf(url).origin)) return { kind: 'none' };
    }
    const session = this.digestSessions.get(targetOf(url).origin);
    if (session) return { kind: 'digest', session, reused: true };
    if (this.mode === 'auto' && this.learned === 'basic' && this.basicAllowed(url)) return { kind: 'basic' };
    return { kind: 'none' };
  }

  private basicAllowed(url: URL): boolean {
    return url.protocol === 'https:' || this.allowBasic;
  }

  /**
   * The round loop every request goes through: send, and while the device asks, authenticate as it asks
   * (nextPlan), never repeating a step and never more than MAX_ROUNDS requests; returns the final answer's result.
   */
  private async roundTrip<R extends SendResult, T>(url: URL, ex: Exchange, rounds: Rounds<R, T>): Promise<T> {
    const where = targetOf(url).where;
    this.holdBackRefused(where, ex);
    const attempts: Attempts = { freshNonceRetried: false, remeasured: false };
    let plan = this.initialPlan(url, ex);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const res = await this.send(url, plan, ex, rounds);
      const verdict = rounds.judge(res, plan);
      if (verdict.authenticate) {
        plan = await this.nextPlan(url, ex, res, verdict.fault, plan, attempts);
        continue;
      }
      return verdict.result;
    }
    throw new OnvifError('auth', `The device at ${where} kept asking for authentication; giving up to avoid locking the account.`, {
      address: where,
      operation: ex.operation,
    });
  }

  /** Decide the next attempt after a 401 or NotAuthorized, or throw when there must be none. */
  private async nextPlan(url: URL, ex: Exchange, res: RawResponse, fault: SoapFault | undefined, plan: Plan, attempts: Attempts): Promise<Plan> {
    const where = targetOf(url).where;
    const challenges = res.status === 401 ? parseAuthChallenges(res.wwwAuthenticate) : [];
    const details = { httpStatus: res.status, address: where, operation: ex.operation, ...faultFields(fault) };
    const user = `'${this.username ?? ''}'`;
    const refusal = describeRefusal(res, fault, challenges.length);

    if (!this.hasCredentials || this.mode === 'none') {
      const fix =
        this.mode === 'none'
          ? "The auth mode is 'none': choose auto (or digest / ws-security) and set a username and password."
          : 'Set a username and password.';
      throw new OnvifError('auth', `The device at ${where} requires credentials (HTTP ${res.status}${fault ? `, ${fault.subcodes.join(' / ')}` : ''}). ${fix}`, details);
    }
    if (ex.anonymousOnly) {
      throw new AnonymousRefusedError(`The device at ${where} refused the anonymous ${ex.operation ?? 'request'} with ${refusal}.`, refusal, details);
    }

    if (challenges.length > 0 && !(this.mode === 'ws-security' && isNotAuthorizedFault(fault))) {
      if (this.mode === 'ws-security' && ex.soap) {
        throw new OnvifError(
          'auth',
          `The device at ${where} asks for HTTP authentication (${schemesOf(challenges)}), but the auth mode 'ws-security' only sends WS-UsernameToken. Choose auth mode auto or digest.`,
          details,
        );
      }
      const digestChallenges = parseDigestChallenges(res.wwwAuthenticate);
      const chosen = chooseDigestChallenge(digestChallenges);
      if (chosen) {
        if (plan.kind === 'digest') {
          this.digestSessions.delete(targetOf(url).origin);
          // A nonce from an earlier call, or one the device calls stale, says nothing about the password: one fresh try.
          if (!attempts.freshNonceRetried && (plan.reused || chosen.stale)) {
            attempts.freshNonceRetried = true;
            return { kind: 'digest', session: new DigestSession(chosen), reused: false };
          }
          if (chosen.stale) {
            // Stale means the password was right (RFC 7616 §3.3): not a refusal of the credentials.
            throw new OnvifError('auth', `The device at ${where} called even a fresh digest nonce stale; giving up on this request. Try again later.`, details);
          }
          throw this.rejected(where, res.status, 'digest', details);
        }
        return { kind: 'digest', session: new DigestSession(chosen), reused: false };
      }
      if (digestChallenges.length > 0) {
        // Never fall back to Basic when digest was offered, even in a form we cannot answer.
        const reasons = [...new Set(digestChallenges.map((c) => unusableReason(c)!))].join('; ');
        throw new OnvifError('auth', `The device at ${where} offers HTTP digest only in a form this client cannot answer: ${reasons}.`, details);
      }
      if (challenges.some((c) => c.scheme.toLowerCase() === 'basic')) {
        if (this.mode === 'digest') {
          throw new OnvifError('auth', `The device at ${where} offers only HTTP Basic authentication, and the auth mode is 'digest'. Choose auth mode auto to allow Basic.`, details);
        }
        if (!this.basicAllowed(url)) {
          throw new OnvifError(
            'auth',
            `The device at ${where} offers only HTTP Basic authentication over plain http, which would send the password readable on the network. ` +
              'Use https, or set allowBasic if you accept that risk.',
            details,
          );
        }
        if (plan.kind === 'basic') throw this.rejected(where, res.status, 'basic', details);
        return { kind: 'basic' };
      }
      throw new OnvifError('auth', `The device at ${where} asks for ${schemesOf(challenges)} authentication, which this client does not support.`, details);
    }

    // NotAuthorized, or a 401 without a challenge we can read: the device wants WS-UsernameToken.
    switch (plan.kind) {
      case 'none':
        if (this.mode === 'digest') {
          throw new OnvifError(
            'auth',
            `The device at ${where} refused the ${ex.anonymous ? `anonymous ${ex.operation ?? 'request'}` : 'request'} (${refusal}) and offered no HTTP digest; ` +
              'it may want WS-UsernameToken. Choose auth mode auto or ws-security.',
            details,
          );
        }
        if (!ex.soap) {
          throw new OnvifError('auth', `The device at ${where} refused the request (${refusal}) without saying how to authenticate.`, details);
        }
        if (ex.anonymous) attempts.anonymousRefusal = refusal;
        return { kind: 'wsse' };
      case 'wsse': {
        // An anonymous exchange that had to sign in is the clock read itself (PRE_AUTH): re-measuring would recurse.
        if (attempts.anonymousRefusal) throw this.refused(this.everythingRefused(where, attempts.anonymousRefusal, refusal, details));
        if (!this.remeasureClock || attempts.remeasured) throw this.rejected(where, res.status, 'ws-security', details);
        attempts.remeasured = true;
        const offsetBefore = this.clockOffsetMs;
        try {
          this.clockOffsetMs = await this.remeasureClock();
        } catch (e) {
          if (e instanceof AnonymousRefusedError) throw this.refused(this.everythingRefused(where, e.refusal, refusal, details));
          throw this.rejected(where, res.status, 'ws-security', details, ` The device clock could not be re-measured either${isOnvifError(e) ? ` (${e.kind})` : ''}.`);
        }
        if (Math.abs(this.clockOffsetMs - offsetBefore) < CLOCK_CHANGE_WORTH_RETRY_MS) {
          throw this.rejected(where, res.status, 'ws-security', details, '', true);
        }
        return { kind: 'wsse' };
      }
      case 'digest':
      case 'basic':
        if (res.status === 401) throw this.rejected(where, res.status, plan.kind, details);
        // The HTTP login was accepted; the device refuses this operation for this user.
        throw new OnvifError(
          'auth',
          `${fault ? faultMessage(fault, ex.operation) : `HTTP ${res.status}`} The device at ${where} accepted the login of user ${user} but refused the operation; the user's level may be too low.`,
          details,
        );
    }
  }

  /** The credentials were refused: remembered, so they are not sent again (see `refusal`). */
  private rejected(where: string, status: number, method: 'digest' | 'basic' | 'ws-security', details: object, extra = '', clockChecked = false): OnvifError {
    const user = `'${this.username ?? ''}'`;
    const how = method === 'ws-security' ? `WS-UsernameToken, HTTP ${status}` : `HTTP ${status}`;
    const clock =
      method !== 'ws-security'
        ? ''
        : clockChecked
          ? " The device clock was read again and agrees with the token's timestamp, so the clock is not the cause."
          : ' The device clock matters too: the token carries a timestamp.';
    return this.refused(new OnvifError('auth', `The device at ${where} rejected the user ${user} (${how}). Check the username and password.${clock}${extra}`, details));
  }

  /** The device refused the token and even the anonymous clock read, so the clock cannot be checked either. */
  private everythingRefused(where: string, anonymousRefusal: string, tokenRefusal: string, details: object): OnvifError {
    const what =
      anonymousRefusal === tokenRefusal
        ? `answered every request, even the anonymous clock read, with ${tokenRefusal}`
        : `refused the WS-UsernameToken (${tokenRefusal}) and even the anonymous clock read (${anonymousRefusal})`;
    return new OnvifError(
      'auth',
      `The device at ${where} ${what}: it accepted neither user '${this.username ?? ''}' (WS-UsernameToken) nor any request without credentials. ` +
        'Check the username and password, the device clock (the token carries a timestamp), and that ONVIF access is enabled on the device.',
      details,
    );
  }

  private recordSuccess(url: URL, plan: Plan): void {
    switch (plan.kind) {
      case 'digest':
        this.digestSessions.set(targetOf(url).origin, plan.session);
        this.learned = 'digest';
        this._authMethod = `digest-${plan.session.algorithm}`;
        break;
      case 'wsse':
        this.learned = 'ws-security';
        this._authMethod = 'ws-security';
        break;
      case 'basic':
        this.learned = 'basic';
        this._authMethod = 'basic';
        break;
      case 'none':
        if (!this.learned) this._authMethod = 'none';
        break;
    }
  }

  /** One HTTP request for this plan; a request that failed on a kept-alive socket the server had closed is sent once more. */
  private async send<R extends SendResult, T>(url: URL, plan: Plan, ex: Exchange, rounds: Rounds<R, T>): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      const body = rounds.body(plan);
      const streamBody = body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body) ? body : undefined;
      const headers = Object.assign({}, ex.headers);
      if (plan.kind === 'digest') {
        if (plan.session.qop === 'auth-int' && streamBody) {
          const where = targetOf(url).where;
          throw new OnvifError('unsupported', `The device at ${where} wants HTTP digest with auth-int, which needs the whole body hashed first; streamed uploads cannot do that.`, {
            address: where,
            operation: ex.operation,
          });
        }
        headers.Authorization = plan.session.authorization(this.username ?? '', this.password ?? '', ex.method, targetOf(url).requestTarget, streamBody ? undefined : (body as Buffer | string | undefined));
      } else if (plan.kind === 'basic') {
        headers.Authorization = `Basic ${Buffer.from(`${this.username ?? ''}:${this.password ?? ''}`, 'utf8').toString('base64')}`;
      }
      const trace = wireTraceActive() ? new WireTraceRecorder(this.traceLabel, ex.operation) : undefined;
      trace?.request(ex.method, url, headers, streamBody ? undefined : (body as Buffer | string | undefined), !ex.soap, ex.bodyLength);
      try {
        const res = await rounds.send(headers, body, trace);
        trace?.answer(res);
        // A challenged stream body is not read any further (a replayable one is opened again for the next round).
        if (streamBody && res.status === 401) streamBody.destroy();
        return res;
      } catch (e) {
        trace?.failure(e);
        streamBody?.destroy();
        const err = e as OnvifError & { reusedSocket?: boolean; bodyStarted?: boolean };
        // Only a request that never got its body out may go again (an upload half sent is never repeated).
        if (attempt === 0 && err.reusedSocket && err.kind === 'unreachable' && !err.bodyStarted && rounds.resendable()) continue;
        if (err.address === undefined) err.address = targetOf(url).where;
        if (err.operation === undefined) err.operation = ex.operation;
        throw err;
      }
    }
  }
}

/**
 * A stream opened for one attempt and not sent to its end (a challenge or a refusal came first, or the
 * connection broke) is closed once the attempt settles: a file behind it must not stay open until garbage
 * collection. A one-shot stream (replayable: false) is the caller's, and may be needed for the next attempt.
 */
async function closeUnsent<T>(init: TransferInit, body: unknown, sending: Promise<T>): Promise<T> {
  try {
    return await sending;
  } finally {
    if (init.replayable !== false && body instanceof Readable && !body.destroyed) body.destroy();
  }
}

export interface TransferInit {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** The request body for one attempt (called again for each retry). */
  body?: () => Buffer | Readable | undefined;
  /** Content-Length of a stream body, when known. */
  bodyLength?: number;
  /** false: body() gives a one-shot stream that cannot be sent twice. */
  replayable?: boolean;
  /** Where a 2xx answer's body goes. */
  sink: (status: number, headers: IncomingHttpHeaders) => Writable;
  /** Idle timeout (ms): nothing moved for this long fails the transfer. Default: the client's timeout. */
  idleTimeoutMs?: number;
  /** How long to wait for the answer once the whole body is sent (ms). Default: idleTimeoutMs. */
  answerTimeoutMs?: number;
  operation?: string;
  signal?: AbortSignal;
  onBodyBytes?(sent: number): void;
}

/** What the round loop needs of an address, worked out once per parsed URL. */
interface Target {
  /** host:port, for messages. */
  where: string;
  /** Digest sessions are kept per origin. */
  origin: string;
  /** Path and query as sent (the digest uri). */
  requestTarget: string;
}

const targets = new WeakMap<URL, Target>();

function targetOf(url: URL): Target {
  let t = targets.get(url);
  if (!t) {
    t = { where: hostPort(url), origin: url.origin, requestTarget: url.pathname + url.search };
    targets.set(url, t);
  }
  return t;
}

const contentTypes = new Map<string, string>();

/** The SOAP 1.2 Content-Type, with the action parameter when there is one (one string per action). */
function contentTypeFor(action: string | undefined): string {
  if (!action) return 'application/soap+xml; charset=utf-8';
  let t = contentTypes.get(action);
  if (!t) {
    t = `application/soap+xml; charset=utf-8; action="${action.replace(/"/g, '')}"`;
    if (contentTypes.size >= 1024) contentTypes.clear();
    contentTypes.set(action, t);
  }
  return t;
}

/** Addresses parsed so far: a session calls a handful of service addresses over and over. */
const parsedUrls = new Map<string, URL>();

/** The URL of an address, credentials removed; parsed once per address (the URL objects are never changed after). */
function parseUrl(url: string): URL {
  const known = parsedUrls.get(url);
  if (known) return known;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OnvifError('invalid-input', `"${url}" is not a valid address; expected something like http://192.168.1.10/onvif/device_service.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new OnvifError('invalid-input', `The address must start with http:// or https:// (got ${u.protocol}).`);
  }
  // Credentials never travel in the URL (and must never show up in messages).
  u.username = '';
  u.password = '';
  if (parsedUrls.size >= 256) parsedUrls.clear();
  parsedUrls.set(url, u);
  return u;
}

function headerText(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function schemesOf(challenges: { scheme: string }[]): string {
  return [...new Set(challenges.map((c) => c.scheme))].join(', ');
}

function faultFields(fault: SoapFault | undefined): { code?: string; subcodes?: string[]; reason?: string } {
  return fault ? { code: fault.code, subcodes: fault.subcodes, reason: fault.reason } : {};
}

/** How the device refused a request, in words for messages ("HTTP 401 and no WWW-Authenticate challenge"). */
function describeRefusal(res: RawResponse, fault: SoapFault | undefined, challengeCount: number): string {
  if (isNotAuthorizedFault(fault)) return `ter:NotAuthorized (HTTP ${res.status})`;
  if (res.status !== 401 || challengeCount > 0) return `HTTP ${res.status}`;
  if (res.wwwAuthenticate.length === 0) return 'HTTP 401 and no WWW-Authenticate challenge';
  return `HTTP 401 and a WWW-Authenticate header this client cannot read ("${deviceText(res.wwwAuthenticate.join(', '), 60)}")`;
}
