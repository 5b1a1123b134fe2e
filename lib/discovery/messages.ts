/**
 * WS-Discovery 2005/04 messages (with WS-Addressing 2004/08, as ONVIF profiles it: NOTES.md (b)).
 * Building: the Probe is kept conservative because some firmware rejects anything unusual
 * (QUIRKS.md §5 end): `uuid:` MessageID, every prefix declared on the Envelope.
 * Parsing: anything that arrives on UDP is untrusted; junk and non-ONVIF replies give `undefined`.
 */
import { randomUUID } from 'node:crypto';
import { escapeText } from '../xml/build';
import { NS, PREFIX_FOR_NS } from '../xml/namespaces';
import { parseXml, type XmlElement } from '../xml/parse';
import { child, children, isElement, resolveQName, text } from '../xml/query';
import { parseScopes, type ScopeSummary } from './scopes';
import { localNetworks, rankXAddrs, splitXAddrs, type LocalNetwork } from './xaddrs';

export const DISCOVERY_MULTICAST_ADDRESS = '239.255.255.250';
export const DISCOVERY_PORT = 3702;
export const DISCOVERY_TO = 'urn:schemas-xmlsoap-org:ws:2005:04:discovery';
const ACTION_BASE = 'http://schemas.xmlsoap.org/ws/2005/04/discovery/';
const ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';
/** WS-Discovery 1.1 (OASIS 2009): not what ONVIF uses, but its Hello/ProbeMatches read the same. */
const WSD_2009 = 'http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01';
const RFC3986 = 'http://schemas.xmlsoap.org/ws/2005/04/discovery/rfc3986';

/** The two types an ONVIF device announces: `tds:Device` (Core §7.3.2.1) and the 1.x-era `dn:NetworkVideoTransmitter`. */
export const ONVIF_TYPES = ['tds:Device', 'dn:NetworkVideoTransmitter'] as const;

/** A device as discovery reports it: its endpoint and addresses, plus what its scopes say (name, hardware, Profile Q state, ...). */
export interface DiscoveredDevice extends ScopeSummary {
  /** Canonical `urn:uuid:<lower-case uuid>`; other endpoint reference forms kept as written. */
  endpoint: string;
  /** Device-service URLs, best first (see rankXAddrs). */
  xaddrs: string[];
  /** Canonical QNames, e.g. ['tds:Device', 'dn:NetworkVideoTransmitter']. */
  types: string[];
  /** As sent (trimmed). */
  scopes: string[];
  metadataVersion?: number;
  firstSeen: string;
  lastSeen: string;
  /** 'ip:port' the message came from. */
  from: string;
}

export type DiscoveryMessageKind = 'ProbeMatches' | 'Hello' | 'Bye' | 'ResolveMatches' | 'Probe' | 'Resolve';

export interface DiscoveryMessage {
  kind: DiscoveryMessageKind;
  devices: DiscoveredDevice[];
  relatesTo?: string;
  /** The message's own MessageID (repeated sends of one message share it). */
  messageId?: string;
}

/** A fresh MessageID in the form every firmware accepts (`uuid:`, not `urn:uuid:`). */
export function newMessageId(): string {
  return `uuid:${randomUUID()}`;
}

/** `uuid:X`, `urn:uuid:X` and upper-case X are one endpoint: `urn:uuid:<lower-case x>`. Other forms as written. */
export function canonicalEndpoint(address: string): string {
  const a = address.trim();
  const m = /^(?:urn:)?uuid:(.+)$/i.exec(a);
  return m ? `urn:uuid:${m[1].trim().toLowerCase()}` : a;
}

/** MessageID / RelatesTo comparison key: with or without `urn:`, any case. */
export function messageIdKey(id: string): string {
  return canonicalEndpoint(id);
}

function envelope(action: string, messageId: string, body: string): string {
  // Every namespace on the Envelope, so QName values in Types resolve no matter where a parser looks.
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.wsa2004}" xmlns:d="${NS.wsd}" xmlns:dn="${NS.dn}" xmlns:tds="${NS.tds}">` +
    '<s:Header>' +
    `<a:Action s:mustUnderstand="true">${ACTION_BASE}${action}</a:Action>` +
    `<a:MessageID>${escapeText(messageId)}</a:MessageID>` +
    `<a:ReplyTo><a:Address>${ANONYMOUS}</a:Address></a:ReplyTo>` +
    `<a:To s:mustUnderstand="true">${DISCOVERY_TO}</a:To>` +
    '</s:Header>' +
    `<s:Body>${body}</s:Body>` +
    '</s:Envelope>'
  );
}

/** A Probe for one type (`dn:NetworkVideoTransmitter` or `tds:Device`), optionally narrowed by scopes. */
export function buildProbe(messageId: string, type: string | undefined, scopes: string[] = []): string {
  const types = type ? `<d:Types>${escapeText(type)}</d:Types>` : '';
  const scopeList = scopes.length ? `<d:Scopes MatchBy="${RFC3986}">${escapeText(scopes.join(' '))}</d:Scopes>` : '';
  return envelope('Probe', messageId, `<d:Probe>${types}${scopeList}</d:Probe>`);
}

/** A Resolve for a known endpoint reference. */
export function buildResolve(messageId: string, endpoint: string): string {
  return envelope('Resolve', messageId, `<d:Resolve><a:EndpointReference><a:Address>${escapeText(endpoint)}</a:Address></a:EndpointReference></d:Resolve>`);
}

const KINDS: DiscoveryMessageKind[] = ['ProbeMatches', 'Hello', 'Bye', 'ResolveMatches', 'Probe', 'Resolve'];

/** A QName value as we write it: the conventional prefix for a known namespace, else the prefix as written. */
function canonicalType(scope: XmlElement, token: string): string {
  const q = resolveQName(scope, token);
  const prefix = PREFIX_FOR_NS[q.ns];
  return prefix ? `${prefix}:${q.local}` : token;
}

function isOnvifType(t: string): boolean {
  return t === 'tds:Device' || t === 'dn:NetworkVideoTransmitter';
}

function readTarget(target: XmlElement, from: string, now: string, networks: LocalNetwork[]): DiscoveredDevice | undefined {
  const epr = child(target, 'EndpointReference');
  const address = text(epr, 'Address');
  const typesEl = child(target, 'Types');
  const types = (typesEl?.text ?? '').split(/\s+/).filter(Boolean).map((t) => canonicalType(typesEl!, t));
  const scopes = (text(target, 'Scopes') ?? '').split(/\s+/).filter(Boolean);
  const replyHost = from.slice(0, from.lastIndexOf(':')) || undefined;
  const xaddrs = rankXAddrs(splitXAddrs(text(target, 'XAddrs')), networks, replyHost);
  const endpoint = address ? canonicalEndpoint(address) : xaddrs[0];
  if (!endpoint) return undefined;
  const mv = Number(text(target, 'MetadataVersion'));
  const summary = parseScopes(scopes);
  const device: DiscoveredDevice = {
    endpoint,
    xaddrs,
    types,
    scopes,
    ...summary,
    metadataVersion: Number.isInteger(mv) && text(target, 'MetadataVersion') ? mv : undefined,
    firstSeen: now,
    lastSeen: now,
    from,
  };
  for (const k of ['name', 'hardware', 'location', 'mac', 'serial', 'metadataVersion'] as const) if (device[k] === undefined) delete device[k];
  return device;
}

/**
 * Read one datagram. Returns undefined for anything that is not a WS-Discovery message about an ONVIF
 * device: empty or malformed XML, HTML, SOAP of another kind, Windows/NAS/printer WSD (no `tds:Device`
 * or `dn:NetworkVideoTransmitter` type). Bye messages often carry only the endpoint, so a Bye without
 * Types is kept. Never throws.
 */
export function parseDiscoveryMessage(xml: string | Buffer, from = '', networks?: LocalNetwork[]): DiscoveryMessage | undefined {
  try {
    if (!xml || xml.length === 0) return undefined;
    const root = parseXml(xml, { maxBytes: 256 * 1024 });
    if (!isElement(root, 'Envelope')) return undefined;
    const header = child(root, 'Header');
    const body = child(root, 'Body');
    const content = body?.children[0];
    if (!content || !(isElement(content, content.local, NS.wsd) || content.ns === WSD_2009)) return undefined;
    const kind = KINDS.find((k) => k === content.local);
    if (!kind) return undefined;
    const relatesTo = text(header, 'RelatesTo') || undefined;
    const messageId = text(header, 'MessageID') || undefined;
    if (kind === 'Probe' || kind === 'Resolve') return { kind, devices: [], relatesTo, messageId };

    const now = new Date().toISOString();
    const nets = networks ?? localNetworks();
    const targets =
      kind === 'ProbeMatches' ? children(content, 'ProbeMatch') : kind === 'ResolveMatches' ? children(content, 'ResolveMatch') : [content];
    const devices = targets
      .map((t) => readTarget(t, from, now, nets))
      .filter((d): d is DiscoveredDevice => !!d)
      .filter((d) => d.types.some(isOnvifType) || (kind === 'Bye' && d.types.length === 0));
    if (!devices.length) return undefined;
    return { kind, devices, relatesTo, messageId };
  } catch {
    return undefined;
  }
}
