/** Helpers for the session following what a call changed on the device (see OnvifDevice.followChange). */
import { asArray } from '../util/as-array';

export type RestartKind = 'reboot' | 'soft factory default' | 'hard factory default' | 'restore';

/**
 * A signal aborted when either is (AbortSignal.any needs Node 20; the package supports 18.5).
 * Call release() when done so long-lived signals do not collect listeners.
 */
export function eitherSignal(a: AbortSignal | undefined, b: AbortSignal): { signal: AbortSignal; release: () => void } {
  const none = () => {};
  if (!a || b.aborted) return { signal: b, release: none };
  if (a.aborted) return { signal: a, release: none };
  const both = new AbortController();
  const release = () => {
    a.removeEventListener('abort', abort);
    b.removeEventListener('abort', abort);
  };
  const abort = () => {
    release();
    both.abort();
  };
  a.addEventListener('abort', abort, { once: true });
  b.addEventListener('abort', abort, { once: true });
  return { signal: both.signal, release };
}

/** SetUser parameters: the new password of the session's own user, if the call set one. */
export function ownNewPassword(params: Record<string, unknown>, username: string | undefined): string | undefined {
  if (!username) return undefined;
  for (const u of asArray(params.User)) {
    const user = u as { Username?: unknown; Password?: unknown } | null;
    if (user && user.Username === username && typeof user.Password === 'string') return user.Password;
  }
  return undefined;
}

export function restartKind(operation: string, params: Record<string, unknown>): RestartKind {
  if (operation === 'SetSystemFactoryDefault') return params.FactoryDefault === 'Hard' ? 'hard factory default' : 'soft factory default';
  return 'reboot';
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === 1 || v === '1';
}

function withHostPort(url: URL, host: string, port?: number): string {
  const u = new URL(url.toString());
  u.hostname = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  if (port !== undefined) u.port = String(port);
  return u.toString();
}

/**
 * Where the device goes after SetNetworkInterfaces / SetNetworkProtocols, when that is away from the
 * address this session uses; undefined when it stays reachable here.
 */
export function describeMove(operation: string, params: Record<string, unknown>, result: any, url: URL): { text: string; address?: string } | undefined {
  const here = url.hostname.replace(/^\[|\]$/g, '');
  if (operation === 'SetNetworkInterfaces') {
    const ipv4 = (params.NetworkInterface as { IPv4?: { DHCP?: unknown; Manual?: unknown } } | undefined)?.IPv4;
    if (!ipv4) return undefined;
    const when = truthy(result?.RebootNeeded) ? ' after the next reboot' : '';
    const manual = asArray(ipv4.Manual)
      .map((m) => (m as { Address?: unknown })?.Address)
      .filter((a): a is string => typeof a === 'string');
    if (manual.length && !manual.includes(here)) {
      const address = withHostPort(url, manual[0]!);
      return { text: `The device moves to ${manual[0]}${when}: use ${address} from then on.`, address };
    }
    if (truthy(ipv4.DHCP) && !manual.includes(here)) {
      return { text: `The device takes its address from DHCP${when}; it may no longer be at ${here}. Find it again by discovery.` };
    }
    return undefined;
  }
  if (operation === 'SetNetworkProtocols') {
    const scheme = url.protocol === 'https:' ? 'HTTPS' : 'HTTP';
    const current = Number(url.port || (scheme === 'HTTPS' ? 443 : 80));
    for (const p of asArray(params.NetworkProtocols)) {
      const proto = p as { Name?: unknown; Enabled?: unknown; Port?: unknown };
      if (proto?.Name !== scheme) continue;
      if (proto.Enabled !== undefined && !truthy(proto.Enabled)) {
        return { text: `${scheme} was turned off on the device; it no longer answers at ${url.host}.` };
      }
      const ports = asArray(proto.Port).map(Number).filter((n) => Number.isInteger(n) && n > 0);
      if (ports.length && !ports.includes(current)) {
        const address = withHostPort(url, here, ports[0]);
        return { text: `The device's ${scheme} port is now ${ports[0]}: use ${address} from then on.`, address };
      }
    }
  }
  return undefined;
}
