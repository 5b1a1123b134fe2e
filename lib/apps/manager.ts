import { Observable, type Subscription } from 'rxjs';
import type { OnvifDevice } from '../device/onvif-device';
import { OnvifError, isOnvifError } from '../errors';
import { EventHub } from '../events/hub';
import { openFileSource, type FileSource, type OpenedSource } from '../transfer/source';
import { NS } from '../xml/namespaces';
import { chooseContentType } from './content-type';
import { readAppsInfo, readCapabilities, readInstalledApps } from './readers';
import { ChangeQueue, eventChanges, whenActive } from './tracker';
import { AppError, atStep, type AppCapabilities, type AppInfo, type AppProgress, type AppState, type AppStateChange, type AppStep, type InstalledApp } from './types';

export interface AppManagerOptions {
  /**
   * Where app state events come from: the device's shared EventHub (DeviceLink.eventHub(), so the one pull
   * point is shared with events nodes); default: a hub of the manager's own, closed by close(); false: no
   * events, only GetAppsInfo polling.
   */
  events?: EventHub | false;
  /** How often GetAppsInfo is polled without events (and as a safety net with them), ms (default 1000). */
  pollIntervalMs?: number;
  /** How long subscribing to tns1:AppMgmt/State may take before polling is used instead, ms (default 15000). */
  subscribeTimeoutMs?: number;
  /** After the upload: no Installing event within this long means events are not coming; poll instead, ms (default 20000). */
  eventGraceMs?: number;
}

export interface WaitOptions {
  /** Give up after this long, ms (install/update default 10 min, the others 2 min). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?(p: AppProgress): void;
}

export interface InstallOptions extends WaitOptions {
  /** Content-Type to send; must be one of FormatsSupported. Default: recognised from the package, or the device's only format. */
  contentType?: string;
  /** Upload idle timeout: the upload fails when nothing moved for this long, ms (default 30 s). */
  uploadIdleTimeoutMs?: number;
}

export interface UpdateOptions extends InstallOptions {
  /** The app being updated: checked before the upload, and only its state events count. */
  appId?: string;
}

export interface InstallResult {
  appId: string;
  name: string;
  version: string;
  /** Active or Inactive. */
  state: AppState;
  status?: string;
  /** The app was installed before (an update). */
  updated: boolean;
  previousVersion?: string;
  lastUpdate?: string;
  /** GetAppsInfo afterwards confirms a new version or LastUpdate (false: the device reports success but neither changed). */
  verified: boolean;
  /** How the outcome was learned. */
  via: 'events' | 'polling';
  bytes: number;
  contentType: string;
  durationMs: number;
  info: AppInfo;
}

export interface StateResult {
  appId: string;
  state: AppState | 'Removed';
  via: 'events' | 'polling';
}

export interface LicenseResult {
  appId: string;
  licenses: AppInfo['licenses'];
  /** Names that were not listed before. */
  added: string[];
}

export interface LicenseReportRow {
  appId: string;
  appName: string;
  /** License name; '' for an app without licenses. */
  license: string;
  validFrom?: string;
  validUntil?: string;
  /** Whole days until ValidUntil (negative when expired); undefined without ValidUntil. */
  daysLeft?: number;
  status: 'valid' | 'expiring' | 'expired' | 'not-yet-valid' | 'unlimited' | 'unlicensed';
}

export interface LicenseReport {
  deviceId?: string;
  checkedAt: string;
  rows: LicenseReportRow[];
  /** Rows expired or expiring within warnDays. */
  attention: LicenseReportRow[];
  text: string;
}

export interface ConfigBackupResult {
  appId: string;
  version: string;
  bytes: number;
  file?: string;
  buffer?: Buffer;
}

export interface ConfigRestoreResult {
  appId: string;
  bytes: number;
}

const DAY = 86_400_000;

function wordsForState(s: AppState | undefined): string {
  return s ?? 'unknown';
}

/**
 * The Application Management service of one device (AppMgmt 22.12): see lib/apps/index.ts for the API.
 * Install and update return only when the outcome is known; activate, deactivate and uninstall return once the
 * device shows the new state.
 */
export class AppManager {
  private ownHub?: EventHub;
  private readonly known = new Map<string, AppState>();
  private readonly names = new Map<string, string>();
  private caps?: AppCapabilities;

  constructor(
    readonly device: OnvifDevice,
    private readonly options: AppManagerOptions = {},
  ) {}

  private get pollMs(): number {
    return Math.max(50, this.options.pollIntervalMs ?? 1000);
  }

  /** Close the manager's own event hub (a shared one stays open). The device session is the caller's. */
  async close(): Promise<void> {
    await this.ownHub?.close();
    this.ownHub = undefined;
  }

  private hub(): EventHub | undefined {
    if (this.options.events === false) return undefined;
    if (this.options.events) return this.options.events;
    this.ownHub ??= new EventHub(async () => this.device);
    return this.ownHub;
  }

  // ------------------------------------------------------------------------------------------ reading

  /** Where the app management service is; throws 'unsupported' when the device lists none. */
  private async ensureService(step: AppStep): Promise<void> {
    const session = await this.device.connect().catch((e) => {
      throw atStep(e, step);
    });
    if (!this.device.serviceAddress(NS.ans)) {
      const listed = session.partial?.unknown.includes('services') ? ' (it did not list its services without credentials)' : '';
      throw new AppError('unsupported', `${this.device.displayAddress} does not offer ONVIF App Management${listed}: GetServices lists no ${NS.ans} service.`, step, {
        address: this.device.displayAddress,
      });
    }
  }

  private async op(name: string, params: Record<string, unknown> | undefined, step: AppStep, appId?: string): Promise<unknown> {
    await this.ensureService(step);
    try {
      return await this.device.call(`ans:${name}`, params);
    } catch (e) {
      throw atStep(this.explainFault(e, name, appId), step, appId);
    }
  }

  /** Faults of the app operations in words (ter:UnknownId, ter:InvalidFormat, ...). */
  private explainFault(e: unknown, operation: string, appId?: string): unknown {
    if (!isOnvifError(e) || e.kind !== 'fault') return e;
    const where = this.device.displayAddress;
    const said = e.reason ? ` The device said: "${e.reason.slice(0, 200)}".` : '';
    const has = (s: string) => e.hasSubcode?.(s) ?? e.subcodes?.some((x) => x.endsWith(s));
    let message: string | undefined;
    if (has('UnknownId')) message = `${where} has no app '${appId ?? '?'}' (ter:UnknownId). List the installed apps (action list) for the AppIDs.${said}`;
    else if (has('InvalidFormat')) message = `${where} cannot read the license (ter:InvalidFormat): its format is unknown, it is damaged, or it is for another app or device.${said}`;
    else if (has('ActionNotSupported')) message = `${where} does not support ${operation}.${said}`;
    else if (has('OperationProhibited')) message = `${where} refused ${operation} for app '${appId ?? '?'}' right now (ter:OperationProhibited), e.g. while it is being installed or removed.${said}`;
    if (!message) return e;
    const out = new OnvifError(e.kind, message, { ...e, operation });
    return out;
  }

  /** GetServiceCapabilities (PRE_AUTH): upload address, formats, licensing, event topic prefix. */
  async capabilities(refresh = false): Promise<AppCapabilities> {
    if (this.caps && !refresh) return this.caps;
    const result = await this.op('GetServiceCapabilities', undefined, 'capabilities');
    this.caps = readCapabilities(this.device, result);
    return this.caps;
  }

  /** GetInstalledApps: AppID and name of each app. */
  async list(): Promise<InstalledApp[]> {
    const apps = readInstalledApps(await this.op('GetInstalledApps', undefined, 'operation'));
    for (const a of apps) this.names.set(a.appId, a.name);
    return apps;
  }

  /** GetAppsInfo: every app, or the one named (ter:UnknownId when there is no such app). */
  async info(appId?: string): Promise<AppInfo[]> {
    if (appId !== undefined) checkAppId(appId);
    const infos = readAppsInfo(this.device, await this.op('GetAppsInfo', appId !== undefined ? { AppID: appId } : undefined, 'operation', appId));
    for (const i of infos) this.names.set(i.appId, i.name);
    return infos;
  }

  /** GetDeviceId: what licenses are bound to. */
  async deviceId(): Promise<string> {
    const r = (await this.op('GetDeviceId', undefined, 'operation')) as { DeviceId?: unknown } | undefined;
    return typeof r?.DeviceId === 'string' ? r.DeviceId.trim() : String(r?.DeviceId ?? '');
  }

  // ------------------------------------------------------------------------------------------ watching

  /**
   * Every app state change as it happens (AppID, name, old/new state, Status): through the tns1:AppMgmt/State
   * events when the device has them (first the current states, `initial: true`), else by polling GetAppsInfo.
   * Unsubscribing ends it.
   */
  watch(options: { pollIntervalMs?: number } = {}): Observable<AppStateChange> {
    return new Observable<AppStateChange>((subscriber) => {
      const hub = this.hub();
      let inner: Subscription | undefined;
      let stopped = false;
      const known = new Map<string, AppState>();
      const startPolling = () => {
        if (stopped) return;
        inner = this.pollChanges(known, options.pollIntervalMs ?? this.pollMs).subscribe(subscriber);
      };
      if (!hub) {
        startPolling();
      } else {
        const events = eventChanges(hub, known, (id) => this.names.get(id));
        inner = events.subscribe({
          next: (c) => {
            if (c.name !== undefined) return subscriber.next(c);
            // Learn the name first (a freshly installed app); a failed lookup leaves it out.
            this.list().then(
              () => subscriber.next({ ...c, name: this.names.get(c.appId) }),
              () => subscriber.next(c),
            );
          },
          error: (e) => subscriber.error(e),
        });
        void whenActive(hub, this.options.subscribeTimeoutMs ?? 15_000).then((ok) => {
          if (ok || stopped) return;
          // No events from this device: poll instead.
          inner?.unsubscribe();
          startPolling();
        });
      }
      return () => {
        stopped = true;
        inner?.unsubscribe();
      };
    });
  }

  /** Changes seen by polling GetAppsInfo every `intervalMs`; apps that disappear are reported Removed. */
  private pollChanges(known: Map<string, AppState>, intervalMs: number): Observable<AppStateChange> {
    return new Observable<AppStateChange>((subscriber) => {
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      let first = true;
      const round = async () => {
        try {
          const infos = await this.info();
          if (stopped) return;
          const now = new Date().toISOString();
          const seen = new Set<string>();
          for (const i of infos) {
            seen.add(i.appId);
            const old = known.get(i.appId);
            if (old === i.state) continue;
            known.set(i.appId, i.state);
            subscriber.next({ appId: i.appId, name: i.name, oldState: old, newState: i.state, status: i.status, time: now, initial: first, via: 'poll' });
          }
          for (const [id, old] of [...known]) {
            if (seen.has(id)) continue;
            known.delete(id);
            subscriber.next({ appId: id, name: this.names.get(id), oldState: old, newState: 'Removed', time: now, initial: false, via: 'poll' });
          }
          first = false;
        } catch (e) {
          // A device that is away for a moment is polled again; a refusal ends the watch.
          if (isOnvifError(e) && (e.kind === 'auth' || e.kind === 'unsupported' || e.kind === 'closed')) {
            subscriber.error(e);
            return;
          }
        }
        if (!stopped) timer = setTimeout(() => void round(), intervalMs);
      };
      void round();
      return () => {
        stopped = true;
        clearTimeout(timer);
      };
    });
  }

  /** Subscribe before acting: a queue of this manager's changes, fed by events (when they flow) or nothing (then poll). */
  private async openTracker(step: AppStep): Promise<{ queue: ChangeQueue; via: 'events' | 'polling'; close(): void }> {
    const queue = new ChangeQueue();
    const hub = this.hub();
    if (!hub) return { queue, via: 'polling', close: () => undefined };
    let sub: Subscription | undefined;
    try {
      sub = eventChanges(hub, this.known, (id) => this.names.get(id)).subscribe({ next: (c) => queue.push(c), error: () => undefined });
    } catch (e) {
      throw atStep(e, step);
    }
    const active = await whenActive(hub, this.options.subscribeTimeoutMs ?? 15_000);
    if (!active) {
      sub.unsubscribe();
      return { queue, via: 'polling', close: () => undefined };
    }
    return { queue, via: 'events', close: () => sub?.unsubscribe() };
  }

  // ------------------------------------------------------------------------------------------ install / update

  /**
   * Install an app package and return when the device has installed it (Active or Inactive), or throw an
   * AppError: InstallationFailed (`appStatus` says why), a refused upload (401, 403, 408, 411, 413, 415), or
   * the deadline. Works as update too when the package is a new version of an installed app.
   */
  install(pkg: FileSource, options: InstallOptions = {}): Promise<InstallResult> {
    return this.deploy(pkg, options, false);
  }

  /** Update an installed app (AppMgmt §6.2.2: an Active app goes Inactive, then Installing, then its final state). */
  update(pkg: FileSource, options: UpdateOptions = {}): Promise<InstallResult> {
    return this.deploy(pkg, options, true);
  }

  private async deploy(pkg: FileSource, o: UpdateOptions, isUpdate: boolean): Promise<InstallResult> {
    const started = Date.now();
    const deadline = started + (o.timeoutMs ?? 600_000);
    const progress = (p: AppProgress) => o.onProgress?.(p);
    let step: AppStep = 'capabilities';
    let opened: OpenedSource | undefined;
    let tracker: Awaited<ReturnType<AppManager['openTracker']>> | undefined;
    let target = o.appId;
    try {
      if (target !== undefined) checkAppId(target);
      progress({ phase: 'preparing', text: 'reading capabilities' });
      const caps = await this.capabilities(true);
      if (!caps.uploadUrl) {
        throw new AppError('unsupported', `${this.device.displayAddress} names no UploadPath in its App Management capabilities, so packages cannot be uploaded.`, step);
      }
      step = 'package';
      opened = await openFileSource(pkg, { signal: o.signal });
      const contentType = chooseContentType(caps.formats, o.contentType, opened);
      step = 'snapshot';
      const before = new Map((await this.info()).map((i) => [i.appId, i] as const));
      if (isUpdate && target !== undefined && !before.has(target)) {
        throw new AppError('invalid-input', `${this.device.displayAddress} has no app '${target}' to update. Install it instead, or check the AppID (action list).`, step, { appId: target });
      }
      step = 'subscribe';
      tracker = await this.openTracker(step);
      step = 'upload';
      progress({ phase: 'uploading', text: `uploading 0 %`, percent: 0, bytes: 0, total: opened.size });
      const sent = await this.device.upload(caps.uploadUrl, opened.source, {
        contentType,
        size: opened.size,
        signal: o.signal,
        timeoutMs: o.uploadIdleTimeoutMs,
        describeStatus: (status, said, details) => packageStatusError(status, said, details, caps, contentType),
        onProgress: (p) => progress({ phase: 'uploading', text: `uploading ${p.percent ?? 0} %`, percent: p.percent, bytes: p.bytes, total: p.total }),
      });
      step = 'install';
      progress({ phase: 'installing', text: 'installing…', appId: target });
      const outcome = await this.awaitInstall(tracker, before, target, deadline, o);
      target = outcome.appId;
      step = 'verify';
      const [info] = await this.info(outcome.appId);
      if (!info) throw new AppError('bad-response', `${this.device.displayAddress} reported app '${outcome.appId}' ${outcome.state} but GetAppsInfo does not list it.`, step);
      const prior = before.get(info.appId);
      const verified = !prior || prior.version !== info.version || prior.lastUpdate !== info.lastUpdate;
      progress({ phase: 'done', text: info.state, appId: info.appId, state: info.state });
      return {
        appId: info.appId,
        name: info.name,
        version: info.version,
        state: info.state,
        status: outcome.status ?? info.status,
        updated: !!prior,
        ...(prior ? { previousVersion: prior.version } : {}),
        lastUpdate: info.lastUpdate,
        verified,
        via: outcome.via,
        bytes: sent.bytes,
        contentType,
        durationMs: Date.now() - started,
        info,
      };
    } catch (e) {
      throw atStep(e, step, target);
    } finally {
      tracker?.close();
      opened?.discard();
    }
  }

  /** Wait for Installing, then Active/Inactive (success) or InstallationFailed; polling when events are silent. */
  private async awaitInstall(
    tracker: { queue: ChangeQueue; via: 'events' | 'polling' },
    before: Map<string, AppInfo>,
    appId: string | undefined,
    deadline: number,
    o: WaitOptions,
  ): Promise<{ appId: string; state: AppState; status?: string; via: 'events' | 'polling' }> {
    let target = appId;
    let installing = false;
    let last: AppStateChange | undefined;
    if (tracker.via === 'events') {
      const grace = Date.now() + (this.options.eventGraceMs ?? 20_000);
      for (;;) {
        const until = installing ? deadline : Math.min(deadline, grace);
        const c = await tracker.queue.next(until - Date.now(), o.signal);
        if (o.signal?.aborted) throw new AppError('closed', 'The installation wait was cancelled (the upload had finished; the device may still install the app).', 'install', { appId: target });
        if (!c) {
          if (!installing && Date.now() < deadline) break; // no Installing event: poll for the rest of the time
          throw this.deadlineError(target, last);
        }
        if (target !== undefined && c.appId !== target) continue;
        if (!installing) {
          if (c.initial) continue;
          if (c.newState === 'Installing') {
            installing = true;
            target = c.appId;
            o.onProgress?.({ phase: 'installing', text: 'installing…', appId: target, state: 'Installing' });
          } else if (c.newState === 'InstallationFailed') {
            throw this.failedError(c);
          } else if (c.newState === 'Inactive' && before.get(c.appId)?.state === 'Active') {
            o.onProgress?.({ phase: 'installing', text: 'stopped for the update', appId: c.appId, state: 'Inactive' });
          }
          continue;
        }
        last = c;
        if (c.newState === 'InstallationFailed') throw this.failedError(c);
        if (c.newState === 'Active' || c.newState === 'Inactive') return { appId: c.appId, state: c.newState, status: c.status, via: 'events' };
        if (c.newState === 'Removed') throw new AppError('bad-response', `${this.device.displayAddress} removed app '${c.appId}' during the installation.`, 'install', { appId: c.appId });
      }
    }
    return this.pollInstall(before, target, deadline, o);
  }

  /** Without events: a new app, or one whose Version or LastUpdate changed, that is Active or Inactive. */
  private async pollInstall(before: Map<string, AppInfo>, appId: string | undefined, deadline: number, o: WaitOptions): Promise<{ appId: string; state: AppState; status?: string; via: 'polling' }> {
    let lastSeen: AppInfo | undefined;
    for (;;) {
      const infos = await this.info();
      const changed = infos.filter((i) => {
        if (appId !== undefined && i.appId !== appId) return false;
        const b = before.get(i.appId);
        return !b || b.version !== i.version || b.lastUpdate !== i.lastUpdate || (i.state === 'Installing' && b.state !== 'Installing');
      });
      const installing = changed.find((i) => i.state === 'Installing');
      const done = changed.find((i) => (i.state === 'Active' || i.state === 'Inactive') && (!before.has(i.appId) || before.get(i.appId)!.version !== i.version || before.get(i.appId)!.lastUpdate !== i.lastUpdate));
      if (done) return { appId: done.appId, state: done.state, status: done.status, via: 'polling' };
      if (installing && installing.appId !== lastSeen?.appId) o.onProgress?.({ phase: 'installing', text: 'installing…', appId: installing.appId, state: 'Installing' });
      lastSeen = installing ?? lastSeen;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new AppError(
          'timeout',
          `${this.device.displayAddress} accepted the package, but no installed app appeared before the deadline` +
            `${lastSeen ? ` (last seen: '${lastSeen.appId}' ${lastSeen.state})` : ''}. Without app state events the device cannot report InstallationFailed: ` +
            'check the package, or look at the device (action info).',
          'install',
          { appId: lastSeen?.appId ?? appId },
        );
      }
      await abortableSleep(Math.min(this.pollMs, left), o.signal);
      if (o.signal?.aborted) throw new AppError('closed', 'The installation wait was cancelled (the upload had finished; the device may still install the app).', 'install');
    }
  }

  private failedError(c: AppStateChange): AppError {
    return new AppError(
      'invalid-input',
      `${this.device.displayAddress} could not install app '${c.appId}' (InstallationFailed)${c.status ? `: ${c.status}` : ''}. Check that the package is for this device and its firmware.`,
      'install',
      { appId: c.appId, appStatus: c.status, deviceText: c.status, address: this.device.displayAddress },
    );
  }

  private deadlineError(appId: string | undefined, last: AppStateChange | undefined): AppError {
    return new AppError(
      'timeout',
      `${this.device.displayAddress} did not finish installing${appId ? ` app '${appId}'` : ''} before the deadline (last state: ${wordsForState(last?.newState ?? (appId ? 'Installing' : undefined))}). ` +
        'The device may still be installing: look again later (action info), or allow more time (timeoutMs).',
      'install',
      { appId },
    );
  }

  // ------------------------------------------------------------------------------------------ activate / deactivate / uninstall

  /** Activate and wait until the app is Active. */
  activate(appId: string, o: WaitOptions = {}): Promise<StateResult> {
    return this.changeState('Activate', appId, (s) => s === 'Active', o);
  }

  /** Deactivate and wait until the app is Inactive. */
  deactivate(appId: string, o: WaitOptions = {}): Promise<StateResult> {
    return this.changeState('Deactivate', appId, (s) => s === 'Inactive', o);
  }

  /** Uninstall and wait until the app is gone from GetInstalledApps (or its Removed event). */
  uninstall(appId: string, o: WaitOptions = {}): Promise<StateResult> {
    return this.changeState('Uninstall', appId, (s) => s === 'Removed', o);
  }

  private async changeState(operation: 'Activate' | 'Deactivate' | 'Uninstall', appId: string, reached: (s: AppState) => boolean, o: WaitOptions): Promise<StateResult> {
    const deadline = Date.now() + (o.timeoutMs ?? 120_000);
    let step: AppStep = 'operation';
    let tracker: Awaited<ReturnType<AppManager['openTracker']>> | undefined;
    try {
      checkAppId(appId);
      await this.ensureService(step);
      tracker = await this.openTracker('subscribe');
      step = 'operation';
      await this.op(operation, { AppID: appId }, step, appId);
      step = 'confirm';
      o.onProgress?.({ phase: 'waiting', text: `${operation.toLowerCase()}: waiting for the device`, appId });
      let lastCheck = 0;
      for (;;) {
        // The device's own view, right after the call and then now and then (the safety net when events are late).
        if (Date.now() - lastCheck >= (tracker.via === 'events' ? this.pollMs * 5 : this.pollMs)) {
          lastCheck = Date.now();
          const state = await this.currentState(appId);
          if (reached(state)) return this.confirmed(appId, state, 'polling', o);
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new AppError('timeout', `${this.device.displayAddress} accepted ${operation} for app '${appId}', but the app did not reach the expected state in time (now ${wordsForState(this.known.get(appId))}).`, step, { appId });
        }
        if (tracker.via === 'events') {
          const c = await tracker.queue.next(Math.min(left, this.pollMs * 5), o.signal);
          if (c && c.appId === appId && reached(c.newState)) return this.confirmed(appId, c.newState, 'events', o);
        } else {
          await abortableSleep(Math.min(left, this.pollMs), o.signal);
        }
        if (o.signal?.aborted) throw new AppError('closed', `Waiting for ${operation} of '${appId}' was cancelled (the device accepted it).`, step, { appId });
      }
    } catch (e) {
      throw atStep(e, step, appId);
    } finally {
      tracker?.close();
    }
  }

  private confirmed(appId: string, state: AppState, via: 'events' | 'polling', o: WaitOptions): StateResult {
    o.onProgress?.({ phase: 'done', text: state, appId, state });
    return { appId, state, via };
  }

  /** The app's state now, 'Removed' when it is no longer listed. */
  private async currentState(appId: string): Promise<AppState> {
    const apps = await this.list();
    if (!apps.some((a) => a.appId === appId)) return 'Removed';
    const [info] = await this.info(appId).catch((e) => {
      if (isOnvifError(e) && e.subcodes?.some((s) => s.endsWith('UnknownId'))) return [];
      throw e;
    });
    return info?.state ?? 'Removed';
  }

  // ------------------------------------------------------------------------------------------ licenses

  /** InstallLicense (only when the Licensing capability is true), then check GetAppsInfo lists the app's licenses. */
  async installLicense(appId: string | undefined, license: string | Buffer | { file: string }): Promise<LicenseResult> {
    let step: AppStep = 'capabilities';
    try {
      if (appId !== undefined) checkAppId(appId);
      const text = await licenseText(license);
      const caps = await this.capabilities();
      if (!caps.licensing) throw new AppError('unsupported', `${this.device.displayAddress} does not support app licenses (its Licensing capability is false).`, step, { appId });
      step = 'snapshot';
      const before = appId !== undefined ? ((await this.info(appId))[0]?.licenses ?? []) : [];
      step = 'operation';
      await this.op('InstallLicense', appId !== undefined ? { AppID: appId, License: text } : { License: text }, step, appId);
      step = 'verify';
      const infos = await this.info(appId);
      const app = appId !== undefined ? infos[0] : infos.find((i) => i.licenses.length > 0);
      const licenses = app?.licenses ?? [];
      if (licenses.length === 0) {
        throw new AppError('bad-response', `${this.device.displayAddress} accepted the license, but GetAppsInfo lists no license${appId ? ` for '${appId}'` : ''}.`, step, { appId });
      }
      const names = new Set(before.map((l) => `${l.name}|${l.validUntil ?? ''}`));
      return { appId: app!.appId, licenses, added: licenses.filter((l) => !names.has(`${l.name}|${l.validUntil ?? ''}`)).map((l) => l.name) };
    } catch (e) {
      throw atStep(e, step, appId);
    }
  }

  /** Every app's licenses with ValidUntil and days left; `attention` lists the expired and those expiring within warnDays (default 30). */
  async licenseReport(options: { warnDays?: number; now?: Date } = {}): Promise<LicenseReport> {
    const now = options.now?.getTime() ?? Date.now();
    const warnDays = options.warnDays ?? 30;
    const infos = await this.info();
    const deviceId = await this.deviceId().catch(() => undefined);
    const rows: LicenseReportRow[] = [];
    for (const i of infos) {
      if (i.licenses.length === 0) rows.push({ appId: i.appId, appName: i.name, license: '', status: 'unlicensed' });
      for (const l of i.licenses) {
        const until = l.validUntil ? Date.parse(l.validUntil) : NaN;
        const from = l.validFrom ? Date.parse(l.validFrom) : NaN;
        // Whole days, toward zero: 10.9 days left is 10, expired 2.3 days ago is -2.
        const daysLeft = Number.isFinite(until) ? Math.trunc((until - now) / DAY) : undefined;
        let status: LicenseReportRow['status'] = 'unlimited';
        if (Number.isFinite(from) && from > now) status = 'not-yet-valid';
        else if (Number.isFinite(until)) status = until <= now ? 'expired' : daysLeft! < warnDays ? 'expiring' : 'valid';
        rows.push({ appId: i.appId, appName: i.name, license: l.name, ...(l.validFrom ? { validFrom: l.validFrom } : {}), ...(l.validUntil ? { validUntil: l.validUntil } : {}), ...(daysLeft !== undefined ? { daysLeft } : {}), status });
      }
    }
    const attention = rows.filter((r) => r.status === 'expired' || r.status === 'expiring');
    const expired = rows.filter((r) => r.status === 'expired').length;
    const text =
      `${rows.filter((r) => r.license).length} license(s) on ${infos.length} app(s)` +
      (attention.length ? `: ${expired} expired, ${attention.length - expired} expiring within ${warnDays} days` : ', none expired or expiring');
    return { ...(deviceId ? { deviceId } : {}), checkedAt: new Date(now).toISOString(), rows, attention, text };
  }

  // ------------------------------------------------------------------------------------------ configuration

  private async configUrl(appId: string, step: AppStep): Promise<{ url: string; version: string }> {
    checkAppId(appId);
    const [info] = await this.info(appId);
    if (!info) throw new AppError('invalid-input', `${this.device.displayAddress} has no app '${appId}'.`, step, { appId });
    if (!info.configuration) {
      throw new AppError('unsupported', `App '${appId}' on ${this.device.displayAddress} offers no configuration backup (GetAppsInfo names no Configuration URI).`, step, { appId });
    }
    return { url: info.configuration, version: info.version };
  }

  /** Back up an app's configuration (HTTP GET of its Configuration URI; opaque bytes) to a file or into memory. */
  async backupConfig(appId: string, options: { file?: string; signal?: AbortSignal } = {}): Promise<ConfigBackupResult> {
    let step: AppStep = 'snapshot';
    try {
      const { url, version } = await this.configUrl(appId, step);
      step = 'config';
      const r = await this.device.download(url, { to: options.file ?? 'buffer', signal: options.signal });
      return { appId, version, bytes: r.bytes, ...(r.file ? { file: r.file } : {}), ...(r.buffer ? { buffer: r.buffer } : {}) };
    } catch (e) {
      throw atStep(e, step, appId);
    }
  }

  /** Restore an app's configuration (HTTP POST to its Configuration URI); 521 means it is from another app version. */
  async restoreConfig(appId: string, source: FileSource, options: { signal?: AbortSignal } = {}): Promise<ConfigRestoreResult> {
    let step: AppStep = 'snapshot';
    let opened: OpenedSource | undefined;
    try {
      const { url, version } = await this.configUrl(appId, step);
      step = 'package';
      opened = await openFileSource(source, { signal: options.signal });
      step = 'config';
      const r = await this.device.upload(url, opened.source, {
        contentType: 'application/octet-stream',
        size: opened.size,
        signal: options.signal,
        describeStatus: (status, said, details) => {
          const dev = said ? ` The device said: "${said.slice(0, 200)}".` : '';
          if (status === 521) {
            return new OnvifError(
              'invalid-input',
              `App '${appId}' (version ${version}) cannot restore this configuration (HTTP 521 version mismatch): it was backed up from another version of the app. Restore a backup made with version ${version}, or reconfigure the app.${dev}`,
              details,
            );
          }
          if (status === 415) return new OnvifError('invalid-input', `App '${appId}' did not accept the file as its configuration (HTTP 415).${dev}`, details);
          if (status === 403) return new OnvifError('auth', `The device refused the configuration restore (HTTP 403): an Administrator account is needed.${dev}`, details);
          return undefined;
        },
      });
      return { appId, bytes: r.bytes };
    } catch (e) {
      throw atStep(e, step, appId);
    } finally {
      opened?.discard();
    }
  }
}

function checkAppId(appId: unknown): void {
  if (typeof appId !== 'string' || !appId.trim()) throw new AppError('invalid-input', 'No AppID given: name the app (the list action shows the AppIDs).', 'operation');
}

async function licenseText(license: string | Buffer | { file: string }): Promise<string> {
  let text: string;
  if (typeof license === 'string') text = license;
  else if (Buffer.isBuffer(license)) text = license.toString('utf8');
  else if (license && typeof license === 'object' && typeof license.file === 'string') {
    const { promises: fsp } = await import('node:fs');
    text = await fsp.readFile(license.file, 'utf8').catch(() => {
      throw new AppError('invalid-input', `The license file ${license.file} cannot be read. Check the path.`, 'package');
    });
  } else throw new AppError('invalid-input', 'Give the license as text, a Buffer or { file: "/path" }.', 'package');
  text = text.trim();
  if (!text) throw new AppError('invalid-input', 'The license is empty.', 'package');
  return text;
}

/** An upload refused with one of AppMgmt §6.2.1's statuses, in words. */
function packageStatusError(status: number, said: string, details: { httpStatus: number; address: string; deviceText?: string }, caps: AppCapabilities, contentType: string): OnvifError | undefined {
  const dev = said ? ` The device said: "${said.slice(0, 200)}".` : '';
  switch (status) {
    case 401:
      return new OnvifError('auth', `The device refused the package upload (HTTP 401): it needs credentials of a user allowed WRITE_SYSTEM (an Administrator).${dev}`, details);
    case 403:
      return new OnvifError('auth', `The device refused the package upload (HTTP 403): this user may not install apps; an Administrator may.${dev}`, details);
    case 408:
      return new OnvifError('timeout', `The device gave up on the upload (HTTP 408): it arrived too slowly. Try again on a faster or less busy connection.${dev}`, details);
    case 411:
      return new OnvifError('bad-response', `The device wants the package size up front (HTTP 411 Length Required).${dev}`, details);
    case 413:
      return new OnvifError('invalid-input', `The package is too large for the device (HTTP 413).${dev}`, details);
    case 415:
      return new OnvifError(
        'invalid-input',
        `The device does not install packages of type ${contentType} (HTTP 415). It lists ${caps.formats.length ? caps.formats.join(', ') : 'no formats'} in FormatsSupported.${dev}`,
        details,
      );
    default:
      return undefined;
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
