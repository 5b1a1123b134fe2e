import type { UserLevel } from './state';

/** Access classes of Core §5.9.4.3. */
export type AccessClass =
  | 'PRE_AUTH'
  | 'READ_SYSTEM'
  | 'READ_SYSTEM_SENSITIVE'
  | 'READ_SYSTEM_SECRET'
  | 'WRITE_SYSTEM'
  | 'UNRECOVERABLE'
  | 'READ_MEDIA'
  | 'ACTUATE';

/** Access class of each device-service operation, as each operation's table in Core 26.06 Ch. 8 states it. */
export const DEVICE_ACCESS_CLASS: Record<string, AccessClass> = {
  GetWsdlUrl: 'PRE_AUTH',
  GetServices: 'PRE_AUTH',
  GetServiceCapabilities: 'PRE_AUTH',
  GetCapabilities: 'PRE_AUTH',
  GetHostname: 'PRE_AUTH',
  GetSystemDateAndTime: 'PRE_AUTH',
  GetEndpointReference: 'PRE_AUTH',
  GetDNS: 'READ_SYSTEM',
  GetNTP: 'READ_SYSTEM',
  GetNetworkInterfaces: 'READ_SYSTEM',
  GetNetworkProtocols: 'READ_SYSTEM',
  GetNetworkDefaultGateway: 'READ_SYSTEM',
  GetZeroConfiguration: 'READ_SYSTEM',
  GetDeviceInformation: 'READ_SYSTEM',
  GetScopes: 'READ_SYSTEM',
  GetDiscoveryMode: 'READ_SYSTEM',
  GetUsers: 'READ_SYSTEM_SECRET',
  SetHashingAlgorithm: 'WRITE_SYSTEM',
  SetHostname: 'WRITE_SYSTEM',
  SetHostnameFromDHCP: 'WRITE_SYSTEM',
  SetDNS: 'WRITE_SYSTEM',
  SetNTP: 'WRITE_SYSTEM',
  SetNetworkInterfaces: 'WRITE_SYSTEM',
  SetNetworkProtocols: 'WRITE_SYSTEM',
  SetNetworkDefaultGateway: 'WRITE_SYSTEM',
  SetZeroConfiguration: 'WRITE_SYSTEM',
  SetSystemDateAndTime: 'WRITE_SYSTEM',
  SetScopes: 'WRITE_SYSTEM',
  AddScopes: 'WRITE_SYSTEM',
  RemoveScopes: 'WRITE_SYSTEM',
  SetDiscoveryMode: 'WRITE_SYSTEM',
  CreateUsers: 'WRITE_SYSTEM',
  DeleteUsers: 'WRITE_SYSTEM',
  SetUser: 'WRITE_SYSTEM',
  SetSystemFactoryDefault: 'UNRECOVERABLE',
  SystemReboot: 'UNRECOVERABLE',
  GetAccessPolicy: 'READ_SYSTEM_SECRET',
  SetAccessPolicy: 'WRITE_SYSTEM',
  GetSystemUris: 'READ_SYSTEM',
  StartSystemRestore: 'UNRECOVERABLE',
  StartFirmwareUpgrade: 'UNRECOVERABLE',
  UpgradeSystemFirmware: 'UNRECOVERABLE',
  GetPasswordComplexityOptions: 'READ_SYSTEM',
  GetPasswordComplexityConfiguration: 'READ_SYSTEM',
  SetPasswordComplexityConfiguration: 'WRITE_SYSTEM',
};

/** Event-service and subscription-manager operations (Core Ch. 9): all READ_MEDIA except the capabilities. */
export const EVENT_ACCESS_CLASS: Record<string, AccessClass> = {
  GetServiceCapabilities: 'PRE_AUTH',
};

/**
 * Default access policy (Core §5.9.4.4 Table 5.7): which levels may use each class.
 * Extended users have no roles here (MaxUserRoles is 0), so they get the User column.
 */
const ALLOWED: AccessPolicyTable = {
  PRE_AUTH: ['Administrator', 'Operator', 'User', 'Extended', 'Anonymous'],
  READ_SYSTEM: ['Administrator', 'Operator', 'User', 'Extended'],
  READ_SYSTEM_SENSITIVE: ['Administrator', 'Operator'],
  READ_SYSTEM_SECRET: ['Administrator'],
  WRITE_SYSTEM: ['Administrator'],
  UNRECOVERABLE: ['Administrator'],
  READ_MEDIA: ['Administrator', 'Operator', 'User', 'Extended'],
  ACTUATE: ['Administrator', 'Operator'],
};

export type PolicyLevel = UserLevel | 'Anonymous';
export type AccessPolicyTable = Record<AccessClass, ReadonlyArray<PolicyLevel>>;

/**
 * The simulator's policy file format (Core §8.4.1 leaves the format to the vendor): JSON naming, for each
 * access class, the user levels that may use it. The default file is Table 5.7 written this way.
 */
export const ACCESS_POLICY_FORMAT = 'onvifq-access-policy/1';
export const ACCESS_POLICY_CONTENT_TYPE = 'application/json';
const ACCESS_CLASSES = Object.keys({
  PRE_AUTH: 0, READ_SYSTEM: 0, READ_SYSTEM_SENSITIVE: 0, READ_SYSTEM_SECRET: 0, WRITE_SYSTEM: 0, UNRECOVERABLE: 0, READ_MEDIA: 0, ACTUATE: 0,
} satisfies Record<AccessClass, 0>) as AccessClass[];
const POLICY_LEVELS: readonly PolicyLevel[] = ['Administrator', 'Operator', 'User', 'Extended', 'Anonymous'];

export function defaultAccessPolicyFile(): Buffer {
  return Buffer.from(`${JSON.stringify({ format: ACCESS_POLICY_FORMAT, classes: ALLOWED }, null, 2)}\n`, 'utf8');
}

/**
 * Read a policy file; a string says why it is refused. Administrators must keep the classes that
 * administer the device, or one SetAccessPolicy could lock everyone out for good.
 */
export function parseAccessPolicy(bytes: Buffer): AccessPolicyTable | string {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return `the policy file is not JSON in the format ${ACCESS_POLICY_FORMAT} (GetAccessPolicy shows an example)`;
  }
  const d = doc as { format?: unknown; classes?: Record<string, unknown> };
  if (!d || typeof d !== 'object' || d.format !== ACCESS_POLICY_FORMAT || !d.classes || typeof d.classes !== 'object') {
    return `the policy file must be JSON with format "${ACCESS_POLICY_FORMAT}" and a classes object`;
  }
  const table: Partial<Record<AccessClass, PolicyLevel[]>> = {};
  for (const cls of ACCESS_CLASSES) {
    const levels = d.classes[cls];
    if (!Array.isArray(levels) || !levels.every((l) => POLICY_LEVELS.includes(l as PolicyLevel))) {
      return `classes.${cls} must list user levels (${POLICY_LEVELS.join(', ')})`;
    }
    table[cls] = [...new Set(levels as PolicyLevel[])];
  }
  const unknown = Object.keys(d.classes).filter((k) => !ACCESS_CLASSES.includes(k as AccessClass));
  if (unknown.length) return `unknown access class ${unknown.join(', ')}`;
  for (const cls of ['READ_SYSTEM', 'READ_SYSTEM_SECRET', 'WRITE_SYSTEM', 'UNRECOVERABLE'] as const) {
    if (!table[cls]!.includes('Administrator')) return `Administrators must keep ${cls}, or nobody could administer the device any more`;
  }
  return table as AccessPolicyTable;
}

/** Unknown operations still need an authenticated caller before we admit we lack them. */
export function accessClassOf(operation: string | undefined, service: 'device' | 'events' = 'device'): AccessClass {
  if (service === 'events') return (operation && EVENT_ACCESS_CLASS[operation]) || 'READ_MEDIA';
  return (operation && DEVICE_ACCESS_CLASS[operation]) || 'READ_SYSTEM';
}

export function levelMayUse(level: PolicyLevel, cls: AccessClass, policy: AccessPolicyTable = ALLOWED): boolean {
  return policy[cls].includes(level);
}
