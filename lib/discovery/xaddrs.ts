/**
 * XAddrs: the device-service URLs a device announces (Core §7.3.2.3). Devices list several (one per
 * protocol and per address), including https, link-local 169.254.x.x and IPv6 link-local ones, and
 * wrap the list over lines. We keep all of them, best first, so a caller can just take xaddrs[0].
 */
import { networkInterfaces } from 'node:os';
import { isIPv4 } from 'node:net';

/** An IPv4 network this host is on. */
export interface LocalNetwork {
  address: string;
  netmask: string;
}

/** The IPv4 networks of this host's interfaces (loopback included: a device on 127.x is local too). */
export function localNetworks(): LocalNetwork[] {
  const out: LocalNetwork[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4') out.push({ address: a.address, netmask: a.netmask });
  }
  return out;
}

export function ipv4ToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

function onLocalNetwork(ip: string, networks: LocalNetwork[]): boolean {
  const x = ipv4ToInt(ip);
  return networks.some((n) => {
    const mask = ipv4ToInt(n.netmask);
    return ((x & mask) >>> 0) === ((ipv4ToInt(n.address) & mask) >>> 0);
  });
}

/** Split an XAddrs value on any XML whitespace; keep every token that parses as a URL. */
export function splitXAddrs(value: string | undefined): string[] {
  const out: string[] = [];
  for (const token of (value ?? '').split(/[\s]+/)) {
    if (!token) continue;
    try {
      new URL(token);
    } catch {
      continue; // not a URL at all: nothing a client could call
    }
    if (!out.includes(token)) out.push(token);
  }
  return out;
}

/**
 * Order XAddrs best first: http to an IPv4 address on one of our networks (or the address the reply
 * came from), then other http (other IPv4, host names), then https, then IPv6, then anything else.
 * The order within a rank is the device's.
 */
export function rankXAddrs(xaddrs: string[], networks: LocalNetwork[] = localNetworks(), replySource?: string): string[] {
  const rank = (x: string): number => {
    let u: URL;
    try {
      u = new URL(x);
    } catch {
      return 9;
    }
    const host = u.hostname;
    const scheme = u.protocol;
    if (scheme !== 'http:' && scheme !== 'https:') return 8;
    if (host.startsWith('[')) return scheme === 'http:' ? 4 : 5;
    if (scheme === 'https:') return 3;
    if (isIPv4(host) && (host === replySource || onLocalNetwork(host, networks))) return 0;
    return 1;
  };
  return xaddrs
    .map((x, i) => ({ x, i, r: rank(x) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((e) => e.x);
}
