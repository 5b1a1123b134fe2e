import { Subject, type Observable } from 'rxjs';
import { OnvifError, deviceText, isOnvifError } from '../errors';
import { decodeElement, encodeElement, findOperation, type OperationInfo } from '../schema';
import type { OperationName, OperationRequest, OperationResult } from '../schema/onvif-types';
import { SoapClient } from '../transport';
import type { SoapCallOptions, SoapResponse } from '../transport/types';
import { download, upload, type DownloadOptions, type DownloadResult, type UploadOptions, type UploadResult, type UploadSource } from '../transfer';
import { el, type XmlContent } from '../xml/build';
import { NS } from '../xml/namespaces';
import { deviceServiceUrl, displayAddress, reachableXaddr } from './address';
import {
  profileQStateFromScopes,
  readDeviceInformation,
  readDeviceServiceCapabilities,
  readEndpointReference,
  readLegacyCapabilities,
  readScopes,
  readServices,
  readSystemDateAndTime,
} from './readers';
import { checkUserRequest } from '../configure/user-checks';
import { sleep } from '../util/sleep';
import { describeMove, eitherSignal, ownNewPassword, restartKind, type RestartKind } from './follow';
import type { DeviceCapabilities, OnvifDeviceOptions, PartialSession, ServiceInfo, SessionChange, SessionInfo, UnreadSessionField } from './types';

/**
 * Old firmware answers GetServices with all sorts of faults (ter:Action, ter:InvalidArgVal, ActionNotSupported:
 * QUIRKS.md §3). Any fault that is not an auth failure means "try the next, older way".
 */
function getServicesMissing(e: unknown): boolean {
  return isOnvifError(e) && ((e.kind === 'fault' && !e.isNotAuthorized) || e.kind === 'unsupported');
}

export interface CallOptions {
  timeoutMs?: number;
  /** Extra SOAP header blocks (e.g. echoed subscription reference parameters). */
  headers?: XmlContent[];
  /** Send to this URL instead of the service address (subscription managers). */
  url?: string;
  signal?: AbortSignal;
  /** SystemReboot / SetSystemFactoryDefault: wait until the device is back and reconnect (default true). */
  waitForRestart?: boolean;
}

/**
 * What `call(operation, params)` takes: the operation's request as the schema types it (lib/schema/onvif-types.ts),
 * plus the session's own option for SetUser (`clearPassword`, lib/configure/user-checks.ts).
 */
export type CallParams<K extends string> = OperationRequest<K> & (K extends 'SetUser' ? { clearPassword?: boolean } : unknown);

export interface WaitForRestartOptions {
  /** How long the device is expected to be away (StartSystemRestore's ExpectedDownTime), ms. */
  expectedDowntimeMs?: number;
  /** Give up when it is not back after this long, ms (default 300 s). */
  timeoutMs?: number;
  /** How long to watch for the device to go away before assuming it restarted very fast, ms (default 10 s). */
  goneWithinMs?: number;
  /** For messages: what made it restart. */
  kind?: RestartKind;
  signal?: AbortSignal;
}

/**
 * A session with one ONVIF device: `new OnvifDevice({ address, username, password })`, `await connect()`,
 * `await call('GetDeviceInformation')`, `await close()`. Connecting reads the clock offset, services,
 * capabilities, scopes (Profile Q state) and device information; `call` returns the normalised result.
 * Without credentials, reads the device refuses leave a partial session (`session.partial`) that still serves
 * whatever the device answers anonymously.
 */
export class OnvifDevice {
  readonly options: Readonly<OnvifDeviceOptions>;
  readonly url: URL;
  private readonly client: SoapClient;
  private current?: SessionInfo;
  private connecting?: Promise<SessionInfo>;
  private closed = false;
  /** Aborted by close(): ends waits (restart) that would otherwise outlive the session. */
  private readonly lifetime = new AbortController();
  private username?: string;
  private password?: string;
  private readonly changes = new Subject<SessionChange>();
  /** What the session did because of a change: new credentials, re-measured clock, restart and reconnect, device moved. */
  readonly changes$: Observable<SessionChange> = this.changes.asObservable();

  constructor(options: OnvifDeviceOptions) {
    this.options = { ...options };
    this.username = options.username;
    this.password = options.password;
    this.url = deviceServiceUrl(options.address);
    const { address: _address, name: _name, ...transport } = options;
    this.client = new SoapClient({
      ...transport,
      auth: options.auth ?? 'auto',
      remeasureClock: () => this.readClock(true).then((c) => c.offsetMs),
    });
  }

  /** The connected session, if any. */
  get session(): SessionInfo | undefined {
    return this.current;
  }

  /** host:port, for messages. */
  get displayAddress(): string {
    return displayAddress(this.url);
  }

  /** Connect (or return the live session). Concurrent callers share one attempt. */
  connect(): Promise<SessionInfo> {
    this.assertOpen();
    if (this.current) return Promise.resolve(this.current);
    if (!this.connecting) {
      this.connecting = this.runConnect().then(
        (s) => {
          this.connecting = undefined;
          if (this.closed) throw closedError(this.displayAddress);
          this.current = s;
          return s;
        },
        (e) => {
          this.connecting = undefined;
          throw e;
        },
      );
    }
    return this.connecting;
  }

  /** Forget the session so the next call reconnects (after a reboot, for instance). Keeps the HTTP client. */
  reset(): void {
    this.current = undefined;
  }

  /**
   * Connect again from scratch, trying the current credentials even if the device rejected them. After a
   * rejection the session does not send the same credentials again (devices lock accounts after a few
   * failures): calls fail at once until setCredentials() gives other ones or this is called.
   */
  reconnect(): Promise<SessionInfo> {
    this.assertOpen();
    this.client.forgetRefusal();
    this.reset();
    return this.connect();
  }

  /**
   * Run one operation and return its normalised result (plain JSON: no prefixes, lists as arrays, typed values).
   * `operation` is a name such as `GetUsers`, or qualified (`tev:GetServiceCapabilities`, `events.PullMessages`).
   * A bare name the schema knows types params and result (lib/schema/onvif-types.ts); any other string is untyped.
   */
  call<K extends OperationName | (string & {})>(operation: K, params?: CallParams<K>, options?: CallOptions): Promise<OperationResult<K>>;
  async call(operation: string, params?: Record<string, unknown>, options: CallOptions = {}): Promise<unknown> {
    const op = this.resolveOperation(operation);
    params = await checkUserRequest(this, op.name, params);
    const body = encodeElement(op.input.ns, op.input.local, params ?? {});
    if (!this.current && !options.url) await this.connect();
    const url = options.url ?? this.serviceUrl(op);
    let res: SoapResponse;
    try {
      res = await this.send(url, body, { action: op.action, operation: op.name, headers: options.headers, timeoutMs: options.timeoutMs, signal: options.signal });
    } catch (e) {
      throw this.hasCredentials ? e : this.refusedWithoutCredentials(e, op.name);
    }
    const result = res.content ? decodeElement(res.content) : {};
    await this.followChange(op.name, params ?? {}, result, options);
    return result;
  }

  /**
   * A new session to the same device with the credentials this one uses now, and other options changed (an
   * https address and its trust, after TLS was turned on). The caller closes it.
   */
  derive(overrides: Partial<OnvifDeviceOptions>): OnvifDevice {
    return new OnvifDevice({ ...this.options, username: this.username, password: this.password, ...overrides });
  }

  /** The user name the session authenticates as. */
  get user(): string | undefined {
    return this.username;
  }

  /**
   * Use other credentials from now on (after the password was changed on the device, or after
   * commissioning created the admin). Reported on changes$ so the stored credentials can be updated.
   */
  setCredentials(username: string, password: string, why = `The session now signs in as '${username}'.`): void {
    this.username = username;
    this.password = password;
    this.client.setCredentials(username, password);
    // A session connected without credentials reads what it could not at the next call.
    if (this.current?.partial) this.reset();
    this.changes.next({ kind: 'credentials-changed', text: why });
  }

  /** Download `url` (e.g. GetSystemUris' SystemBackupUri) with this session's credentials, streamed. */
  async download(url: string, options?: DownloadOptions): Promise<DownloadResult> {
    this.assertOpen();
    // Connecting first gives the transfer a digest nonce to reuse, so it usually needs one request.
    if (!this.current) await this.connect();
    try {
      return await download(this.client, url, options);
    } catch (e) {
      throw this.decorate(e, 'download');
    }
  }

  /** Upload to `url` (e.g. StartSystemRestore's UploadUri) with this session's credentials, streamed. */
  async upload(url: string, source: UploadSource, options?: UploadOptions): Promise<UploadResult> {
    this.assertOpen();
    if (!this.current) await this.connect();
    try {
      return await upload(this.client, url, source, options);
    } catch (e) {
      throw this.decorate(e, 'upload');
    }
  }

  /**
   * After a reboot, factory default or restore: wait for the device to go away, then until it answers
   * again (bounded), then reconnect. Resolves with the new session.
   */
  async waitForRestart(waitOptions: WaitForRestartOptions = {}): Promise<SessionInfo> {
    const { signal, release } = eitherSignal(waitOptions.signal, this.lifetime.signal);
    try {
      return await this.waitUntilBack({ ...waitOptions, signal });
    } finally {
      release();
    }
  }

  private async waitUntilBack(options: WaitForRestartOptions & { signal: AbortSignal }): Promise<SessionInfo> {
    this.announceRestart(options.kind);
    const started = Date.now();
    const timeoutMs = options.timeoutMs ?? 300_000;
    const deadline = started + timeoutMs;
    this.reset();
    const goneUntil = started + (options.goneWithinMs ?? 10_000);
    let goneAt: number | undefined;
    while (Date.now() < goneUntil) {
      if (!(await this.answers(1000, options.signal))) {
        goneAt = Date.now();
        break;
      }
      await sleep(200, options.signal);
    }
    if (goneAt !== undefined && options.expectedDowntimeMs) {
      // No point knocking while the device said it would be away; leave a little margin for its estimate.
      await sleep(Math.max(0, Math.min(deadline - Date.now(), options.expectedDowntimeMs * 0.8 - (Date.now() - goneAt))), options.signal);
    }
    while (!(await this.answers(2000, options.signal))) {
      if (Date.now() >= deadline) {
        throw new OnvifError(
          'timeout',
          `The device at ${this.displayAddress} did not come back within ${Math.round(timeoutMs / 1000)} s after ${describeRestart(options.kind)}. Check that it is powered and on the network; it may have a new address.`,
          { address: this.displayAddress },
        );
      }
      await sleep(500, options.signal);
    }
    const session = await this.connect();
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const state =
      session.profileQState === 'FactoryDefault'
        ? ' It is in Factory Default State: no users, anyone may configure it until it is commissioned again.'
        : '';
    this.changes.next({ kind: 'reconnected', text: `Reconnected to ${this.displayAddress} after ${describeRestart(options.kind)} (${secs} s).${state}`, address: this.url.toString() });
    return session;
  }

  private announceRestart(kind: RestartKind | undefined): void {
    const hard = kind === 'hard factory default' ? ' It will come back in Factory Default State (no users).' : '';
    this.changes.next({ kind: 'restarting', text: `${this.displayAddress} is restarting${kind ? ` (${kind})` : ''}.${hard}` });
  }

  /** The device answers GetSystemDateAndTime (anything but silence counts: a fault is an answer). */
  private async answers(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) throw new OnvifError('closed', `Waiting for ${this.displayAddress} was cancelled.`, { address: this.displayAddress });
    try {
      await this.client.call(this.url.toString(), el(NS.tds, 'GetSystemDateAndTime'), {
        anonymous: true,
        operation: 'GetSystemDateAndTime',
        action: `${NS.tds}/GetSystemDateAndTime`,
        timeoutMs,
        signal,
      });
      return true;
    } catch (e) {
      if (isOnvifError(e) && (e.kind === 'unreachable' || e.kind === 'timeout' || e.kind === 'bad-response' || e.kind === 'broken-http' || e.kind === 'closed')) {
        if (e.kind === 'closed' && signal?.aborted) throw e;
        return false;
      }
      return true;
    }
  }

  /** The session follows what a successful call changed on the device (issue: "the session follows what the flow changed"). */
  private async followChange(operation: string, params: Record<string, unknown>, result: any, options: CallOptions): Promise<void> {
    switch (operation) {
      case 'SetUser': {
        const password = ownNewPassword(params, this.username);
        if (password !== undefined && password !== this.password) {
          this.setCredentials(
            this.username!,
            password,
            `The password of '${this.username}' was changed on ${this.displayAddress}; this session uses the new one. The stored credentials${this.options.name ? ` of ${this.options.name}` : ''} need updating.`,
          );
        }
        return;
      }
      case 'SetSystemDateAndTime':
      case 'SetNTP': {
        try {
          const { offsetMs } = await this.measureClock();
          if (this.current) this.current.clockOffsetMs = offsetMs;
          this.changes.next({ kind: 'clock-remeasured', text: `The device clock is now ${formatOffset(offsetMs)} this computer's.` });
        } catch (e) {
          this.changes.next({ kind: 'clock-remeasured', text: `The device clock could not be re-measured: ${(e as Error).message}` });
        }
        return;
      }
      case 'SystemReboot':
      case 'SetSystemFactoryDefault': {
        const kind = restartKind(operation, params);
        if (options.waitForRestart !== false) await this.waitForRestart({ kind, signal: options.signal });
        else {
          this.announceRestart(kind);
          this.reset();
        }
        return;
      }
      case 'SetNetworkInterfaces':
      case 'SetNetworkProtocols': {
        const move = describeMove(operation, params, result, this.url);
        if (move) this.changes.next({ kind: 'moved', ...move });
        return;
      }
    }
  }

  /** Lower level: send an already-built operation element and get the parsed envelope (for services beyond the schema model). */
  async send(url: string, body: XmlContent, options: SoapCallOptions = {}): Promise<SoapResponse> {
    this.assertOpen();
    try {
      return await this.client.call(url, body, options);
    } catch (e) {
      throw this.decorate(e, options.operation);
    }
  }

  /** Close the session: further calls fail with kind 'closed'. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    this.current = undefined;
    this.lifetime.abort();
    this.client.close();
    this.changes.complete();
  }

  /** The reachable address of a service by namespace, when the device offers it. */
  serviceAddress(namespace: string): string | undefined {
    if (namespace === NS.tds) return this.current?.xaddr ?? this.url.toString();
    return this.current?.services.find((s) => s.namespace === namespace)?.xaddr;
  }

  /**
   * Measure device clock minus local clock. GetSystemDateAndTime is PRE_AUTH, so it is sent anonymously, and
   * signed in only when the device insists (some firmware protects it).
   */
  measureClock(): Promise<{ offsetMs: number; deviceUtc?: string }> {
    return this.readClock(false);
  }

  /** `anonymousOnly`: the re-measure after a refused WS-UsernameToken, which cannot sign in (it needs this clock). */
  private async readClock(anonymousOnly: boolean): Promise<{ offsetMs: number; deviceUtc?: string }> {
    const sentAt = Date.now();
    const res = await this.send(this.url.toString(), el(NS.tds, 'GetSystemDateAndTime'), {
      anonymous: true,
      anonymousOnly,
      operation: 'GetSystemDateAndTime',
      action: `${NS.tds}/GetSystemDateAndTime`,
    });
    const receivedAt = Date.now();
    const clock = readSystemDateAndTime(res.content);
    let offsetMs = 0; // no usable UTC time (some firmware): assume the clocks agree rather than fail the connection
    if (clock.utc) {
      const reported = Date.parse(clock.utc);
      // The device clock counts whole seconds: a reported t means the true time is in [t, t + 1 s), so take the middle.
      const deviceTime = reported % 1000 === 0 ? reported + 500 : reported;
      offsetMs = deviceTime - Math.round((sentAt + receivedAt) / 2);
    }
    this.client.clockOffsetMs = offsetMs;
    return { offsetMs, deviceUtc: clock.utc };
  }

  private async runConnect(): Promise<SessionInfo> {
    const deviceUrl = this.url.toString();
    const readDevice = (name: string) => this.send(deviceUrl, el(NS.tds, name), { operation: name, action: `${NS.tds}/${name}` });
    // Without credentials a refusal only says this read is not served anonymously: keep what was readable.
    const refused: string[] = [];
    const unknown = new Set<UnreadSessionField>();
    const unlessRefused = async <T>(operation: string, fields: UnreadSessionField[], read: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await read();
      } catch (e) {
        if (this.hasCredentials || !isOnvifError(e) || e.kind !== 'auth') throw e;
        refused.push(operation);
        for (const f of fields) unknown.add(f);
        return undefined;
      }
    };

    const clock = await unlessRefused('GetSystemDateAndTime', ['clockOffsetMs'], () => this.measureClock());
    const found = await unlessRefused('GetServices', ['services', 'capabilities'], () => this.readServicesAndCapabilities(deviceUrl));
    const services = found?.services ?? [];

    const reportedDevice = services.find((s) => s.namespace === NS.tds);
    const reportedOrigin = reportedDevice ? safeOrigin(reportedDevice.reportedXaddr) : undefined;
    for (const s of services) s.xaddr = reachableXaddr(s.reportedXaddr, this.url, reportedOrigin);
    if (!reportedDevice) services.unshift({ namespace: NS.tds, xaddr: deviceUrl, reportedXaddr: deviceUrl, version: { major: 0, minor: 0 } });

    const scopes = (await unlessRefused('GetScopes', ['scopes', 'profileQState'], async () => readScopes((await readDevice('GetScopes')).content))) ?? [];
    const deviceInformation = await unlessRefused('GetDeviceInformation', ['deviceInformation'], async () => readDeviceInformation((await readDevice('GetDeviceInformation')).content));

    let endpoint: string | undefined;
    try {
      endpoint = readEndpointReference((await readDevice('GetEndpointReference')).content);
    } catch {
      // Optional: many devices do not implement it; discovery supplies the endpoint then.
    }

    return {
      xaddr: deviceUrl,
      endpoint,
      services,
      capabilities: found?.capabilities ?? { network: {}, security: {}, system: {} },
      scopes,
      profileQState: profileQStateFromScopes(scopes),
      deviceInformation: deviceInformation ?? readDeviceInformation(undefined),
      clockOffsetMs: clock?.offsetMs ?? 0,
      authMethod: this.client.authMethod,
      legacyCapabilities: found?.legacyCapabilities ?? false,
      connectedAt: new Date().toISOString(),
      ...(refused.length ? { partial: this.describePartial(refused, [...unknown]) } : {}),
    };
  }

  /**
   * Services and device capabilities. GetServices with capabilities first; some firmware faults on
   * IncludeCapability=true alone, so ask again without them before GetCapabilities, which cannot name the
   * Advanced Security and AppMgmt services. Capabilities then come from GetServiceCapabilities.
   */
  private async readServicesAndCapabilities(deviceUrl: string): Promise<{ services: ServiceInfo[]; capabilities: DeviceCapabilities; legacyCapabilities: boolean }> {
    const getServices = (include: boolean) =>
      this.send(deviceUrl, el(NS.tds, 'GetServices', undefined, el(NS.tds, 'IncludeCapability', undefined, String(include))), {
        operation: 'GetServices',
        action: `${NS.tds}/GetServices`,
      });
    let listed: ReturnType<typeof readServices>;
    try {
      listed = readServices((await getServices(true)).content);
    } catch (e) {
      if (!getServicesMissing(e)) throw e;
      try {
        listed = readServices((await getServices(false)).content);
      } catch (e2) {
        if (!getServicesMissing(e2)) throw e2;
        return { ...(await this.readLegacyCapabilities(deviceUrl)), legacyCapabilities: true };
      }
    }
    if (listed.deviceCapabilities) {
      return { services: listed.services, capabilities: readDeviceServiceCapabilities(listed.deviceCapabilities), legacyCapabilities: false };
    }
    try {
      const sc = await this.send(deviceUrl, el(NS.tds, 'GetServiceCapabilities'), { operation: 'GetServiceCapabilities', action: `${NS.tds}/GetServiceCapabilities` });
      return { services: listed.services, capabilities: readDeviceServiceCapabilities(sc.content && sc.content.children[0]), legacyCapabilities: false };
    } catch (e) {
      if (!getServicesMissing(e)) throw e;
      // Keep GetServices' list (it names more services); only the capabilities come from the legacy answer.
      return { services: listed.services, capabilities: (await this.readLegacyCapabilities(deviceUrl)).capabilities, legacyCapabilities: false };
    }
  }

  private async readLegacyCapabilities(deviceUrl: string): Promise<{ services: ServiceInfo[]; capabilities: DeviceCapabilities }> {
    const res = await this.send(deviceUrl, el(NS.tds, 'GetCapabilities', undefined, el(NS.tds, 'Category', undefined, 'All')), {
      operation: 'GetCapabilities',
      action: `${NS.tds}/GetCapabilities`,
    });
    return readLegacyCapabilities(res.content);
  }

  /** A refusal of an operation the user asked for, in a session without credentials: say which, and what to do. */
  private refusedWithoutCredentials(e: unknown, operation: string): unknown {
    if (!isOnvifError(e) || e.kind !== 'auth') return e;
    const { code, subcodes, reason, httpStatus, address } = e;
    const status = [httpStatus ? `HTTP ${httpStatus}` : '', ...(subcodes ?? []).map((s) => deviceText(s))].filter(Boolean).join(', ');
    return new OnvifError(
      'auth',
      `The device at ${this.displayAddress} refused ${operation} without credentials${status ? ` (${status})` : ''}: it serves that only to signed-in users. ${capitalize(this.credentialsAdvice)}.`,
      { code, subcodes, reason, httpStatus, address, operation, cause: e },
    );
  }

  private get credentialsAdvice(): string {
    return this.options.auth === 'none' ? "choose auth mode auto and set a username and password" : 'set a username and password';
  }

  private describePartial(refused: string[], unknown: UnreadSessionField[]): PartialSession {
    const names: Record<UnreadSessionField, string> = {
      clockOffsetMs: 'clock offset',
      services: 'services',
      capabilities: 'capabilities',
      scopes: 'scopes',
      profileQState: 'Profile Q state',
      deviceInformation: 'device information',
    };
    return {
      refused,
      unknown,
      text:
        `Connected to ${this.displayAddress} without credentials: it refused ${listWords(refused)}, so its ${listWords(unknown.map((f) => names[f]))} ${unknown.length > 1 ? 'are' : 'is'} unknown. ` +
        `Operations it serves anonymously work; for the others, ${this.credentialsAdvice}.`,
    };
  }

  /** Whether requests may carry credentials (a user name is set and the auth mode is not 'none'). */
  private get hasCredentials(): boolean {
    return !!this.username && this.options.auth !== 'none';
  }

  private resolveOperation(name: string): OperationInfo {
    if (typeof name !== 'string' || !name.trim()) {
      throw new OnvifError('invalid-input', 'No operation given. Set the operation in the node, or pass msg.operation (e.g. "GetDeviceInformation").');
    }
    const op = findOperation(name.trim());
    if (!op) throw new OnvifError('invalid-input', `Unknown ONVIF operation "${name}". Check the spelling (names are case-sensitive, e.g. GetDeviceInformation).`, { operation: name });
    return op;
  }

  private serviceUrl(op: OperationInfo): string {
    const addr = this.serviceAddress(op.namespace);
    if (!addr && this.current?.partial?.unknown.includes('services')) {
      throw new OnvifError(
        'auth',
        `The device at ${this.displayAddress} did not list its services without credentials, so where to send ${op.name} (${op.service} service) is unknown. ${capitalize(this.credentialsAdvice)}.`,
        { operation: op.name, address: this.displayAddress },
      );
    }
    if (!addr) {
      throw new OnvifError('unsupported', `The device at ${this.displayAddress} does not offer the ${op.service} service needed for ${op.name}.`, {
        operation: op.name,
        address: this.displayAddress,
      });
    }
    return addr;
  }

  private decorate(e: unknown, operation?: string): OnvifError {
    if (isOnvifError(e)) {
      e.address ??= this.displayAddress;
      e.operation ??= operation;
      return e;
    }
    return new OnvifError('bad-response', `Unexpected failure talking to ${this.displayAddress}: ${(e as Error)?.message ?? e}`, {
      address: this.displayAddress,
      operation,
      cause: e,
    });
  }

  private assertOpen(): void {
    if (this.closed) throw closedError(this.displayAddress);
  }
}

function closedError(address: string): OnvifError {
  return new OnvifError('closed', `The session with ${address} was closed.`, { address });
}

function describeRestart(kind: RestartKind | undefined): string {
  return kind ? `the ${kind}` : 'the restart';
}

function formatOffset(ms: number): string {
  if (Math.abs(ms) < 1000) return `within ${Math.max(1, Math.round(Math.abs(ms)))} ms of`;
  return `${(Math.abs(ms) / 1000).toFixed(1)} s ${ms > 0 ? 'ahead of' : 'behind'}`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "a", "a and b", "a, b and c". */
function listWords(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function safeOrigin(s: string): string | undefined {
  try {
    return new URL(s.trim()).origin;
  } catch {
    return undefined;
  }
}
