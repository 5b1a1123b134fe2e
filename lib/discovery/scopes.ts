/**
 * ONVIF scopes (Core §7.3.2.2): `onvif://www.onvif.org/<category>/<value>` URIs. Devices percent-encode
 * values, vary the case of categories (`Profile`, `profile`) and add junk (`http:123`), so everything
 * here is tolerant: an unreadable scope is skipped, never an error.
 */
import type { ProfileQState } from '../device/types';

export interface ScopeSummary {
  name?: string;
  hardware?: string;
  location?: string;
  mac?: string;
  serial?: string;
  /** Profile names as ONVIF writes them: 'Streaming', 'Q', 'G', 'T', 'S', 'M', ... */
  profiles: string[];
  profileQState: ProfileQState;
}

const ONVIF_SCOPE = /^onvif:\/\/www\.onvif\.org\/(.*)$/i;

/**
 * Percent-decode, leaving anything that is not a valid escape as written (`%zz`, a lone `%`,
 * or bytes that are not UTF-8), so junk shows up as junk instead of failing.
 */
export function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  // Decode each run of %XX escapes together so multi-byte UTF-8 sequences come out whole.
  return s.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      // Not UTF-8 as a whole: decode the escapes that are ASCII, keep the rest as written.
      return run.replace(/%([0-7][0-9a-fA-F])/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
  });
}

/** Canonical spelling of a profile name: single letters upper-case, 'streaming' as 'Streaming'. */
function profileName(raw: string): string {
  if (/^[a-z]$/i.test(raw)) return raw.toUpperCase();
  if (/^streaming$/i.test(raw)) return 'Streaming';
  return raw;
}

/** The facts a device announces about itself in its scopes, percent-decoded. */
export function parseScopes(scopes: string[]): ScopeSummary {
  const out: ScopeSummary = { profiles: [], profileQState: 'Unknown' };
  const firstOf = (key: 'name' | 'hardware' | 'location' | 'mac' | 'serial', value: string) => {
    if (value && out[key] === undefined) out[key] = value;
  };
  for (const raw of scopes) {
    const m = ONVIF_SCOPE.exec(raw.trim());
    if (!m) continue;
    const segments = m[1].split('/');
    const category = segments[0].toLowerCase();
    // A trailing slash (`location/`) means "no value".
    const rest = segments.slice(1).filter((x, i, all) => x !== '' || i < all.length - 1);
    const value = percentDecode(rest.join('/')).trim();
    switch (category) {
      case 'name':
        firstOf('name', value);
        break;
      case 'hardware':
        firstOf('hardware', value);
        break;
      case 'location':
        firstOf('location', value);
        break;
      case 'mac':
      case 'macaddress':
        firstOf('mac', value);
        break;
      case 'serial':
      case 'serialnumber':
        firstOf('serial', value);
        break;
      case 'profile': {
        if (!rest[0]) break;
        const profile = profileName(percentDecode(rest[0]));
        if (!out.profiles.includes(profile)) out.profiles.push(profile);
        if (profile === 'Q' && rest[1]) {
          const state = rest[1].toLowerCase();
          if (state === 'operational') out.profileQState = 'Operational';
          else if (state === 'factorydefault') out.profileQState = 'FactoryDefault';
        }
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/**
 * The WS-Discovery rfc3986 match rule (Core §7.3.3): every probe scope must be a prefix of some device
 * scope, compared by whole path segment. Scheme and authority are case-insensitive; paths are compared
 * case-insensitively too, because devices disagree on `Profile` and `profile`.
 */
export function scopesMatch(wanted: string[], deviceScopes: string[]): boolean {
  const split = (s: string): string[] | undefined => {
    const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/i.exec(s.trim());
    if (!m) return undefined;
    const segs = percentDecode(m[3] ?? '').toLowerCase().split('/').filter((x) => x !== '');
    return [`${m[1].toLowerCase()}://${m[2].toLowerCase()}`, ...segs];
  };
  const have = deviceScopes.map(split).filter((x): x is string[] => !!x);
  return wanted.every((w) => {
    const want = split(w);
    if (!want) return deviceScopes.some((d) => d.trim().toLowerCase() === w.trim().toLowerCase());
    return have.some((h) => want.length <= h.length && want.every((seg, i) => seg === h[i]));
  });
}
