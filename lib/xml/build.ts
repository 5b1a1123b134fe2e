import { PREFIX_FOR_NS } from './namespaces';

/** Content of an element: child elements and text. `undefined`/`null` entries are skipped. */
export type XmlContent = XmlNode | string | number | boolean | null | undefined;

/** An element to serialise. `ns` '' means unqualified (no prefix, no default namespace). */
export interface XmlNode {
  ns: string;
  local: string;
  /** Attribute values by name; a name in Clark notation `{uri}local` is namespace-qualified. */
  attrs?: Record<string, string | number | boolean | undefined>;
  children?: XmlContent[];
  /** Pre-serialised XML inserted verbatim (e.g. echoed reference parameters). Trusted input only. */
  raw?: string;
}

/** Build an element: `el(NS.tds, 'GetUsers')`, `el(NS.tt, 'Username', {}, 'admin')`. */
export function el(ns: string, local: string, attrs?: XmlNode['attrs'], ...children: XmlContent[]): XmlNode {
  return { ns, local, attrs, children };
}

// Most values need no escaping: one test, and the replacements only when they have work to do.
const TEXT_SPECIAL = /[&<>]/;
const ATTR_SPECIAL = /[&<"\r\n\t]/;

export function escapeText(s: string): string {
  if (!TEXT_SPECIAL.test(s)) return s;
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeAttr(s: string): string {
  if (!ATTR_SPECIAL.test(s)) return s;
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\r/g, '&#13;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

export interface SerializeOptions {
  /** Extra or overriding namespace → prefix choices. */
  prefixes?: Record<string, string>;
  /** Write `<?xml version="1.0" encoding="UTF-8"?>` first (default true). */
  declaration?: boolean;
}

/**
 * Serialise a tree. Every namespace used anywhere in it is declared once on the root, with the
 * conventional prefix (tds, tt, ...), so output reads like what ONVIF examples and devices show.
 */
export function serializeXml(root: XmlNode, options: SerializeOptions = {}): string {
  const prefixOf = new Map<string, string>();
  const taken = new Set<string>();
  const want = (ns: string) => {
    if (!ns || prefixOf.has(ns)) return;
    let p = options.prefixes?.[ns] ?? PREFIX_FOR_NS[ns] ?? 'ns';
    if (taken.has(p)) {
      let i = 1;
      while (taken.has(`${p}${i}`)) i++;
      p = `${p}${i}`;
    }
    prefixOf.set(ns, p);
    taken.add(p);
  };
  const collect = (n: XmlNode) => {
    want(n.ns);
    for (const k of Object.keys(n.attrs ?? {})) if (k.startsWith('{')) want(k.slice(1, k.indexOf('}')));
    for (const c of n.children ?? []) if (c && typeof c === 'object') collect(c);
  };
  collect(root);
  const decls = [...prefixOf].map(([ns, p]) => ` xmlns:${p}="${escapeAttr(ns)}"`).join('');
  const out: string[] = [];
  if (options.declaration !== false) out.push('<?xml version="1.0" encoding="UTF-8"?>');
  write(root, out, prefixOf, decls);
  return out.join('');
}

const NO_CHILDREN: XmlContent[] = [];

function qname(ns: string, local: string, prefixOf: Map<string, string>): string {
  return ns ? `${prefixOf.get(ns)}:${local}` : local;
}

function write(n: XmlNode, out: string[], prefixOf: Map<string, string>, rootDecls?: string): void {
  const name = qname(n.ns, n.local, prefixOf);
  out.push('<', name);
  if (rootDecls) out.push(rootDecls);
  for (const k in n.attrs) {
    const v = n.attrs[k];
    if (v === undefined) continue;
    let an = k;
    if (k.startsWith('{')) {
      const end = k.indexOf('}');
      an = qname(k.slice(1, end), k.slice(end + 1), prefixOf);
    }
    out.push(' ', an, '="', escapeAttr(String(v)), '"');
  }
  const kids = n.children ?? NO_CHILDREN;
  let empty = !n.raw;
  for (let i = 0; empty && i < kids.length; i++) if (kids[i] !== undefined && kids[i] !== null) empty = false;
  if (empty) {
    out.push('/>');
    return;
  }
  out.push('>');
  for (const c of kids) {
    if (c === undefined || c === null) continue;
    if (typeof c === 'object') write(c, out, prefixOf);
    else out.push(escapeText(String(c)));
  }
  if (n.raw) out.push(n.raw);
  out.push('</', name, '>');
}
