import { EventEmitter } from 'node:events';
import { createServer as createNetServer } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { AppService, type AppState } from './apps/service';
import { APP_PACKAGE_CONTENT_TYPE } from './apps/package';
import { configurationOf } from './backup';
import { allScopes, DEVICE_SERVICE_PATH, deviceService, type DeviceServiceHost } from './device-service';
import { DiscoveryService } from './discovery';
import type { PullPointInfo } from './events/pull-point';
import { EVENT_SERVICE_PATH, EventService, type EventItem } from './events/service';
import { utc } from './events/time';
import type { SimulatorOptions } from './options';
import { SimulatorServer, type InjectedFault } from './server';
import type { HttpReply, SimulatedRequest, SimulatedService } from './service';
import { SecurityService, type SecurityHost } from './security/service';
import { factoryState, loadState, saveState, type DeviceState } from './state';
import { TransferService, type TransferHost } from './transfers';
import { FirmwareService, type FirmwareHost, type FirmwareOutcome } from './firmware/service';

export type { DeviceState } from './state';
export type { SimulatorOptions } from './options';
export type { InjectedFault } from './server';
export type { SimulatedRequest } from './service';
export { BACKUP_PATH, RESTORE_PATH_PREFIX } from './transfers';
export { FIRMWARE_PATH_PREFIX, type FirmwareOutcome, type FirmwareUpgradeMode } from './firmware/service';

/** Live state as JSON (pull points, users without passwords, scopes, ...), for tests and curious users. */
export const STATE_PATH = '/onvifq/state';

type Defaults = 'host' | 'auth' | 'latencyMs' | 'usernameTokenWindowMs' | 'maxUsers' | 'rebootDowntimeMs';

/**
 * A simulated ONVIF Profile Q device: the state (Factory Default → Operational, users, network, time),
 * its life (start, stop, reboot, factory default, persistence), and the services that answer for it on
 * one SimulatorServer: device management, backup and restore transfers, WS-Discovery, events and the
 * state page. A new service is registered in the constructor (see service.ts).
 */
export class SimulatedDevice extends EventEmitter {
  state: DeviceState;

  private readonly options: Required<Pick<SimulatorOptions, Defaults>> & SimulatorOptions;
  private readonly server: SimulatorServer;
  /** Every service of the device, in the order their hooks run. */
  private readonly services: SimulatedService[] = [];
  private readonly events: EventService;
  private readonly discovery: DiscoveryService;
  private readonly transfers: TransferService;
  private readonly firmware: FirmwareService;
  private readonly security: SecurityService;
  private readonly apps?: AppService;
  private freshState: boolean;
  private rebootTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(options: SimulatorOptions = {}) {
    super();
    this.options = {
      host: '127.0.0.1',
      auth: 'any',
      latencyMs: 0,
      usernameTokenWindowMs: 5 * 60_000,
      maxUsers: 10,
      rebootDowntimeMs: 2000,
      ...options,
    };
    this.server = new SimulatorServer(
      this,
      {
        host: this.options.host,
        auth: this.options.auth,
        latencyMs: this.options.latencyMs,
        usernameTokenWindowMs: this.options.usernameTokenWindowMs,
        digestNonceLifetimeMs: options.digestNonceLifetimeMs ?? 5 * 60_000,
        emptyPasswordsSignIn: options.defaultAdmin === undefined,
        homePath: DEVICE_SERVICE_PATH,
      },
      this.services,
    );
    const loaded = options.stateFile ? loadState(options.stateFile) : undefined;
    this.freshState = !loaded;
    this.state = loaded ?? this.factory(options.uuid);
    if (loaded) {
      if (options.uuid) this.state.uuid = options.uuid;
      if (options.clockSkewMs !== undefined) this.state.time.offsetMs = options.clockSkewMs;
      if (options.deviceInformation) Object.assign(this.state.deviceInformation, options.deviceInformation);
    }
    if (options.username !== undefined) this.ensureAdministrator(options.username, options.password ?? '');

    this.transfers = new TransferService(this.transferHost(), this.server, {
      restoreUploadLifetimeMs: options.restoreUploadLifetimeMs ?? 5 * 60_000,
      maxRestoreBytes: options.maxRestoreBytes ?? 4 * 1024 * 1024,
      rebootDowntimeMs: this.options.rebootDowntimeMs,
    });
    this.firmware = new FirmwareService(this.firmwareHost(), this.server, {
      mode: options.firmwareMode ?? 'http',
      uploadDelayMs: options.firmwareUploadDelayMs ?? 0,
      expectedDownTimeMs: options.firmwareDownTimeMs ?? 3000,
      flashMs: options.firmwareFlashMs ?? 500,
      uploadLifetimeMs: options.firmwareUploadLifetimeMs ?? 5 * 60_000,
      maxFirmwareBytes: options.maxFirmwareBytes ?? 512 * 1024 * 1024,
    });
    this.discovery = new DiscoveryService(this, { host: this.options.host, discovery: options.discovery, delayMs: options.discoveryDelayMs });
    this.events = new EventService({
      maxPullPoints: options.maxPullPoints ?? 2,
      maxPullTimeoutS: options.maxPullTimeoutS ?? 60,
      maxQueuedEvents: options.maxQueuedEvents ?? 20_000,
      referenceParameters: options.referenceParameters ?? false,
      processorUsageIntervalMs: options.processorUsageIntervalMs ?? 5000,
      motionIntervalMs: options.motionIntervalMs ?? 0,
      topics: options.eventTopics,
      extraTopics: () => this.apps?.topics() ?? [],
      deviceNow: () => this.deviceNow(),
    });
    if (options.apps !== false) this.apps = this.appService(options.apps ?? {});
    // The one place services are plugged in. Order matters for the hooks: discovery starts (and may fail the
    // start) before the event timers run, and says Bye before anything else stops.
    this.security = new SecurityService(this.securityHost(), options.security);
    this.services.push(deviceService(this.deviceServiceHost()), this.transfers, this.firmware, this.discovery, this.events);
    // Apps after events: their State properties are raised into a running event service.
    if (this.apps) this.services.push(this.apps);
    this.services.push(this.security, this.statePage());
  }

  /** Raise an event, e.g. raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } }). */
  raiseEvent(topic: string, item: EventItem = {}): void {
    this.events.raiseEvent(topic, item);
  }

  /** Update a live property (topic + source) and raise Changed. */
  setProperty(topic: string, source: Record<string, string>, data: Record<string, string>): void {
    this.events.setProperty(topic, source, data);
  }

  /** Raise one of an installed app's events now (apps raise their `everyMs` events by themselves while Active). */
  raiseAppEvent(appId: string, eventName: string, values?: Record<string, string>): void {
    if (!this.apps) throw new Error('This device runs without App Management (apps: false).');
    this.apps.raiseAppEvent(appId, eventName, values);
  }

  /** The state of every installed (or installing) app. */
  get appStates(): Record<string, AppState> {
    return this.apps?.appStates ?? {};
  }

  /** GetDeviceId's answer: what simulated licenses are bound to. */
  get appDeviceId(): string | undefined {
    return this.apps?.deviceId;
  }

  /** The pull points that exist now. */
  get pullPoints(): PullPointInfo[] {
    return this.events.pullPointInfo;
  }

  /** Every request since start (or clearRequests), passwords redacted. */
  get requests(): SimulatedRequest[] {
    return this.server.requests;
  }

  get stats(): SimulatorServer['stats'] {
    return this.server.stats;
  }

  get port(): number {
    return this.server.port;
  }

  /** Port of the HTTPS listener, 0 while HTTPS is off. */
  get httpsPort(): number {
    return this.server.tlsListening ? this.server.tlsPort : 0;
  }

  /** The device service over HTTPS, undefined while HTTPS is off. */
  get httpsXaddr(): string | undefined {
    if (!this.server.tlsListening) return undefined;
    const h = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `https://${h}:${this.server.tlsPort}${DEVICE_SERVICE_PATH}`;
  }

  /** The next `times` key generations end corrupt (KeyStatus event and GetKeyStatus say so). */
  injectCorruptKey(times = 1): void {
    this.security.injectCorruptKey(times);
  }

  /** Serve a certificate other than the assigned one (a device whose TLS went wrong); false: back to the assigned one. */
  serveWrongCertificate(on = true): Promise<void> {
    return this.security.serveWrongCertificate(on);
  }

  get xaddr(): string {
    const h = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `http://${h}:${this.port}${DEVICE_SERVICE_PATH}`;
  }

  get endpoint(): string {
    return `urn:uuid:${this.state.uuid}`;
  }

  get profileQState(): 'FactoryDefault' | 'Operational' {
    return this.state.factoryDefault ? 'FactoryDefault' : 'Operational';
  }

  /** 'udp://host:port' where the WS-Discovery responder answers, undefined when discovery is off. */
  get discoveryAddress(): string | undefined {
    return this.discovery.address;
  }

  /** Why default discovery is not running (its UDP port was taken), undefined when it runs or was turned off. */
  get discoveryProblem(): string | undefined {
    return this.discovery.problem;
  }

  /** Device clock, ms since epoch. */
  deviceNow(): number {
    return Date.now() + this.state.time.offsetMs;
  }

  clearRequests(): void {
    this.server.requests.length = 0;
  }

  injectFault(fault: InjectedFault): void {
    this.server.injectFault(fault);
  }

  /** The next firmware upload that gets as far as the image ends this way (once); see FirmwareOutcome. */
  injectFirmwareOutcome(outcome: FirmwareOutcome): void {
    this.firmware.injectOutcome(outcome);
  }

  /** Forget the open firmware upload URIs (as a restart does): the next POST to one gets 404. */
  expireFirmwareUploads(): void {
    this.firmware.expireUploads();
  }

  // ------------------------------------------------------------------------------------------ services

  private deviceServiceHost(): DeviceServiceHost {
    const device = this;
    return {
      get state() {
        return device.state;
      },
      set state(s: DeviceState) {
        device.state = s;
      },
      get endpoint() {
        return device.endpoint;
      },
      deviceNow: () => this.deviceNow(),
      acceptsDigest: this.server.acceptsDigest,
      acceptsUsernameToken: this.server.acceptsUsernameToken,
      maxUsers: this.options.maxUsers,
      strictFactoryDefault: this.options.defaultAdmin !== undefined,
      backupPath: this.transfers.backupPath,
      startRestore: () => this.transfers.openRestoreUpload(),
      firmwareMode: this.firmware.options.mode,
      startFirmwareUpgrade: () => this.firmware.openUpload(),
      changed: (what) => this.changed(what),
      reboot: () => this.reboot(),
      factoryReset: (kind) => this.factoryReset(kind),
      profileQStateChanged: (call) => {
        this.emit('profileQState', this.profileQState);
        if (!this.state.factoryDefault && this.options.rebootOnCommission) call.afterResponse(() => this.reboot());
      },
      listings: () => this.services.flatMap((s) => s.endpoints ?? []).flatMap((e) => (e.listing ? [e.listing] : [])),
      tlsProblem: () => this.security.tlsProblem(),
    };
  }

  private securityHost(): SecurityHost {
    const device = this;
    return {
      get state() {
        return device.state;
      },
      deviceNow: () => this.deviceNow(),
      raiseEvent: (topic, item) => this.events.raiseEvent(topic, item),
      changed: (what) => this.changed(what),
      tls: {
        get listening() {
          return device.server.tlsListening;
        },
        listen: (port, context) => this.server.listenTls(port, context),
        setContext: (context) => this.server.setTlsContext(context),
        close: () => this.server.closeTls(),
      },
      names: () => {
        const s = this.state;
        const hostname = s.hostname.fromDHCP ? s.hostname.dhcpName : s.hostname.name;
        return [...new Set([this.options.host, ...(hostname ? [hostname] : []), 'localhost'])];
      },
      problem: (e) => this.emit('error', e),
    };
  }

  private transferHost(): TransferHost {
    const device = this;
    return {
      get state() {
        return device.state;
      },
      deviceNow: () => this.deviceNow(),
      backedUp: (bytes) => {
        this.events.setProperty('tns1:Monitoring/Backup/Last', {}, { Status: utc(this.deviceNow()) });
        this.emit('backup', bytes);
      },
      restore: (next) => {
        const wasFactoryDefault = this.state.factoryDefault;
        this.state = next;
        this.changed('restore');
        if (wasFactoryDefault !== next.factoryDefault) this.emit('profileQState', this.profileQState);
      },
      reboot: () => this.reboot(),
    };
  }

  private firmwareHost(): FirmwareHost {
    const device = this;
    return {
      get state() {
        return device.state;
      },
      changed: (what) => this.changed(what),
      reboot: (downtimeMs) => this.reboot(downtimeMs),
      factoryReset: (kind) => this.factoryReset(kind),
      raiseEvent: (topic, item) => this.events.raiseEvent(topic, item),
      eventsPulled: (maxMs) => this.events.eventsPulled(maxMs),
      report: (step, detail) => this.emit('firmware', step, detail),
    };
  }

  private appService(o: NonNullable<Exclude<SimulatorOptions['apps'], false>>): AppService {
    const device = this;
    return new AppService(
      {
        get state() {
          return device.state;
        },
        deviceNow: () => this.deviceNow(),
        save: () => this.saveState(),
        raiseEvent: (topic, item) => this.events.raiseEvent(topic, item),
        baseUrl: () => this.xaddr.replace(DEVICE_SERVICE_PATH, ''),
      },
      this.server,
      {
        installDelayMs: o.installDelayMs ?? 500,
        formats: (o.formats ?? [APP_PACKAGE_CONTENT_TYPE]).map((f) => f.toLowerCase()),
        licensing: o.licensing ?? true,
        eventTopicPrefix: o.eventTopicPrefix ?? 'OnvifqApp',
        uploadIdleTimeoutMs: o.uploadIdleTimeoutMs ?? 10_000,
        maxPackageBytes: o.maxPackageBytes ?? 512 * 1024 * 1024,
        capabilityNames: o.capabilityNames ?? 'schema',
        qualifiedChildren: o.qualifiedChildren ?? false,
        acceptedFormats: o.acceptedFormats?.map((f) => f.toLowerCase()),
      },
    );
  }

  /** GET STATE_PATH: the live state as JSON. */
  private statePage(): SimulatedService {
    return {
      name: 'state',
      routes: [{ matches: (path, method) => path === STATE_PATH && method === 'GET', body: 'buffered', handle: (req) => this.stateReply(req) }],
    };
  }

  // ------------------------------------------------------------------------------------------ state

  private factory(uuid: string | undefined): DeviceState {
    const state = factoryState({
      uuid,
      httpPort: this.port || 80,
      listenAddress: this.options.host,
      deviceInformation: this.options.deviceInformation,
      digestAlgorithms: this.options.digestAlgorithms ?? ['SHA-256', 'MD5'],
      clockSkewMs: this.options.clockSkewMs ?? 0,
    });
    if (this.options.defaultAdmin !== undefined) state.users.push({ username: this.options.defaultAdmin, password: '', level: 'Administrator' });
    return state;
  }

  private ensureAdministrator(username: string, password: string): void {
    const existing = this.state.users.find((u) => u.username === username);
    if (existing) {
      existing.password = password;
      existing.level = 'Administrator';
    } else {
      this.state.users.push({ username, password, level: 'Administrator' });
    }
    if (password !== '') this.state.factoryDefault = false;
  }

  /** Write the state file, when there is one (also for changes made outside a request, e.g. MetadataVersion). */
  saveState(): void {
    if (this.options.stateFile) saveState(this.options.stateFile, this.state);
  }

  private changed(what: string): void {
    this.saveState();
    for (const s of this.services) s.onChange?.(what);
    this.emit('change', what);
  }

  private factoryReset(kind: 'Hard' | 'Soft'): void {
    const old = this.state;
    const fresh = this.factory(old.uuid);
    fresh.deviceInformation = old.deviceInformation;
    fresh.discoveryMetadataVersion = old.discoveryMetadataVersion;
    fresh.protocols.find((p) => p.name === 'HTTP')!.ports = [this.port];
    const oldHttps = old.protocols.find((p) => p.name === 'HTTPS');
    if (oldHttps) fresh.protocols.find((p) => p.name === 'HTTPS')!.ports = [...oldHttps.ports];
    if (kind === 'Soft') {
      // Core §8.3.8: a soft reset keeps the device reachable where it was; we also keep the accounts so
      // it does not fall back to open anonymous access. Hostname, NTP, time zone, scopes, discovery mode
      // and the access policy return to their defaults.
      Object.assign(fresh, {
        networkInterface: old.networkInterface, gateway: old.gateway, dns: old.dns, protocols: old.protocols,
        zeroConfiguration: old.zeroConfiguration, users: old.users, factoryDefault: old.factoryDefault, hashingAlgorithms: old.hashingAlgorithms,
        // HTTPS stays as it was, so the keystore that serves it does too.
        keystore: old.keystore,
        // Installed apps are software, not settings: only a hard factory default removes them.
        apps: old.apps,
      });
    }
    const wasFactoryDefault = old.factoryDefault;
    this.state = fresh;
    this.changed(`factoryDefault:${kind}`);
    if (wasFactoryDefault !== fresh.factoryDefault) this.emit('profileQState', this.profileQState);
  }

  /** The live state, for tests and curious users. Never passwords. */
  stateSnapshot(): Record<string, unknown> {
    const s = this.state;
    return {
      endpoint: this.endpoint,
      xaddr: this.xaddr,
      profileQState: this.profileQState,
      hostname: s.hostname.fromDHCP ? s.hostname.dhcpName : s.hostname.name,
      time: { device: new Date(this.deviceNow()).toISOString(), type: s.time.type, timeZone: s.time.timeZone, offsetMs: s.time.offsetMs },
      scopes: allScopes(s),
      discoveryMode: s.discoveryMode,
      users: s.users.map((u) => ({ username: u.username, level: u.level })),
      network: {
        hostname: s.hostname, dns: s.dns, ntp: s.ntp, networkInterface: s.networkInterface, protocols: s.protocols,
        gateway: s.gateway, zeroConfiguration: s.zeroConfiguration,
      },
      /** Exactly what a backup carries, without passwords: equal on two devices after a backup of one was restored onto the other. */
      configuration: configurationOf(s, false),
      events: { xaddr: this.xaddr.replace(DEVICE_SERVICE_PATH, EVENT_SERVICE_PATH), maxPullPoints: this.options.maxPullPoints ?? 2, properties: this.events.liveProperties },
      pullPoints: this.events.pullPointInfo,
      apps: this.appStates,
    };
  }

  /**
   * GET /onvifq/state: open while Factory Default (there are no credentials yet) or with exposeState;
   * once Operational only for an Administrator, with the same digest as SOAP.
   */
  private stateReply(req: IncomingMessage): HttpReply {
    if (!this.options.exposeState && !this.server.open) {
      const r = this.server.acceptsDigest ? this.server.verifyDigest(req, 'GET', STATE_PATH) : undefined;
      if (!r) {
        return this.server.acceptsDigest
          ? this.server.challenge()
          : { status: 403, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'The state needs HTTP digest, which this device has turned off; start it with exposeState.\n' };
      }
      if (!r.ok) return this.server.challenge(r.stale);
      if (r.user.level !== 'Administrator') return { status: 403, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Only an Administrator may read the device state.\n' };
    }
    return { status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: `${JSON.stringify(this.stateSnapshot(), null, 2)}\n` };
  }

  // ------------------------------------------------------------------------------------------ life

  async start(): Promise<void> {
    this.stopped = false;
    await this.server.listen(this.options.port ?? 0);
    if (this.freshState) {
      // The HTTP port a fresh device reports is the one it really listens on.
      const http = this.state.protocols.find((p) => p.name === 'HTTP');
      if (http) http.ports = [this.port];
      // Port 443 needs root; a fresh device reports a port it can really open once HTTPS is turned on.
      const https = this.state.protocols.find((p) => p.name === 'HTTPS');
      if (https) https.ports = [this.options.httpsPort ?? (await freePort(this.options.host))];
      this.freshState = false;
    }
    this.saveState();
    try {
      for (const s of this.services) await s.onStart?.();
    } catch (e) {
      await this.server.close();
      throw e;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Connections go first, as at a power cut: a long poll woken by its pull point closing must not be answered.
    const closing = this.server.close();
    for (const s of this.services) await s.onStop?.();
    if (this.rebootTimer) clearTimeout(this.rebootTimer);
    this.rebootTimer = undefined;
    await closing;
  }

  /** Goes away for rebootDowntimeMs, or `downtimeMs` (connections refused), then listens again on the same port. */
  private reboot(downtimeMs = this.options.rebootDowntimeMs): void {
    if (this.rebootTimer || this.stopped) return;
    this.emit('reboot');
    // Connections first (see stop()): a restarting device answers nothing that was waiting.
    void this.server.close();
    for (const s of this.services) s.onReboot?.();
    this.server.resetAuth();
    this.rebootTimer = setTimeout(() => {
      this.rebootTimer = undefined;
      if (this.stopped) return;
      this.server.listen(this.port).then(
        () => {
          for (const s of this.services) s.onReady?.();
          this.emit('ready');
        },
        (e) => this.emit('error', e),
      );
    }, downtimeMs);
  }
}

/** A TCP port nothing listens on right now (the HTTPS port of a fresh device). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Start `count` devices, each with its own port (options.port + i when given) and urn:uuid. */
export async function startSimulators(count: number, options: SimulatorOptions = {}): Promise<SimulatedDevice[]> {
  const devices: SimulatedDevice[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const stateFile = options.stateFile && i > 0 ? options.stateFile.replace(/(\.json)?$/, `-${i}$1`) : options.stateFile;
      const d = new SimulatedDevice({
        ...options,
        port: options.port ? options.port + i : 0,
        httpsPort: options.httpsPort ? options.httpsPort + i : undefined,
        uuid: i === 0 ? options.uuid : undefined,
        stateFile,
      });
      await d.start();
      devices.push(d);
    }
  } catch (e) {
    await Promise.all(devices.map((d) => d.stop()));
    throw e;
  }
  return devices;
}
