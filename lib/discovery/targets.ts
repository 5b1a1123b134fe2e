/**
 * Where a probe goes: directed unicast targets (for networks that block multicast) and the local
 * IPv4 interfaces to send from.
 */
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { OnvifError } from '../errors';
import { ipv4ToInt } from './xaddrs';

export interface UnicastTarget {
  address: string;
  port: number;
}

/** Largest CIDR block a target may name (/22 = 1022 hosts): beyond that a unicast sweep is a scan, not a search. */
export const MAX_TARGET_PREFIX = 22;

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function bad(target: string, why: string): OnvifError {
  return new OnvifError('invalid-input', `discovery target "${target}" ${why}; use a.b.c.d, a.b.c.d:port, a.b.c.d-e or a.b.c.0/24 (at most /${MAX_TARGET_PREFIX})`);
}

/**
 * Expand targets: 'a.b.c.d', 'a.b.c.d:port', 'a.b.c.d-e' (last-octet range), 'a.b.c.0/24'
 * (network and broadcast addresses left out). A port written in the target overrides `defaultPort`.
 */
export function expandTargets(targets: string[], defaultPort: number): UnicastTarget[] {
  const out: UnicastTarget[] = [];
  const seen = new Set<string>();
  const add = (address: string, port: number) => {
    const key = `${address}:${port}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ address, port });
    }
  };
  for (const raw of targets) {
    const target = raw.trim();
    const m = /^([0-9.]+)(?:-(\d{1,3})|\/(\d{1,2}))?(?::(\d{1,5}))?$/.exec(target);
    if (!m || !isIPv4(m[1])) throw bad(raw, 'is not an IPv4 address, range or network');
    const port = m[4] !== undefined ? Number(m[4]) : defaultPort;
    if (!(port >= 1 && port <= 65535)) throw bad(raw, `has port ${m[4]}, outside 1-65535`);
    if (m[2] !== undefined) {
      const first = Number(m[1].split('.')[3]);
      const last = Number(m[2]);
      if (last > 255 || last < first) throw bad(raw, `has a range end ${last} that is not between ${first} and 255`);
      const base = m[1].split('.').slice(0, 3).join('.');
      for (let i = first; i <= last; i++) add(`${base}.${i}`, port);
    } else if (m[3] !== undefined) {
      const prefix = Number(m[3]);
      if (prefix > 32) throw bad(raw, `has prefix /${prefix}`);
      if (prefix < MAX_TARGET_PREFIX) throw bad(raw, `is a /${prefix} network, larger than /${MAX_TARGET_PREFIX}`);
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      const network = (ipv4ToInt(m[1]) & mask) >>> 0;
      const size = 2 ** (32 - prefix);
      const [from, to] = size <= 2 ? [0, size - 1] : [1, size - 2];
      for (let i = from; i <= to; i++) add(intToIpv4(network + i), port);
    } else add(m[1], port);
  }
  return out;
}

export interface ProbeInterface {
  /** Interface name, e.g. 'eth0'. */
  name: string;
  /** Its IPv4 address: the probe socket binds here and sends its multicast out of it. */
  address: string;
}

/**
 * The IPv4 interfaces to probe on. `wanted` names interfaces or their IPv4 addresses; by default every
 * non-internal one. A host with none (a container or network namespace with only loopback) probes on
 * loopback, so discovery of local devices still works there.
 */
export function selectInterfaces(wanted?: string[]): ProbeInterface[] {
  const all: (ProbeInterface & { internal: boolean })[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4') all.push({ name, address: a.address, internal: a.internal });
  }
  if (wanted && wanted.length) {
    const out: ProbeInterface[] = [];
    for (const w of wanted) {
      const hits = all.filter((a) => a.name === w || a.address === w);
      if (!hits.length) {
        const known = all.map((a) => `${a.name} (${a.address})`).join(', ') || 'none';
        throw new OnvifError('invalid-input', `no IPv4 interface "${w}" on this host; known: ${known}`);
      }
      for (const h of hits) if (!out.some((o) => o.address === h.address)) out.push({ name: h.name, address: h.address });
    }
    return out;
  }
  const external = all.filter((a) => !a.internal);
  return (external.length ? external : all).map(({ name, address }) => ({ name, address }));
}
