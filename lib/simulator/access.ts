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
};

/** Event-service and subscription-manager operations (Core Ch. 9): all READ_MEDIA except the capabilities. */
export const EVENT_ACCESS_CLASS: Record<string, AccessClass> = {
  GetServiceCapabilities: 'PRE_AUTH',
};

/**
 * Default access policy (Core §5.9.4.4 Table 5.7): which levels may use each class.
 * Extended users have no roles here (MaxUserRoles is 0), so they get the User column.
 */
const ALLOWED: Record<AccessClass, ReadonlyArray<UserLevel | 'Anonymous'>> = {
  PRE_AUTH: ['Administrator', 'Operator', 'User', 'Extended', 'Anonymous'],
  READ_SYSTEM: ['Administrator', 'Operator', 'User', 'Extended'],
  READ_SYSTEM_SENSITIVE: ['Administrator', 'Operator'],
  READ_SYSTEM_SECRET: ['Administrator'],
  WRITE_SYSTEM: ['Administrator'],
  UNRECOVERABLE: ['Administrator'],
  READ_MEDIA: ['Administrator', 'Operator', 'User', 'Extended'],
  ACTUATE: ['Administrator', 'Operator'],
};

/** Unknown operations still need an authenticated caller before we admit we lack them. */
export function accessClassOf(operation: string | undefined, service: 'device' | 'events' = 'device'): AccessClass {
  if (service === 'events') return (operation && EVENT_ACCESS_CLASS[operation]) || 'READ_MEDIA';
  return (operation && DEVICE_ACCESS_CLASS[operation]) || 'READ_SYSTEM';
}

export function levelMayUse(level: UserLevel | 'Anonymous', cls: AccessClass): boolean {
  return ALLOWED[cls].includes(level);
}
