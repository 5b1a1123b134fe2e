import { CONVENTIONAL_PREFIXES, UNDECLARED_NS_PREFIX } from './namespaces';
import type { XmlElement } from './parse';

/**
 * Does `el` have this local name (and namespace, when given)? Elements whose prefix was undeclared
 * match on local name alone: the document did not tell us their namespace.
 */
export function isElement(el: XmlElement, local: string, ns?: string): boolean {
  if (el.local !== local) return false;
  if (ns === undefined) return true;
  return el.ns === ns || el.ns.startsWith(UNDECLARED_NS_PREFIX);
}

export function child(el: XmlElement | undefined, local: string, ns?: string): XmlElement | undefined {
  return el?.children.find((c) => isElement(c, local, ns));
}

export function children(el: XmlElement | undefined, local: string, ns?: string): XmlElement[] {
  return el ? el.children.filter((c) => isElement(c, local, ns)) : [];
}

/** Follow a path of local names (namespace-agnostic), e.g. path(body, 'Capabilities', 'Device'). */
export function path(el: XmlElement | undefined, ...locals: string[]): XmlElement | undefined {
  let cur = el;
  for (const l of locals) cur = child(cur, l);
  return cur;
}

/** First descendant (depth first, including `el`) with this local name and namespace. */
export function descendant(el: XmlElement | undefined, local: string, ns?: string): XmlElement | undefined {
  if (!el) return undefined;
  if (isElement(el, local, ns)) return el;
  for (const c of el.children) {
    const found = descendant(c, local, ns);
    if (found) return found;
  }
  return undefined;
}

export function descendants(el: XmlElement | undefined, local: string, ns?: string, out: XmlElement[] = []): XmlElement[] {
  if (!el) return out;
  if (isElement(el, local, ns)) out.push(el);
  for (const c of el.children) descendants(c, local, ns, out);
  return out;
}

/** Attribute value by local name (and namespace when given); undefined when absent. */
export function attr(el: XmlElement | undefined, local: string, ns?: string): string | undefined {
  const a = el?.attributes.find((x) => x.local === local && (ns === undefined || x.ns === ns));
  return a?.value;
}

/** Trimmed text of the element, or of the child with that local name. */
export function text(el: XmlElement | undefined, local?: string): string | undefined {
  const target = local === undefined ? el : child(el, local);
  return target ? target.text.trim() : undefined;
}

/** All text below `el`, concatenated (for free-text fields such as fault reasons). */
export function deepText(el: XmlElement | undefined): string {
  if (!el) return '';
  return el.text + el.children.map(deepText).join('');
}

export interface QName {
  ns: string;
  local: string;
  prefix: string;
}

/** Resolve a QName written in text or an attribute value (`ter:NotAuthorized`) against the element's scope. */
export function resolveQName(el: XmlElement, value: string): QName {
  const v = value.trim();
  const i = v.indexOf(':');
  const prefix = i < 0 ? '' : v.slice(0, i);
  const local = i < 0 ? v : v.slice(i + 1);
  let ns = el.namespaces[prefix];
  if (ns === undefined) ns = prefix ? CONVENTIONAL_PREFIXES[prefix] ?? UNDECLARED_NS_PREFIX + prefix : '';
  return { ns, local, prefix };
}
