import type { AppServiceOptions } from './apps/service';
import type { TopicDescription } from './events/topics';
import type { SecurityOptions } from './security/service';

/** How a simulated device behaves (SimulatedDevice, startSimulators, the onvifq-sim CLI). */
export interface SimulatorOptions {
  /** Address to listen on (default '127.0.0.1'). */
  host?: string;
  /** Port (default 0 = ephemeral). */
  port?: number;
  /** When given: an Administrator with these credentials exists, and the device starts Operational (non-empty password). */
  username?: string;
  password?: string;
  /**
   * Strict mode: ship (and come back after a hard factory default) with this Administrator and an empty
   * password, e.g. 'root', as many cameras do. Profile Q §9 applies to the letter: Factory Default State lasts
   * until SetUser gives an Administrator a password (CreateUsers of another Administrator does not end it),
   * and once Operational an empty password never signs in.
   */
  defaultAdmin?: string;
  /** Restart (rebootDowntimeMs) right after leaving Factory Default State, as Profile Q §9 allows. */
  rebootOnCommission?: boolean;
  /** Mechanisms accepted once Operational (default 'any'). */
  auth?: 'digest' | 'ws-security' | 'any' | 'none';
  /** Digest algorithms offered, in this order (default ['SHA-256', 'MD5']); one WWW-Authenticate header each. */
  digestAlgorithms?: Array<'MD5' | 'SHA-256'>;
  /** Device clock = host clock + skew. */
  clockSkewMs?: number;
  /** Added before each answer. */
  latencyMs?: number;
  /** Loaded at start when present, saved after every change (JSON). */
  stateFile?: string;
  /** Endpoint urn:uuid (generated when absent; kept from the state file when it has one). */
  uuid?: string;
  deviceInformation?: Partial<{ Manufacturer: string; Model: string; FirmwareVersion: string; SerialNumber: string; HardwareId: string }>;
  /** Accepted |Created - device time| for WS-UsernameToken, ms (default 5 min). */
  usernameTokenWindowMs?: number;
  /** Default 10. */
  maxUsers?: number;
  /** How long SystemReboot keeps the device unreachable, ms (default 2000). */
  rebootDowntimeMs?: number;
  /** How long a digest nonce stays valid before the device answers stale=true, ms (default 5 min). */
  digestNonceLifetimeMs?: number;
  /**
   * WS-Discovery responder (on by default): UDP port for unicast and multicast (default 3702) and the
   * interface address for the multicast group and Hello/Bye (default: host). false turns discovery off.
   */
  discovery?: false | { port?: number; multicastInterface?: string };
  /**
   * Random wait before answering a multicast Probe/Resolve and before each Hello, ms [min, max] (default
   * [0, 500], WS-Discovery's APP_MAX_DELAY); a unicast probe only one device hears is answered at once.
   */
  discoveryDelayMs?: [number, number];
  /** Event service: how many pull points may exist at once (default 2, as Profile Q devices often allow). */
  maxPullPoints?: number;
  /** How often tns1:Monitoring/ProcessorUsage changes, ms (default 5000; 0 = never). */
  processorUsageIntervalMs?: number;
  /** Raise CellMotionDetector motion (IsMotion true, then false) this often, ms (default 0 = never). */
  motionIntervalMs?: number;
  /** The event topics GetEventProperties describes (default TOPICS), e.g. what another firmware of the device offers. */
  eventTopics?: readonly TopicDescription[];
  /**
   * Axis-style subscription references: every pull point shares one address and is told apart by a
   * SubscriptionId reference parameter the client must echo as a SOAP header (default false).
   */
  referenceParameters?: boolean;
  /** Longest PullMessages Timeout accepted, seconds (default 60); longer ones get PullMessagesFaultResponse. */
  maxPullTimeoutS?: number;
  /** Messages a pull point holds before the oldest are dropped (default 20000). */
  maxQueuedEvents?: number;
  /**
   * GET /onvifq/state without credentials even when Operational (default false: open only in Factory
   * Default, then for Administrators with HTTP digest).
   */
  exposeState?: boolean;
  /** How long a StartSystemRestore upload URI stays usable, ms (default 5 min). */
  restoreUploadLifetimeMs?: number;
  /** Largest restore upload accepted, bytes (default 4 MiB; a backup is a few kB). */
  maxRestoreBytes?: number;
  /**
   * Firmware upgrade (lib/simulator/firmware): 'http' (default; StartFirmwareUpgrade + POST), 'legacy'
   * (only the MTOM UpgradeSystemFirmware) or 'off'.
   */
  firmwareMode?: 'http' | 'legacy' | 'off';
  /** StartFirmwareUpgrade's UploadDelay, ms (default 0); an earlier POST is refused. */
  firmwareUploadDelayMs?: number;
  /** ExpectedDownTime after an upgrade, and how long the device really stays away, ms (default 3000). */
  firmwareDownTimeMs?: number;
  /** How long the device keeps answering while it flashes, before it restarts, ms (default 500). */
  firmwareFlashMs?: number;
  /** How long a firmware upload URI stays usable, ms (default 5 min). */
  firmwareUploadLifetimeMs?: number;
  /** Largest firmware image accepted, bytes (default 512 MiB). */
  maxFirmwareBytes?: number;
  /** HTTPS port a fresh device reports (default: a free port picked at the first start; HTTPS stays off until configured). */
  httpsPort?: number;
  /** The keystore and TLS server (`tas` service): capability names, limits, key generation time. */
  security?: SecurityOptions;
  /**
   * App Management (lib/simulator/apps; on by default, false turns it off): installDelayMs (500), formats
   * ([APP_PACKAGE_CONTENT_TYPE]), licensing (true), eventTopicPrefix ('OnvifqApp'), uploadIdleTimeoutMs (10000),
   * maxPackageBytes (512 MiB); quirks: capabilityNames '22.12' (UploadUri, SupportedFormat), qualifiedChildren.
   */
  apps?: false | Partial<AppServiceOptions>;
}
