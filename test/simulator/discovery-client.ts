/**
 * A raw WS-Discovery client for the simulator's discovery tests: its own Probe/Resolve text and its own
 * reading of the replies (lib/xml only), so the tests do not agree with the simulator by sharing its code.
 */
import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { parseXml, type XmlElement } from '../../lib/xml/parse';
import { attr, child, descendant, resolveQName, text } from '../../lib/xml/query';

export const WSD = 'http://schemas.xmlsoap.org/ws/2005/04/discovery';
export const WSA = 'http://schemas.xmlsoap.org/ws/2004/08/addressing';
export const TDS = 'http://www.onvif.org/ver10/device/wsdl';
export const DN = 'http://www.onvif.org/ver10/network/wsdl';
export const SOAP = 'http://www.w3.org/2003/05/soap-envelope';
export const ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';
export const RFC3986 = `${WSD}/rfc3986`;
export const STRCMP0 = `${WSD}/strcmp0`;

export const newMessageId = () => `urn:uuid:${randomUUID()}`;

function wrap(messageId: string, actionName: string, body: string, extraNs = ''): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${SOAP}" xmlns:a="${WSA}" xmlns:d="${WSD}" ` +
    `xmlns:tds="${TDS}" xmlns:dn="${DN}"${extraNs}><s:Header><a:MessageID>${messageId}</a:MessageID>` +
    `<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To><a:Action>${WSD}/${actionName}</a:Action></s:Header>` +
    `<s:Body>${body}</s:Body></s:Envelope>`
  );
}

export interface ProbeSpec {
  messageId?: string;
  /** QNames as written, e.g. 'tds:Device'; tds and dn are declared, more via extraNs. */
  types?: string;
  scopes?: string[];
  matchBy?: string;
  /** Extra namespace declarations on the envelope, e.g. ' xmlns:x="…"'. */
  extraNs?: string;
}

export function probeXml(p: ProbeSpec = {}): string {
  const types = p.types !== undefined ? `<d:Types>${p.types}</d:Types>` : '';
  const scopes = p.scopes ? `<d:Scopes${p.matchBy ? ` MatchBy="${p.matchBy}"` : ''}>${p.scopes.join(' ')}</d:Scopes>` : '';
  return wrap(p.messageId ?? newMessageId(), 'Probe', `<d:Probe>${types}${scopes}</d:Probe>`, p.extraNs);
}

export function resolveXml(address: string, messageId = newMessageId()): string {
  return wrap(messageId, 'Resolve', `<d:Resolve><a:EndpointReference><a:Address>${address}</a:Address></a:EndpointReference></d:Resolve>`);
}

export interface Received {
  xml: string;
  from: { address: string; port: number };
  /** performance.now() at arrival. */
  at: number;
}

/** A UDP socket on 127.0.0.1 that sends probes and collects whatever comes back. */
export class UdpProber {
  readonly received: Received[] = [];
  private readonly arrivals = new Set<() => void>();
  private constructor(private readonly socket: Socket) {
    socket.on('message', (m, r) => {
      this.received.push({ xml: m.toString('utf8'), from: { address: r.address, port: r.port }, at: performance.now() });
      for (const arrived of this.arrivals) arrived();
    });
  }

  /** Replies whose RelatesTo is this MessageID, as soon as `count` have arrived (what there is after `timeoutMs` otherwise). */
  waitForReplies(messageId: string, count: number, timeoutMs: number): Promise<Received[]> {
    const mine = () => this.received.filter((r) => summarize(r.xml).relatesTo === messageId);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.arrivals.delete(check);
        resolve(mine());
      };
      const check = () => {
        if (mine().length >= count) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.arrivals.add(check);
      check();
    });
  }

  static open(): Promise<UdpProber> {
    const s = createSocket('udp4');
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => resolve(new UdpProber(s)));
    });
  }

  /** Send and return performance.now() at sending. */
  send(xml: string, port: number, address = '127.0.0.1'): number {
    this.socket.send(xml, port, address);
    return performance.now();
  }

  /** Replies whose RelatesTo is this MessageID, after waiting `ms`. */
  async repliesTo(messageId: string, ms: number): Promise<Received[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.received.filter((r) => summarize(r.xml).relatesTo === messageId);
  }

  /** Send a message and collect its replies for `ms`. */
  async ask(xml: string, port: number, ms = 350): Promise<Summary[]> {
    const id = summarize(xml).messageId!;
    this.send(xml, port);
    return (await this.repliesTo(id, ms)).map((r) => summarize(r.xml));
  }

  close(): void {
    this.socket.close();
  }
}

export interface Summary {
  action?: string;
  messageId?: string;
  relatesTo?: string;
  to?: string;
  appSequence?: { instanceId: number; messageNumber: number };
  /** The element in the Body: ProbeMatches, Hello, Fault, ... */
  body?: string;
  matches: Array<{
    endpoint?: string;
    types: Array<{ ns: string; local: string }>;
    scopes: string[];
    xaddrs: string[];
    metadataVersion?: number;
  }>;
  fault?: { code?: string; subcode?: { ns: string; local: string }; supportedRules: string[] };
}

const list = (e: XmlElement | undefined) => (e ? e.text.split(/\s+/).filter(Boolean) : []);

/** Read a discovery message (or anything SOAP) into plain fields. */
export function summarize(xml: string): Summary {
  const env = parseXml(xml);
  const header = child(env, 'Header');
  const body = child(env, 'Body');
  const content = body?.children[0];
  const seq = child(header, 'AppSequence', WSD);
  const matchEls = content ? (['ProbeMatches', 'ResolveMatches'].includes(content.local) ? content.children : [content]) : [];
  const s: Summary = {
    action: text(header, 'Action'),
    messageId: text(header, 'MessageID'),
    relatesTo: text(header, 'RelatesTo'),
    to: text(header, 'To'),
    appSequence: seq ? { instanceId: Number(attr(seq, 'InstanceId')), messageNumber: Number(attr(seq, 'MessageNumber')) } : undefined,
    body: content?.local,
    matches: [],
  };
  if (content?.local === 'Fault') {
    const subValue = descendant(child(content, 'Code'), 'Subcode');
    const v = child(subValue, 'Value');
    s.fault = {
      code: text(child(content, 'Code'), 'Value'),
      subcode: v ? resolveQName(v, v.text) : undefined,
      supportedRules: list(descendant(child(content, 'Detail'), 'SupportedMatchingRules', WSD)),
    };
    return s;
  }
  for (const m of matchEls) {
    if (!['ProbeMatch', 'ResolveMatch', 'Hello', 'Bye'].includes(m.local)) continue;
    const typesEl = child(m, 'Types', WSD);
    const mv = text(m, 'MetadataVersion');
    s.matches.push({
      endpoint: text(child(m, 'EndpointReference', WSA), 'Address'),
      types: list(typesEl).map((q) => {
        const r = resolveQName(typesEl!, q);
        return { ns: r.ns, local: r.local };
      }),
      scopes: list(child(m, 'Scopes', WSD)),
      xaddrs: list(child(m, 'XAddrs', WSD)),
      metadataVersion: mv === undefined ? undefined : Number(mv),
    });
  }
  return s;
}

/** Re-exported for the discovery specs that import it from here. */
export { freeUdpPort } from '../support/ports';
