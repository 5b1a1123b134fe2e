import { el, serializeXml, type XmlContent, type XmlNode } from '../xml/build';
import { NS } from '../xml/namespaces';
import { parseXml, type ParseOptions, type XmlElement } from '../xml/parse';
import { child, isElement } from '../xml/query';
import { isFaultElement, parseFault, type SoapFault } from './fault';

/** Envelopes around one empty element (parameterless requests, empty responses) by `ns local`: they never change. */
const emptyElementEnvelopes = new Map<string, string>();

/** An element without attributes, children or raw content: its envelope depends on its name alone. */
function isEmptyElement(c: XmlContent | XmlContent[]): c is XmlNode {
  if (!c || typeof c !== 'object' || Array.isArray(c)) return false;
  if (c.raw) return false;
  if (c.attrs) for (const k in c.attrs) if (c.attrs[k] !== undefined) return false;
  if (c.children) for (const k of c.children) if (k !== undefined && k !== null) return false;
  return true;
}

/** Wrap body content (and optional header blocks) in a SOAP 1.2 envelope. */
export function buildEnvelope(body: XmlContent | XmlContent[], header: XmlContent[] = []): string {
  if (header.length === 0 && isEmptyElement(body)) {
    const key = `${body.ns} ${body.local}`;
    let known = emptyElementEnvelopes.get(key);
    if (known === undefined) {
      known = serializeXml(el(NS.soap, 'Envelope', undefined, el(NS.soap, 'Body', undefined, body)));
      if (emptyElementEnvelopes.size >= 1024) emptyElementEnvelopes.clear();
      emptyElementEnvelopes.set(key, known);
    }
    return known;
  }
  const bodyChildren = Array.isArray(body) ? body : [body];
  const env: XmlNode = el(
    NS.soap,
    'Envelope',
    undefined,
    header.filter(Boolean).length ? el(NS.soap, 'Header', undefined, ...header) : undefined,
    el(NS.soap, 'Body', undefined, ...bodyChildren),
  );
  return serializeXml(env);
}

export interface ParsedEnvelope {
  envelope: XmlElement;
  header?: XmlElement;
  body: XmlElement;
  /** The first element inside Body (the response element, or the Fault). */
  content?: XmlElement;
  fault?: SoapFault;
  /** 1.2 or 1.1, from the envelope namespace. */
  soapVersion: '1.2' | '1.1';
}

export class NotSoapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotSoapError';
  }
}

/** Parse a SOAP envelope. Throws XmlParseError for malformed XML, NotSoapError for XML that is not an envelope. */
export function parseEnvelope(input: string | Buffer, options?: ParseOptions): ParsedEnvelope {
  const envelope = parseXml(input, options);
  if (envelope.local !== 'Envelope') {
    throw new NotSoapError(`expected a SOAP Envelope, got <${envelope.name}>`);
  }
  const soapVersion = envelope.ns === NS.soap11 ? '1.1' : '1.2';
  // Match by local name within the envelope's own namespace (or none at all, for stripped captures).
  const header = envelope.children.find((c) => isElement(c, 'Header') && (c.ns === envelope.ns || !c.prefix || c.prefix === envelope.prefix));
  const body = envelope.children.find((c) => isElement(c, 'Body') && (c.ns === envelope.ns || !c.prefix || c.prefix === envelope.prefix)) ?? child(envelope, 'Body');
  if (!body) throw new NotSoapError('SOAP Envelope has no Body');
  const content = body.children[0];
  const fault = isFaultElement(content) ? parseFault(content!) : undefined;
  return { envelope, header, body, content, fault, soapVersion };
}
