import { isOnvifError } from '../errors';
import type { OnvifDevice } from '../device/onvif-device';
import type { DeviceCapabilities, DeviceInformation, ProfileQState } from '../device/types';
import type { TaskOptions } from './types';
import { asArray } from '../util/as-array';

export interface InventoryService {
  namespace: string;
  /** Short name from the namespace, e.g. device, events, media. */
  name: string;
  /** major.minor */
  version: string;
  xaddr: string;
}

export interface InventoryResult {
  address: string;
  endpoint?: string;
  deviceInformation: DeviceInformation;
  firmware: string;
  services: InventoryService[];
  capabilities: DeviceCapabilities;
  profileQState: ProfileQState;
  network: {
    hostname?: string;
    interfaces?: Array<{ token?: string; name?: string; mac?: string; enabled?: boolean; dhcp?: boolean; ipv4: string[] }>;
    dns?: string[];
    ntp?: string[];
    gateway?: string[];
    protocols?: Array<{ name: string; enabled: boolean; ports: number[] }>;
    discoveryMode?: string;
  };
  scopes: string[];
  clockOffsetMs: number;
  /** Parts the device would not tell (operation: reason); the rest of the report is still good. */
  unavailable?: Record<string, string>;
}

/** Short service name from an ONVIF namespace: http://www.onvif.org/ver10/device/wsdl -> device. */
export function serviceName(namespace: string): string {
  const m = /\/ver\d+\/([^/]+)\/wsdl\/?$/.exec(namespace);
  if (m) return m[1]!;
  const parts = namespace.replace(/\/+$/, '').split('/');
  return parts[parts.length - 1] || namespace;
}

function hostText(h: any): string | undefined {
  return h?.IPv4Address ?? h?.IPv6Address ?? h?.DNSname;
}

function addresses(list: unknown): string[] {
  return asArray(list).map(hostText).filter((x): x is string => typeof x === 'string');
}

/** Everything a fleet report needs about one device, in one object. */
export async function inventory(device: OnvifDevice, _params: Record<string, unknown> = {}, options: TaskOptions = {}): Promise<InventoryResult> {
  options.onProgress?.({ task: 'inventory', step: 'connect', text: 'inventory: connecting', percent: 0 });
  // A fresh read: a fleet report should show the device as it is now, not as it was at connect time.
  device.reset();
  const session = await device.connect();
  const unavailable: Record<string, string> = {};
  const read = async (operation: string): Promise<any> => {
    try {
      return await device.call(operation);
    } catch (e) {
      if (isOnvifError(e) && (e.kind === 'unreachable' || e.kind === 'timeout' || e.kind === 'closed')) throw e;
      unavailable[operation] = (e as Error).message;
      return undefined;
    }
  };
  options.onProgress?.({ task: 'inventory', step: 'network', text: 'inventory: reading network', percent: 40 });
  const [hostname, interfaces, dns, ntp, gateway, protocols, discovery] = [
    await read('GetHostname'),
    await read('GetNetworkInterfaces'),
    await read('GetDNS'),
    await read('GetNTP'),
    await read('GetNetworkDefaultGateway'),
    await read('GetNetworkProtocols'),
    await read('GetDiscoveryMode'),
  ];
  const network: InventoryResult['network'] = {};
  if (hostname) network.hostname = hostname.HostnameInformation?.Name;
  if (interfaces) {
    network.interfaces = asArray<any>(interfaces.NetworkInterfaces).map((n) => {
      const cfg = n.IPv4?.Config ?? {};
      const ipv4 = [...asArray<any>(cfg.Manual), cfg.FromDHCP, cfg.LinkLocal].filter((a) => a?.Address).map((a) => `${a.Address}/${a.PrefixLength}`);
      return { token: n.token, name: n.Info?.Name, mac: n.Info?.HwAddress, enabled: n.Enabled, dhcp: cfg.DHCP, ipv4 };
    });
  }
  if (dns) network.dns = [...addresses(dns.DNSInformation?.DNSManual), ...addresses(dns.DNSInformation?.DNSFromDHCP)];
  if (ntp) network.ntp = [...addresses(ntp.NTPInformation?.NTPManual), ...addresses(ntp.NTPInformation?.NTPFromDHCP)];
  if (gateway) network.gateway = [...asArray<string>(gateway.NetworkGateway?.IPv4Address), ...asArray<string>(gateway.NetworkGateway?.IPv6Address)];
  if (protocols) {
    network.protocols = asArray<any>(protocols.NetworkProtocols).map((p) => ({ name: p.Name, enabled: p.Enabled === true, ports: asArray<number>(p.Port).map(Number) }));
  }
  if (discovery) network.discoveryMode = discovery.DiscoveryMode;
  options.onProgress?.({ task: 'inventory', step: 'done', text: 'inventory: done', percent: 100 });
  return {
    address: device.url.toString(),
    ...(session.endpoint ? { endpoint: session.endpoint } : {}),
    deviceInformation: session.deviceInformation,
    firmware: session.deviceInformation.firmwareVersion,
    services: session.services.map((s) => ({ namespace: s.namespace, name: serviceName(s.namespace), version: `${s.version.major}.${s.version.minor}`, xaddr: s.xaddr })),
    capabilities: session.capabilities,
    profileQState: session.profileQState,
    network,
    scopes: session.scopes,
    clockOffsetMs: session.clockOffsetMs,
    ...(Object.keys(unavailable).length ? { unavailable } : {}),
  };
}
