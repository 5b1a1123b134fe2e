/**
 * What `onvifq-configure` offers: every Profile Q Device operation, grouped as the editor shows them, the
 * configure tasks of lib/configure, and "any other operation". The editor fetches this catalogue from the
 * runtime (GET /onvifq-configure/catalogue), so the runtime and the editor never disagree.
 */
import { CONFIGURE_TASKS, type ConfigureTask } from '../../lib/configure';

export type GroupName = 'Network' | 'System' | 'Users' | 'Scopes' | 'Security' | 'Maintenance' | 'Tasks';

/**
 * One field of the editor's parameter form. `path` is where the value goes in the parameters
 * (`User.0.Username`); the kinds convert what a person types into what the operation takes:
 * list = comma-separated texts, hosts = comma-separated addresses or names as tt:NetworkHost,
 * password = the node's credential (never in the flow JSON; see PASSWORD_TARGETS).
 */
export interface FormField {
  path: string;
  label: string;
  kind: 'text' | 'number' | 'bool' | 'select' | 'list' | 'hosts' | 'password';
  options?: string[];
  placeholder?: string;
}

export interface CatalogueEntry {
  name: string;
  group: GroupName;
  /** One line for the picker and the help. */
  summary: string;
  /** A msg.payload that works (ONVIF element names for operations; the task's own for tasks). */
  example: Record<string, unknown>;
  /** What msg.payload holds afterwards. */
  returns: string;
  /** Changes something on the device (the editor marks these; reads are safe to try). */
  changes?: boolean;
  fields?: FormField[];
}

const TZ = 'CET-1CEST,M3.5.0,M10.5.0/3';
const USER_LEVELS = ['Administrator', 'Operator', 'User'];

/** Where enableHttps and renewCertificate take their certificate from: made by the device, signed by your CA, or your own. */
const CERTIFICATE_SOURCE_FIELDS: readonly FormField[] = [
  { path: 'source', label: 'Certificate', kind: 'select', options: ['self-signed', 'ca', 'certificate'] },
  { path: 'caCertificate', label: 'CA certificate (PEM)', kind: 'text', placeholder: "source 'ca': -----BEGIN CERTIFICATE-----…" },
  { path: 'certificate', label: 'Certificate (PEM)', kind: 'text', placeholder: "source 'certificate': the device's certificate" },
  { path: 'chain', label: 'Issuers (PEM)', kind: 'text', placeholder: "source 'certificate': the CA certificate(s)" },
  { path: 'caKey', label: 'CA key or private key (PEM)', kind: 'password' },
  { path: 'validDays', label: 'Valid for (days)', kind: 'number', placeholder: '365' },
];

const entries: CatalogueEntry[] = [
  // Network
  { name: 'GetHostname', group: 'Network', summary: 'The host name and whether it comes from DHCP.', example: {}, returns: '{ HostnameInformation: { FromDHCP, Name } }' },
  {
    name: 'SetHostname', group: 'Network', changes: true, summary: 'Set the host name.', example: { Name: 'lobby-cam' }, returns: '{} (empty on success)',
    fields: [{ path: 'Name', label: 'Host name', kind: 'text', placeholder: 'lobby-cam' }],
  },
  {
    name: 'SetHostnameFromDHCP', group: 'Network', changes: true, summary: 'Take the host name from DHCP (or stop doing so).', example: { FromDHCP: true },
    returns: '{ RebootNeeded }', fields: [{ path: 'FromDHCP', label: 'From DHCP', kind: 'bool' }],
  },
  { name: 'GetDNS', group: 'Network', summary: 'DNS servers and search domains.', example: {}, returns: '{ DNSInformation: { FromDHCP, SearchDomain: [], DNSFromDHCP: [], DNSManual: [] } }' },
  {
    name: 'SetDNS', group: 'Network', changes: true, summary: 'Set DNS servers and search domains.',
    example: { FromDHCP: false, SearchDomain: ['example.org'], DNSManual: [{ Type: 'IPv4', IPv4Address: '192.0.2.53' }] }, returns: '{}',
    fields: [
      { path: 'FromDHCP', label: 'From DHCP', kind: 'bool' },
      { path: 'SearchDomain', label: 'Search domains', kind: 'list', placeholder: 'example.org' },
      { path: 'DNSManual', label: 'DNS servers', kind: 'hosts', placeholder: '192.0.2.53, 192.0.2.54' },
    ],
  },
  { name: 'GetNetworkInterfaces', group: 'Network', summary: 'The network interfaces with their addresses.', example: {}, returns: '{ NetworkInterfaces: [{ token, Enabled, Info: { Name, HwAddress, MTU }, IPv4: { Enabled, Config: { Manual: [], FromDHCP, DHCP } } }] }' },
  {
    name: 'SetNetworkInterfaces', group: 'Network', changes: true, summary: 'Set an interface to DHCP or a static address (may move the device).',
    example: { InterfaceToken: 'eth0', NetworkInterface: { Enabled: true, IPv4: { Enabled: true, DHCP: false, Manual: [{ Address: '192.0.2.10', PrefixLength: 24 }] } } },
    returns: '{ RebootNeeded }. When the device moves, the node warns where it went.',
    fields: [
      { path: 'InterfaceToken', label: 'Interface', kind: 'text', placeholder: 'eth0' },
      { path: 'NetworkInterface.IPv4.DHCP', label: 'DHCP', kind: 'bool' },
    ],
  },
  { name: 'GetNetworkProtocols', group: 'Network', summary: 'HTTP, HTTPS and RTSP: enabled and ports.', example: {}, returns: '{ NetworkProtocols: [{ Name, Enabled, Port: [] }] }' },
  {
    name: 'SetNetworkProtocols', group: 'Network', changes: true, summary: 'Enable protocols and set their ports (may move the device).',
    example: { NetworkProtocols: [{ Name: 'HTTP', Enabled: true, Port: [80] }] }, returns: '{}',
  },
  { name: 'GetNetworkDefaultGateway', group: 'Network', summary: 'The default gateway.', example: {}, returns: '{ NetworkGateway: { IPv4Address: [], IPv6Address: [] } }' },
  {
    name: 'SetNetworkDefaultGateway', group: 'Network', changes: true, summary: 'Set the default gateway.', example: { IPv4Address: ['192.0.2.1'] }, returns: '{}',
    fields: [{ path: 'IPv4Address', label: 'IPv4 gateway', kind: 'list', placeholder: '192.0.2.1' }],
  },
  { name: 'GetZeroConfiguration', group: 'Network', summary: 'Link-local (zero configuration) addressing.', example: {}, returns: '{ ZeroConfiguration: { InterfaceToken, Enabled, Addresses: [] } }' },
  {
    name: 'SetZeroConfiguration', group: 'Network', changes: true, summary: 'Turn link-local addressing on or off.', example: { InterfaceToken: 'eth0', Enabled: true }, returns: '{}',
    fields: [
      { path: 'InterfaceToken', label: 'Interface', kind: 'text', placeholder: 'eth0' },
      { path: 'Enabled', label: 'Enabled', kind: 'bool' },
    ],
  },
  // System
  { name: 'GetDeviceInformation', group: 'System', summary: 'Manufacturer, model, firmware version, serial number, hardware id.', example: {}, returns: '{ Manufacturer, Model, FirmwareVersion, SerialNumber, HardwareId }' },
  {
    name: 'GetServices', group: 'System', summary: 'The services the device offers, with addresses, versions and capabilities.', example: { IncludeCapability: true },
    returns: '{ Service: [{ Namespace, XAddr, Version: { Major, Minor }, Capabilities }] }', fields: [{ path: 'IncludeCapability', label: 'With capabilities', kind: 'bool' }],
  },
  { name: 'GetServiceCapabilities', group: 'System', summary: 'What the device service can do (network, security, system).', example: {}, returns: '{ Capabilities: { Network, Security, System, Misc } }' },
  {
    name: 'GetCapabilities', group: 'System', summary: 'The older capability overview some devices still need.', example: { Category: 'All' }, returns: '{ Capabilities: { Device, Events, ... } }',
    fields: [{ path: 'Category', label: 'Category', kind: 'select', options: ['All', 'Device', 'Events', 'Analytics', 'Imaging', 'Media', 'PTZ'] }],
  },
  { name: 'GetSystemDateAndTime', group: 'System', summary: "The device's clock, time zone and whether it uses NTP.", example: {}, returns: '{ SystemDateAndTime: { DateTimeType, DaylightSavings, TimeZone: { TZ }, UTCDateTime, LocalDateTime } }' },
  {
    name: 'SetSystemDateAndTime', group: 'System', changes: true, summary: 'Set the clock (Manual, with UTCDateTime) or let NTP set it; time zone.',
    example: { DateTimeType: 'Manual', DaylightSavings: false, TimeZone: { TZ }, UTCDateTime: '2026-01-01T12:00:00Z' },
    returns: '{}. The session then re-measures the clock offset.',
    fields: [
      { path: 'DateTimeType', label: 'Clock set by', kind: 'select', options: ['Manual', 'NTP'] },
      { path: 'DaylightSavings', label: 'Daylight saving', kind: 'bool' },
      { path: 'TimeZone.TZ', label: 'Time zone (IANA or POSIX)', kind: 'text', placeholder: 'Europe/Berlin or CET-1CEST,M3.5.0,M10.5.0/3' },
      { path: 'UTCDateTime', label: 'UTC time (Manual)', kind: 'text', placeholder: '2026-01-01T12:00:00Z' },
    ],
  },
  { name: 'GetNTP', group: 'System', summary: 'The NTP servers.', example: {}, returns: '{ NTPInformation: { FromDHCP, NTPFromDHCP: [], NTPManual: [{ Type, IPv4Address | DNSname }] } }' },
  {
    name: 'SetNTP', group: 'System', changes: true, summary: 'Set the NTP servers (or take them from DHCP).',
    example: { FromDHCP: false, NTPManual: [{ Type: 'DNS', DNSname: 'pool.ntp.org' }] }, returns: '{}. The session then re-measures the clock offset.',
    fields: [
      { path: 'FromDHCP', label: 'From DHCP', kind: 'bool' },
      { path: 'NTPManual', label: 'NTP servers', kind: 'hosts', placeholder: 'pool.ntp.org, 192.0.2.123' },
    ],
  },
  // Users
  { name: 'GetUsers', group: 'Users', summary: 'The user accounts and their levels (never passwords).', example: {}, returns: '{ User: [{ Username, UserLevel }] }' },
  {
    name: 'CreateUsers', group: 'Users', changes: true, summary: 'Create accounts. In Factory Default State, the first Administrator makes the device Operational.',
    example: { User: [{ Username: 'viewer', Password: 'View-pass-1', UserLevel: 'User' }] }, returns: '{}',
    fields: [
      { path: 'User.0.Username', label: 'User name', kind: 'text', placeholder: 'viewer' },
      { path: 'User.0.Password', label: 'Password', kind: 'password' },
      { path: 'User.0.UserLevel', label: 'Level', kind: 'select', options: USER_LEVELS },
    ],
  },
  {
    name: 'DeleteUsers', group: 'Users', changes: true, summary: 'Delete accounts by name.', example: { Username: ['viewer'] }, returns: '{}',
    fields: [{ path: 'Username', label: 'User names', kind: 'list', placeholder: 'viewer, guest' }],
  },
  {
    name: 'SetUser', group: 'Users', changes: true,
    summary: "Change an account's password or level. Without a Password the device would clear it, so that is refused unless clearPassword is true. Changing the session's own password: the node then uses the new one and warns.",
    example: { User: [{ Username: 'viewer', Password: 'N3w-pass-word', UserLevel: 'Operator' }] }, returns: '{}',
    fields: [
      { path: 'User.0.Username', label: 'User name', kind: 'text', placeholder: 'viewer' },
      { path: 'User.0.Password', label: 'New password', kind: 'password' },
      { path: 'User.0.UserLevel', label: 'Level', kind: 'select', options: USER_LEVELS },
    ],
  },
  // Scopes
  { name: 'GetScopes', group: 'Scopes', summary: 'The discovery scopes: name, location, hardware and the Profile Q state.', example: {}, returns: '{ Scopes: [{ ScopeDef: Fixed | Configurable, ScopeItem }] }' },
  {
    name: 'SetScopes', group: 'Scopes', changes: true, summary: 'Replace the configurable scopes.', example: { Scopes: ['onvif://www.onvif.org/name/Lobby', 'onvif://www.onvif.org/location/building/A'] }, returns: '{}',
    fields: [{ path: 'Scopes', label: 'Scopes', kind: 'list', placeholder: 'onvif://www.onvif.org/name/Lobby' }],
  },
  {
    name: 'AddScopes', group: 'Scopes', changes: true, summary: 'Add configurable scopes.', example: { ScopeItem: ['onvif://www.onvif.org/location/floor/2'] }, returns: '{}',
    fields: [{ path: 'ScopeItem', label: 'Scopes', kind: 'list', placeholder: 'onvif://www.onvif.org/location/floor/2' }],
  },
  {
    name: 'RemoveScopes', group: 'Scopes', changes: true, summary: 'Remove configurable scopes.', example: { ScopeItem: ['onvif://www.onvif.org/location/floor/2'] }, returns: '{ ScopeItem: [the removed scopes] }',
    fields: [{ path: 'ScopeItem', label: 'Scopes', kind: 'list', placeholder: 'onvif://www.onvif.org/location/floor/2' }],
  },
  { name: 'GetDiscoveryMode', group: 'Scopes', summary: 'Whether the device answers WS-Discovery probes.', example: {}, returns: '{ DiscoveryMode: Discoverable | NonDiscoverable }' },
  {
    name: 'SetDiscoveryMode', group: 'Scopes', changes: true, summary: 'Make the device discoverable or not.', example: { DiscoveryMode: 'NonDiscoverable' }, returns: '{}',
    fields: [{ path: 'DiscoveryMode', label: 'Mode', kind: 'select', options: ['Discoverable', 'NonDiscoverable'] }],
  },
  // Security
  { name: 'GetAccessPolicy', group: 'Security', summary: 'The access policy file (which user level may call what).', example: {}, returns: '{ PolicyFile: { Data: <base64 text>, contentType } }' },
  {
    name: 'SetAccessPolicy', group: 'Security', changes: true, summary: 'Upload an access policy file (Data as base64 text or a Buffer).',
    example: { PolicyFile: { Data: 'eyJwb2xpY3kiOltdfQ==', contentType: 'application/json' } }, returns: '{}',
  },
  // Maintenance
  {
    name: 'SystemReboot', group: 'Maintenance', changes: true, summary: 'Reboot; the node waits until the device is back and reconnects.', example: {},
    returns: '{ Message }, once the device answers again',
  },
  {
    name: 'SetSystemFactoryDefault', group: 'Maintenance', changes: true,
    summary: 'Soft: keeps network settings and users. Hard: back to Factory Default State (no users). Waits and reconnects.',
    example: { FactoryDefault: 'Soft' }, returns: '{}, once the device answers again',
    fields: [{ path: 'FactoryDefault', label: 'Reset', kind: 'select', options: ['Soft', 'Hard'] }],
  },
  { name: 'GetSystemUris', group: 'Maintenance', summary: 'Where to download the configuration backup and logs.', example: {}, returns: '{ SystemBackupUri, SystemLogUris?, SupportInfoUri? }' },
  {
    name: 'StartSystemRestore', group: 'Maintenance', changes: true, summary: 'Ask for a restore upload address (the restore task does the whole job).', example: {},
    returns: '{ UploadUri, ExpectedDownTime }',
  },
  // Tasks (lib/configure)
  {
    name: 'commission', group: 'Tasks', changes: true,
    summary: "From Factory Default State: set the administrator's password (the device becomes Operational), then host name, NTP, time zone, users, network. Without a username: the device's existing administrator (e.g. 'root'), or a new 'admin' when it has none. Stops at the first failure saying what was done.",
    example: { password: 'N3w-admin-pass', hostname: 'lobby-cam', ntp: ['pool.ntp.org'], timeZone: TZ, users: [{ username: 'viewer', password: 'View-pass-1', level: 'User' }], network: 'dhcp' },
    returns: "{ steps: [{ step, ok, detail }], state: 'Operational', username, address, rebootNeeded? }",
    fields: [
      { path: 'username', label: 'Admin name', kind: 'text', placeholder: "the existing administrator, else 'admin'" },
      { path: 'password', label: 'Admin password', kind: 'password' },
      { path: 'hostname', label: 'Host name', kind: 'text', placeholder: 'lobby-cam' },
      { path: 'ntp', label: 'NTP servers', kind: 'list', placeholder: 'pool.ntp.org' },
      { path: 'timeZone', label: 'Time zone (IANA or POSIX)', kind: 'text', placeholder: 'Europe/Berlin or CET-1CEST,M3.5.0,M10.5.0/3' },
      { path: 'force', label: 'Also when Operational', kind: 'bool' },
    ],
  },
  {
    name: 'syncTime', group: 'Tasks', changes: true, summary: "Set the device's clock from this Node-RED host (UTC and time zone), or point it at NTP.",
    example: { mode: 'host', timeZone: TZ }, returns: "{ mode, offsetBeforeMs, offsetAfterMs, timeZone?, ntp? }",
    fields: [
      { path: 'mode', label: 'Clock from', kind: 'select', options: ['host', 'ntp'] },
      { path: 'timeZone', label: 'Time zone (IANA or POSIX)', kind: 'text', placeholder: 'Europe/Berlin or CET-1CEST,M3.5.0,M10.5.0/3' },
      { path: 'ntp', label: 'NTP servers', kind: 'list', placeholder: 'pool.ntp.org' },
    ],
  },
  {
    name: 'backup', group: 'Tasks', summary: 'Download the configuration backup (GetSystemUris, then HTTP GET with the session credentials), streamed.',
    example: { file: '/data/backups/lobby-cam.bin' }, returns: 'Without file: the backup as a Buffer (msg.backup = { bytes, contentType }). With file: { bytes, file }.',
    fields: [{ path: 'file', label: 'File', kind: 'text', placeholder: '/data/backups/lobby-cam.bin (empty: msg.payload)' }],
  },
  {
    name: 'restore', group: 'Tasks', changes: true, summary: 'Upload a backup (StartSystemRestore, POST), wait while the device restarts, reconnect. msg.payload may be the backup Buffer.',
    example: { file: '/data/backups/lobby-cam.bin' }, returns: '{ bytes, downtimeMs, reconnected: true, profileQState }',
    fields: [{ path: 'file', label: 'File', kind: 'text', placeholder: '/data/backups/lobby-cam.bin (empty: msg.payload Buffer)' }],
  },
  {
    name: 'inventory', group: 'Tasks', summary: 'Device information, firmware, services and versions, capabilities, Profile Q state and network summary in one object.',
    example: {}, returns: '{ address, endpoint, deviceInformation, firmware, services: [{ namespace, name, version, xaddr }], capabilities, profileQState, network: { hostname, interfaces, dns, ntp, gateway, protocols, discoveryMode }, scopes, clockOffsetMs }',
  },
  {
    name: 'enableHttps', group: 'Tasks', changes: true,
    summary:
      "Turn on verified HTTPS: a certificate made by the device (self-signed, pinned by fingerprint), signed by your CA (caCertificate + caKey), or your own (certificate + privateKey + chain, sent as PKCS#12); assigned, HTTPS on, verified before anything else changes, rolled back if it does not verify. httpOff turns plain HTTP off afterwards. Keys belong in credentials or msg, never in the flow.",
    example: { source: 'self-signed', httpOff: false },
    returns: "{ source, address (https), tls: { ca } | { fingerprint }, fingerprint, ca?, certificate: { subject, issuer, subjectAltName, fingerprint, notAfter, daysLeft }, certificationPathId, keyId, httpDisabled }",
    fields: [
      ...CERTIFICATE_SOURCE_FIELDS,
      { path: 'httpOff', label: 'Then turn HTTP off', kind: 'bool' },
    ],
  },
  {
    name: 'renewCertificate', group: 'Tasks', changes: true,
    summary: 'Rotate the TLS certificate while HTTPS stays on: a new key and certificate from the same kinds of source, swapped in, verified, then the old certificate and key deleted (put back if the new one does not verify).',
    example: { source: 'self-signed' },
    returns: '{ source, address, tls, fingerprint, ca?, certificate, certificationPathId, keyId, httpDisabled }',
    fields: [
      ...CERTIFICATE_SOURCE_FIELDS,
    ],
  },
  {
    name: 'certificateReport', group: 'Tasks', summary: "The device's TLS certificate: subject, issuer, fingerprint, expiry and days left, flagged when it expires within warnDays.",
    example: { warnDays: 30 }, returns: '{ https: { enabled, ports }, certificates: [{ subject, issuer, subjectAltName, fingerprint, notAfter, daysLeft, certificationPathId }], daysLeft?, notAfter?, expiresSoon, warnDays }',
    fields: [{ path: 'warnDays', label: 'Warn within (days)', kind: 'number', placeholder: '60' }],
  },
];

export const CATALOGUE: readonly CatalogueEntry[] = entries;

export const GROUPS: readonly GroupName[] = ['Network', 'System', 'Users', 'Scopes', 'Security', 'Maintenance', 'Tasks'];

/** Every catalogued name (Device operations and tasks). */
export const CONFIGURE_OPERATIONS: readonly string[] = entries.map((e) => e.name);

/** The node's operation setting that means "take it from msg.operation, then msg.topic" (any operation or task). */
export const OPERATION_FROM_MSG = 'msg';
/** The node's operation setting that means "the operation named in the node's own text field". */
export const OPERATION_OTHER = 'other';

/** Parameters sent when neither the node nor msg.payload sets them. GetServices: capabilities are what most flows want. */
export const DEFAULT_PARAMS: Readonly<Record<string, Record<string, unknown>>> = {
  GetServices: { IncludeCapability: true },
  GetCapabilities: { Category: 'All' },
};

/** Where the node's password credential goes, per operation (a path as in FormField.path). */
export const PASSWORD_TARGETS: Readonly<Record<string, string>> = {
  commission: 'password',
  // The TLS tasks' secret: the CA key (source 'ca'), or the certificate's own key (source 'certificate', see passwordTarget).
  enableHttps: 'caKey',
  renewCertificate: 'caKey',
  CreateUsers: 'User.0.Password',
  SetUser: 'User.0.Password',
};

/** Where the password credential goes for these parameters: PASSWORD_TARGETS, or privateKey for a TLS task with source 'certificate'. */
export function passwordTarget(operation: string, params: Record<string, unknown>): string | undefined {
  if ((operation === 'enableHttps' || operation === 'renewCertificate') && params.source === 'certificate') return 'privateKey';
  return PASSWORD_TARGETS[operation];
}

export function isTask(name: string): name is ConfigureTask {
  return (CONFIGURE_TASKS as readonly string[]).includes(name);
}

export function isConfigureOperation(name: unknown): boolean {
  return typeof name === 'string' && CONFIGURE_OPERATIONS.includes(name);
}
