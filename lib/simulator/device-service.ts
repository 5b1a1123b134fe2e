import { el, type XmlContent, type XmlNode } from '../xml/build';
import { NS } from '../xml/namespaces';
import type { XmlElement } from '../xml/parse';
import { child, children, text } from '../xml/query';
import { ACCESS_POLICY_CONTENT_TYPE, accessClassOf, parseAccessPolicy } from './access';
import { actionNotSupported, invalidArgVal, prohibited, SimFault } from './faults';
import type { OperationHandler, ServiceListing, SimulatedService, SoapCall } from './service';
import {
  defaultAccessPolicy, defaultPasswordComplexity, type DeviceState, type NetworkHostSetting, type PasswordComplexity, type SimulatedUser, type UserLevel,
} from './state';
import {
  checkIPv4, checkIPv6, isHostname, oneOf, parsePosixTz, readBool, readInt, readIPAddress, readNetworkHost, requireBool, requireText, texts,
} from './values';

/** What the device-service handlers need from the device around them. */
export interface DeviceServiceContext {
  state: DeviceState;
  /** Device clock, ms since epoch. */
  deviceNow(): number;
  /** The device-service URL as the caller reached it (Host header), Core §8.1.2.2. */
  xaddr: string;
  endpoint: string;
  /** 'http://host:port' as the caller reached the device, for the backup and restore URIs. */
  baseUrl: string;
  /** Open a single-use restore upload; returns its path (under baseUrl) and how long the restore keeps the device away. */
  startRestore(): { path: string; downtimeMs: number };
  /** Path of the configuration backup (HTTP GET). */
  backupPath: string;
  /** How firmware upgrades are offered (firmware/service.ts). */
  firmwareMode: 'http' | 'legacy' | 'off';
  /** Open a single-use firmware upload (StartFirmwareUpgrade). */
  startFirmwareUpgrade(): { path: string; uploadDelayMs: number; downtimeMs: number };
  /** Accepted mechanisms once Operational. */
  acceptsDigest: boolean;
  acceptsUsernameToken: boolean;
  maxUsers: number;
  /**
   * Profile Q §9 to the letter: CreateUsers ends Factory Default State only when no Administrator existed
   * before; a device that ships with an Administrator leaves it only when SetUser gives that one a password.
   */
  strictFactoryDefault?: boolean;
  /** Persist and announce a change. */
  changed(what: string): void;
  /** Run after the response has gone out (reboot, factory reset). */
  afterResponse(action: () => void): void;
  reboot(): void;
  factoryReset(kind: 'Hard' | 'Soft'): void;
  /** Why HTTPS cannot be turned on (no certificate assigned), undefined when it can; absent: no TLS at all. */
  tlsProblem?(): string | undefined;
  /** The device's other SOAP services (events, ...), listed by GetServices; GetCapabilities names the event service. */
  services: Array<Omit<ServiceListing, 'path'> & { xaddr: string }>;
}

/** Where the device service listens (the device's XAddr). */
export const DEVICE_SERVICE_PATH = '/onvif/device_service';

export const MAX_USERNAME_LENGTH = 32;
export const MIN_USERNAME_LENGTH = 1;
export const MAX_PASSWORD_LENGTH = 64;
export const MAX_SCOPES = 16;
export const MAX_NTP_SERVERS = 3;
export const ONVIF_VERSION = { major: 26, minor: 6 };

export const PROFILE_Q_FACTORY_DEFAULT = 'onvif://www.onvif.org/Profile/Q/FactoryDefault';
export const PROFILE_Q_OPERATIONAL = 'onvif://www.onvif.org/Profile/Q/Operational';

/** xmime:contentType on tt:BinaryData. */
const XMIME_NS = 'http://www.w3.org/2005/05/xmlmime';

const tds = (local: string, ...kids: XmlContent[]): XmlNode => el(NS.tds, local, undefined, ...kids);
const tt = (local: string, ...kids: XmlContent[]): XmlNode => el(NS.tt, local, undefined, ...kids);
const bool = (b: boolean) => (b ? 'true' : 'false');

/** Scope URIs encode spaces and other reserved characters of the model and names. */
const scopePart = (s: string) => encodeURIComponent(s);

export function fixedScopes(state: DeviceState): string[] {
  const info = state.deviceInformation;
  return [
    state.factoryDefault ? PROFILE_Q_FACTORY_DEFAULT : PROFILE_Q_OPERATIONAL,
    `onvif://www.onvif.org/hardware/${scopePart(info.Model)}`,
    `onvif://www.onvif.org/name/${scopePart(`${info.Manufacturer} ${info.Model}`)}`,
  ];
}

export function allScopes(state: DeviceState): string[] {
  return [...fixedScopes(state), ...state.scopes];
}

// ---------------------------------------------------------------------------------------------- capabilities

function serviceCapabilities(ctx: DeviceServiceContext): XmlNode {
  const s = ctx.state;
  return el(
    NS.tds,
    'Capabilities',
    undefined,
    el(NS.tds, 'Network', {
      IPFilter: false, ZeroConfiguration: true, IPVersion6: false, DynDNS: false, Dot11Configuration: false,
      HostnameFromDHCP: true, NTP: MAX_NTP_SERVERS, DHCPv6: false,
    }),
    el(NS.tds, 'Security', {
      'TLS1.0': false, 'TLS1.1': false, 'TLS1.2': !!ctx.tlsProblem, OnboardKeyGeneration: !!ctx.tlsProblem, AccessPolicyConfig: true,
      DefaultAccessPolicy: true, Dot1X: false, RemoteUserHandling: false, 'X.509Token': false, SAMLToken: false,
      KerberosToken: false, UsernameToken: ctx.acceptsUsernameToken, HttpDigest: ctx.acceptsDigest, RELToken: false,
      JsonWebToken: false, MaxUsers: ctx.maxUsers, MaxUserNameLength: MAX_USERNAME_LENGTH, MaxPasswordLength: MAX_PASSWORD_LENGTH,
      SecurityPolicies: 'PasswordComplexity',
      HashingAlgorithms: ctx.acceptsDigest ? s.hashingAlgorithms.join(' ') : undefined,
    }),
    el(NS.tds, 'System', {
      DiscoveryResolve: true, DiscoveryBye: true, RemoteDiscovery: false, SystemBackup: false, SystemLogging: false,
      FirmwareUpgrade: ctx.firmwareMode === 'legacy', HttpFirmwareUpgrade: ctx.firmwareMode === 'http', HttpSystemBackup: true, HttpSystemLogging: false,
      HttpSupportInformation: false, StorageConfiguration: false, DiscoveryNotSupported: false,
      NetworkConfigNotSupported: false, UserConfigNotSupported: false,
    }),
  );
}

const version = () => tt('Major', ONVIF_VERSION.major);
const minor = () => tt('Minor', ONVIF_VERSION.minor);

function getServices(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const include = requireBool(req, 'IncludeCapability');
  return tds(
    'GetServicesResponse',
    tds(
      'Service',
      tds('Namespace', NS.tds),
      tds('XAddr', ctx.xaddr),
      include ? tds('Capabilities', serviceCapabilities(ctx)) : undefined,
      tds('Version', version(), minor()),
    ),
    ...ctx.services.map((s) =>
      tds(
        'Service',
        tds('Namespace', s.namespace),
        tds('XAddr', s.xaddr),
        include ? tds('Capabilities', s.capabilities()) : undefined,
        tds('Version', tt('Major', s.version.major), tt('Minor', s.version.minor)),
      ),
    ),
  );
}

function getCapabilities(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const eventService = ctx.services.find((s) => s.namespace === NS.tev);
  const categories = texts(req, 'Category');
  for (const c of categories) {
    oneOf(c, ['All', 'Analytics', 'Device', 'Events', 'Imaging', 'Media', 'PTZ'] as const, 'Category');
    if (c !== 'All' && c !== 'Device' && !(c === 'Events' && eventService)) throw actionNotSupported(`This device has no ${c} service.`, 'NoSuchService');
  }
  const wants = (c: string) => categories.length === 0 || categories.includes('All') || categories.includes(c);
  const device = tt(
    'Device',
    tt('XAddr', ctx.xaddr),
    tt('Network', tt('IPFilter', 'false'), tt('ZeroConfiguration', 'true'), tt('IPVersion6', 'false'), tt('DynDNS', 'false'),
      tt('Extension', tt('Dot11Configuration', 'false'))),
    tt('System', tt('DiscoveryResolve', 'true'), tt('DiscoveryBye', 'true'), tt('RemoteDiscovery', 'false'), tt('SystemBackup', 'false'),
      tt('SystemLogging', 'false'), tt('FirmwareUpgrade', bool(ctx.firmwareMode === 'legacy')), tt('SupportedVersions', version(), minor()),
      tt('Extension', tt('HttpFirmwareUpgrade', bool(ctx.firmwareMode === 'http')), tt('HttpSystemBackup', 'true'), tt('HttpSystemLogging', 'false'), tt('HttpSupportInformation', 'false'))),
    tt('Security', tt('TLS1.1', 'false'), tt('TLS1.2', bool(!!ctx.tlsProblem)), tt('OnboardKeyGeneration', bool(!!ctx.tlsProblem)), tt('AccessPolicyConfig', 'true'),
      tt('X.509Token', 'false'), tt('SAMLToken', 'false'), tt('KerberosToken', 'false'), tt('RELToken', 'false')),
  );
  const events = eventService
    ? tt('Events', tt('XAddr', eventService.xaddr), tt('WSSubscriptionPolicySupport', 'true'), tt('WSPullPointSupport', 'true'), tt('WSPausableSubscriptionManagerInterfaceSupport', 'false'))
    : undefined;
  return tds('GetCapabilitiesResponse', tds('Capabilities', wants('Device') ? device : undefined, wants('Events') ? events : undefined));
}

// ---------------------------------------------------------------------------------------------- network

function ipAddress(a: NetworkHostSetting): XmlNode {
  return tt(a.type === 'IPv6' ? 'IPv6Address' : 'IPv4Address', a.address);
}

function ipAddressEl(local: string, a: NetworkHostSetting): XmlNode {
  return tt(local, tt('Type', a.type), ipAddress(a));
}

function networkHostEl(local: string, h: NetworkHostSetting): XmlNode {
  return tt(local, tt('Type', h.type), h.type === 'DNS' ? tt('DNSname', h.address) : ipAddress(h));
}

function getHostname(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const h = ctx.state.hostname;
  return tds('GetHostnameResponse', tds('HostnameInformation', tt('FromDHCP', bool(h.fromDHCP)), tt('Name', h.fromDHCP ? h.dhcpName : h.name)));
}

function setHostname(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const name = text(req, 'Name') ?? '';
  if (name === '') {
    // Empty name: take it from DHCP (we signal HostnameFromDHCP).
    ctx.state.hostname.fromDHCP = true;
  } else {
    if (!isHostname(name)) throw invalidArgVal('InvalidHostname', `'${name}' is not a valid host name (RFC 1123: letters, digits, inner hyphens, dots).`);
    ctx.state.hostname = { ...ctx.state.hostname, fromDHCP: false, name };
  }
  ctx.changed('hostname');
  return tds('SetHostnameResponse');
}

function setHostnameFromDHCP(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  ctx.state.hostname.fromDHCP = requireBool(req, 'FromDHCP');
  ctx.changed('hostname');
  // The simulated DHCP name is known at once, so no reboot is needed to apply it.
  return tds('SetHostnameFromDHCPResponse', tds('RebootNeeded', 'false'));
}

function getDNS(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const d = ctx.state.dns;
  return tds(
    'GetDNSResponse',
    tds(
      'DNSInformation',
      tt('FromDHCP', bool(d.fromDHCP)),
      ...d.searchDomain.map((s) => tt('SearchDomain', s)),
      ...(d.fromDHCP ? d.dhcp.map((a) => ipAddressEl('DNSFromDHCP', a)) : []),
      ...d.manual.map((a) => ipAddressEl('DNSManual', a)),
    ),
  );
}

function setDNS(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const fromDHCP = requireBool(req, 'FromDHCP');
  const searchDomain = texts(req, 'SearchDomain');
  for (const s of searchDomain) if (!isHostname(s)) throw invalidArgVal('InvalidArgVal', `'${s}' is not a valid search domain`);
  const manual = children(req, 'DNSManual').map(readIPAddress);
  ctx.state.dns = { ...ctx.state.dns, fromDHCP, searchDomain, manual };
  ctx.changed('dns');
  return tds('SetDNSResponse');
}

function getNTP(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const n = ctx.state.ntp;
  return tds(
    'GetNTPResponse',
    tds(
      'NTPInformation',
      tt('FromDHCP', bool(n.fromDHCP)),
      ...(n.fromDHCP ? n.dhcp.map((h) => networkHostEl('NTPFromDHCP', h)) : []),
      ...n.manual.map((h) => networkHostEl('NTPManual', h)),
    ),
  );
}

function setNTP(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const fromDHCP = requireBool(req, 'FromDHCP');
  const manual = children(req, 'NTPManual').map(readNetworkHost);
  if (manual.length > MAX_NTP_SERVERS) throw invalidArgVal('InvalidArgVal', `At most ${MAX_NTP_SERVERS} NTP servers are supported.`);
  if (ctx.state.time.type === 'NTP' && !fromDHCP && manual.length === 0) {
    throw invalidArgVal('TimeSyncedToNtp', 'The clock is set by NTP, so at least one NTP server is needed. Switch SetSystemDateAndTime to Manual first.');
  }
  ctx.state.ntp = { ...ctx.state.ntp, fromDHCP, manual };
  ctx.changed('ntp');
  return tds('SetNTPResponse');
}

function prefixed(local: string, a: { address: string; prefixLength: number }): XmlNode {
  return tt(local, tt('Address', a.address), tt('PrefixLength', a.prefixLength));
}

function getNetworkInterfaces(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const n = ctx.state.networkInterface;
  const link = () => [tt('AutoNegotiation', bool(n.link.autoNegotiation)), tt('Speed', n.link.speed), tt('Duplex', n.link.duplex)];
  const zc = ctx.state.zeroConfiguration;
  return tds(
    'GetNetworkInterfacesResponse',
    el(
      NS.tds,
      'NetworkInterfaces',
      { token: n.token },
      tt('Enabled', bool(n.enabled)),
      tt('Info', tt('Name', n.name), tt('HwAddress', n.hwAddress), tt('MTU', n.mtu)),
      tt('Link', tt('AdminSettings', ...link()), tt('OperSettings', ...link()), tt('InterfaceType', 6)),
      tt(
        'IPv4',
        tt('Enabled', bool(n.ipv4.enabled)),
        tt(
          'Config',
          ...n.ipv4.manual.map((a) => prefixed('Manual', a)),
          zc.enabled ? prefixed('LinkLocal', { address: zc.address, prefixLength: 16 }) : undefined,
          n.ipv4.dhcp ? prefixed('FromDHCP', n.ipv4.dhcpAddress) : undefined,
          tt('DHCP', bool(n.ipv4.dhcp)),
        ),
      ),
    ),
  );
}

function checkInterfaceToken(token: string, ctx: DeviceServiceContext): void {
  if (token !== ctx.state.networkInterface.token) throw invalidArgVal('InvalidNetworkInterface', `There is no network interface '${token}' (this device has '${ctx.state.networkInterface.token}').`);
}

function setNetworkInterfaces(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  checkInterfaceToken(requireText(req, 'InterfaceToken'), ctx);
  const cfg = child(req, 'NetworkInterface');
  if (!cfg) throw invalidArgVal('InvalidArgs', 'NetworkInterface is missing');
  // Validate everything first, then apply: a fault leaves the configuration untouched.
  const next = structuredClone(ctx.state.networkInterface);
  const enabled = readBool(cfg, 'Enabled');
  if (enabled !== undefined) next.enabled = enabled;
  const link = child(cfg, 'Link');
  if (link) {
    const autoNegotiation = requireBool(link, 'AutoNegotiation');
    const speed = readInt(link, 'Speed', 0, 100000, 'InvalidInterfaceSpeed');
    if (speed === undefined || ![10, 100, 1000].includes(speed)) throw invalidArgVal('InvalidInterfaceSpeed', `Speed ${speed} is not supported (10, 100 or 1000).`);
    const duplex = oneOf(requireText(link, 'Duplex'), ['Full', 'Half'] as const, 'Duplex');
    next.link = { autoNegotiation, speed, duplex };
  }
  const mtu = text(cfg, 'MTU');
  if (mtu !== undefined) {
    if (!/^\d+$/.test(mtu) || Number(mtu) < 68 || Number(mtu) > 9000) throw invalidArgVal('InvalidMtuValue', `MTU ${mtu} is invalid (68-9000).`);
    next.mtu = Number(mtu);
  }
  if (child(cfg, 'IPv6')) throw invalidArgVal('InvalidIPv6Address', 'This device has no IPv6 configuration.');
  const ipv4 = child(cfg, 'IPv4');
  if (ipv4) {
    const e = readBool(ipv4, 'Enabled');
    if (e !== undefined) next.ipv4.enabled = e;
    const dhcp = readBool(ipv4, 'DHCP');
    if (dhcp !== undefined) next.ipv4.dhcp = dhcp;
    const manual = children(ipv4, 'Manual');
    if (manual.length) {
      next.ipv4.manual = manual.map((m) => {
        const address = checkIPv4(requireText(m, 'Address'));
        const p = text(m, 'PrefixLength');
        if (p === undefined || !/^\d+$/.test(p) || Number(p) > 32) throw invalidArgVal('InvalidIPv4Address', `PrefixLength '${p ?? ''}' is invalid (0-32).`);
        return { address, prefixLength: Number(p) };
      });
    }
    if (!next.ipv4.dhcp && next.ipv4.manual.length === 0) throw invalidArgVal('InvalidIPv4Address', 'With DHCP off, give at least one manual IPv4 address.');
  }
  ctx.state.networkInterface = next;
  ctx.changed('networkInterface');
  // Like most cameras: the new settings are stored at once but take effect after SystemReboot.
  return tds('SetNetworkInterfacesResponse', tds('RebootNeeded', 'true'));
}

function getNetworkProtocols(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  return tds(
    'GetNetworkProtocolsResponse',
    ...ctx.state.protocols.map((p) => tds('NetworkProtocols', tt('Name', p.name), tt('Enabled', bool(p.enabled)), ...p.ports.map((port) => tt('Port', port)))),
  );
}

function setNetworkProtocols(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const next = structuredClone(ctx.state.protocols);
  const items = children(req, 'NetworkProtocols');
  if (!items.length) throw invalidArgVal('InvalidArgs', 'NetworkProtocols is missing');
  for (const item of items) {
    const name = requireText(item, 'Name');
    const target = next.find((p) => p.name === name);
    if (!target) throw invalidArgVal('ServiceNotSupported', `The network protocol '${name}' is not supported (HTTP, HTTPS, RTSP).`);
    const enabled = requireBool(item, 'Enabled');
    const ports = texts(item, 'Port').map((p) => {
      if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw invalidArgVal('InvalidArgVal', `Port '${p}' is invalid (1-65535).`);
      return Number(p);
    });
    if (!ports.length) throw invalidArgVal('InvalidArgs', `Port is missing for ${name}`);
    if (name === 'HTTPS' && enabled && !target.enabled) {
      const problem = ctx.tlsProblem ? ctx.tlsProblem() : 'this device has no TLS configuration';
      if (problem) throw actionNotSupported(`HTTPS cannot be enabled: ${problem}.`, 'EnablingTlsFailed');
    }
    target.enabled = enabled;
    target.ports = ports;
  }
  const used = new Map<number, string>();
  for (const p of next) {
    for (const port of p.ports) {
      const other = used.get(port);
      if (other && other !== p.name) throw invalidArgVal('PortAlreadyInUse', `Port ${port} is already used by ${other}.`);
      used.set(port, p.name);
    }
  }
  ctx.state.protocols = next;
  ctx.changed('protocols');
  return tds('SetNetworkProtocolsResponse');
}

function getNetworkDefaultGateway(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const g = ctx.state.gateway;
  return tds('GetNetworkDefaultGatewayResponse', tds('NetworkGateway', ...g.ipv4.map((a) => tt('IPv4Address', a)), ...g.ipv6.map((a) => tt('IPv6Address', a))));
}

function setNetworkDefaultGateway(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const ipv4 = texts(req, 'IPv4Address').map(checkIPv4);
  const ipv6 = texts(req, 'IPv6Address').map(checkIPv6);
  for (const a of ipv4) if (a === '0.0.0.0' || a.startsWith('255.') || a.startsWith('224.')) throw invalidArgVal('InvalidGatewayAddress', `${a} cannot be a gateway.`);
  ctx.state.gateway = { ipv4, ipv6 };
  ctx.changed('gateway');
  return tds('SetNetworkDefaultGatewayResponse');
}

function getZeroConfiguration(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const z = ctx.state.zeroConfiguration;
  return tds(
    'GetZeroConfigurationResponse',
    tds('ZeroConfiguration', tt('InterfaceToken', ctx.state.networkInterface.token), tt('Enabled', bool(z.enabled)), z.enabled ? tt('Addresses', z.address) : undefined),
  );
}

function setZeroConfiguration(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  checkInterfaceToken(requireText(req, 'InterfaceToken'), ctx);
  ctx.state.zeroConfiguration.enabled = requireBool(req, 'Enabled');
  ctx.changed('zeroConfiguration');
  return tds('SetZeroConfigurationResponse');
}

// ---------------------------------------------------------------------------------------------- system

function getDeviceInformation(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const i = ctx.state.deviceInformation;
  return tds(
    'GetDeviceInformationResponse',
    tds('Manufacturer', i.Manufacturer),
    tds('Model', i.Model),
    tds('FirmwareVersion', i.FirmwareVersion),
    tds('SerialNumber', i.SerialNumber),
    tds('HardwareId', i.HardwareId),
  );
}

function dateTimeEl(local: string, d: Date): XmlNode {
  return tt(
    local,
    tt('Time', tt('Hour', d.getUTCHours()), tt('Minute', d.getUTCMinutes()), tt('Second', d.getUTCSeconds())),
    tt('Date', tt('Year', d.getUTCFullYear()), tt('Month', d.getUTCMonth() + 1), tt('Day', d.getUTCDate())),
  );
}

function getSystemDateAndTime(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const t = ctx.state.time;
  const now = ctx.deviceNow();
  // Local time from the standard offset; DST rules of the TZ string are not evaluated by the simulator.
  const offsetMin = parsePosixTz(t.timeZone)?.stdOffsetMinutes ?? 0;
  return tds(
    'GetSystemDateAndTimeResponse',
    tds(
      'SystemDateAndTime',
      tt('DateTimeType', t.type),
      tt('DaylightSavings', bool(t.daylightSavings)),
      tt('TimeZone', tt('TZ', t.timeZone)),
      dateTimeEl('UTCDateTime', new Date(now)),
      dateTimeEl('LocalDateTime', new Date(now + offsetMin * 60_000)),
    ),
  );
}

function readDateTime(e: XmlElement): number {
  const time = child(e, 'Time');
  const date = child(e, 'Date');
  const bad = (why: string) => invalidArgVal('InvalidDateTime', `UTCDateTime is invalid: ${why}.`);
  if (!time || !date) throw bad('Time and Date are required');
  const num = (p: XmlElement, local: string, min: number, max: number) => {
    const v = text(p, local);
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw bad(`${local} '${v ?? ''}' out of range`);
    return Number(v);
  };
  const year = num(date, 'Year', 1970, 2100);
  const month = num(date, 'Month', 1, 12);
  const day = num(date, 'Day', 1, 31);
  const ms = Date.UTC(year, month - 1, day, num(time, 'Hour', 0, 23), num(time, 'Minute', 0, 59), num(time, 'Second', 0, 60));
  if (new Date(ms).getUTCDate() !== day) throw bad(`${year}-${month} has no day ${day}`);
  return ms;
}

function setSystemDateAndTime(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const type = oneOf(requireText(req, 'DateTimeType'), ['Manual', 'NTP'] as const, 'DateTimeType');
  const daylightSavings = requireBool(req, 'DaylightSavings');
  const tzEl = child(req, 'TimeZone');
  let timeZone = ctx.state.time.timeZone;
  if (tzEl) {
    const tz = text(tzEl, 'TZ') ?? '';
    if (!parsePosixTz(tz)) throw invalidArgVal('InvalidTimeZone', `'${tz}' is not a POSIX time zone (IEEE 1003.1 §8.3), e.g. CET-1CEST,M3.5.0,M10.5.0/3.`);
    timeZone = tz;
  }
  let offsetMs = ctx.state.time.offsetMs;
  const utc = child(req, 'UTCDateTime');
  if (type === 'Manual' && utc) offsetMs = readDateTime(utc) - Date.now();
  if (type === 'NTP' && !ctx.state.ntp.fromDHCP && ctx.state.ntp.manual.length === 0) {
    throw invalidArgVal('NtpServerUndefined', 'No NTP server is defined: call SetNTP first.');
  }
  ctx.state.time = { type, daylightSavings, timeZone, offsetMs };
  ctx.changed('time');
  return tds('SetSystemDateAndTimeResponse');
}

function setSystemFactoryDefault(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const kind = oneOf(requireText(req, 'FactoryDefault'), ['Hard', 'Soft'] as const, 'FactoryDefault');
  // Like a real device it restarts to load the defaults, so it is away for a while either way.
  ctx.afterResponse(() => {
    ctx.factoryReset(kind);
    ctx.reboot();
  });
  return tds('SetSystemFactoryDefaultResponse');
}

/** Core §8.3.2: only the backup is offered over HTTP (no system log or support information). */
function getSystemUris(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  return tds('GetSystemUrisResponse', tds('SystemBackupUri', `${ctx.baseUrl}${ctx.backupPath}`));
}

/** Core §8.3.5: the upload URI is single-use and expires; the restore itself happens on the POST. */
function startSystemRestore(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const upload = ctx.startRestore();
  return tds('StartSystemRestoreResponse', tds('UploadUri', `${ctx.baseUrl}${upload.path}`), tds('ExpectedDownTime', `PT${Math.max(1, Math.ceil(upload.downtimeMs / 1000))}S`));
}

/** xs:duration in whole seconds (PT0S when there is nothing to wait). */
const seconds = (ms: number) => `PT${Math.ceil(ms / 1000)}S`;

/** Core §8.3.9: the upload URI is single-use and expires; the upgrade itself happens on the POST (firmware/service.ts). */
function startFirmwareUpgrade(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  if (ctx.firmwareMode !== 'http') throw actionNotSupported('This device does not take firmware over HTTP (HttpFirmwareUpgrade is false).');
  const upload = ctx.startFirmwareUpgrade();
  return tds(
    'StartFirmwareUpgradeResponse',
    tds('UploadUri', `${ctx.baseUrl}${upload.path}`),
    tds('UploadDelay', seconds(upload.uploadDelayMs)),
    tds('ExpectedDownTime', seconds(Math.max(1000, upload.downtimeMs))),
  );
}

/** The MTOM form is handled by the firmware service's route; a plain SOAP request cannot carry the image. */
function upgradeSystemFirmware(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  if (ctx.firmwareMode !== 'legacy') throw actionNotSupported('This device does not support UpgradeSystemFirmware; use StartFirmwareUpgrade.');
  throw new SimFault('Sender', ['InvalidArgs', 'InvalidFirmware'], 'Send UpgradeSystemFirmware as MTOM (multipart/related) with the image as an xop:Include attachment.');
}

// ---------------------------------------------------------------------------------------------- security

function getAccessPolicy(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const p = ctx.state.accessPolicy ?? defaultAccessPolicy();
  if (!p.data) throw new SimFault('Receiver', ['Action', 'EmptyPolicy'], 'The device has no access policy file.');
  return tds('GetAccessPolicyResponse', el(NS.tds, 'PolicyFile', p.contentType ? { 'xmime:contentType': p.contentType, 'xmlns:xmime': XMIME_NS } : undefined, tt('Data', p.data)));
}

function setAccessPolicy(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const file = child(req, 'PolicyFile');
  if (!file) throw invalidArgVal('InvalidArgs', 'PolicyFile is missing');
  const data = (text(file, 'Data') ?? '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) throw invalidArgVal('InvalidArgVal', 'PolicyFile Data is not base64.');
  const bytes = Buffer.from(data, 'base64');
  const table = parseAccessPolicy(bytes);
  if (typeof table === 'string') throw new SimFault('Sender', ['InvalidArgs', 'PolicyFormat'], `The access policy was not set: ${table}.`);
  const contentType = file.attributes.find((a) => a.local === 'contentType')?.value ?? ACCESS_POLICY_CONTENT_TYPE;
  ctx.state.accessPolicy = { data: bytes.toString('base64'), contentType };
  ctx.changed('accessPolicy');
  return tds('SetAccessPolicyResponse');
}

function systemReboot(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  ctx.afterResponse(() => ctx.reboot());
  return tds('SystemRebootResponse', tds('Message', 'Rebooting now.'));
}

// ---------------------------------------------------------------------------------------------- scopes, discovery

function getScopes(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const scope = (def: 'Fixed' | 'Configurable', item: string) => tds('Scopes', tt('ScopeDef', def), tt('ScopeItem', item));
  return tds('GetScopesResponse', ...fixedScopes(ctx.state).map((s) => scope('Fixed', s)), ...ctx.state.scopes.map((s) => scope('Configurable', s)));
}

function checkScopeUris(items: string[]): void {
  for (const s of items) if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(s)) throw invalidArgVal('InvalidArgVal', `'${s}' is not a URI`);
}

function tooMany(count: number): SimFault {
  return new SimFault('Receiver', ['Action', 'TooManyScopes'], `At most ${MAX_SCOPES} configurable scopes are supported (asked for ${count}).`);
}

function setScopes(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const items = [...new Set(texts(req, 'Scopes'))];
  checkScopeUris(items);
  if (items.length > MAX_SCOPES) throw tooMany(items.length);
  ctx.state.scopes = items;
  ctx.changed('scopes');
  return tds('SetScopesResponse');
}

function addScopes(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const items = texts(req, 'ScopeItem');
  checkScopeUris(items);
  const next = [...new Set([...ctx.state.scopes, ...items.filter((s) => !fixedScopes(ctx.state).includes(s))])];
  if (next.length > MAX_SCOPES) throw tooMany(next.length);
  ctx.state.scopes = next;
  ctx.changed('scopes');
  return tds('AddScopesResponse');
}

function removeScopes(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const items = texts(req, 'ScopeItem');
  const fixed = fixedScopes(ctx.state);
  for (const s of items) {
    if (fixed.includes(s)) throw prohibited('FixedScope', `${s} is a fixed scope and cannot be removed.`);
    if (!ctx.state.scopes.includes(s)) throw invalidArgVal('NoScope', `The device has no scope ${s}.`);
  }
  ctx.state.scopes = ctx.state.scopes.filter((s) => !items.includes(s));
  ctx.changed('scopes');
  return tds('RemoveScopesResponse', ...items.map((s) => tds('ScopeItem', s)));
}

function getDiscoveryMode(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  return tds('GetDiscoveryModeResponse', tds('DiscoveryMode', ctx.state.discoveryMode));
}

function setDiscoveryMode(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  ctx.state.discoveryMode = oneOf(requireText(req, 'DiscoveryMode'), ['Discoverable', 'NonDiscoverable'] as const, 'DiscoveryMode');
  ctx.changed('discoveryMode');
  return tds('SetDiscoveryModeResponse');
}

function getEndpointReference(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  return tds('GetEndpointReferenceResponse', tds('GUID', ctx.endpoint));
}

function getWsdlUrl(): XmlNode {
  return tds('GetWsdlUrlResponse', tds('WsdlUrl', 'https://www.onvif.org/ver10/device/wsdl/devicemgmt.wsdl'));
}

function setHashingAlgorithm(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const list = requireText(req, 'Algorithm').split(/\s+/).filter(Boolean);
  if (!list.length) throw invalidArgVal('InvalidArgVal', 'Give at least one hashing algorithm (MD5, SHA-256).');
  for (const a of list) if (a !== 'MD5' && a !== 'SHA-256') throw invalidArgVal('InvalidArgVal', `Hashing algorithm '${a}' is not supported (MD5, SHA-256).`);
  ctx.state.hashingAlgorithms = [...new Set(list)] as Array<'MD5' | 'SHA-256'>;
  ctx.changed('hashingAlgorithms');
  return tds('SetHashingAlgorithmResponse');
}

// ---------------------------------------------------------------------------------------------- users

function getUsers(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  // Never the password (Core §8.4.3).
  return tds('GetUsersResponse', ...ctx.state.users.map((u) => tds('User', tt('Username', u.username), tt('UserLevel', u.level))));
}

interface UserRequest {
  username: string;
  password: string | undefined;
  level: UserLevel;
}

function readUser(e: XmlElement): UserRequest {
  const username = text(e, 'Username') ?? '';
  const password = child(e, 'Password') ? (child(e, 'Password')!.text ?? '') : undefined;
  const levelText = requireText(e, 'UserLevel');
  if (levelText === 'Anonymous') throw prohibited('AnonymousNotAllowed', 'Users cannot be given the Anonymous level.');
  const level = oneOf(levelText, ['Administrator', 'Operator', 'User', 'Extended'] as const, 'UserLevel');
  return { username, password, level };
}

function complexityOf(state: DeviceState): PasswordComplexity {
  return state.passwordComplexity ?? defaultPasswordComplexity();
}

const countOf = (s: string, re: RegExp) => (s.match(re) ?? []).length;

/**
 * Core leaves "too weak" to the device: ours is never the user name, and follows the password complexity
 * configuration (Core §8.5.2). Undefined when the password passes, else which rule it breaks.
 */
function weakness(password: string, username: string, state: DeviceState): string | undefined {
  const c = complexityOf(state);
  if (password === username) return 'it is the user name';
  if (Array.from(password).length < c.minLen) return `MinLen: use at least ${c.minLen} characters`;
  if (countOf(password, /\p{Lu}/gu) < c.uppercase) return `Uppercase: use at least ${c.uppercase} uppercase letters`;
  if (countOf(password, /\p{Nd}/gu) < c.number) return `Number: use at least ${c.number} digits`;
  if (countOf(password, /[^\p{L}\p{N}]/gu) < c.specialChars) return `SpecialChars: use at least ${c.specialChars} characters that are neither letters nor digits`;
  if (c.blockUsernameOccurrence && username && password.toLowerCase().includes(username.toLowerCase())) return 'BlockUsernameOccurrence: the password must not contain the user name';
  return undefined;
}

/** Profile Q §9: an Administrator with a non-empty password ends Factory Default State. */
function leaveFactoryDefaultIfAdminSet(ctx: DeviceServiceContext, adminExistedBefore: boolean, via: 'CreateUsers' | 'SetUser'): void {
  // Strictly, CreateUsers ends it only "if an admin user does not exist" (Profile Q §9).
  if (ctx.strictFactoryDefault && via === 'CreateUsers' && adminExistedBefore) return;
  if (ctx.state.factoryDefault && ctx.state.users.some((u) => u.level === 'Administrator' && u.password !== '')) {
    ctx.state.factoryDefault = false;
  }
}

function createUsers(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const requested = children(req, 'User').map(readUser);
  if (!requested.length) throw invalidArgVal('InvalidArgs', 'User is missing');
  const adminExistedBefore = adminCount(ctx.state.users) > 0;
  const names = new Set(ctx.state.users.map((u) => u.username));
  for (const u of requested) {
    if (u.username.length < MIN_USERNAME_LENGTH) throw prohibited('UsernameTooShort', 'The user name is empty.');
    if (u.username.length > MAX_USERNAME_LENGTH) throw prohibited('UsernameTooLong', `User names may have at most ${MAX_USERNAME_LENGTH} characters.`);
    if (names.has(u.username)) throw prohibited('UsernameClash', `A user named '${u.username}' already exists.`);
    names.add(u.username);
    const password = u.password ?? '';
    if (password.length > MAX_PASSWORD_LENGTH) throw prohibited('PasswordTooLong', `Passwords may have at most ${MAX_PASSWORD_LENGTH} characters.`);
    // An empty password is allowed only out of the box, where Profile Q expects it to be set later.
    const weak = password !== '' || !ctx.state.factoryDefault ? weakness(password, u.username, ctx.state) : undefined;
    if (weak) throw prohibited('Password', `The password for '${u.username}' is too weak (${weak}).`);
  }
  if (ctx.state.users.length + requested.length > ctx.maxUsers) {
    throw new SimFault('Receiver', ['Action', 'TooManyUsers'], `The device holds at most ${ctx.maxUsers} users.`);
  }
  ctx.state.users.push(...requested.map((u): SimulatedUser => ({ username: u.username, password: u.password ?? '', level: u.level })));
  leaveFactoryDefaultIfAdminSet(ctx, adminExistedBefore, 'CreateUsers');
  ctx.changed('users');
  return tds('CreateUsersResponse');
}

function adminCount(users: SimulatedUser[]): number {
  return users.filter((u) => u.level === 'Administrator').length;
}

function deleteUsers(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const names = texts(req, 'Username');
  if (!names.length) throw invalidArgVal('InvalidArgs', 'Username is missing');
  for (const n of names) if (!ctx.state.users.some((u) => u.username === n)) throw invalidArgVal('UsernameMissing', `There is no user '${n}'.`);
  const remaining = ctx.state.users.filter((u) => !names.includes(u.username));
  // The last Administrator is fixed once the device is Operational: deleting it would lock everyone out.
  if (!ctx.state.factoryDefault && adminCount(remaining) === 0) {
    throw invalidArgVal('FixedUser', 'The last Administrator cannot be deleted.');
  }
  ctx.state.users = remaining;
  ctx.changed('users');
  return tds('DeleteUsersResponse');
}

function setUser(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const requested = children(req, 'User').map(readUser);
  if (!requested.length) throw invalidArgVal('InvalidArgs', 'User is missing');
  const next = ctx.state.users.map((u) => ({ ...u }));
  for (const r of requested) {
    const target = next.find((u) => u.username === r.username);
    if (!target) throw invalidArgVal('UsernameMissing', `There is no user '${r.username}'.`);
    const password = r.password ?? '';
    if (password.length > MAX_PASSWORD_LENGTH) throw prohibited('PasswordTooLong', `Passwords may have at most ${MAX_PASSWORD_LENGTH} characters.`);
    if (r.password === undefined && !ctx.state.factoryDefault) {
      // Core §8.4.6: an omitted Password means "clear it", and a device that cannot accept an empty one says PasswordTooWeak.
      throw prohibited('PasswordTooWeak', `SetUser without a Password would clear the password of '${r.username}', and this device does not accept an empty password. Send the Password (the current one to keep it).`);
    }
    const weak = password !== '' || !ctx.state.factoryDefault ? weakness(password, r.username, ctx.state) : undefined;
    if (weak) throw prohibited('PasswordTooWeak', `The password for '${r.username}' is too weak (${weak}).`);
    target.password = password;
    target.level = r.level;
  }
  if (!ctx.state.factoryDefault && adminCount(next) === 0) {
    throw invalidArgVal('FixedUser', 'The last Administrator cannot lose its level.');
  }
  const adminExistedBefore = adminCount(ctx.state.users) > 0;
  ctx.state.users = next;
  leaveFactoryDefaultIfAdminSet(ctx, adminExistedBefore, 'SetUser');
  ctx.changed('users');
  return tds('SetUserResponse');
}

// ---------------------------------------------------------------------------------------------- security policies

function getPasswordComplexityOptions(): XmlNode {
  const range = (local: string, min: number) => tds(local, tt('Min', min), tt('Max', MAX_PASSWORD_LENGTH));
  return tds(
    'GetPasswordComplexityOptionsResponse',
    range('MinLenRange', 1), range('UppercaseRange', 0), range('NumberRange', 0), range('SpecialCharsRange', 0),
    tds('BlockUsernameOccurrenceSupported', 'true'),
    tds('PolicyConfigurationLockSupported', 'true'),
  );
}

function getPasswordComplexityConfiguration(_req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const c = complexityOf(ctx.state);
  return tds(
    'GetPasswordComplexityConfigurationResponse',
    tds('MinLen', c.minLen), tds('Uppercase', c.uppercase), tds('Number', c.number), tds('SpecialChars', c.specialChars),
    tds('BlockUsernameOccurrence', bool(c.blockUsernameOccurrence)), tds('PolicyConfigurationLocked', bool(c.policyConfigurationLocked)),
  );
}

/** Core §8.5.3: absent fields keep their value; once locked, only a factory default unlocks. */
function setPasswordComplexityConfiguration(req: XmlElement, ctx: DeviceServiceContext): XmlNode {
  const c = complexityOf(ctx.state);
  if (c.policyConfigurationLocked) throw invalidArgVal('ArgumentValueInvalid', 'The password complexity configuration is locked until the next factory default.');
  const bad = 'ArgumentValueInvalid';
  const next: PasswordComplexity = {
    minLen: readInt(req, 'MinLen', 1, MAX_PASSWORD_LENGTH, bad) ?? c.minLen,
    uppercase: readInt(req, 'Uppercase', 0, MAX_PASSWORD_LENGTH, bad) ?? c.uppercase,
    number: readInt(req, 'Number', 0, MAX_PASSWORD_LENGTH, bad) ?? c.number,
    specialChars: readInt(req, 'SpecialChars', 0, MAX_PASSWORD_LENGTH, bad) ?? c.specialChars,
    blockUsernameOccurrence: readBool(req, 'BlockUsernameOccurrence') ?? c.blockUsernameOccurrence,
    policyConfigurationLocked: readBool(req, 'PolicyConfigurationLocked') ?? false,
  };
  if (next.uppercase + next.number + next.specialChars > MAX_PASSWORD_LENGTH) {
    throw invalidArgVal(bad, `Uppercase, Number and SpecialChars together ask for more than the ${MAX_PASSWORD_LENGTH} characters a password may have.`);
  }
  ctx.state.passwordComplexity = next;
  ctx.changed('passwordComplexity');
  return tds('SetPasswordComplexityConfigurationResponse');
}

type Handler = (req: XmlElement, ctx: DeviceServiceContext) => XmlNode;

/** Every device-service operation the simulator implements, by local name. */
export const DEVICE_OPERATIONS: Record<string, Handler> = {
  GetServices: getServices,
  GetServiceCapabilities: (_r, ctx) => tds('GetServiceCapabilitiesResponse', serviceCapabilities(ctx)),
  GetCapabilities: getCapabilities,
  GetHostname: getHostname,
  SetHostname: setHostname,
  SetHostnameFromDHCP: setHostnameFromDHCP,
  GetDNS: getDNS,
  SetDNS: setDNS,
  GetNTP: getNTP,
  SetNTP: setNTP,
  GetNetworkInterfaces: getNetworkInterfaces,
  SetNetworkInterfaces: setNetworkInterfaces,
  GetNetworkProtocols: getNetworkProtocols,
  SetNetworkProtocols: setNetworkProtocols,
  GetNetworkDefaultGateway: getNetworkDefaultGateway,
  SetNetworkDefaultGateway: setNetworkDefaultGateway,
  GetZeroConfiguration: getZeroConfiguration,
  SetZeroConfiguration: setZeroConfiguration,
  GetDeviceInformation: getDeviceInformation,
  GetSystemDateAndTime: getSystemDateAndTime,
  SetSystemDateAndTime: setSystemDateAndTime,
  SetSystemFactoryDefault: setSystemFactoryDefault,
  SystemReboot: systemReboot,
  GetSystemUris: getSystemUris,
  StartSystemRestore: startSystemRestore,
  StartFirmwareUpgrade: startFirmwareUpgrade,
  UpgradeSystemFirmware: upgradeSystemFirmware,
  GetAccessPolicy: getAccessPolicy,
  SetAccessPolicy: setAccessPolicy,
  GetScopes: getScopes,
  SetScopes: setScopes,
  AddScopes: addScopes,
  RemoveScopes: removeScopes,
  GetDiscoveryMode: getDiscoveryMode,
  SetDiscoveryMode: setDiscoveryMode,
  GetEndpointReference: getEndpointReference,
  GetWsdlUrl: getWsdlUrl,
  SetHashingAlgorithm: setHashingAlgorithm,
  GetUsers: getUsers,
  CreateUsers: createUsers,
  DeleteUsers: deleteUsers,
  SetUser: setUser,
  GetPasswordComplexityOptions: getPasswordComplexityOptions,
  GetPasswordComplexityConfiguration: getPasswordComplexityConfiguration,
  SetPasswordComplexityConfiguration: setPasswordComplexityConfiguration,
};

/** What the device service needs from the device that registers it. */
export interface DeviceServiceHost {
  /** The live state; put back as it was when an operation fails. */
  state: DeviceState;
  readonly endpoint: string;
  deviceNow(): number;
  readonly acceptsDigest: boolean;
  readonly acceptsUsernameToken: boolean;
  readonly maxUsers: number;
  readonly strictFactoryDefault: boolean;
  /** Path of the configuration backup (transfers.ts). */
  readonly backupPath: string;
  startRestore(): { path: string; downtimeMs: number };
  readonly firmwareMode: 'http' | 'legacy' | 'off';
  startFirmwareUpgrade(): { path: string; uploadDelayMs: number; downtimeMs: number };
  changed(what: string): void;
  reboot(): void;
  factoryReset(kind: 'Hard' | 'Soft'): void;
  /** An operation moved the device into or out of Factory Default State. */
  profileQStateChanged(call: SoapCall): void;
  /** The device's other SOAP services, for GetServices and GetCapabilities. */
  listings(): ServiceListing[];
  /** Why HTTPS cannot be turned on now (security service), undefined when it can. */
  tlsProblem?(): string | undefined;
}

/** Operations that only read the state (Get*): no snapshot to roll back to. */
const READS_ONLY = /^Get/;

/** The device service (Core Ch. 8) as a service of the simulated device, at DEVICE_SERVICE_PATH. */
export function deviceService(host: DeviceServiceHost): SimulatedService {
  const context = (call: SoapCall): DeviceServiceContext => ({
    state: host.state,
    deviceNow: () => host.deviceNow(),
    xaddr: `${call.baseUrl}${DEVICE_SERVICE_PATH}`,
    baseUrl: call.baseUrl,
    backupPath: host.backupPath,
    startRestore: () => host.startRestore(),
    firmwareMode: host.firmwareMode,
    startFirmwareUpgrade: () => host.startFirmwareUpgrade(),
    endpoint: host.endpoint,
    acceptsDigest: host.acceptsDigest,
    acceptsUsernameToken: host.acceptsUsernameToken,
    maxUsers: host.maxUsers,
    strictFactoryDefault: host.strictFactoryDefault,
    changed: (what) => host.changed(what),
    afterResponse: (a) => call.afterResponse(a),
    reboot: () => host.reboot(),
    factoryReset: (kind) => host.factoryReset(kind),
    tlsProblem: host.tlsProblem ? () => host.tlsProblem!() : undefined,
    // Only GetServices and GetCapabilities read it: worked out when asked, not on every call.
    get services() {
      return host.listings().map((s) => ({ namespace: s.namespace, xaddr: `${call.baseUrl}${s.path}`, version: s.version, capabilities: s.capabilities }));
    },
  });
  const operation = (name: string, handler: Handler): OperationHandler => (request, call) => {
    const wasFactoryDefault = host.state.factoryDefault;
    // Handlers validate before they change anything; a snapshot makes "all or nothing" hold even if one forgets.
    // Only operations that may write need one: serialising the whole state on every Get* was most of their cost.
    const snapshot = READS_ONLY.test(name) ? undefined : JSON.stringify(host.state);
    let response: XmlNode;
    try {
      response = handler(request, context(call));
    } catch (e) {
      if (e instanceof SimFault && snapshot !== undefined) host.state = JSON.parse(snapshot) as DeviceState;
      throw e;
    }
    if (wasFactoryDefault !== host.state.factoryDefault) host.profileQStateChanged(call);
    return response;
  };
  return {
    name: 'device',
    endpoints: [
      {
        at: (path) => path === DEVICE_SERVICE_PATH,
        namespaces: [NS.tds],
        operations: Object.fromEntries(Object.entries(DEVICE_OPERATIONS).map(([name, handler]) => [name, operation(name, handler)])),
        accessClass: (op) => accessClassOf(op, 'device'),
        unsupported: (op) => actionNotSupported(`The device service does not support ${op}.`),
      },
    ],
  };
}
