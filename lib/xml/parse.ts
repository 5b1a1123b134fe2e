import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CONVENTIONAL_PREFIXES, NS, UNDECLARED_NS_PREFIX } from './namespaces';

/** One attribute, resolved. `ns` is '' for unprefixed attributes (XML namespaces rule). */
export interface XmlAttribute {
  name: string;
  prefix: string;
  local: string;
  ns: string;
  value: string;
}

/** One element of a parsed document, with its namespace resolved. */
export interface XmlElement {
  /** The name as written, e.g. `SOAP-ENV:Body`. */
  name: string;
  prefix: string;
  local: string;
  /** Resolved namespace URI; '' for no namespace; `urn:onvifq:undeclared:<p>` for an unknown undeclared prefix. */
  ns: string;
  attributes: XmlAttribute[];
  children: XmlElement[];
  /** Direct text content (entity references decoded, not trimmed). */
  text: string;
  /** In-scope prefix → URI map ('' is the default namespace), for resolving QName values. */
  namespaces: Readonly<Record<string, string>>;
}

export class XmlParseError extends Error {
  constructor(message: string, readonly line?: number) {
    super(message);
    this.name = 'XmlParseError';
  }
}

export interface ParseOptions {
  /** Reject documents larger than this many bytes (default 10 MB). */
  maxBytes?: number;
}

export const DEFAULT_MAX_XML_BYTES = 10 * 1024 * 1024;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  allowBooleanAttributes: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Entity expansion stays off: we decode only the five predefined entities and character references.
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: false,
  maxNestedTags: 256,
});

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decode the predefined XML entities and numeric character references; leave anything else as written. */
export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return PREDEFINED[ref] ?? m;
  });
}

type RawNode = Record<string, unknown> & { ':@'?: Record<string, string> };

/**
 * Parse an XML document into a namespace-resolved element tree.
 * Tolerates what real firmware sends (QUIRKS.md §1): any prefixes, undeclared prefixes, tabs and CRLF,
 * dotted names, missing XML declaration. Refuses DTDs (SOAP forbids them; this also keeps entity
 * expansion attacks out) and documents over the size cap.
 */
export function parseXml(input: string | Buffer, options: ParseOptions = {}): XmlElement {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > maxBytes) throw new XmlParseError(`XML document is ${size} bytes, over the ${maxBytes}-byte limit`);
  let text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  text = text.trim();
  if (!text) throw new XmlParseError('empty document: expected XML');
  if (/<!DOCTYPE/i.test(text)) throw new XmlParseError('XML with a DOCTYPE is refused (SOAP messages must not carry one)');
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: true });
  if (valid !== true) {
    throw new XmlParseError(`malformed XML: ${valid.err.msg} (line ${valid.err.line})`, valid.err.line);
  }
  const raw = parser.parse(text) as RawNode[];
  const rootRaw = raw.find((n) => elementName(n) !== undefined);
  if (!rootRaw) throw new XmlParseError('no root element found');
  return convert(rootRaw, { '': '', xml: NS.xml });
}

function elementName(node: RawNode): string | undefined {
  for (const k of Object.keys(node)) if (k !== ':@' && k !== '#text') return k;
  return undefined;
}

function splitName(name: string): [string, string] {
  const i = name.indexOf(':');
  return i < 0 ? ['', name] : [name.slice(0, i), name.slice(i + 1)];
}

function resolvePrefix(prefix: string, scope: Record<string, string>): string {
  if (prefix in scope) return scope[prefix];
  if (prefix === '') return '';
  return CONVENTIONAL_PREFIXES[prefix] ?? UNDECLARED_NS_PREFIX + prefix;
}

function convert(node: RawNode, parentScope: Record<string, string>): XmlElement {
  const name = elementName(node)!;
  const rawAttrs = node[':@'] ?? {};
  let scope = parentScope;
  for (const [k, v] of Object.entries(rawAttrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      if (scope === parentScope) scope = { ...parentScope };
      scope[k === 'xmlns' ? '' : k.slice(6)] = decodeEntities(String(v)).trim();
    }
  }
  const [prefix, local] = splitName(name);
  const attributes: XmlAttribute[] = [];
  for (const [k, v] of Object.entries(rawAttrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
    const [ap, al] = splitName(k);
    attributes.push({
      name: k,
      prefix: ap,
      local: al,
      ns: ap ? resolvePrefix(ap, scope) : '',
      value: decodeEntities(typeof v === 'string' ? v : ''),
    });
  }
  const children: XmlElement[] = [];
  let text = '';
  const content = node[name];
  if (Array.isArray(content)) {
    for (const c of content as RawNode[]) {
      if ('#text' in c) text += decodeEntities(String(c['#text']));
      else if (elementName(c) !== undefined) children.push(convert(c, scope));
    }
  }
  return { name, prefix, local, ns: resolvePrefix(prefix, scope), attributes, children, text, namespaces: scope };
}
