/**
 * What the fuzz mutates: the real-device captures in ../shared/fixtures/real (when the team's shared folder is
 * there) and the project's own small messages in test/fuzz/seeds (always), grouped by what they answer.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SHARED } from '../support/shared';

export const REAL_FIXTURES = path.join(SHARED, 'fixtures/real');
const OWN_SEEDS = path.join(__dirname, 'seeds');

/** Written into seeds where the hostile server's own address goes (service and subscription addresses). */
export const BASE_PLACEHOLDER = '{{BASE}}';
/** Written into discovery replies where the probe's MessageID goes, so a reply is taken as an answer to our probe. */
export const RELATES_PLACEHOLDER = '{{RELATES}}';

export interface Seed {
  /** `real:<category>/<file>` or `own:<file>`, for reports. */
  name: string;
  category: string;
  body: Buffer;
}

/** Operation to call for each answer category (the call path), with the parameters the operation needs. */
export const CALL_OPERATIONS: Record<string, { operation: string; params?: Record<string, unknown> }> = {
  GetDeviceInformationResponse: { operation: 'GetDeviceInformation' },
  GetScopesResponse: { operation: 'GetScopes' },
  GetDNSResponse: { operation: 'GetDNS' },
  GetNTPResponse: { operation: 'GetNTP' },
  GetHostnameResponse: { operation: 'GetHostname' },
  GetNetworkDefaultGatewayResponse: { operation: 'GetNetworkDefaultGateway' },
  GetNetworkInterfacesResponse: { operation: 'GetNetworkInterfaces' },
  GetNetworkProtocolsResponse: { operation: 'GetNetworkProtocols' },
  GetSystemUrisResponse: { operation: 'GetSystemUris' },
  GetUsersResponse: { operation: 'GetUsers' },
  GetSystemDateAndTimeResponse: { operation: 'GetSystemDateAndTime' },
  GetServicesResponse: { operation: 'GetServices', params: { IncludeCapability: true } },
  GetCapabilitiesResponse: { operation: 'GetCapabilities', params: { Category: ['All'] } },
  'GetServiceCapabilitiesResponse-device': { operation: 'tds:GetServiceCapabilities' },
  'GetServiceCapabilitiesResponse-events': { operation: 'tev:GetServiceCapabilities' },
  GetEventPropertiesResponse: { operation: 'GetEventProperties' },
  CreatePullPointSubscriptionResponse: { operation: 'CreatePullPointSubscription', params: { InitialTerminationTime: 'PT60S' } },
  PullMessagesResponse: { operation: 'PullMessages', params: { Timeout: 'PT5S', MessageLimit: 10 } },
  RenewResponse: { operation: 'Renew', params: { TerminationTime: 'PT60S' } },
  SetSynchronizationPointResponse: { operation: 'SetSynchronizationPoint' },
  GetEndpointReferenceResponse: { operation: 'GetEndpointReference' },
};

/** Categories whose bodies answer any operation (faults, HTML error pages). */
export const ANY_OPERATION = ['Fault', 'NonSOAPErrorBody'];

export interface Corpus {
  /** category -> seeds (real captures first, then own). */
  byCategory: Map<string, Seed[]>;
  /** Clean answers for the steps that are not under test: own seeds by category. */
  own: Map<string, Buffer>;
  /** WWW-Authenticate values real devices sent with 401 (HTTP401 captures), plus a few of our own. */
  challenges: string[];
  /** Whether ../shared was found. */
  hasReal: boolean;
  size: number;
}

function withPlaceholders(category: string, body: Buffer): Buffer {
  let s = body.toString('latin1');
  if (category === 'CreatePullPointSubscriptionResponse') {
    // The subscription address must lead back to the hostile server (never to the captured device's address).
    s = s.replace(/(<([\w.-]+:)?Address[^>]*>)[^<]*(<\/)/, `$1${BASE_PLACEHOLDER}/onvif/subscription?Idx=1$3`);
  }
  if (category === 'ProbeMatches' || category === 'Hello') {
    s = /RelatesTo/.test(s)
      ? s.replace(/(<([\w.-]+:)?RelatesTo[^>]*>)[^<]*(<\/)/, `$1${RELATES_PLACEHOLDER}$3`)
      : s;
  }
  return Buffer.from(s, 'latin1');
}

const OWN_CHALLENGES = [
  'Digest realm="fuzz", nonce="{{NONCE}}", qop="auth", algorithm=MD5',
  'Digest realm="fuzz", nonce="{{NONCE}}", qop="auth", algorithm=SHA-256, stale=true',
  'Digest realm="fuzz", nonce="{{NONCE}}", algorithm=SHA-512-256',
  'Basic realm="fuzz"',
  'Negotiate',
  'Digest',
  'Digest realm=, nonce',
  'Digest realm="\u001b[31mred", nonce="{{NONCE}}"',
  '',
];

function readChallenges(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    const raw = readFileSync(path.join(dir, f), 'utf8');
    if (f.endsWith('.json')) {
      const v = (JSON.parse(raw) as Record<string, string>)['www-authenticate'];
      if (v) out.push(v);
      continue;
    }
    for (const m of raw.matchAll(/^www-authenticate:\s*(.*)$/gim)) out.push(m[1]!.trim());
  }
  return out;
}

/** Load every seed once per run. */
export function loadCorpus(): Corpus {
  const byCategory = new Map<string, Seed[]>();
  const add = (seed: Seed) => {
    const list = byCategory.get(seed.category) ?? [];
    list.push(seed);
    byCategory.set(seed.category, list);
  };
  const hasReal = existsSync(REAL_FIXTURES);
  if (hasReal) {
    for (const dir of readdirSync(REAL_FIXTURES, { withFileTypes: true })) {
      if (!dir.isDirectory() || dir.name.startsWith('HTTP')) continue;
      for (const f of readdirSync(path.join(REAL_FIXTURES, dir.name)).sort()) {
        add({ name: `real:${dir.name}/${f}`, category: dir.name, body: withPlaceholders(dir.name, readFileSync(path.join(REAL_FIXTURES, dir.name, f))) });
      }
    }
  }
  const own = new Map<string, Buffer>();
  for (const f of readdirSync(OWN_SEEDS).sort()) {
    const category = f.replace(/\.xml$/, '');
    const body = withPlaceholders(category, readFileSync(path.join(OWN_SEEDS, f)));
    own.set(category, body);
    add({ name: `own:${f}`, category, body });
  }
  const challenges = [...readChallenges(path.join(REAL_FIXTURES, 'HTTP401')), ...OWN_CHALLENGES];
  let size = 0;
  for (const list of byCategory.values()) size += list.length;
  return { byCategory, own, challenges, hasReal, size };
}
