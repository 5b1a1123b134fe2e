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
  /**
   * Reject documents with more than this many elements, attributes and namespace bindings together
   * (default 200 000; onvif.xsd, larger than any device answer, has 11 000). The parse costs up to about
   * 300 bytes of peak memory per node, so this bounds it whatever the shape of the document: 10 MB of `<a/>`
   * would otherwise be 2.6 million elements.
   */
  maxNodes?: number;
  /** Reject elements nested deeper than this (default 256); no ONVIF message comes close. */
  maxDepth?: number;
}

export const DEFAULT_MAX_XML_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_XML_NODES = 200_000;
export const DEFAULT_MAX_XML_DEPTH = 256;

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

const ENTITY_REFERENCE = /&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g;

/** Decode the predefined XML entities and numeric character references; leave anything else as written. */
export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  // Pieces joined a few thousand at a time: a 10 MB text full of references stays about 10 MB while decoded.
  const chunks: string[] = [];
  let pieces: string[] = [];
  let last = 0;
  ENTITY_REFERENCE.lastIndex = 0;
  for (let m = ENTITY_REFERENCE.exec(s); m; m = ENTITY_REFERENCE.exec(s)) {
    pieces.push(s.slice(last, m.index), decodeReference(m[0], m[1]!));
    last = ENTITY_REFERENCE.lastIndex;
    if (pieces.length >= 8192) {
      chunks.push(pieces.join(''));
      pieces = [];
    }
  }
  pieces.push(s.slice(last));
  chunks.push(pieces.join(''));
  return chunks.length === 1 ? chunks[0]! : chunks.join('');
}

function decodeReference(written: string, ref: string): string {
  if (ref[0] === '#') {
    const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : written;
  }
  return PREDEFINED[ref] ?? written;
}

/**
 * Parse an XML document into a namespace-resolved element tree.
 * Tolerates what real firmware sends (QUIRKS.md §1): any prefixes, undeclared prefixes, tabs and CRLF,
 * dotted names, missing XML declaration. Refuses DTDs (SOAP forbids them; this also keeps entity
 * expansion attacks out), documents over the size cap, and documents over the element or depth limits.
 * One pass straight into the tree, iterative (no recursion, whatever the nesting), so the cost is linear in
 * the input: see the Limits paragraph of the README for the measured figures.
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
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_XML_NODES;
  // Refused anyway, so refuse before building: the tree up to the limit would cost tens of MB for nothing.
  if (nodesOver(text, maxNodes)) throw tooManyNodes(maxNodes);
  try {
    return new TreeBuilder(text, maxNodes, options.maxDepth ?? DEFAULT_MAX_XML_DEPTH).parse();
  } finally {
    // Values are the device's data: none stays in the module between documents.
    RECENT_VALUES.fill(undefined);
  }
}

const tooManyNodes = (maxNodes: number) =>
  new XmlParseError(`XML document has more than ${maxNodes} elements, attributes and namespace bindings; refused so that one answer cannot take unbounded memory`);

/** A name as written, split once and shared by every element or attribute that uses it. */
interface Name {
  name: string;
  prefix: string;
  local: string;
  /** The namespace of `prefix` in the scope it was last resolved in: siblings share scopes, so mostly a hit. */
  lastScope?: Record<string, string>;
  lastNs?: string;
}

/** The namespace of a name's prefix in `scope`. */
function namespaceOf(n: Name, scope: Record<string, string>): string {
  if (n.lastScope === scope) return n.lastNs!;
  const ns = resolvePrefix(n.prefix, scope);
  n.lastScope = scope;
  n.lastNs = ns;
  return ns;
}

/** The scopes made below one parent scope. */
interface ScopesMade {
  /** The parent's bindings, counted again for each declaring child. */
  size: number;
  /** By the declarations written (`name=value\0` each). */
  made: Map<string, Record<string, string>>;
  /** The last one used with the declarations (name, value as written, ...): siblings mostly repeat them, found without building the key. */
  last?: { declarations: string[]; scope: Record<string, string> };
}

/** An element whose end tag has not been read yet. */
interface OpenElement {
  name: Name;
  attributes: XmlAttribute[];
  scope: Record<string, string>;
  /** Where this element's children start in TreeBuilder.pending. */
  childrenFrom: number;
  text: string;
  textPieces: number;
}

const GT = 0x3e;
const SLASH = 0x2f;
const EQ = 0x3d;
const QUOT = 0x22;
const APOS = 0x27;
const BANG = 0x21;
const QUESTION = 0x3f;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Index just past the name starting at `from` (a name ends at whitespace, '=', '>', '/', or the end). */
function nameEnd(src: string, from: number): number {
  let i = from;
  for (; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (isSpace(c) || c === GT || c === SLASH || c === EQ) break;
  }
  return i;
}

function skipSpace(src: string, from: number): number {
  let i = from;
  while (i < src.length && isSpace(src.charCodeAt(i))) i++;
  return i;
}

/**
 * Whether the document has more than `limit` elements and attributes, counted as TreeBuilder counts them but
 * without building anything: start tags and their attributes are read, text, end tags, comments, CDATA and
 * processing instructions skipped. Malformed markup ends the count (false): the parser then says what is wrong.
 */
function nodesOver(src: string, limit: number): boolean {
  if (src.length <= limit) return false; // every element and attribute takes at least one character
  if (markersWithin(src, limit)) return false;
  let n = 0;
  let i = src.indexOf('<');
  while (i >= 0) {
    const c = src.charCodeAt(i + 1);
    if (c === SLASH) {
      i = src.indexOf('<', i + 2);
      continue;
    }
    if (c === QUESTION || c === BANG) {
      // Where the parser looks for the end of each (TreeBuilder.markup and parse).
      const [opener, terminator] = c === QUESTION ? ['<?', '?>'] : src.startsWith('<!--', i) ? ['<!--', '-->'] : ['<![CDATA[', ']]>'];
      const end = c === QUESTION || src.startsWith(opener, i) ? src.indexOf(terminator, i + opener.length) : -1;
      if (end < 0) return false;
      i = src.indexOf('<', end + terminator.length);
      continue;
    }
    if (++n > limit) return true;
    let at = nameEnd(src, i + 1);
    for (;;) {
      at = skipSpace(src, at);
      if (at >= src.length) return false;
      const d = src.charCodeAt(at);
      if (d === GT) break;
      if (d === SLASH) {
        if (src.charCodeAt(at + 1) !== GT) return false;
        break;
      }
      const attrTo = nameEnd(src, at);
      if (attrTo === at) return false;
      if (++n > limit) return true;
      at = skipSpace(src, attrTo);
      if (src.charCodeAt(at) !== EQ) continue; // a boolean attribute
      at = skipSpace(src, at + 1);
      const quote = src.charCodeAt(at);
      if (quote !== QUOT && quote !== APOS) return false;
      const close = src.indexOf(quote === QUOT ? '"' : "'", at + 1);
      if (close < 0) return false;
      at = close + 1;
    }
    i = src.indexOf('<', at);
  }
  return false;
}

/**
 * Whether the document has at most `limit` characters that can start a counted node: each element counted starts
 * at its own '<', and each attribute right after its own whitespace or closing quote (a name ends only at
 * whitespace, '=', '>' or '/'; markup that breaks this ends the count). Found by indexOf, cheaper than reading the
 * tags; it stops at the limit, so a document full of whitespace costs at most `limit` more steps before the count.
 */
function markersWithin(src: string, limit: number): boolean {
  let n = 0;
  for (const marker of NODE_MARKERS) {
    for (let i = src.indexOf(marker); i >= 0; i = src.indexOf(marker, i + 1)) if (++n > limit) return false;
  }
  return true;
}
const NODE_MARKERS = ['<', '"', ' ', "'", '\n', '\t', '\r'];

// XML 1.0 Name production (the same character classes fast-xml-parser's validator used).
const NAME_START = ':A-Za-z_\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
// The class holds the combining-mark range U+0300–U+036F on purpose (XML NameChar), not a combined character.
// eslint-disable-next-line no-misleading-character-class
const NAME_RE = new RegExp(`^[${NAME_START}][${NAME_START}\\-.\\d\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*$`);
/** `&` in text must start a reference: `&name;` (up to 20 word characters), `&#123;` or `&#x1F;`. */
const BAD_AMPERSAND = /&(?!#x[0-9a-fA-F]*;|#[0-9]*;|\w{1,20};)/;
const WHITESPACE_ONLY = /^[ \t\r\n]*$/;

/** A character for an error message: printable ones quoted, others (control characters, a BOM) by code point. */
function describeChar(code: number): string {
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0xfeff || (code >= 0x2028 && code <= 0x206f) ? `character ${hex}` : `char '${String.fromCodePoint(code)}'`;
}
/** Distinct names kept (across documents), short values shared per document; past these counts, see their use. */
const MAX_SHARED_NAMES = 10_000;
const MAX_SHARED_STRINGS = 20_000;
const MAX_SHARED_LENGTH = 64;
const MAX_SHARED_SCOPES = 1_000;
/** Size of the tables of names and values met last (a power of two). */
const RECENT_SLOTS = 512;
/** A slot for the text from..to (not empty) of `src`, from its length and three of its characters: no slicing. */
function recentSlot(src: string, from: number, to: number): number {
  const length = to - from;
  return (length * 31 + src.charCodeAt(from) * 7 + src.charCodeAt(to - 1) * 3 + src.charCodeAt(from + (length >> 1))) & (RECENT_SLOTS - 1);
}
/**
 * Names are shared by every document parsed, not made per document: an answer of a few hundred bytes (most calls)
 * would otherwise spend more on building these tables and validating its ten names than on reading itself. Names
 * are markup, not the device's data; the table is emptied when full, so a device sending endless new names only
 * costs the validation again. Parsing is synchronous, so one document uses these at a time.
 */
const SHARED_NAMES = new Map<string, Name>();
const RECENT_NAMES: (Name | undefined)[] = new Array<Name | undefined>(RECENT_SLOTS).fill(undefined);
/** Short values and texts met last in the document being parsed (emptied after each one), found without slicing. */
const RECENT_VALUES: (string | undefined)[] = new Array<string | undefined>(RECENT_SLOTS).fill(undefined);
/** Leaf elements (most of a large answer) share these instead of holding two empty arrays each. */
const NO_CHILDREN: XmlElement[] = Object.freeze([]) as unknown as XmlElement[];
const NO_ATTRIBUTES: XmlAttribute[] = Object.freeze([]) as unknown as XmlAttribute[];

/**
 * A copy of a piece of the document that does not keep the document alive. V8 returns substrings of 13 or
 * more characters as views into their parent, so one value kept from a large answer would pin all of it.
 * Concatenating then slicing makes V8 copy the characters into a string of their own.
 */
function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** Builds the XmlElement tree in one left-to-right pass over the document, with an explicit stack. */
class TreeBuilder {
  private pos = 0;
  private nodes = 0;
  /** The elements whose end tag is still to come, outermost first; entries are reused as the depth comes and goes. */
  private readonly open: OpenElement[] = [];
  private depth = 0;
  /**
   * Finished children of the open elements, in document order; each open element owns a tail of it. Only the
   * first `pendingCount` entries are live: a count is cheaper than truncating the array at every end tag.
   */
  private readonly pending: XmlElement[] = [];
  private pendingCount = 0;
  /** Attributes of the tag being read: the first `attrCount` entries (copied out at their exact length, so no array keeps spare slots). */
  private readonly attrNames: Name[] = [];
  /** Where each attribute's value is written (from..to, quotes excluded); sliced only when it is not a recent value. */
  private readonly attrValueFrom: number[] = [];
  private readonly attrValueTo: number[] = [];
  private attrCount = 0;
  private readonly attrSeen = new Set<string>();
  /**
   * The names met last, by a hash of their length and end characters (RECENT_NAMES). A name compared in place
   * against its slot's is found without slicing it out of the document (garbage) and hashing the slice (the Map).
   * Short values and texts met last likewise (RECENT_VALUES).
   */
  /** Short texts and values seen so far (tokens, booleans, the whitespace between elements), one copy of each. */
  private readonly strings = new Map<string, string>();
  /** Scopes made so far, by parent scope and the declarations written; a repeat of both reuses the scope. */
  private readonly scopes = new Map<Record<string, string>, ScopesMade>();
  private readonly rootScope: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, { '': '', xml: NS.xml });
  private root?: XmlElement;

  constructor(
    private readonly src: string,
    private readonly maxNodes: number,
    private readonly maxDepth: number,
  ) {}

  parse(): XmlElement {
    const src = this.src;
    while (this.pos < src.length) {
      const lt = src.indexOf('<', this.pos);
      const end = lt < 0 ? src.length : lt;
      if (end > this.pos) this.text(this.pos, end);
      if (lt < 0) break;
      const c = src.charCodeAt(lt + 1);
      if (c === SLASH) this.endTag(lt);
      else if (c === BANG) this.markup(lt);
      else if (c === QUESTION) this.skipPast(lt + 2, '?>', 'processing instruction');
      else this.startTag(lt);
    }
    const unclosed = this.current();
    if (unclosed) this.fail(`Unclosed tag '${unclosed.name.name}'.`, src.length);
    if (!this.root) throw new XmlParseError('no root element found');
    return this.root;
  }

  private fail(message: string, at: number): never {
    let line = 1;
    for (let i = this.src.indexOf('\n'); i >= 0 && i < at; i = this.src.indexOf('\n', i + 1)) line++;
    throw new XmlParseError(`malformed XML: ${message} (line ${line})`, line);
  }

  private count(n: number): void {
    this.nodes += n;
    if (this.nodes > this.maxNodes) throw tooManyNodes(this.maxNodes);
  }

  private skipPast(from: number, terminator: string, what: string): number {
    const i = this.src.indexOf(terminator, from);
    if (i < 0) this.fail(`Unterminated ${what}.`, from);
    this.pos = i + terminator.length;
    return i;
  }

  /** A string to keep in the tree: shared when short and seen before, and never a view into the document. */
  private keep(s: string, fromDocument: boolean): string {
    if (s.length > MAX_SHARED_LENGTH) return fromDocument ? detach(s) : s;
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    const own = fromDocument ? detach(s) : s;
    if (this.strings.size < MAX_SHARED_STRINGS) this.strings.set(own, own);
    return own;
  }

  /** value() of the document's text from..to, without slicing it when it is one of the values met last. */
  private valueAt(from: number, to: number): string {
    const recent = this.recentValue(from, to);
    if (recent !== undefined) return recent;
    const raw = this.src.slice(from, to);
    const value = this.value(raw);
    this.rememberValue(from, to, raw, value);
    return value;
  }

  /** The recent value written exactly as the document's text from..to, if any. */
  private recentValue(from: number, to: number): string | undefined {
    const length = to - from;
    if (length === 0 || length > MAX_SHARED_LENGTH) return undefined;
    const recent = RECENT_VALUES[recentSlot(this.src, from, to)];
    return recent !== undefined && recent.length === length && this.src.startsWith(recent, from) ? recent : undefined;
  }

  private rememberValue(from: number, to: number, raw: string, value: string): void {
    // Only text that is its own value (no reference, no CR) can be recognised by its characters as written.
    if (to - from === 0 || to - from > MAX_SHARED_LENGTH || raw.indexOf('&') >= 0 || raw.indexOf('\r') >= 0) return;
    RECENT_VALUES[recentSlot(this.src, from, to)] = value;
  }

  /** Entity-decoded, line-end-normalised, kept. */
  private value(raw: string): string {
    let s = raw;
    if (s.indexOf('\r') >= 0) s = s.replace(/\r\n?/g, '\n');
    s = decodeEntities(s);
    return this.keep(s, s === raw);
  }

  private text(from: number, to: number): void {
    const current = this.current();
    const recent = current && this.recentValue(from, to);
    if (recent !== undefined) {
      this.appendText(current!, recent);
      return;
    }
    const raw = this.src.slice(from, to);
    if (!current) {
      if (!WHITESPACE_ONLY.test(raw)) {
        const at = raw.search(/[^ \t\r\n]/);
        this.fail(this.root ? 'Extra text at the end.' : `${describeChar(raw.codePointAt(at)!)} is not expected.`, from + at);
      }
      return;
    }
    if (raw.indexOf('&') >= 0) {
      const bad = BAD_AMPERSAND.exec(raw);
      if (bad) this.fail("char '&' is not expected.", from + bad.index);
    }
    const value = this.value(raw);
    this.rememberValue(from, to, raw, value);
    this.appendText(current, value);
  }

  private appendText(e: OpenElement, piece: string): void {
    e.text = e.textPieces++ ? e.text + piece : piece;
  }

  /** `<!--` comments are skipped, `<![CDATA[` sections are text as written; anything else is refused. */
  private markup(lt: number): void {
    const src = this.src;
    if (src.startsWith('<!--', lt)) {
      this.skipPast(lt + 4, '-->', 'comment');
    } else if (src.startsWith('<![CDATA[', lt)) {
      const end = this.skipPast(lt + 9, ']]>', 'CDATA section');
      const current = this.current();
      const raw = src.slice(lt + 9, end);
      if (!current) {
        if (!WHITESPACE_ONLY.test(raw)) this.fail('Text outside the root element.', lt);
        return;
      }
      const normalised = raw.indexOf('\r') >= 0 ? raw.replace(/\r\n?/g, '\n') : raw;
      this.appendText(current, this.keep(normalised, normalised === raw));
    } else {
      this.fail(`Unexpected '${src.slice(lt, lt + 10)}'.`, lt);
    }
  }

  private name(from: number, to: number, what: 'Tag' | 'Attribute'): Name {
    const src = this.src;
    const length = to - from;
    const slot = length ? recentSlot(src, from, to) : 0;
    const recent = RECENT_NAMES[slot];
    if (recent !== undefined && recent.name.length === length && src.startsWith(recent.name, from)) return recent;
    const written = src.slice(from, to);
    let n = SHARED_NAMES.get(written);
    if (!n) {
      if (!NAME_RE.test(written)) {
        if (written) this.fail(`${what} '${written}' is an invalid name.`, from);
        this.fail(what === 'Tag' ? "Invalid space after '<'." : 'An attribute has no name.', from);
      }
      const name = detach(written);
      const i = name.indexOf(':');
      n = i < 0 ? { name, prefix: '', local: name, lastScope: undefined, lastNs: undefined } : { name, prefix: name.slice(0, i), local: name.slice(i + 1), lastScope: undefined, lastNs: undefined };
      if (SHARED_NAMES.size >= MAX_SHARED_NAMES) SHARED_NAMES.clear();
      SHARED_NAMES.set(name, n);
    }
    if (length) RECENT_NAMES[slot] = n;
    return n;
  }

  private startTag(lt: number): void {
    const src = this.src;
    if (this.root) this.fail('Multiple possible root nodes found.', lt);
    const nameTo = nameEnd(src, lt + 1);
    const name = this.name(lt + 1, nameTo, 'Tag');
    this.count(1);
    const { attrNames, attrValueFrom, attrValueTo, attrSeen } = this;
    let attrCount = 0;
    if (attrSeen.size) attrSeen.clear();
    let i = nameTo;
    let selfClosing = false;
    for (;;) {
      const before = i;
      i = skipSpace(src, i);
      if (i >= src.length) this.fail(`Unclosed tag '${name.name}'.`, lt);
      const c = src.charCodeAt(i);
      if (c === GT) {
        i++;
        break;
      }
      if (c === SLASH) {
        if (src.charCodeAt(i + 1) !== GT) this.fail(`Tag '${name.name}' has a '/' that does not close it.`, i);
        selfClosing = true;
        i += 2;
        break;
      }
      const attrTo = nameEnd(src, i);
      const attrName = this.name(i, attrTo, 'Attribute');
      if (i === before) this.fail(`Attribute '${attrName.name}' has no space in starting.`, i);
      // A few attributes are compared one by one; past that a set keeps a tag with thousands of them linear.
      if (attrCount < 16) {
        for (let j = 0; j < attrCount; j++) if (attrNames[j]!.name === attrName.name) this.fail(`Attribute '${attrName.name}' is repeated.`, i);
      } else {
        if (attrSeen.size === 0) for (let j = 0; j < attrCount; j++) attrSeen.add(attrNames[j]!.name);
        if (attrSeen.has(attrName.name)) this.fail(`Attribute '${attrName.name}' is repeated.`, i);
        attrSeen.add(attrName.name);
      }
      this.count(1);
      attrNames[attrCount] = attrName;
      const eq = skipSpace(src, attrTo);
      if (src.charCodeAt(eq) !== EQ) {
        // A boolean attribute, as some firmware writes them: its value is ''.
        attrValueFrom[attrCount] = attrTo;
        attrValueTo[attrCount++] = attrTo;
        i = attrTo;
        continue;
      }
      i = skipSpace(src, eq + 1);
      const quote = src.charCodeAt(i);
      if (quote !== QUOT && quote !== APOS) this.fail(`Attribute '${attrName.name}' is without value.`, i);
      const close = src.indexOf(quote === QUOT ? '"' : "'", i + 1);
      if (close < 0) this.fail(`Attributes for '${name.name}' have open quote.`, i);
      attrValueFrom[attrCount] = i + 1;
      attrValueTo[attrCount++] = close;
      i = close + 1;
    }
    this.attrCount = attrCount;
    this.pos = i;
    if (this.depth >= this.maxDepth) {
      throw new XmlParseError(`XML nested deeper than ${this.maxDepth} elements; refused (no ONVIF message comes close)`);
    }
    this.opening(name, this.current()?.scope ?? this.rootScope);
    if (selfClosing) this.close();
  }

  private current(): OpenElement | undefined {
    return this.depth ? this.open[this.depth - 1] : undefined;
  }

  /** Open the element for the tag just read: namespace declarations first, then the other attributes resolved in that scope. */
  private opening(name: Name, parentScope: Record<string, string>): void {
    const { attrNames, attrValueFrom, attrValueTo, attrCount, src } = this;
    let scope = parentScope;
    let declared = 0;
    for (let k = 0; k < attrCount; k++) {
      const a = attrNames[k]!;
      if (a.prefix === 'xmlns' || a.name === 'xmlns') declared++;
    }
    if (declared) {
      // Siblings that declare the same namespaces (every message of a PullMessagesResponse, as many devices write
      // them) share one scope: the scopes are read-only, and a copy per element is most of what parsing them costs.
      // The limit still counts a copy of the parent's bindings per declaring element, as if each had its own, so
      // what a document may hold does not depend on this sharing.
      let children = this.scopes.get(parentScope);
      if (!children) this.scopes.set(parentScope, (children = { size: Object.keys(parentScope).length, made: new Map(), last: undefined }));
      this.count(children.size);
      const last = children.last;
      if (last && this.sameDeclarations(last.declarations, declared)) scope = last.scope;
      else {
        const written: string[] = [];
        let declarations = '';
        for (let k = 0; k < attrCount; k++) {
          const a = attrNames[k]!;
          if (a.prefix !== 'xmlns' && a.name !== 'xmlns') continue;
          const value = src.slice(attrValueFrom[k]!, attrValueTo[k]!);
          written.push(a.name, value);
          declarations += `${a.name}=${value}\u0000`;
        }
        scope = children.made.get(declarations) ?? this.declare(parentScope, children.made, declarations);
        children.last = { declarations: written, scope };
      }
    }
    let attributes = NO_ATTRIBUTES;
    if (attrCount > declared) {
      attributes = new Array<XmlAttribute>(attrCount - declared);
      let n = 0;
      for (let k = 0; k < attrCount; k++) {
        const a = attrNames[k]!;
        if (a.prefix === 'xmlns' || a.name === 'xmlns') continue;
        attributes[n++] = { name: a.name, prefix: a.prefix, local: a.local, ns: a.prefix ? namespaceOf(a, scope) : '', value: this.valueAt(attrValueFrom[k]!, attrValueTo[k]!) };
      }
    }
    // Reuse the entry for this depth: one object per element would only make garbage for the collector.
    const e = (this.open[this.depth++] ??= { name, attributes, scope, childrenFrom: 0, text: '', textPieces: 0 });
    e.name = name;
    e.attributes = attributes;
    e.scope = scope;
    e.childrenFrom = this.pendingCount;
    e.text = '';
    e.textPieces = 0;
  }

  /** A new scope: the parent's bindings and those of the tag just read. */
  private declare(parentScope: Record<string, string>, made: Map<string, Record<string, string>>, declarations: string): Record<string, string> {
    const scope = Object.assign(Object.create(null) as Record<string, string>, parentScope);
    for (let k = 0; k < this.attrCount; k++) {
      const a = this.attrNames[k]!;
      if (a.prefix === 'xmlns' || a.name === 'xmlns') scope[a.name === 'xmlns' ? '' : a.local] = this.keep(decodeEntities(this.src.slice(this.attrValueFrom[k]!, this.attrValueTo[k]!)).trim(), true);
    }
    if (made.size < MAX_SHARED_SCOPES) made.set(declarations, scope);
    return scope;
  }

  /** Whether the tag just read declares exactly `written` (name, value as written, ...), in that order: compared in place. */
  private sameDeclarations(written: string[], declared: number): boolean {
    if (written.length !== declared * 2) return false;
    const { attrNames, src } = this;
    let j = 0;
    for (let k = 0; k < this.attrCount; k++) {
      const a = attrNames[k]!;
      if (a.prefix !== 'xmlns' && a.name !== 'xmlns') continue;
      const value = written[j + 1]!;
      const from = this.attrValueFrom[k]!;
      if (a.name !== written[j] || this.attrValueTo[k]! - from !== value.length || !src.startsWith(value, from)) return false;
      j += 2;
    }
    return true;
  }

  private endTag(lt: number): void {
    const src = this.src;
    const nameTo = nameEnd(src, lt + 2);
    const current = this.current();
    const expected = current?.name.name;
    // Compare in place: slicing every end tag's name would only make garbage.
    if (expected === undefined || nameTo - (lt + 2) !== expected.length || !src.startsWith(expected, lt + 2)) {
      const written = src.slice(lt + 2, nameTo);
      if (!written) this.fail("Invalid space after '</'.", lt);
      if (!current) this.fail(`Closing tag '${written}' has not been opened.`, lt);
      this.fail(`Expected closing tag '${expected}' instead of closing tag '${written}'.`, lt);
    }
    const gt = skipSpace(src, nameTo);
    if (src.charCodeAt(gt) !== GT) this.fail(`Closing tag '${expected}' doesn't have proper closing.`, lt);
    this.pos = gt + 1;
    this.close();
  }

  private close(): void {
    const e = this.open[--this.depth]!;
    const pending = this.pending;
    const from = e.childrenFrom;
    let children = NO_CHILDREN;
    if (this.pendingCount > from) {
      children = pending.slice(from, this.pendingCount);
      this.pendingCount = from;
    }
    let text = e.text;
    // Text in several pieces (around child elements) is a chain of pieces: flatten it, and share short runs.
    if (e.textPieces > 1) text = this.keep(detach(text), false);
    const { name, prefix, local } = e.name;
    const el: XmlElement = { name, prefix, local, ns: namespaceOf(e.name, e.scope), attributes: e.attributes, children, text, namespaces: e.scope };
    e.text = '';
    if (this.depth) pending[this.pendingCount++] = el;
    else this.root = el;
  }
}

function resolvePrefix(prefix: string, scope: Record<string, string>): string {
  const declared = scope[prefix];
  if (declared !== undefined) return declared;
  if (prefix === '') return '';
  return CONVENTIONAL_PREFIXES[prefix] ?? UNDECLARED_NS_PREFIX + prefix;
}
