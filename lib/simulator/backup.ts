import type { DeviceState } from './state';

/**
 * The simulator's configuration backup (Core §8.3.2 and §8.3.5 leave the format to the vendor): JSON of the
 * device state minus what must stay with the device that restores it:
 * - identity: uuid, device information (serial number, firmware, model), MAC address and the link-local
 *   address derived from it, and the clock (time.offsetMs is the device's clock, not configuration);
 * - addressing: the IPv4 configuration (DHCP flag, manual addresses) and the HTTP port, so that a backup of
 *   device A restored onto device B does not put B on A's address (a soft factory default keeps the same
 *   things, Core §8.3.8).
 * Everything else (users with their passwords, hostname, DNS, NTP, gateway, protocols other than the HTTP
 * port, zero-configuration on/off, scopes, discovery mode, time zone, hashing algorithms, access policy and
 * the Profile Q state) is carried. Passwords are in the file because a restore must bring the accounts back;
 * downloading a backup therefore needs an Administrator.
 */
export const BACKUP_FORMAT = 'onvifq-simulator-backup';
export const BACKUP_VERSION = 1;
export const BACKUP_CONTENT_TYPE = 'application/octet-stream';

export interface BackupFile {
  format: typeof BACKUP_FORMAT;
  version: typeof BACKUP_VERSION;
  /** The model the backup is for: a restore onto another model is refused. */
  model: string;
  createdAt: string;
  configuration: Record<string, unknown>;
}

/** Paths of the state that stay with the device (see above). */
const EXEMPT: ReadonlyArray<readonly string[]> = [
  ['version'], ['uuid'], ['deviceInformation'], ['time', 'offsetMs'],
  ['networkInterface', 'hwAddress'], ['networkInterface', 'ipv4', 'dhcp'], ['networkInterface', 'ipv4', 'manual'],
  ['networkInterface', 'ipv4', 'dhcpAddress'], ['zeroConfiguration', 'address'], ['discoveryMetadataVersion'],
  // Private keys never leave the device in a backup; a restore keeps the device's own keystore.
  ['keystore'],
  // Installed apps are software, not configuration (their settings have their own backup, AppMgmt §6.2.6).
  ['apps'],
];

type Json = Record<string, unknown>;

function removePath(o: Json, p: readonly string[]): void {
  let at: unknown = o;
  for (const k of p.slice(0, -1)) at = (at as Json | undefined)?.[k];
  if (at && typeof at === 'object') delete (at as Json)[p[p.length - 1]!];
}

function copyPath(from: Json, to: Json, p: readonly string[]): void {
  let src: unknown = from;
  let dst: unknown = to;
  for (const k of p.slice(0, -1)) {
    src = (src as Json | undefined)?.[k];
    dst = (dst as Json | undefined)?.[k];
  }
  const last = p[p.length - 1]!;
  if (src && dst && typeof dst === 'object' && last in (src as Json)) (dst as Json)[last] = structuredClone((src as Json)[last]);
}

/**
 * What a backup carries, as plain JSON. Without passwords when `withPasswords` is false (the
 * /onvifq/state view, which two devices can be compared on after a restore).
 */
export function configurationOf(state: DeviceState, withPasswords = true): Json {
  const c = structuredClone(state) as unknown as Json;
  if (!c.accessPolicy) delete c.accessPolicy;
  for (const p of EXEMPT) removePath(c, p);
  const protocols = c.protocols as Array<{ name: string; ports?: number[] }>;
  for (const p of protocols) if (p.name === 'HTTP') delete p.ports;
  if (!withPasswords) c.users = state.users.map((u) => ({ username: u.username, level: u.level }));
  return c;
}

export function makeBackup(state: DeviceState, now: number): Buffer {
  const file: BackupFile = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    model: state.deviceInformation.Model,
    createdAt: new Date(now).toISOString(),
    configuration: configurationOf(state),
  };
  return Buffer.from(`${JSON.stringify(file, null, 2)}\n`, 'utf8');
}

/** Same shape: every key of `like` is in `value` with the same kind of value (objects checked deeply, arrays by kind only). */
function sameShape(like: unknown, value: unknown, at: string): string | undefined {
  const kind = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
  if (kind(like) !== kind(value)) return `${at || 'configuration'} should be ${kind(like)}`;
  if (kind(like) !== 'object') return undefined;
  for (const k of Object.keys(like as Json)) {
    const why = sameShape((like as Json)[k], (value as Json)[k], at ? `${at}.${k}` : k);
    if (why) return why;
  }
  return undefined;
}

const LEVELS = ['Administrator', 'Operator', 'User', 'Extended'];

/**
 * Read an uploaded file as a backup for `target`; a string says why it is not one (the upload then gets
 * HTTP 415, Core §8.3.5). The result is the target's new state.
 */
export function restoredState(bytes: Buffer, target: DeviceState): DeviceState | string {
  let file: Partial<BackupFile>;
  try {
    file = JSON.parse(bytes.toString('utf8')) as Partial<BackupFile>;
  } catch {
    return 'the file is not a backup of this simulator (not JSON)';
  }
  if (!file || typeof file !== 'object' || file.format !== BACKUP_FORMAT) return 'the file is not a backup of this simulator';
  if (file.version !== BACKUP_VERSION) return `the backup has version ${String(file.version)}, this device reads version ${BACKUP_VERSION}`;
  if (file.model !== target.deviceInformation.Model) return `the backup is for model ${String(file.model)}, this device is ${target.deviceInformation.Model}`;
  const config = file.configuration;
  const why = sameShape(configurationOf(target), config, '');
  if (why) return `the backup is damaged: ${why}`;
  const users = (config as Json).users as Array<Json>;
  for (const u of users) {
    if (typeof u?.username !== 'string' || typeof u.password !== 'string' || !LEVELS.includes(u.level as string)) return 'the backup is damaged: a user entry is incomplete';
  }
  const next = structuredClone(config) as unknown as DeviceState;
  for (const p of EXEMPT) copyPath(target as unknown as Json, next as unknown as Json, p);
  const targetHttp = target.protocols.find((p) => p.name === 'HTTP');
  for (const p of next.protocols) if (p.name === 'HTTP') p.ports = [...(targetHttp?.ports ?? [80])];
  return next;
}
