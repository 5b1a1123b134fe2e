/**
 * Readers for the responses the session itself depends on (connect sequence). They work on the parsed
 * XML tree directly and never throw on vendor oddities: a missing field reads as empty/undefined.
 * Generic operation results go through lib/schema instead; these give the typed session view.
 */
import { NS } from '../xml/namespaces';
import type { XmlElement } from '../xml/parse';
import { attr, child, children, path, text } from '../xml/query';
import type { DeviceCapabilities, DeviceInformation, ProfileQState, ServiceInfo } from './types';

export function readDeviceInformation(response: XmlElement | undefined): DeviceInformation {
  return {
    manufacturer: text(response, 'Manufacturer') ?? '',
    model: text(response, 'Model') ?? '',
    firmwareVersion: text(response, 'FirmwareVersion') ?? '',
    serialNumber: text(response, 'SerialNumber') ?? '',
    hardwareId: text(response, 'HardwareId') ?? '',
  };
}

export interface DeviceClock {
  /** Device UTC time as ISO-8601, when the device reported a valid one. */
  utc?: string;
  /** Device local time as written (no zone), when reported. */
  local?: string;
  timeZone?: string;
  dateTimeType?: string;
  daylightSavings?: boolean;
}

function num(s: string | undefined): number | undefined {
  if (s === undefined || s.trim() === '') return undefined;
  const n = Number(s.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** Read a tt:DateTime (Date/Time structure) as `YYYY-MM-DDTHH:MM:SS`, or undefined when incomplete or invalid. */
export function readDateTimeStruct(dt: XmlElement | undefined): string | undefined {
  if (!dt) return undefined;
  const d = child(dt, 'Date');
  const t = child(dt, 'Time');
  const y = num(text(d, 'Year'));
  const mo = num(text(d, 'Month'));
  const da = num(text(d, 'Day'));
  const h = num(text(t, 'Hour')) ?? 0;
  const mi = num(text(t, 'Minute')) ?? 0;
  const s = num(text(t, 'Second')) ?? 0;
  if (y === undefined || mo === undefined || da === undefined) return undefined;
  const ms = Date.UTC(y, mo - 1, da, h, mi, s);
  if (!Number.isFinite(ms) || mo < 1 || mo > 12 || da < 1 || da > 31 || h > 24 || mi > 59 || s > 61) return undefined;
  return new Date(ms).toISOString().slice(0, 19);
}

export function readSystemDateAndTime(response: XmlElement | undefined): DeviceClock {
  const sdt = child(response, 'SystemDateAndTime');
  const utc = readDateTimeStruct(child(sdt, 'UTCDateTime'));
  const local = readDateTimeStruct(child(sdt, 'LocalDateTime'));
  const ds = text(sdt, 'DaylightSavings');
  return {
    utc: utc ? `${utc}Z` : undefined,
    local,
    timeZone: text(child(sdt, 'TimeZone'), 'TZ') || undefined,
    dateTimeType: text(sdt, 'DateTimeType') || undefined,
    daylightSavings: ds === undefined ? undefined : /^(true|1)$/i.test(ds),
  };
}

function parseVersion(ver: XmlElement | undefined): { major: number; minor: number } {
  return { major: Math.trunc(num(text(ver, 'Major')) ?? 0), minor: Math.trunc(num(text(ver, 'Minor')) ?? 0) };
}

/** Services as the device reported them (XAddrs not yet rewritten). */
export function readServices(response: XmlElement | undefined): { services: ServiceInfo[]; deviceCapabilities?: XmlElement } {
  const services: ServiceInfo[] = [];
  let deviceCapabilities: XmlElement | undefined;
  for (const s of children(response, 'Service')) {
    const namespace = text(s, 'Namespace') ?? '';
    const xaddr = text(s, 'XAddr') ?? '';
    if (!namespace) continue;
    services.push({ namespace, xaddr, reportedXaddr: xaddr, version: parseVersion(child(s, 'Version')) });
    if (namespace === NS.tds) {
      // GetServices wraps the service's own Capabilities element inside a tds:Capabilities container.
      const wrapper = child(s, 'Capabilities');
      deviceCapabilities = child(wrapper, 'Capabilities') ?? (wrapper && child(wrapper, 'Network') ? wrapper : undefined);
    }
  }
  return { services, deviceCapabilities };
}

function bool(el: XmlElement | undefined, name: string): boolean | undefined {
  const v = attr(el, name) ?? text(el, name);
  if (v === undefined || v === '') return undefined;
  return /^(true|1)$/i.test(v.trim());
}

function int(el: XmlElement | undefined, name: string): number | undefined {
  return num(attr(el, name) ?? text(el, name));
}

function list(el: XmlElement | undefined, name: string): string[] | undefined {
  const v = attr(el, name) ?? text(el, name);
  if (v === undefined) return undefined;
  return v.split(/\s+/).filter(Boolean);
}

function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/** tds:Capabilities of GetServiceCapabilities (attributes on Network / Security / System / Misc). */
export function readDeviceServiceCapabilities(caps: XmlElement | undefined): DeviceCapabilities {
  const n = child(caps, 'Network');
  const s = child(caps, 'Security');
  const y = child(caps, 'System');
  const misc = child(caps, 'Misc');
  return {
    network: clean({
      ipFilter: bool(n, 'IPFilter'), zeroConfiguration: bool(n, 'ZeroConfiguration'), ipVersion6: bool(n, 'IPVersion6'),
      dynDNS: bool(n, 'DynDNS'), dot11Configuration: bool(n, 'Dot11Configuration'), hostnameFromDHCP: bool(n, 'HostnameFromDHCP'),
      ntp: int(n, 'NTP'), dhcpv6: bool(n, 'DHCPv6'),
    }),
    security: clean({
      tls1_0: bool(s, 'TLS1.0'), tls1_1: bool(s, 'TLS1.1'), tls1_2: bool(s, 'TLS1.2'), onboardKeyGeneration: bool(s, 'OnboardKeyGeneration'),
      accessPolicyConfig: bool(s, 'AccessPolicyConfig'), defaultAccessPolicy: bool(s, 'DefaultAccessPolicy'), dot1x: bool(s, 'Dot1X'),
      remoteUserHandling: bool(s, 'RemoteUserHandling'), x509Token: bool(s, 'X.509Token'), samlToken: bool(s, 'SAMLToken'),
      kerberosToken: bool(s, 'KerberosToken'), usernameToken: bool(s, 'UsernameToken'), httpDigest: bool(s, 'HttpDigest'),
      relToken: bool(s, 'RELToken'), jsonWebToken: bool(s, 'JsonWebToken'),
      supportedEAPMethods: list(s, 'SupportedEAPMethods')?.map(Number).filter(Number.isFinite),
      maxUsers: int(s, 'MaxUsers'), maxUserNameLength: int(s, 'MaxUserNameLength') ?? int(s, 'MaxUsernameLength'), maxPasswordLength: int(s, 'MaxPasswordLength'),
      securityPolicies: list(s, 'SecurityPolicies'), maxPasswordHistory: int(s, 'MaxPasswordHistory'),
      hashingAlgorithms: list(s, 'HashingAlgorithms'),
    }),
    system: clean({
      discoveryResolve: bool(y, 'DiscoveryResolve'), discoveryBye: bool(y, 'DiscoveryBye'), remoteDiscovery: bool(y, 'RemoteDiscovery'),
      systemBackup: bool(y, 'SystemBackup'), systemLogging: bool(y, 'SystemLogging'), firmwareUpgrade: bool(y, 'FirmwareUpgrade'),
      httpFirmwareUpgrade: bool(y, 'HttpFirmwareUpgrade'), httpSystemBackup: bool(y, 'HttpSystemBackup'),
      httpSystemLogging: bool(y, 'HttpSystemLogging'), httpSupportInformation: bool(y, 'HttpSupportInformation'),
      storageConfiguration: bool(y, 'StorageConfiguration'), maxStorageConfigurations: int(y, 'MaxStorageConfigurations'),
      geoLocationEntries: int(y, 'GeoLocationEntries'), autoGeo: list(y, 'AutoGeo'), storageTypesSupported: list(y, 'StorageTypesSupported'),
      discoveryNotSupported: bool(y, 'DiscoveryNotSupported'), networkConfigNotSupported: bool(y, 'NetworkConfigNotSupported'),
      userConfigNotSupported: bool(y, 'UserConfigNotSupported'), addons: list(misc, 'AuxiliaryCommands'),
    }),
  };
}

/** The service namespace each GetCapabilities category stands for. Maps: the device names the categories, `constructor` included. */
const CAPABILITY_CATEGORIES = new Map<string, string>([
  ['Device', NS.tds],
  ['Events', NS.tev],
  ['Media', NS.trt],
  ['Imaging', NS.timg],
  ['PTZ', NS.tptz],
  ['Analytics', NS.tan],
]);

const EXTENSION_CATEGORIES = new Map<string, string>([
  ['DeviceIO', NS.tmd],
  ['Recording', 'http://www.onvif.org/ver10/recording/wsdl'],
  ['Search', 'http://www.onvif.org/ver10/search/wsdl'],
  ['Replay', 'http://www.onvif.org/ver10/replay/wsdl'],
  ['Receiver', 'http://www.onvif.org/ver10/receiver/wsdl'],
  ['AnalyticsDevice', 'http://www.onvif.org/ver10/analyticsdevice/wsdl'],
  ['Display', 'http://www.onvif.org/ver10/display/wsdl'],
]);

/** GetCapabilities (old firmware): synthesise the services list and read the device capabilities (elements, not attributes). */
export function readLegacyCapabilities(response: XmlElement | undefined): { services: ServiceInfo[]; capabilities: DeviceCapabilities } {
  const caps = child(response, 'Capabilities');
  const services: ServiceInfo[] = [];
  for (const c of caps?.children ?? []) {
    const ns = CAPABILITY_CATEGORIES.get(c.local);
    const xaddr = text(c, 'XAddr');
    if (ns && xaddr) services.push({ namespace: ns, xaddr, reportedXaddr: xaddr, version: { major: 0, minor: 0 } });
    if (c.local === 'Extension') {
      // Newer categories sit under Extension: DeviceIO, Display, Recording, Search, Replay, Receiver, AnalyticsDevice.
      for (const e of c.children) {
        const x = text(e, 'XAddr');
        const ens = EXTENSION_CATEGORIES.get(e.local);
        if (x && ens) services.push({ namespace: ens, xaddr: x, reportedXaddr: x, version: { major: 0, minor: 0 } });
      }
    }
  }
  const dev = child(caps, 'Device');
  const versions = children(path(dev, 'System'), 'SupportedVersions').map(parseVersion);
  const best = versions.sort((a, b) => b.major - a.major || b.minor - a.minor)[0];
  if (best) for (const s of services) if (s.namespace === NS.tds) s.version = best;
  const net = child(dev, 'Network');
  const sec = child(dev, 'Security');
  const sys = child(dev, 'System');
  const netExt = child(net, 'Extension');
  const secExt = child(sec, 'Extension');
  const sysExt = child(sys, 'Extension');
  return {
    services,
    capabilities: {
      network: clean({
        ipFilter: bool(net, 'IPFilter'), zeroConfiguration: bool(net, 'ZeroConfiguration'), ipVersion6: bool(net, 'IPVersion6'),
        dynDNS: bool(net, 'DynDNS'), dot11Configuration: bool(netExt, 'Dot11Configuration'),
      }),
      security: clean({
        tls1_1: bool(sec, 'TLS1.1'), tls1_2: bool(sec, 'TLS1.2'), onboardKeyGeneration: bool(sec, 'OnboardKeyGeneration'),
        accessPolicyConfig: bool(sec, 'AccessPolicyConfig'), x509Token: bool(sec, 'X.509Token'), samlToken: bool(sec, 'SAMLToken'),
        kerberosToken: bool(sec, 'KerberosToken'), relToken: bool(sec, 'RELToken'), tls1_0: bool(secExt, 'TLS1.0'),
        dot1x: bool(child(secExt, 'Extension'), 'Dot1X'), remoteUserHandling: bool(child(secExt, 'Extension'), 'RemoteUserHandling'),
      }),
      system: clean({
        discoveryResolve: bool(sys, 'DiscoveryResolve'), discoveryBye: bool(sys, 'DiscoveryBye'), remoteDiscovery: bool(sys, 'RemoteDiscovery'),
        systemBackup: bool(sys, 'SystemBackup'), systemLogging: bool(sys, 'SystemLogging'), firmwareUpgrade: bool(sys, 'FirmwareUpgrade'),
        httpFirmwareUpgrade: bool(sysExt, 'HttpFirmwareUpgrade'), httpSystemBackup: bool(sysExt, 'HttpSystemBackup'),
        httpSystemLogging: bool(sysExt, 'HttpSystemLogging'), httpSupportInformation: bool(sysExt, 'HttpSupportInformation'),
      }),
    },
  };
}

export function readScopes(response: XmlElement | undefined): string[] {
  return children(response, 'Scopes')
    .map((s) => text(s, 'ScopeItem') ?? s.text.trim())
    .filter((s): s is string => !!s);
}

/** Profile Q state from the scopes (case-tolerant: real devices write `Profile` and `profile`). */
export function profileQStateFromScopes(scopes: string[]): ProfileQState {
  for (const s of scopes) {
    const m = /^onvif:\/\/www\.onvif\.org\/profile\/q\/(factorydefault|operational)\/?$/i.exec(s.trim());
    if (m) return m[1].toLowerCase() === 'operational' ? 'Operational' : 'FactoryDefault';
  }
  return 'Unknown';
}

export function readEndpointReference(response: XmlElement | undefined): string | undefined {
  return text(response, 'GUID') || undefined;
}
