import { el, serializeXml, type XmlContent, type XmlNode } from '../xml/build';
import { NS } from '../xml/namespaces';
import { parseXml, type ParseOptions, type XmlElement } from '../xml/parse';
import { child, isElement } from '../xml/query';
import { isFaultElement, parseFault, type SoapFault } from './fault';

/** Wrap body content (and optional header blocks) in a SOAP 1.2 envelope. */
export function buildEnvelope(body: XmlContent | XmlContent[], header: XmlContent[] = []): string {
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
