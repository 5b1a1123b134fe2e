/**
 * WS-Discovery messages of the simulated device (WS-Discovery 2005/04 as profiled by ONVIF Core §7): reading
 * Probe and Resolve, the scope-matching rules, and building ProbeMatches, ResolveMatches, Hello, Bye and the
 * MatchingRuleNotSupported fault.
 *
 * Written independently of lib/discovery (the client side) on purpose: the two meet only on the wire.
 */
import { randomUUID } from 'node:crypto';
import { parseEnvelope } from '../../soap/envelope';
import { el, serializeXml, type XmlContent, type XmlNode } from '../../xml/build';
import { NS } from '../../xml/namespaces';
import type { XmlElement } from '../../xml/parse';
import { attr, child, resolveQName, text } from '../../xml/query';

export const WSD_PORT = 3702;
export const WSD_MULTICAST_ADDRESS = '239.255.255.250';
/** wsa:To of multicast messages (Hello, Bye, Probe). */
const DISCOVERY_URN = 'urn:schemas-xmlsoap-org:ws:2005:04:discovery';
const ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';
const action = (name: string) => `${NS.wsd}/${name}`;

export const MATCH_BY_RFC3986 = `${NS.wsd}/rfc3986`;
/** The WS-Discovery default when MatchBy is absent; ONVIF reads it as rfc3986 (Core §7.3.3). */
export const MATCH_BY_RFC2396 = `${NS.wsd}/rfc2396`;
export const MATCH_BY_STRCMP0 = `${NS.wsd}/strcmp0`;
export const SUPPORTED_MATCHING_RULES = [MATCH_BY_RFC3986, MATCH_BY_RFC2396, MATCH_BY_STRCMP0];

/** Types this device advertises and matches, by namespace URI and local name. */
export const DEVICE_TYPES = [
  { ns: NS.dn, local: 'NetworkVideoTransmitter' },
  { ns: NS.tds, local: 'Device' },
];
const DEVICE_TYPES_TEXT = 'dn:NetworkVideoTransmitter tds:Device';

/** UDP datagrams cannot be larger than this; anything claiming to be bigger is junk. */
const MAX_DATAGRAM = 65_536;

// ---------------------------------------------------------------------------------------------- scope matching

interface SplitUri {
  scheme: string;
  authority: string | undefined;
  segments: string[];
  query: string | undefined;
  fragment: string | undefined;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** RFC 3986 §6.2.2 normalisation of one segment: upper-case hex, decode percent-encoded unreserved characters. */
function normaliseSegment(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`;
  });
}

/** RFC 3986 Appendix B split; undefined for something that is not an absolute URI. */
function splitUri(uri: string): SplitUri | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(uri.trim());
  if (!m) return undefined;
  const path = m[3]!;
  const segments = (path.startsWith('/') ? path.slice(1) : path).split('/').map(normaliseSegment);
  // A trailing slash ('…/location/') adds no segment, and an empty path has none.
  if (segments[segments.length - 1] === '') segments.pop();
  return { scheme: m[1]!.toLowerCase(), authority: m[2]?.toLowerCase(), segments, query: m[4], fragment: m[5] };
}

/**
 * Does the probe scope match the device scope under this rule? rfc3986 (and rfc2396, which ONVIF treats
 * the same): scheme and authority equal ignoring case, and the probe's path is a prefix of the device's
 * path by whole segments, compared case-sensitively; so `…/hardware/D1` does not match `…/hardware/D1-566`.
 * strcmp0: the two strings are equal.
 */
export function scopeMatches(probeScope: string, deviceScope: string, rule: string = MATCH_BY_RFC3986): boolean {
  if (rule === MATCH_BY_STRCMP0) return probeScope.trim() === deviceScope.trim();
  const p = splitUri(probeScope);
  const d = splitUri(deviceScope);
  if (!p || !d) return false;
  if (p.scheme !== d.scheme || p.authority !== d.authority) return false;
  // WS-Discovery: a '.' or '..' segment on either side never matches.
  if ([...p.segments, ...d.segments].some((s) => s === '.' || s === '..')) return false;
  if (p.segments.length > d.segments.length) return false;
  if (!p.segments.every((s, i) => s === d.segments[i])) return false;
  if (p.query !== undefined && p.query !== d.query) return false;
  if (p.fragment !== undefined && p.fragment !== d.fragment) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------- incoming requests

interface QNameRef {
  ns: string;
  local: string;
}

/** A Probe or Resolve as the device needs it. */
export interface DiscoveryRequest {
  kind: 'Probe' | 'Resolve';
  messageId: string;
  /** Probe: wanted types (empty: any). */
  types: QNameRef[];
  /** Probe: wanted scopes (empty: any). */
  scopes: string[];
  /** Probe: the matching rule, MATCH_BY_RFC2396 when the probe names none. */
  matchBy: string;
  /** Resolve: the endpoint asked for. */
  endpoint?: string;
}

const isDiscoveryNs = (e: XmlElement) => e.ns === NS.wsd || e.ns.startsWith('urn:onvifq:undeclared:');

/** Parse a datagram; undefined for anything that is not a Probe or Resolve we should look at (never throws). */
export function parseDiscoveryRequest(datagram: Buffer): DiscoveryRequest | undefined {
  if (datagram.length > MAX_DATAGRAM) return undefined;
  let parsed;
  try {
    parsed = parseEnvelope(datagram, { maxBytes: MAX_DATAGRAM });
  } catch {
    return undefined;
  }
  const content = parsed.content;
  if (!content || !isDiscoveryNs(content) || (content.local !== 'Probe' && content.local !== 'Resolve')) return undefined;
  // Without a MessageID there is nothing to relate a reply to (SOAP-over-UDP requires one).
  const messageId = text(parsed.header, 'MessageID');
  if (!messageId) return undefined;
  if (content.local === 'Resolve') {
    const endpoint = text(child(content, 'EndpointReference'), 'Address');
    return endpoint ? { kind: 'Resolve', messageId, types: [], scopes: [], matchBy: MATCH_BY_RFC2396, endpoint } : undefined;
  }
  const typesEl = child(content, 'Types');
  const types = typesEl ? typesEl.text.split(/\s+/).filter(Boolean).map((q) => resolveQName(typesEl, q)) : [];
  const scopesEl = child(content, 'Scopes');
  const scopes = scopesEl ? scopesEl.text.split(/\s+/).filter(Boolean) : [];
  const matchBy = (scopesEl && attr(scopesEl, 'MatchBy')?.trim()) || MATCH_BY_RFC2396;
  return { kind: 'Probe', messageId, types, scopes, matchBy };
}

/** Same endpoint? 'uuid:x' and 'urn:uuid:x' name the same device; uuids compare case-insensitively. */
export function sameEndpoint(a: string, b: string): boolean {
  const canon = (s: string) => {
    const t = s.trim();
    const m = /^(?:urn:)?uuid:([0-9a-f-]+)$/i.exec(t);
    return m ? `urn:uuid:${m[1]!.toLowerCase()}` : t;
  };
  return canon(a) === canon(b);
}

// ---------------------------------------------------------------------------------------------- outgoing messages

const wsa = (local: string, ...kids: XmlContent[]): XmlNode => el(NS.wsa2004, local, undefined, ...kids);
const d = (local: string, attrs?: XmlNode['attrs'], ...kids: XmlContent[]): XmlNode => el(NS.wsd, local, attrs, ...kids);

interface Headers {
  action: string;
  to: string;
  relatesTo?: string;
  appSequence: { instanceId: number; messageNumber: number };
}

/** The envelope declares dn and tds because d:Types names them in QName text, as real devices do. */
function message(h: Headers, body: XmlNode): string {
  return serializeXml(
    el(
      NS.soap,
      'Envelope',
      { 'xmlns:dn': NS.dn, 'xmlns:tds': NS.tds },
      el(
        NS.soap,
        'Header',
        undefined,
        wsa('MessageID', `urn:uuid:${randomUUID()}`),
        h.relatesTo !== undefined ? wsa('RelatesTo', h.relatesTo) : undefined,
        wsa('To', h.to),
        wsa('Action', h.action),
        d('AppSequence', { InstanceId: h.appSequence.instanceId, MessageNumber: h.appSequence.messageNumber }),
      ),
      el(NS.soap, 'Body', undefined, body),
    ),
  );
}

/** What a device announces about itself. */
export interface DeviceDescription {
  endpoint: string;
  scopes: string[];
  xaddrs: string[];
  metadataVersion: number;
}

function matchContent(desc: DeviceDescription): XmlContent[] {
  return [
    wsa('EndpointReference', wsa('Address', desc.endpoint)),
    d('Types', undefined, DEVICE_TYPES_TEXT),
    d('Scopes', undefined, desc.scopes.join(' ')),
    d('XAddrs', undefined, desc.xaddrs.join(' ')),
    d('MetadataVersion', undefined, desc.metadataVersion),
  ];
}

export type AppSequence = Headers['appSequence'];

export function probeMatchesMessage(desc: DeviceDescription, relatesTo: string, seq: AppSequence): string {
  return message({ action: action('ProbeMatches'), to: ANONYMOUS, relatesTo, appSequence: seq }, d('ProbeMatches', undefined, d('ProbeMatch', undefined, ...matchContent(desc))));
}

export function resolveMatchesMessage(desc: DeviceDescription, relatesTo: string, seq: AppSequence): string {
  return message({ action: action('ResolveMatches'), to: ANONYMOUS, relatesTo, appSequence: seq }, d('ResolveMatches', undefined, d('ResolveMatch', undefined, ...matchContent(desc))));
}

export function helloMessage(desc: DeviceDescription, seq: AppSequence): string {
  return message({ action: action('Hello'), to: DISCOVERY_URN, appSequence: seq }, d('Hello', undefined, ...matchContent(desc)));
}

export function byeMessage(endpoint: string, seq: AppSequence): string {
  return message({ action: action('Bye'), to: DISCOVERY_URN, appSequence: seq }, d('Bye', undefined, wsa('EndpointReference', wsa('Address', endpoint))));
}

/** Core §7.3.6: the unicast answer to a Probe whose MatchBy rule the device does not know. */
export function matchingRuleFaultMessage(rule: string, relatesTo: string, seq: AppSequence): string {
  const fault = el(
    NS.soap,
    'Fault',
    undefined,
    el(NS.soap, 'Code', undefined, el(NS.soap, 'Value', undefined, 'env:Sender'), el(NS.soap, 'Subcode', undefined, el(NS.soap, 'Value', undefined, 'd:MatchingRuleNotSupported'))),
    el(NS.soap, 'Reason', undefined, el(NS.soap, 'Text', { 'xml:lang': 'en' }, `The matching rule ${rule} is not supported; use one of the SupportedMatchingRules.`)),
    el(NS.soap, 'Detail', undefined, d('SupportedMatchingRules', undefined, SUPPORTED_MATCHING_RULES.join(' '))),
  );
  return message({ action: action('fault'), to: ANONYMOUS, relatesTo, appSequence: seq }, fault);
}

