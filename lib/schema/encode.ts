/**
 * Normalised JSON → XmlNode, in schema order with schema namespaces. Every mistake in the input
 * becomes OnvifError('invalid-input') naming the path (`CreateUsers.User[0].UserLevel`) and what
 * was expected, before anything is sent.
 */
import { OnvifError } from '../errors';
import type { XmlContent, XmlNode } from '../xml/build';
import { CONVENTIONAL_PREFIXES } from '../xml/namespaces';
import {
  childType,
  describeType,
  elementType,
  globalElementsNamed,
  type ChildInfo,
  type ComplexInfo,
  type CParticle,
  type SimpleInfo,
  type TypeInfo,
} from './compiled';
import { dateTimeParts, encodeSimple } from './values';

function fail(path: string, message: string): never {
  throw new OnvifError('invalid-input', `${path}: ${message}`);
}

export function isXmlNode(v: unknown): v is XmlNode {
  return !!v && typeof v === 'object' && typeof (v as XmlNode).ns === 'string' && typeof (v as XmlNode).local === 'string';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array);
}

/**
 * Text that names things by prefix (QNames, topic expressions such as `tns1:Device//.`) needs those
 * prefixes declared; declare the conventional ones on the element itself.
 */
function prefixDeclarations(text: string, attrs: Record<string, string>): void {
  const re = /(?:^|[\s/|(])([A-Za-z_][\w.-]*):(?!\/)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const uri = CONVENTIONAL_PREFIXES[m[1]];
    if (uri) attrs[`xmlns:${m[1]}`] = uri;
  }
}

function simpleNode(ns: string, local: string, text: string, t: SimpleInfo, attrs?: Record<string, string>): XmlNode {
  let a = attrs;
  if (t.prim === 'qname') prefixDeclarations(text, (a ??= {}));
  return { ns, local, attrs: a, children: text === '' ? [] : [text] };
}

/** Encode `value` as element {ns}local of type `t`. */
export function encodeTyped(ns: string, local: string, t: TypeInfo, value: unknown, path: string): XmlNode {
  if (t.kind === 'any') return encodeAny(ns, local, value, path);
  if (t.kind === 'simple') {
    if (isPlainObject(value) && 'value' in value && Object.keys(value).length === 1) value = value.value;
    return simpleNode(ns, local, encodeSimple(value, t, path), t);
  }
  return encodeComplex(ns, local, t, value, path);
}

/** xs:anyType content: XmlNode(s) pass through, text is text, objects become child elements by key. */
function encodeAny(ns: string, local: string, value: unknown, path: string): XmlNode {
  if (isXmlNode(value)) return { ns, local, children: [value] };
  if (Array.isArray(value) && value.every(isXmlNode)) return { ns, local, children: value };
  if (value === null || value === undefined) return { ns, local };
  if (typeof value !== 'object' || value instanceof Date) {
    return { ns, local, children: [value instanceof Date ? value.toISOString() : String(value)] };
  }
  if (!isPlainObject(value)) fail(path, 'expected an object, text or an XmlNode');
  const children: XmlContent[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    const items = Array.isArray(v) ? v : [v];
    items.forEach((item, i) => children.push(encodeAny(ns, k, item, Array.isArray(v) ? `${path}.${k}[${i}]` : `${path}.${k}`)));
  }
  return { ns, local, children };
}

/** A date-time string or Date as the tt:DateTime structure, in UTC. */
function dateTimeStruct(value: string | Date, path: string): Record<string, unknown> {
  let parts: ReturnType<typeof dateTimeParts>;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) fail(path, 'the Date is invalid');
    parts = dateTimeParts(value.toISOString());
  } else parts = dateTimeParts(value);
  if (!parts) fail(path, `${JSON.stringify(value)} is not a date-time (use an ISO-8601 string like 2024-01-31T12:00:00Z, a Date, or {Date, Time})`);
  return {
    Date: { Year: parts.Year, Month: parts.Month, Day: parts.Day },
    Time: { Hour: parts.Hour, Minute: parts.Minute, Second: parts.Second },
  };
}

function encodeComplex(ns: string, local: string, t: ComplexInfo, value: unknown, path: string): XmlNode {
  if (t.isDateTime && (typeof value === 'string' || value instanceof Date)) value = dateTimeStruct(value, path);
  if (t.simple) {
    const obj = isPlainObject(value) ? value : { value };
    const attrs = encodeAttributes(t, obj, path, new Set(['value']));
    if (obj.value === undefined || obj.value === null) fail(path, `missing value (expected ${describeType(t.simple)})`);
    return simpleNode(ns, local, encodeSimple(obj.value, t.simple, path), t.simple, attrs);
  }
  if (value === undefined || value === null || value === '') value = {};
  if (isXmlNode(value) && t.wildcard) return { ns, local, children: [value] };
  if (!isPlainObject(value)) fail(path, `${Array.isArray(value) ? 'an array' : JSON.stringify(value)} given, expected an object with ${describeFields(t)}`);
  const obj = value;
  const used = new Set<string>();
  const attrs = encodeAttributes(t, obj, path, used);
  const children: XmlContent[] = [];
  // Keys that are neither declared children nor attributes go to a wildcard, if the type has one.
  const mixedText = t.mixed && !t.children.has('value');
  const extra = Object.keys(obj).filter(
    (k) => obj[k] !== undefined && obj[k] !== null && !t.children.has(k) && !t.attrByKey.has(k) && !(mixedText && k === 'value'),
  );
  if (extra.length && !t.wildcard) {
    fail(`${path}.${extra[0]}`, `unknown field; expected ${describeFields(t)}`);
  }
  const state: WalkState = { obj, path, used, extra, extraDone: false };
  if (t.content) emit(t.content, state, children, true);
  if (extra.length && !state.extraDone) children.push(...encodeExtra(state));
  if (mixedText && obj.value !== undefined && obj.value !== null) {
    const text = String(obj.value);
    prefixDeclarations(text, attrs);
    children.unshift(text);
  }
  return { ns, local, attrs: Object.keys(attrs).length ? attrs : undefined, children };
}

function describeFields(t: ComplexInfo): string {
  const names = [...t.attrByKey.keys(), ...t.children.keys()];
  return names.length ? `fields ${names.join(', ')}` : 'no fields';
}

function encodeAttributes(t: ComplexInfo, obj: Record<string, unknown>, path: string, used: Set<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of t.attrs) {
    const v = obj[a.key];
    if (v === undefined || v === null) {
      if (a.required) fail(`${path}.${a.key}`, `required attribute is missing (expected ${describeType(a.type)})`);
      continue;
    }
    used.add(a.key);
    out[a.xmlName] = encodeSimple(v, a.type, `${path}.${a.key}`);
  }
  if (!t.simple) return out;
  for (const k of Object.keys(obj)) {
    if (used.has(k) || obj[k] === undefined) continue;
    fail(`${path}.${k}`, `unknown field; expected value${t.attrs.length ? ', ' + t.attrs.map((a) => a.key).join(', ') : ''}`);
  }
  return out;
}

interface WalkState {
  obj: Record<string, unknown>;
  path: string;
  used: Set<string>;
  extra: string[];
  extraDone: boolean;
}

function present(state: WalkState, key: string): boolean {
  const v = state.obj[key];
  return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
}

/** Emit the children of a particle in schema order. `required` is false inside an absent optional group. */
function emit(p: CParticle, state: WalkState, out: XmlContent[], required: boolean): void {
  switch (p.kind) {
    case 'el':
      emitElement(p.child, p.min, p.max, state, out, required);
      return;
    case 'any':
      if (!state.extraDone) {
        if (required && p.min > 0 && state.extra.length === 0) fail(state.path, 'content is required here (pass an XmlNode built with lib/xml el(), keyed by its name)');
        out.push(...encodeExtra(state));
        state.extraDone = true;
      }
      return;
    case 'seq': {
      if (p.min === 0 && !p.keys.some((k) => present(state, k))) return;
      for (const q of p.items) emit(q, state, out, required);
      return;
    }
    case 'choice': {
      const branches = p.items.filter((q) => (q.kind === 'el' ? present(state, q.child.key) : q.kind === 'any' ? state.extra.length > 0 : q.keys.some((k) => present(state, k))));
      if (branches.length === 0) {
        if (required && p.min > 0) {
          const names = p.keys.length ? p.keys.join(', ') : 'content';
          fail(state.path, `one of ${names} is required`);
        }
        return;
      }
      if (branches.length > 1 && p.max <= 1) {
        const keys = branches.flatMap((q) => (q.kind === 'el' ? [q.child.key] : q.kind === 'seq' || q.kind === 'choice' ? q.keys.filter((k) => present(state, k)) : []));
        fail(state.path, `give only one of ${keys.join(', ')} (they are alternatives)`);
      }
      for (const q of branches) emit(q, state, out, required);
      return;
    }
  }
}

function emitElement(c: ChildInfo, min: number, max: number, state: WalkState, out: XmlContent[], required: boolean): void {
  if (state.used.has(c.key)) return; // same name met again further down an extension chain
  state.used.add(c.key);
  const v = state.obj[c.key];
  const path = `${state.path}.${c.key}`;
  const t = childType(c);
  if (v === undefined || v === null) {
    if (required && min > 0) fail(path, `required field is missing (expected ${describeType(t)})`);
    return;
  }
  if (c.many) {
    const items = Array.isArray(v) ? v : [v];
    if (required && items.length < min) fail(path, `needs at least ${min} item${min > 1 ? 's' : ''}, got ${items.length}`);
    if (items.length > c.max && c.max !== Infinity && max <= 1) fail(path, `allows at most ${c.max} items, got ${items.length}`);
    items.forEach((item, i) => {
      if (item === undefined || item === null) fail(`${path}[${i}]`, 'empty list entry');
      out.push(encodeTyped(c.ns, c.local, t, item, Array.isArray(v) ? `${path}[${i}]` : path));
    });
    return;
  }
  let single = v;
  if (Array.isArray(v) && !(t.kind === 'simple' && t.list) && !(t.kind === 'any')) {
    if (v.length !== 1) fail(path, `expects a single value, got a list of ${v.length}`);
    single = v[0];
  }
  out.push(encodeTyped(c.ns, c.local, t, single, path));
}

/** Content for a wildcard: XmlNode passthrough, or JSON for a global element the model knows by that name. */
function encodeExtra(state: WalkState): XmlContent[] {
  state.extraDone = true;
  const out: XmlContent[] = [];
  for (const k of state.extra) {
    const v = state.obj[k];
    const path = `${state.path}.${k}`;
    const items = Array.isArray(v) ? v : [v];
    items.forEach((item, i) => {
      const p = Array.isArray(v) ? `${path}[${i}]` : path;
      if (isXmlNode(item)) {
        out.push(item);
        return;
      }
      const globals = globalElementsNamed(k);
      if (globals.length !== 1) {
        fail(p, globals.length ? `ambiguous field (several schema elements are called ${k}); pass an XmlNode` : 'unknown field; pass an XmlNode (lib/xml el()) for vendor content');
      }
      const g = globals[0];
      out.push(encodeTyped(g.ns, g.local, elementType(g.ns, g.local)!, item, p));
    });
  }
  return out;
}

/** Build the request/response element {ns}local from normalised JSON. */
export function encodeElement(ns: string, local: string, value?: unknown): XmlNode {
  const t = elementType(ns, local);
  if (!t) throw new OnvifError('invalid-input', `${local}: no element {${ns}}${local} in the ONVIF schema model; build it with lib/xml el() instead`);
  return encodeTyped(ns, local, t, value, local);
}
