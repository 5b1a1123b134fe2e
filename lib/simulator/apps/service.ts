import type { IncomingMessage } from 'node:http';
import { el, type XmlContent, type XmlNode } from '../../xml/build';
import { NS } from '../../xml/namespaces';
import type { XmlElement } from '../../xml/parse';
import { actionNotSupported, invalidArgVal, prohibited, type SimFault } from '../faults';
import type { EventItem } from '../events/service';
import type { TopicDescription } from '../events/topics';
import { utc } from '../events/time';
import type { SimulatorServer } from '../server';
import type { HttpReply, SimulatedRequest, SimulatedService, SoapEndpoint } from '../service';
import type { DeviceState } from '../state';
import { readLicense, type LicenseContent } from './licenses';
import { compareVersions, PackageReader, type AppEventSpec, type AppManifest } from './package';
import type { AccessClass } from '../access';

/** Where the app management service listens (GetServices lists it). */
export const APPS_SERVICE_PATH = '/onvif/app_management';
/** HTTP POST of a package here installs or updates an app (the UploadPath capability). */
export const APP_UPLOAD_PATH = '/onvifq/apps/upload';
/** HTTP GET / POST here + AppID: an app's configuration (AppInfo Configuration). */
export const APP_CONFIG_PATH_PREFIX = '/onvifq/apps/config/';
export const APP_CONFIG_FORMAT = 'onvifq-app-config';
export const APP_STATE_TOPIC = 'tns1:AppMgmt/State';
export const APPS_SERVICE_VERSION = { major: 22, minor: 12 };

/** ans:AppState (AppMgmt §7.1); InstallationFailed and Removed only travel in events. */
export type AppState = 'Active' | 'Inactive' | 'Installing' | 'Uninstalling' | 'Removed' | 'InstallationFailed';

/** An installed app as the device keeps it (DeviceState.apps, so it survives reboots; a hard factory default clears it). */
export interface SimulatedApp {
  manifest: AppManifest;
  installedAt: string;
  lastUpdate: string;
  /** Running when the device last saved: only autostart decides after a reboot, this after a restart of the service. */
  active: boolean;
  licenses: LicenseContent[];
  /** Current settings and the app version they belong to (a restore from another version answers 521). */
  config?: { version: string; settings: Record<string, unknown> };
}

export interface AppServiceOptions {
  /** How long Installing (and Uninstalling) lasts, ms. */
  installDelayMs: number;
  /** FormatsSupported: Content-Types the upload accepts. */
  formats: string[];
  licensing: boolean;
  eventTopicPrefix: string;
  /** An upload whose body stops moving this long gets 408, ms. */
  uploadIdleTimeoutMs: number;
  maxPackageBytes: number;
  /** '22.12': the capability attributes as the 22.12 text names them (UploadUri, SupportedFormat). */
  capabilityNames: 'schema' | '22.12';
  /** Quirk: what the upload really accepts when it differs from FormatsSupported (a device whose capabilities are wrong). */
  acceptedFormats?: string[];
  /** Response children in the ans namespace, unlike the schema (devices that assume elementFormDefault qualified). */
  qualifiedChildren: boolean;
}

/** What the app service needs from the device. */
export interface AppHost {
  readonly state: DeviceState;
  deviceNow(): number;
  /** Persist the state (the state file). */
  save(): void;
  raiseEvent(topic: string, item: EventItem): void;
  /** 'http://host:port' the device listens on (for the UploadPath capability, which has no caller to go by). */
  baseUrl(): string;
}

const text = (status: number, body: string, headers: Record<string, string | string[]> = {}): HttpReply => ({
  status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, body,
});

const ACCESS: Record<string, AccessClass> = {
  GetServiceCapabilities: 'PRE_AUTH',
  GetInstalledApps: 'READ_SYSTEM',
  GetAppsInfo: 'READ_SYSTEM',
  GetDeviceId: 'READ_SYSTEM',
};

const unknownId = (id: string) => invalidArgVal('UnknownId', `No app with AppID '${id}' is installed. GetInstalledApps lists the AppIDs.`);

/**
 * The simulated Application Management service (AppMgmt 22.12): the SOAP operations, the package upload,
 * per-app configuration download and restore, the tns1:AppMgmt/State property and the events of running apps,
 * delivered through the device's event service. Installs and uninstalls are asynchronous, as on devices.
 */
export class AppService implements SimulatedService {
  readonly name = 'apps';
  readonly endpoints: readonly SoapEndpoint[];
  readonly routes;
  /** Live state of each app the device knows (installed or being installed). */
  private readonly states = new Map<string, AppState>();
  /** New apps being installed: not in DeviceState yet. */
  private readonly pending = new Map<string, AppManifest>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly appTimers = new Map<string, NodeJS.Timeout[]>();
  private uploads = 0;
  private counter = 0;

  constructor(
    private readonly host: AppHost,
    private readonly server: SimulatorServer,
    private readonly options: AppServiceOptions,
  ) {
    const ans = (local: string, ...kids: XmlContent[]) => el(NS.ans, local, undefined, ...kids);
    this.endpoints = [
      {
        at: (path) => path === APPS_SERVICE_PATH,
        namespaces: [NS.ans],
        operations: {
          GetServiceCapabilities: () => ans('GetServiceCapabilitiesResponse', this.capabilities()),
          GetInstalledApps: () => ans('GetInstalledAppsResponse', ...this.all().map(([id, m]) => this.c('App', this.c('Name', m.name), this.c('AppID', id)))),
          GetAppsInfo: (req, call) => {
            const id = this.childText(req, 'AppID');
            if (id !== undefined && !this.states.has(id)) throw unknownId(id);
            return ans('GetAppsInfoResponse', ...this.all().filter(([a]) => id === undefined || a === id).map(([a]) => this.info(a, call.baseUrl)));
          },
          Activate: (req) => this.activate(this.requiredId(req), true, ans('ActivateResponse')),
          Deactivate: (req) => this.activate(this.requiredId(req), false, ans('DeactivateResponse')),
          Uninstall: (req) => this.uninstall(this.requiredId(req), ans('UninstallResponse')),
          InstallLicense: (req) => this.installLicense(req, ans('InstallLicenseResponse')),
          GetDeviceId: () => ans('GetDeviceIdResponse', this.c('DeviceId', this.deviceId)),
        },
        accessClass: (operation) => ACCESS[operation] ?? 'WRITE_SYSTEM',
        unsupported: (operation): SimFault => actionNotSupported(`The app management service does not support ${operation}.`),
        listing: { namespace: NS.ans, path: APPS_SERVICE_PATH, version: APPS_SERVICE_VERSION, capabilities: () => this.capabilities() },
      },
    ];
    this.routes = [
      { matches: (path: string) => path === APP_UPLOAD_PATH, body: 'stream' as const, handle: (req: IncomingMessage, record: SimulatedRequest) => this.uploadReply(req, record) },
      {
        matches: (path: string) => path.startsWith(APP_CONFIG_PATH_PREFIX),
        body: 'stream' as const,
        handle: (req: IncomingMessage, record: SimulatedRequest) => this.configReply(req, decodeURIComponent((req.url ?? '/').split('?')[0]!.slice(APP_CONFIG_PATH_PREFIX.length)), record),
      },
    ];
  }

  /** DeviceId licenses are bound to (GetDeviceId). */
  get deviceId(): string {
    const info = this.host.state.deviceInformation;
    return `${info.Model}-${info.SerialNumber}`;
  }

  /** The state of every app, for the /onvifq/state page and tests. */
  get appStates(): Record<string, AppState> {
    return Object.fromEntries(this.states);
  }

  private get apps(): SimulatedApp[] {
    return (this.host.state.apps ??= []);
  }

  private app(id: string): SimulatedApp | undefined {
    return this.host.state.apps?.find((a) => a.manifest.id === id);
  }

  /** Installed and pending apps, AppID → manifest, in install order. */
  private all(): Array<[string, AppManifest]> {
    const out = new Map<string, AppManifest>();
    for (const a of this.apps) out.set(a.manifest.id, a.manifest);
    for (const [id, m] of this.pending) if (!out.has(id)) out.set(id, m);
    return [...out].filter(([id]) => this.states.has(id));
  }

  /** A child of a response: unqualified as the schema says (no elementFormDefault), or qualified by option. */
  private c(local: string, ...kids: XmlContent[]): XmlNode {
    return el(this.options.qualifiedChildren ? NS.ans : '', local, undefined, ...kids);
  }

  /** Requests are read by local name: qualified children (what most clients would send by habit) work too. */
  private childText(req: XmlElement, local: string): string | undefined {
    const c = req.children.find((x) => x.local === local);
    return c ? c.text.trim() : undefined;
  }

  private requiredId(req: XmlElement): string {
    const id = this.childText(req, 'AppID');
    if (!id) throw invalidArgVal('InvalidArgVal', 'AppID is missing: name the app (GetInstalledApps lists them).');
    if (!this.states.has(id)) throw unknownId(id);
    return id;
  }

  capabilities(): XmlNode {
    const o = this.options;
    const uploadUrlName = o.capabilityNames === '22.12' ? 'UploadUri' : 'UploadPath';
    const formatsName = o.capabilityNames === '22.12' ? 'SupportedFormat' : 'FormatsSupported';
    // An absolute URL on the address the device listens on, as devices do (clients re-aim it at the address they use).
    return el(NS.ans, 'Capabilities', {
      [uploadUrlName]: `${this.host.baseUrl()}${APP_UPLOAD_PATH}`,
      Licensing: o.licensing,
      [formatsName]: o.formats.join(' '),
      EventTopicPrefix: o.eventTopicPrefix,
    });
  }

  private info(id: string, baseUrl: string): XmlNode {
    const app = this.app(id);
    const m = app?.manifest ?? this.pending.get(id)!;
    const state = this.states.get(id)!;
    const when = app?.installedAt ?? utc(this.host.deviceNow());
    return this.c(
      'Info',
      this.c('AppID', id),
      this.c('Name', m.name),
      this.c('Version', m.version),
      ...(app?.licenses ?? []).map((l) => this.c('Licenses', this.c('Name', l.name), l.validFrom ? this.c('ValidFrom', l.validFrom) : undefined, l.validUntil ? this.c('ValidUntil', l.validUntil) : undefined)),
      ...(m.privileges ?? []).map((p) => this.c('Privileges', p)),
      this.c('InstallationDate', when),
      this.c('LastUpdate', app?.lastUpdate ?? when),
      this.c('State', state === 'InstallationFailed' || state === 'Removed' ? 'Inactive' : state),
      this.c('Status', this.statusText(id, state)),
      this.c('Autostart', m.autostart !== false),
      this.c('Website', m.website ?? `urn:onvifq:app:${id}`),
      app?.config ? this.c('Configuration', `${baseUrl}${APP_CONFIG_PATH_PREFIX}${encodeURIComponent(id)}`) : undefined,
    );
  }

  private statusText(id: string, state: AppState): string {
    const m = this.app(id)?.manifest ?? this.pending.get(id);
    switch (state) {
      case 'Active': return `Running version ${m?.version ?? '?'}`;
      case 'Inactive': return 'Stopped';
      case 'Installing': return `Installing version ${m?.version ?? '?'}`;
      case 'Uninstalling': return 'Uninstalling';
      default: return state;
    }
  }

  // ------------------------------------------------------------------------------------------ state and events

  /** Change an app's state and raise tns1:AppMgmt/State (a property: subscribers get it as Initialized later). */
  private setState(id: string, state: AppState, status?: string): void {
    const before = this.states.get(id);
    if (state === 'Removed') this.states.delete(id);
    else this.states.set(id, state);
    if (before === 'Active' && state !== 'Active') this.stopAppEvents(id);
    if (state === 'Active' && before !== 'Active') this.startAppEvents(id);
    this.host.raiseEvent(APP_STATE_TOPIC, { source: { AppID: id }, data: { State: state, Status: status ?? this.statusText(id, state) }, operation: 'Changed' });
  }

  /** The app is gone: its property goes too. */
  private forget(id: string): void {
    this.states.delete(id);
    this.host.raiseEvent(APP_STATE_TOPIC, { source: { AppID: id }, operation: 'Deleted' });
  }

  private later(ms: number, f: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      f();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  /** The topic one of an app's events is raised on. */
  appEventTopic(appId: string, e: AppEventSpec): string {
    return e.topic ?? `tns1:${this.options.eventTopicPrefix}/${appId}/${e.name}`;
  }

  /** What GetEventProperties adds: AppMgmt/State, and the events of every installed app. */
  topics(): TopicDescription[] {
    const out: TopicDescription[] = [
      { topic: APP_STATE_TOPIC, isProperty: true, source: [['AppID', 'xs:string']], data: [['State', 'ans:AppState'], ['Status', 'xs:string']] },
    ];
    for (const a of this.apps) {
      for (const e of a.manifest.events ?? []) {
        const topic = this.appEventTopic(a.manifest.id, e);
        if (out.some((t) => t.topic === topic)) continue;
        out.push({ topic, isProperty: e.isProperty ?? false, source: e.source ?? [], data: e.data });
      }
    }
    return out;
  }

  /** Raise one of an app's events now (its values, a counter for integers). */
  raiseAppEvent(appId: string, name: string, values?: Record<string, string>): void {
    const app = this.app(appId);
    const spec = app?.manifest.events?.find((e) => e.name === name);
    if (!app || !spec) throw new Error(`App ${appId} has no event ${name}.`);
    const n = ++this.counter;
    const data: Record<string, string> = {};
    for (const [item, type] of spec.data) {
      data[item] = values?.[item] ?? spec.values?.[item] ?? (/int|long|short|float|double|decimal/.test(type) ? String(n) : /boolean/.test(type) ? 'true' : item);
    }
    const source = Object.fromEntries((spec.source ?? []).map(([item]) => [item, spec.values?.[item] ?? appId]));
    this.host.raiseEvent(this.appEventTopic(appId, spec), { source, data, ...(spec.isProperty ? { operation: 'Changed' as const } : {}) });
  }

  private startAppEvents(id: string): void {
    const app = this.app(id);
    const list: NodeJS.Timeout[] = [];
    for (const e of app?.manifest.events ?? []) {
      if (!e.everyMs || e.everyMs <= 0) continue;
      const t = setInterval(() => this.raiseAppEvent(id, e.name), Math.max(50, e.everyMs));
      t.unref();
      list.push(t);
    }
    this.appTimers.set(id, list);
  }

  private stopAppEvents(id: string): void {
    for (const t of this.appTimers.get(id) ?? []) clearInterval(t);
    this.appTimers.delete(id);
  }

  private stopAll(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const id of [...this.appTimers.keys()]) this.stopAppEvents(id);
    this.pending.clear();
  }

  // ------------------------------------------------------------------------------------------ life

  /** Power on: installed apps come up, Autostart ones Active (their State properties exist from now on). */
  onStart(): void {
    this.boot();
  }

  onReady(): void {
    this.boot();
  }

  onStop(): void {
    this.stopAll();
  }

  onReboot(): void {
    this.stopAll();
  }

  /** A hard factory default removes every app; a restore replaces the state but not the apps (backup.ts exempts them). */
  onChange(what: string): void {
    if (what === 'factoryDefault:Hard') {
      this.stopAll();
      for (const id of [...this.states.keys()]) this.forget(id);
    }
  }

  private boot(): void {
    this.stopAll();
    for (const id of [...this.states.keys()]) if (!this.app(id)) this.forget(id);
    for (const a of this.apps) {
      const active = a.manifest.autostart !== false;
      a.active = active;
      this.states.delete(a.manifest.id);
      this.setState(a.manifest.id, active ? 'Active' : 'Inactive');
    }
    this.host.save();
  }

  // ------------------------------------------------------------------------------------------ operations

  private activate(id: string, on: boolean, response: XmlNode): XmlNode {
    const state = this.states.get(id);
    if (state === 'Installing' || state === 'Uninstalling') {
      throw prohibited('AppBusy', `App '${id}' is ${state.toLowerCase()}; wait for it to finish (the AppMgmt/State event tells).`);
    }
    const app = this.app(id)!;
    app.active = on;
    this.host.save();
    if (state !== (on ? 'Active' : 'Inactive')) this.setState(id, on ? 'Active' : 'Inactive');
    return response;
  }

  private uninstall(id: string, response: XmlNode): XmlNode {
    const state = this.states.get(id);
    if (state === 'Installing' || state === 'Uninstalling') {
      throw prohibited('AppBusy', `App '${id}' is ${state.toLowerCase()}; wait for it to finish (the AppMgmt/State event tells).`);
    }
    this.setState(id, 'Uninstalling');
    this.later(Math.max(1, Math.round(this.options.installDelayMs / 2)), () => {
      this.host.state.apps = this.apps.filter((a) => a.manifest.id !== id);
      this.host.save();
      this.setState(id, 'Removed', 'Uninstalled');
      this.forget(id);
    });
    return response;
  }

  private installLicense(req: XmlElement, response: XmlNode): XmlNode {
    if (!this.options.licensing) throw actionNotSupported('This device does not support app licenses (its Licensing capability is false).');
    const given = this.childText(req, 'AppID') || undefined;
    const raw = this.childText(req, 'License');
    if (!raw) throw invalidArgVal('InvalidFormat', 'The License is empty.');
    const lic = readLicense(raw);
    if (typeof lic === 'string') throw invalidArgVal('InvalidFormat', `The device cannot read the license: ${lic}.`);
    if (given !== undefined && given !== lic.app) throw invalidArgVal('InvalidFormat', `The license is for app '${lic.app}', not '${given}'.`);
    if (lic.device !== this.deviceId) throw invalidArgVal('InvalidFormat', `The license is bound to device '${lic.device}'; this device is '${this.deviceId}' (GetDeviceId).`);
    const app = this.app(lic.app);
    if (!app) throw unknownId(lic.app);
    app.licenses = [...app.licenses.filter((l) => l.name !== lic.name), { name: lic.name, validFrom: lic.validFrom, validUntil: lic.validUntil, app: lic.app, device: lic.device }];
    this.host.save();
    return response;
  }

  // ------------------------------------------------------------------------------------------ install

  /** Upload and config transfers need HTTP digest of an Administrator (WRITE_SYSTEM), like backup and restore. */
  private refusal(req: IncomingMessage, what: string): HttpReply | undefined {
    if (this.server.open) return undefined;
    const challenge = (stale = false) =>
      text(401, `Authentication required: send HTTP digest credentials of an Administrator to ${what}.\n`, { 'WWW-Authenticate': this.server.digestChallenges(stale) });
    const r = this.server.verifyDigest(req, 'POST', '/');
    if (!r) return challenge();
    if (!r.ok) return challenge(r.stale);
    if (r.user.level !== 'Administrator') return text(403, `The user level ${r.user.level} may not ${what}; an Administrator may.\n`);
    return undefined;
  }

  /** AppMgmt §6.2.1: 401, 411, 415, 408; 200 means uploaded, the install follows asynchronously. */
  private async uploadReply(req: IncomingMessage, record: SimulatedRequest): Promise<HttpReply> {
    if (req.method !== 'POST') return text(405, 'POST the app package here.\n', { Allow: 'POST' });
    const refused = this.refusal(req, 'install apps');
    if (refused) return refused;
    const lengthHeader = req.headers['content-length'];
    if (lengthHeader === undefined) return text(411, 'Content-Length is required: send the package with its length (not chunked).\n');
    const length = Number(lengthHeader);
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const accepted = this.options.acceptedFormats ?? this.options.formats;
    if (!type || !accepted.includes(type)) {
      return text(415, `The Content-Type '${type || 'none'}' is not one of the formats this device installs (${accepted.join(', ')}).\n`);
    }
    if (length > this.options.maxPackageBytes) return text(413, `The package is larger than ${this.options.maxPackageBytes} bytes.\n`);
    const read = await this.readPackage(req);
    if (read === 'stalled') {
      record.body = '<stalled>';
      return text(408, `The upload stalled: nothing arrived for ${this.options.uploadIdleTimeoutMs} ms.\n`);
    }
    record.body = `<${read.bytes} bytes>`;
    const n = ++this.uploads;
    return { ...text(200, 'Uploaded; the installation follows (watch tns1:AppMgmt/State).\n'), after: [() => this.install(read.reader, n)] };
  }

  private readPackage(req: IncomingMessage): Promise<{ reader: PackageReader; bytes: number } | 'stalled'> {
    return new Promise((resolve, reject) => {
      const reader = new PackageReader();
      let bytes = 0;
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          req.removeAllListeners('data');
          req.pause();
          resolve('stalled');
        }, this.options.uploadIdleTimeoutMs);
      };
      arm();
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        reader.push(c);
        arm();
      });
      req.on('end', () => {
        clearTimeout(timer);
        resolve({ reader, bytes });
      });
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.on('close', () => clearTimeout(timer));
    });
  }

  /** Installing, then (installDelayMs later) Active/Inactive or InstallationFailed with the reason. */
  private install(reader: PackageReader, upload: number): void {
    const result = reader.result();
    const now = () => utc(this.host.deviceNow());
    const existing = 'manifest' in result ? this.app(result.manifest.id) : result.appId ? this.app(result.appId) : undefined;
    const id = 'manifest' in result ? result.manifest.id : (result.appId ?? `upload-${upload}`);
    if (this.states.get(id) === 'Installing' || this.states.get(id) === 'Uninstalling') {
      // Another install of the same app is under way: this one fails at once.
      this.host.raiseEvent(APP_STATE_TOPIC, { source: { AppID: id }, data: { State: 'InstallationFailed', Status: `Another installation or removal of ${id} is in progress` }, operation: 'Changed' });
      return;
    }
    const wasActive = this.states.get(id) === 'Active';
    // AppMgmt §6.2.2: an Active app goes Inactive before the update starts.
    if (existing && wasActive) this.setState(id, 'Inactive', 'Stopped for the update');
    if (!existing && 'manifest' in result) this.pending.set(id, result.manifest);
    this.setState(id, 'Installing', 'manifest' in result ? `Installing version ${result.manifest.version}` : 'Installing');
    this.later(this.options.installDelayMs, () => {
      this.pending.delete(id);
      const why = 'problem' in result ? result.problem : this.incompatibility(result.manifest);
      if (why) {
        this.setState(id, 'InstallationFailed', why);
        if (existing) this.setState(id, 'Inactive', `Stopped: the update failed (${why})`);
        else this.forget(id);
        return;
      }
      const m = (result as { manifest: AppManifest }).manifest;
      const settings = { ...(m.config ?? {}), ...(existing?.config?.settings ?? {}) };
      const app: SimulatedApp = {
        manifest: m,
        installedAt: existing?.installedAt ?? now(),
        lastUpdate: now(),
        active: m.autostart !== false || wasActive,
        licenses: existing?.licenses ?? [],
        config: m.config ? { version: m.version, settings } : undefined,
      };
      this.host.state.apps = [...this.apps.filter((a) => a.manifest.id !== id), app];
      this.host.save();
      this.setState(id, app.active ? 'Active' : 'Inactive');
    });
  }

  private incompatibility(m: AppManifest): string | undefined {
    const info = this.host.state.deviceInformation;
    if (m.requires?.model && m.requires.model !== info.Model) return `Incompatible package: it is for model ${m.requires.model}, this device is ${info.Model}`;
    if (m.requires?.minFirmware && compareVersions(info.FirmwareVersion, m.requires.minFirmware) < 0) {
      return `Incompatible package: it needs firmware ${m.requires.minFirmware} or later, this device runs ${info.FirmwareVersion}`;
    }
    return m.failInstall;
  }

  // ------------------------------------------------------------------------------------------ configuration

  /** AppMgmt §6.2.6: GET backs an app's configuration up (opaque to clients), POST restores it; 521 for another version's. */
  private async configReply(req: IncomingMessage, id: string, record: SimulatedRequest): Promise<HttpReply> {
    if (req.method !== 'GET' && req.method !== 'POST') return text(405, 'GET backs the configuration up, POST restores it.\n', { Allow: 'GET, POST' });
    const refused = this.refusal(req, req.method === 'GET' ? 'back up app configurations' : 'restore app configurations');
    if (refused) return refused;
    const app = this.app(id);
    if (!app?.config) return text(404, `No app '${id}' with a configuration is installed.\n`);
    if (req.method === 'GET') {
      const body = Buffer.from(`${JSON.stringify({ format: APP_CONFIG_FORMAT, app: id, version: app.config.version, settings: app.config.settings })}\n`, 'utf8');
      return { status: 200, headers: { 'Content-Type': 'application/octet-stream', 'Content-Disposition': `attachment; filename="${id}-config.json"` }, body };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size <= 1024 * 1024) chunks.push(c);
    }
    record.body = `<${size} bytes>`;
    if (size > 1024 * 1024) return text(413, 'A configuration is a few kB; this is not one.\n');
    let doc: { format?: unknown; app?: unknown; version?: unknown; settings?: unknown };
    try {
      doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof doc;
    } catch {
      return text(415, `The file is not a configuration of app ${id}.\n`);
    }
    if (!doc || doc.format !== APP_CONFIG_FORMAT || doc.app !== id || !doc.settings || typeof doc.settings !== 'object') return text(415, `The file is not a configuration of app ${id}.\n`);
    if (doc.version !== app.config.version) {
      return { ...text(521, `Version mismatch: the configuration is from version ${String(doc.version)}, the app is version ${app.config.version}.\n`) };
    }
    app.config = { version: app.config.version, settings: doc.settings as Record<string, unknown> };
    this.host.save();
    return text(200, 'The configuration was restored.\n');
  }
}
