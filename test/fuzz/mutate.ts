/**
 * Seeded mutations of SOAP/XML messages, the kinds of damage real devices and networks produce: flipped bytes,
 * cut answers, lost or doubled tags, other or missing namespace prefixes, deep nesting, entities, broken UTF-8,
 * device text with control characters, prototype names, very long text, many repeats, empty and non-XML bodies.
 * Each mutation returns the new body and a short label that names what it did (shown for failing inputs).
 */
import type { Prng } from './prng';

export interface Mutated {
  body: Buffer;
  label: string;
}

type Mutation = (rng: Prng, body: Buffer, other: Buffer) => Mutated;

/** Bodies are kept below this size (the client's default cap is 10 MB; larger answers are a transport fault). */
const MAX_BODY = 8 * 1024 * 1024;

const latin1 = (b: Buffer) => b.toString('latin1');
const fromLatin1 = (s: string) => Buffer.from(s, 'latin1');

/** Every `<...>` tag in the text, with its position. */
function tags(s: string): Array<{ at: number; text: string; name: string; end: boolean; selfClosing: boolean }> {
  const out: Array<{ at: number; text: string; name: string; end: boolean; selfClosing: boolean }> = [];
  const re = /<(\/?)([A-Za-z_][\w.:-]*)[^<>]*?(\/?)>/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    out.push({ at: m.index, text: m[0], name: m[2]!, end: m[1] === '/', selfClosing: m[3] === '/' });
  }
  return out;
}

/** Positions just after a start tag's `>`: places where text content goes. */
function textPositions(s: string): number[] {
  return tags(s).filter((t) => !t.end && !t.selfClosing).map((t) => t.at + t.text.length);
}

function insertAt(s: string, at: number, what: string): string {
  return s.slice(0, at) + what + s.slice(at);
}

/** log-uniform integer in [min, max], so small and huge values both come up. */
function logInt(rng: Prng, min: number, max: number): number {
  return Math.round(Math.exp(Math.log(min) + rng.next() * (Math.log(max) - Math.log(min))));
}

/** The element starting at tag `t` up to its first matching end tag, or undefined. */
function elementSpan(s: string, t: { at: number; name: string }): [number, number] | undefined {
  const close = s.indexOf(`</${t.name}>`, t.at);
  return close < 0 ? undefined : [t.at, close + t.name.length + 3];
}

const byteFlip: Mutation = (rng, body) => {
  if (body.length === 0) return { body, label: 'flip(empty)' };
  const b = Buffer.from(body);
  const n = rng.int(1, 8);
  const where: number[] = [];
  for (let i = 0; i < n; i++) {
    const at = rng.int(0, b.length - 1);
    b[at] = rng.chance(0.5) ? b[at]! ^ (1 << rng.int(0, 7)) : rng.int(0, 255);
    where.push(at);
  }
  return { body: b, label: `flip ${n} byte(s) at ${where.slice(0, 3).join(',')}${n > 3 ? ',…' : ''}` };
};

const truncate: Mutation = (rng, body) => {
  const at = rng.int(0, Math.max(0, body.length - 1));
  return { body: body.subarray(0, at), label: `truncate at ${at}/${body.length}` };
};

const deleteTag: Mutation = (rng, body) => {
  const s = latin1(body);
  const all = tags(s);
  if (!all.length) return { body, label: 'delete-tag(none)' };
  const t = rng.pick(all);
  return { body: fromLatin1(s.slice(0, t.at) + s.slice(t.at + t.text.length)), label: `delete tag ${t.text.slice(0, 40)}` };
};

const duplicateTag: Mutation = (rng, body) => {
  const s = latin1(body);
  const starts = tags(s).filter((t) => !t.end);
  if (!starts.length) return { body, label: 'duplicate-tag(none)' };
  const t = rng.pick(starts);
  const span = t.selfClosing ? [t.at, t.at + t.text.length] : elementSpan(s, t);
  if (!span || rng.chance(0.3)) {
    // Only the start tag, twice: an element left open.
    return { body: fromLatin1(insertAt(s, t.at, t.text)), label: `duplicate start tag <${t.name}>` };
  }
  const piece = s.slice(span[0], span[1]);
  return { body: fromLatin1(insertAt(s, span[1], piece)), label: `duplicate element <${t.name}>` };
};

const prefixSwap: Mutation = (rng, body) => {
  const s = latin1(body);
  const prefixes = [...new Set(tags(s).map((t) => t.name).filter((n) => n.includes(':')).map((n) => n.slice(0, n.indexOf(':'))))];
  if (!prefixes.length) return { body, label: 'prefix-swap(none)' };
  const from = rng.pick(prefixes);
  const to = rng.pick([...prefixes, 'zz', 'tt', 'tds', 'wsnt', 's', '']);
  const re = new RegExp(`(</?)${from.replace(/[.-]/g, '\\$&')}:`, 'g');
  return { body: fromLatin1(s.replace(re, (_m, open: string) => `${open}${to ? `${to}:` : ''}`)), label: `prefix ${from}: -> ${to ? `${to}:` : '(none)'}` };
};

const stripNamespaces: Mutation = (rng, body) => {
  const s = latin1(body);
  const all = rng.chance(0.5);
  let done = false;
  const out = s.replace(/\s+xmlns(:[\w.-]+)?\s*=\s*("[^"]*"|'[^']*')/g, (m) => {
    if (all || (!done && rng.chance(0.3))) {
      done = true;
      return '';
    }
    return m;
  });
  return { body: fromLatin1(out), label: all ? 'strip all xmlns declarations' : 'strip an xmlns declaration' };
};

const deepNesting: Mutation = (rng, body) => {
  const s = latin1(body);
  const n = logInt(rng, 50, 200_000);
  const closed = rng.chance(0.5);
  const name = rng.pick(['x', 'tt:Data', 'wsnt:NotificationMessage', 'env:Body', 'tds:Service']);
  const at = rng.pick(textPositions(s).concat([s.length]));
  const piece = `<${name}>`.repeat(n) + (closed ? `</${name}>`.repeat(n) : '');
  return { body: fromLatin1(insertAt(s, at, piece)), label: `nest <${name}> ${n} deep${closed ? '' : ' (unclosed)'}` };
};

const ENTITY_SNIPPETS = [
  '&lt;&gt;&amp;&quot;&apos;',
  '&#0;',
  '&#x1B;[31m',
  '&#xD800;',
  '&#1114112;',
  '&#xFFFFFFFF;',
  '&#99999999999999999999;',
  '&unknown;',
  '&amp;amp;lt;',
  '&',
  '&#;',
  '&#x;',
  '&lt',
  '&__proto__;',
  '&constructor;',
];

const entities: Mutation = (rng, body) => {
  const s = latin1(body);
  if (rng.chance(0.35)) {
    // A DOCTYPE with internal entities (billion laughs) or an external one: expansion must stay off.
    const doctype = rng.pick([
      '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>',
      '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
      '<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd">',
      '<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>',
      '<!DOCTYPE',
    ]);
    const decl = /^\s*<\?xml[^>]*\?>/.exec(s);
    const at = decl ? decl[0].length : 0;
    const ref = rng.pick(['&f;', '&xxe;', '&e;', '']);
    const t = rng.pick(textPositions(s).concat([s.length]));
    const withRef = ref && t >= at ? insertAt(s, t, ref) : s;
    return { body: fromLatin1(insertAt(withRef, at, doctype)), label: `DOCTYPE ${doctype.slice(10, 40)}… ref ${ref || '(none)'}` };
  }
  const snippet = rng.pick(ENTITY_SNIPPETS);
  const at = rng.pick(textPositions(s).concat([s.length]));
  return { body: fromLatin1(insertAt(s, at, snippet)), label: `entity ${snippet}` };
};

const BAD_UTF8: Array<[string, number[]]> = [
  ['lone continuation', [0x80]],
  ['truncated 2-byte', [0xc3]],
  ['bad 2-byte', [0xc3, 0x28]],
  ['overlong /', [0xc0, 0xaf]],
  ['surrogate', [0xed, 0xa0, 0x80]],
  ['0xFF', [0xff]],
  ['0xFE 0xFF', [0xfe, 0xff]],
  ['5-byte', [0xf8, 0x88, 0x80, 0x80, 0x80]],
  ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['NUL', [0x00]],
];

const invalidUtf8: Mutation = (rng, body) => {
  const roll = rng.int(0, 9);
  if (roll === 0) return { body: Buffer.concat([Buffer.from([0xff, 0xfe]), body]), label: 'UTF-16 LE BOM on UTF-8 text' };
  if (roll === 1) return { body: Buffer.from(body.toString('utf8'), 'utf16le'), label: 'whole body as UTF-16 LE without BOM' };
  if (roll === 2) return { body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), body]), label: 'double UTF-8 BOM' };
  const [name, bytes] = rng.pick(BAD_UTF8);
  const s = latin1(body);
  const places = rng.chance(0.7) ? textPositions(s) : [];
  const at = places.length ? rng.pick(places) : rng.int(0, body.length);
  return { body: Buffer.concat([body.subarray(0, at), Buffer.from(bytes), body.subarray(at)]), label: `invalid UTF-8 (${name}) at ${at}` };
};

const CONTROL_TEXT = ['\x1b[2J\x1b[31mHACKED\x1b[0m', '\x00\x01\x02', '\u202eevil\u202c', 'a\rb\nc\td', '\x07\x08\x7f', '\u2028\u2029', '\x9b31m', '\x1b]0;title\x07'];

const controlChars: Mutation = (rng, body) => {
  const s = body.toString('utf8');
  const positions = textPositions(s);
  if (!positions.length) return { body, label: 'control-chars(none)' };
  const what = rng.pick(CONTROL_TEXT);
  const at = rng.pick(positions);
  return { body: Buffer.from(insertAt(s, at, what), 'utf8'), label: `control characters ${JSON.stringify(what).slice(0, 30)} in text` };
};

const PROTO_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'then'];

const protoNames: Mutation = (rng, body) => {
  const s = latin1(body);
  const starts = tags(s).filter((t) => !t.end);
  const name = rng.pick(PROTO_NAMES);
  if (!starts.length) return { body, label: 'proto-names(none)' };
  const t = rng.pick(starts);
  if (rng.chance(0.3)) {
    const withAttr = t.text.replace(/^<([^\s/>]+)/, `<$1 ${name}="1"`);
    return { body: fromLatin1(s.slice(0, t.at) + withAttr + s.slice(t.at + t.text.length)), label: `attribute ${name}="1" on <${t.name}>` };
  }
  const prefix = t.name.includes(':') ? t.name.slice(0, t.name.indexOf(':') + 1) : '';
  const renamed = `${prefix}${name}`;
  // Rename every occurrence of that element name, start and end tags alike, so the XML stays well-formed.
  const re = new RegExp(`(</?)${t.name.replace(/[.-]/g, '\\$&')}(?=[\\s/>])`, 'g');
  return { body: fromLatin1(s.replace(re, `$1${renamed}`)), label: `rename <${t.name}> to <${renamed}>` };
};

const longText: Mutation = (rng, body) => {
  const s = latin1(body);
  const n = logInt(rng, 1000, 2_000_000);
  const unit = rng.pick(['A', 'word ', '\u00e9', ' ', '\t\n', 'x&amp;']);
  const filler = unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
  if (rng.chance(0.3)) {
    const starts = tags(s).filter((t) => !t.end);
    if (starts.length) {
      const t = rng.pick(starts);
      const withAttr = t.text.replace(/^<([^\s/>]+)/, `<$1 Long="${filler}"`);
      return { body: fromLatin1(s.slice(0, t.at) + withAttr + s.slice(t.at + t.text.length)), label: `attribute of ${n} chars on <${t.name}>` };
    }
  }
  const at = rng.pick(textPositions(s).concat([s.length]));
  return { body: fromLatin1(insertAt(s, at, filler)), label: `text of ${n} chars (${JSON.stringify(unit)})` };
};

const repeatElement: Mutation = (rng, body) => {
  const s = latin1(body);
  const starts = tags(s).filter((t) => !t.end && !t.selfClosing);
  // A few tries at a start tag with an end tag (not a span for every tag: that is quadratic on large bodies).
  for (let attempt = 0; attempt < 5 && starts.length; attempt++) {
    const t = rng.pick(starts);
    const span = elementSpan(s, t);
    if (!span) continue;
    const piece = s.slice(span[0], span[1]);
    const k = Math.max(2, Math.min(logInt(rng, 2, 50_000), Math.floor(MAX_BODY / Math.max(1, piece.length))));
    return { body: fromLatin1(s.slice(0, span[1]) + piece.repeat(k - 1) + s.slice(span[1])), label: `repeat <${t.name}> ${k} times` };
  }
  return { body, label: 'repeat(none)' };
};

const splice: Mutation = (rng, body, other) => {
  if (other.length === 0) return { body, label: 'splice(none)' };
  const from = rng.int(0, other.length - 1);
  const len = rng.int(1, Math.min(2000, other.length - from));
  const at = rng.int(0, body.length);
  return { body: Buffer.concat([body.subarray(0, at), other.subarray(from, from + len), body.subarray(at)]), label: `splice ${len} bytes of another message at ${at}` };
};

/** The text between the first Body start tag and the last Body end tag (indexOf, not a backtracking regex). */
function bodyContent(x: string): [number, number] | undefined {
  const open = /<([\w.-]+:)?Body[\s>]/.exec(x);
  if (!open) return undefined;
  const start = x.indexOf('>', open.index) + 1;
  let close = -1;
  for (const m of x.matchAll(/<\/([\w.-]+:)?Body>/g)) close = m.index;
  return start > 0 && close >= start ? [start, close] : undefined;
}

const swapContent: Mutation = (_rng, body, other) => {
  // The answer to another operation (or a fault) in place of this one's.
  const s = latin1(body);
  const o = latin1(other);
  const a = bodyContent(s);
  const b = bodyContent(o);
  if (!a || !b) return { body: other, label: 'whole other message' };
  return { body: fromLatin1(s.slice(0, a[0]) + o.slice(b[0], b[1]) + s.slice(a[1])), label: 'body content of another message' };
};

const MARKUP_JUNK = ['<![CDATA[', ']]>', '<!--', '-->', '<?pi x', '<', '</>', '<a b>', '<a =">', '<a b="1" b="2"/>', '<a b=1/>', '<:x/>', '<x:/>', '<1x/>', '</wrong>', '<?xml version="1.0"?>'];

const markupJunk: Mutation = (rng, body) => {
  const s = latin1(body);
  const junk = rng.pick(MARKUP_JUNK);
  const at = rng.chance(0.7) ? rng.pick(textPositions(s).concat([s.length])) : rng.int(0, s.length);
  return { body: fromLatin1(insertAt(s, at, junk)), label: `markup ${junk} at ${at}` };
};

const leadingJunk: Mutation = (rng, body) => {
  const junk = rng.pick(['\r\n\r\n', '   ', '\x00', 'HTTP/1.1 200 OK\r\n\r\n', '0\r\n\r\n', 'garbage', '<!-- x -->']);
  return { body: Buffer.concat([Buffer.from(junk, 'latin1'), body]), label: `leading ${JSON.stringify(junk)}` };
};

const MUTATIONS: Record<string, Mutation> = {
  byteFlip,
  truncate,
  deleteTag,
  duplicateTag,
  prefixSwap,
  stripNamespaces,
  deepNesting,
  entities,
  invalidUtf8,
  controlChars,
  protoNames,
  longText,
  repeatElement,
  splice,
  swapContent,
  markupJunk,
  leadingJunk,
};

const WEIGHTS: Record<keyof typeof MUTATIONS, number> = {
  byteFlip: 14,
  truncate: 10,
  deleteTag: 10,
  duplicateTag: 8,
  prefixSwap: 8,
  stripNamespaces: 4,
  // Large bodies are few: each costs seconds of parsing (and the long run must stay within minutes).
  deepNesting: 2,
  entities: 8,
  invalidUtf8: 8,
  controlChars: 8,
  protoNames: 8,
  longText: 1,
  repeatElement: 1.5,
  splice: 4,
  swapContent: 5,
  markupJunk: 6,
  leadingJunk: 3,
};

const NON_XML: Array<[string, () => Buffer]> = [
  ['empty body', () => Buffer.alloc(0)],
  ['whitespace only', () => Buffer.from(' \r\n\t ')],
  ['HTML page', () => Buffer.from('<!DOCTYPE html><html><head><title>401 Unauthorized</title></head><body><h1>Error</h1></body></html>')],
  ['JSON', () => Buffer.from('{"error":"not found","code":404}')],
  ['plain text', () => Buffer.from('Internal Server Error\n')],
  ['XML declaration only', () => Buffer.from('<?xml version="1.0" encoding="UTF-8"?>')],
  ['BOM only', () => Buffer.from([0xef, 0xbb, 0xbf])],
  ['non-SOAP XML', () => Buffer.from('<?xml version="1.0"?><root><a>1</a></root>')],
  ['SOAP 1.1 envelope with an empty body', () => Buffer.from('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>')],
  ['SOAP 1.2 envelope without a body', () => Buffer.from('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>')],
];

/**
 * Damage `seed`: usually 1-3 stacked mutations, sometimes a body that is no XML at all, rarely the seed as it is
 * (so the ok path stays covered). `other` is a second message to splice from.
 */
export function mutate(rng: Prng, seed: Buffer, other: Buffer): Mutated {
  const roll = rng.next();
  if (roll < 0.04) return { body: seed, label: 'unchanged' };
  if (roll < 0.1) {
    if (rng.chance(0.2)) {
      const n = rng.int(1, 4096);
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = rng.int(0, 255);
      return { body: b, label: `${n} random bytes` };
    }
    const [label, make] = rng.pick(NON_XML);
    return { body: make(), label };
  }
  const count = rng.pick([1, 1, 1, 2, 2, 3]);
  let body = seed;
  const labels: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = rng.weighted(WEIGHTS);
    const out = MUTATIONS[name]!(rng, body, other);
    body = out.body.length > MAX_BODY ? out.body.subarray(0, MAX_BODY) : out.body;
    labels.push(out.label);
  }
  return { body, label: labels.join(' + ') };
}
