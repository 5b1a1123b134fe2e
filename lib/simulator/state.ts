import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ACCESS_POLICY_CONTENT_TYPE, defaultAccessPolicyFile } from './access';
import type { KeystoreState } from './security/keystore';
import type { SimulatedApp } from './apps/service';

/** User levels a device account can have (Core §5.9.4.2); Anonymous is never stored. */
export type UserLevel = 'Administrator' | 'Operator' | 'User' | 'Extended';

export interface SimulatedUser {
  username: string;
  /** Kept in clear because digest and UsernameToken verification need it; never logged or returned. */
  password: string;
  level: UserLevel;
}

/** Password rules (Core §8.5.2 PasswordComplexityConfiguration); 0 / false means the rule is off. */
export interface PasswordComplexity {
  minLen: number;
  uppercase: number;
  number: number;
  specialChars: number;
  blockUsernameOccurrence: boolean;
  /** Set once, it stays until a factory default (Core §8.5.3). */
  policyConfigurationLocked: boolean;
}

/** Out of the box: at least 6 characters (the simulator's long-standing rule), nothing else. */
export function defaultPasswordComplexity(): PasswordComplexity {
  return { minLen: 6, uppercase: 0, number: 0, specialChars: 0, blockUsernameOccurrence: false, policyConfigurationLocked: false };
}

export interface NetworkHostSetting {
  type: 'IPv4' | 'IPv6' | 'DNS';
  address: string;
}

export interface DeviceInformationState {
  Manufacturer: string;
  Model: string;
  FirmwareVersion: string;
  SerialNumber: string;
  HardwareId: string;
}

/** Everything a SetXxx can change, plus identity. Plain JSON so it can be saved and compared. */
export interface DeviceState {
  /** Bump when the shape changes incompatibly; older files are then ignored. */
  version: 1;
  uuid: string;
  /** true until an Administrator gets a non-empty password (Profile Q §9). */
  factoryDefault: boolean;
  users: SimulatedUser[];
  hashingAlgorithms: Array<'MD5' | 'SHA-256'>;
  hostname: { fromDHCP: boolean; name: string; dhcpName: string };
  dns: { fromDHCP: boolean; searchDomain: string[]; manual: NetworkHostSetting[]; dhcp: NetworkHostSetting[] };
  ntp: { fromDHCP: boolean; manual: NetworkHostSetting[]; dhcp: NetworkHostSetting[] };
  networkInterface: {
    token: string;
    enabled: boolean;
    name: string;
    hwAddress: string;
    mtu: number;
    link: { autoNegotiation: boolean; speed: number; duplex: 'Full' | 'Half' };
    ipv4: { enabled: boolean; dhcp: boolean; manual: Array<{ address: string; prefixLength: number }>; dhcpAddress: { address: string; prefixLength: number } };
  };
  protocols: Array<{ name: 'HTTP' | 'HTTPS' | 'RTSP'; enabled: boolean; ports: number[] }>;
  gateway: { ipv4: string[]; ipv6: string[] };
  zeroConfiguration: { enabled: boolean; address: string };
  /** Configurable scopes only; fixed ones are derived (profile state, hardware, name). */
  scopes: string[];
  discoveryMode: 'Discoverable' | 'NonDiscoverable';
  time: { type: 'Manual' | 'NTP'; daylightSavings: boolean; timeZone: string; /** device clock minus host clock, ms */ offsetMs: number };
  deviceInformation: DeviceInformationState;
  /**
   * The access policy file (GetAccessPolicy/SetAccessPolicy), base64 as it travels in tt:BinaryData.
   * Optional so state files written before it existed still load; absent means the default policy.
   */
  accessPolicy?: { data: string; /** '' when SetAccessPolicy gave none */ contentType: string };
  /**
   * WS-Discovery MetadataVersion: bumped whenever the announced scopes change, kept across restarts, factory
   * defaults and restores so that it only ever grows. Optional: absent (older files) means 1.
   */
  discoveryMetadataVersion?: number;
  /** Password rules (Get/SetPasswordComplexityConfiguration). Optional: absent (older files) means the defaults. */
  passwordComplexity?: PasswordComplexity;
  /** Keys, certificates, paths and the TLS server assignment (security/keystore.ts). Optional: absent means empty. */
  keystore?: KeystoreState;
  /** Installed apps (App Management, lib/simulator/apps). Optional: absent means none. */
  apps?: SimulatedApp[];
}

export const DEFAULT_DEVICE_INFORMATION: DeviceInformationState = {
  Manufacturer: 'onvifq',
  Model: 'SimQ-1',
  FirmwareVersion: '1.0.0',
  SerialNumber: '',
  HardwareId: 'SIMQ1-HW',
};

/** A locally administered MAC derived from the uuid, so each simulated device has its own. */
function macFromUuid(uuid: string): string {
  const hex = uuid.replace(/[^0-9a-f]/gi, '').slice(-10).padStart(10, '0');
  return ['02', ...hex.match(/../g)!].join(':');
}

function linkLocalFromUuid(uuid: string): string {
  const hex = uuid.replace(/[^0-9a-f]/gi, '');
  const a = (parseInt(hex.slice(-4, -2), 16) % 254) + 1;
  const b = (parseInt(hex.slice(-2), 16) % 254) + 1;
  return `169.254.${a}.${b}`;
}

export interface InitialStateInput {
  uuid?: string;
  httpPort: number;
  listenAddress: string;
  deviceInformation?: Partial<DeviceInformationState>;
  digestAlgorithms: Array<'MD5' | 'SHA-256'>;
  clockSkewMs: number;
}

/** The out-of-the-box (hard factory default) configuration, Profile Q §9: DHCP, zero-config, discoverable. */
export function factoryState(input: InitialStateInput): DeviceState {
  const uuid = input.uuid ?? randomUUID();
  const short = uuid.replace(/-/g, '').slice(0, 8);
  return {
    version: 1,
    uuid,
    factoryDefault: true,
    users: [],
    hashingAlgorithms: [...input.digestAlgorithms],
    hostname: { fromDHCP: false, name: `simq-${short}`, dhcpName: `simq-${short}-dhcp` },
    dns: { fromDHCP: true, searchDomain: [], manual: [], dhcp: [{ type: 'IPv4', address: '192.0.2.53' }] },
    ntp: { fromDHCP: true, manual: [], dhcp: [{ type: 'IPv4', address: '192.0.2.123' }] },
    networkInterface: {
      token: 'eth0',
      enabled: true,
      name: 'eth0',
      hwAddress: macFromUuid(uuid),
      mtu: 1500,
      link: { autoNegotiation: true, speed: 1000, duplex: 'Full' },
      ipv4: { enabled: true, dhcp: true, manual: [], dhcpAddress: { address: input.listenAddress, prefixLength: 8 } },
    },
    protocols: [
      { name: 'HTTP', enabled: true, ports: [input.httpPort] },
      { name: 'HTTPS', enabled: false, ports: [443] },
      { name: 'RTSP', enabled: true, ports: [554] },
    ],
    gateway: { ipv4: [], ipv6: [] },
    zeroConfiguration: { enabled: true, address: linkLocalFromUuid(uuid) },
    scopes: ['onvif://www.onvif.org/location/unknown'],
    discoveryMode: 'Discoverable',
    time: { type: 'Manual', daylightSavings: false, timeZone: 'UTC0', offsetMs: input.clockSkewMs },
    deviceInformation: { ...DEFAULT_DEVICE_INFORMATION, SerialNumber: `SQ${short.toUpperCase()}`, ...input.deviceInformation },
    accessPolicy: defaultAccessPolicy(),
    passwordComplexity: defaultPasswordComplexity(),
  };
}

export function defaultAccessPolicy(): { data: string; contentType: string } {
  return { data: defaultAccessPolicyFile().toString('base64'), contentType: ACCESS_POLICY_CONTENT_TYPE };
}

/** Read a saved state; undefined when the file is absent. Throws with a plain message when it is unreadable. */
export function loadState(file: string): DeviceState | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`The simulator state file ${file} is not valid JSON (${(e as Error).message}). Fix or delete it.`);
  }
  const s = parsed as Partial<DeviceState>;
  if (!s || typeof s !== 'object' || s.version !== 1 || typeof s.uuid !== 'string' || !Array.isArray(s.users)) {
    throw new Error(`The simulator state file ${file} is not a simulator state (version 1). Delete it to start fresh.`);
  }
  // Files from before the access policy existed get the default one.
  s.accessPolicy ??= defaultAccessPolicy();
  return s as DeviceState;
}

/** Write atomically (temp file + rename) so a crash mid-write never leaves half a file. */
export function saveState(file: string, state: DeviceState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
}
