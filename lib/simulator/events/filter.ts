import { NS } from '../../xml/namespaces';
import type { XmlElement } from '../../xml/parse';
import { resolveQName } from '../../xml/query';
import type { TopicPath } from './topics';

export const CONCRETE_DIALECT = 'http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete';
export const CONCRETE_SET_DIALECT = 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet';
export const ITEM_FILTER_DIALECT = 'http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter';

/** Why a filter was refused; the service turns it into the matching wsnt fault. */
export class FilterError extends Error {
  constructor(readonly fault: 'TopicExpressionDialectUnknownFault' | 'InvalidTopicExpressionFault' | 'InvalidMessageContentExpressionFault' | 'InvalidFilterFault', message: string) {
    super(message);
  }
}

/** One alternative of a topic expression: the path, and whether its whole subtree matches (ConcreteSet `//.`). */
interface TopicPattern extends TopicPath {
  subtree: boolean;
}

export type TopicMatcher = (topic: TopicPath) => boolean;

/**
 * Compile a wsnt:TopicExpression. Concrete (WS-Topics) is a single path; ConcreteSet (Core §9.6.3) adds
 * `|` alternatives and a trailing `//.` for a subtree. Prefixes resolve against the request's own
 * namespace declarations. Child segments compare by local name: devices and clients disagree on
 * whether children are qualified.
 */
export function compileTopicExpression(expr: XmlElement, dialect: string): TopicMatcher {
  const setDialect = dialect === CONCRETE_SET_DIALECT;
  if (!setDialect && dialect !== CONCRETE_DIALECT) {
    throw new FilterError('TopicExpressionDialectUnknownFault', `The topic expression dialect '${dialect}' is not supported; use ${CONCRETE_SET_DIALECT} or ${CONCRETE_DIALECT}.`);
  }
  const source = expr.text.trim();
  const alternatives = setDialect ? source.split('|') : [source];
  const patterns: TopicPattern[] = alternatives.map((alt) => {
    let a = alt.trim();
    let subtree = false;
    if (a.endsWith('//.')) {
      if (!setDialect) throw new FilterError('InvalidTopicExpressionFault', `'//.' is not part of the Concrete dialect; use ConcreteSet for '${source}'.`);
      subtree = true;
      a = a.slice(0, -3);
    }
    const parts = a.split('/');
    const qname = /^(?:[A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*$/;
    if (!a || parts.some((p) => !qname.test(p))) throw new FilterError('InvalidTopicExpressionFault', `'${alt.trim()}' is not a valid topic path.`);
    const root = resolveQName(expr, parts[0]!);
    return { rootNs: root.ns, segments: [root.local, ...parts.slice(1).map((p) => p.slice(p.indexOf(':') + 1))], subtree };
  });
  return (topic) =>
    patterns.some((p) => {
      if (p.rootNs !== topic.rootNs) return false;
      if (topic.segments.length < p.segments.length || (!p.subtree && topic.segments.length !== p.segments.length)) return false;
      return p.segments.every((s, i) => s === topic.segments[i]);
    });
}

/** The items of one message, as the item filter sees them (Source, Key and Data alike). */
export interface FilterItem {
  kind: 'SimpleItem' | 'ElementItem';
  name: string;
  value?: string;
}

export type ItemMatcher = (items: readonly FilterItem[]) => boolean;

type Token = { t: 'word'; v: string } | { t: 'str'; v: string } | { t: 'sym'; v: string };

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if ('()[]='.includes(c)) { out.push({ t: 'sym', v: c }); i++; continue; }
    if (s.startsWith('//', i)) { out.push({ t: 'sym', v: '//' }); i += 2; continue; }
    if (c === '"' || c === "'" || c === '“' || c === '”') {
      const close = c === '“' ? '”' : c;
      let j = i + 1;
      while (j < s.length && s[j] !== close && !(c === '”' && s[j] === '”')) j++;
      if (j >= s.length) throw new FilterError('InvalidMessageContentExpressionFault', 'A string in the message content filter is not closed.');
      out.push({ t: 'str', v: s.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    const m = /^@?[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/.exec(s.slice(i));
    if (!m) throw new FilterError('InvalidMessageContentExpressionFault', `Unexpected '${c}' in the message content filter.`);
    out.push({ t: 'word', v: m[0] });
    i += m[0].length;
  }
  return out;
}

/**
 * Compile an ItemFilter expression (Core §9.4.4): boolean(//tt:SimpleItem[@Name="…" and @Value="…"])
 * terms combined with and / or / not(…) and parentheses, `and` binding tighter than `or`.
 */
export function compileItemFilter(expr: XmlElement, dialect: string): ItemMatcher {
  if (dialect !== ITEM_FILTER_DIALECT) {
    throw new FilterError('InvalidFilterFault', `The message content dialect '${dialect}' is not supported; use ${ITEM_FILTER_DIALECT}.`);
  }
  const tokens = tokenize(expr.text);
  let pos = 0;
  const bad = (why: string) => new FilterError('InvalidMessageContentExpressionFault', `The message content filter '${expr.text.trim()}' is not valid: ${why}.`);
  const peek = () => tokens[pos];
  const isSym = (v: string) => peek()?.t === 'sym' && peek()!.v === v;
  const isWord = (v: string) => peek()?.t === 'word' && peek()!.v === v;
  const expect = (v: string) => {
    if (!isSym(v)) throw bad(`expected '${v}'`);
    pos++;
  };
  type Attr = (item: FilterItem) => boolean;
  type Bool = ItemMatcher;

  // Both levels share the same and/or/not/() shape; `leaf` reads the level's basic term.
  function orExpr<T extends (x: never) => boolean>(leaf: () => T): T {
    let left = andExpr(leaf);
    while (isWord('or')) {
      pos++;
      const l = left, r = andExpr(leaf);
      left = ((x: never) => l(x) || r(x)) as T;
    }
    return left;
  }
  function andExpr<T extends (x: never) => boolean>(leaf: () => T): T {
    let left = unary(leaf);
    while (isWord('and')) {
      pos++;
      const l = left, r = unary(leaf);
      left = ((x: never) => l(x) && r(x)) as T;
    }
    return left;
  }
  function unary<T extends (x: never) => boolean>(leaf: () => T): T {
    if (isWord('not')) {
      pos++;
      expect('(');
      const inner = orExpr(leaf);
      expect(')');
      return ((x: never) => !inner(x)) as T;
    }
    if (isSym('(')) {
      pos++;
      const inner = orExpr(leaf);
      expect(')');
      return inner;
    }
    return leaf();
  }
  const attrComp = (): Attr => {
    const t = peek();
    if (t?.t !== 'word' || (t.v !== '@Name' && t.v !== '@Value')) throw bad('expected @Name or @Value');
    pos++;
    expect('=');
    const s = peek();
    if (s?.t !== 'str') throw bad('expected a quoted string');
    pos++;
    return t.v === '@Name' ? (item) => item.name === s.v : (item) => item.value === s.v;
  };
  const boolTerm = (): Bool => {
    if (!isWord('boolean')) throw bad(`expected boolean(…), got '${peek()?.v ?? 'the end'}'`);
    pos++;
    expect('(');
    expect('//');
    const name = peek();
    if (name?.t !== 'word') throw bad('expected SimpleItem or ElementItem');
    pos++;
    const q = resolveQName(expr, name.v);
    if ((q.prefix && q.ns !== NS.tt) || (q.local !== 'SimpleItem' && q.local !== 'ElementItem')) throw bad(`'${name.v}' is not tt:SimpleItem or tt:ElementItem`);
    let test: Attr = () => true;
    if (isSym('[')) {
      pos++;
      test = orExpr(attrComp);
      expect(']');
    }
    expect(')');
    const kind = q.local;
    return (items) => items.some((i) => i.kind === kind && test(i));
  };
  if (!tokens.length) throw bad('it is empty');
  const matcher = orExpr(boolTerm);
  if (pos !== tokens.length) throw bad(`unexpected '${peek()!.v}'`);
  return matcher;
}
