import { reachableXaddr } from '../device/address';
import type { OnvifDevice } from '../device/onvif-device';
import { OnvifError } from '../errors';
import { NS } from '../xml/namespaces';
import type { TtNetworkHostInput } from '../schema/onvif-types';

export function invalid(message: string): OnvifError {
  return new OnvifError('invalid-input', message);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** A tt:NetworkHost for an address or name as a user writes it. */
export function networkHost(s: string): TtNetworkHostInput {
  if (isIPv4(s)) return { Type: 'IPv4', IPv4Address: s };
  if (s.includes(':')) return { Type: 'IPv6', IPv6Address: s };
  return { Type: 'DNS', DNSname: s };
}

/** xs:duration (PnDTnHnMnS; years and months counted as 365 and 30 days) to ms; undefined when unreadable. */
export function durationMs(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^(-)?P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(s.trim());
  if (!m || s.trim() === 'P' || s.trim().endsWith('T')) return undefined;
  const [, neg, y, mo, d, h, mi, sec] = m;
  const n = (v?: string) => (v ? Number(v) : 0);
  const ms = ((((n(y) * 365 + n(mo) * 30 + n(d)) * 24 + n(h)) * 60 + n(mi)) * 60 + n(sec)) * 1000;
  return neg ? -ms : ms;
}

export function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new OnvifError('closed', `${what} was cancelled.`);
}

/** Devices name hosts we may not reach (NAT, 0.0.0.0): keep their path, use the address we talk to. */
export function reachable(device: OnvifDevice, uri: string): string {
  const reported = device.session?.services.find((s) => s.namespace === NS.tds)?.reportedXaddr;
  let origin: string | undefined;
  try {
    origin = reported ? new URL(reported).origin : undefined;
  } catch {
    origin = undefined;
  }
  return reachableXaddr(uri, device.url, origin);
}
