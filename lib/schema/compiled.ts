/**
 * The schema model loaded once and turned into lookup structures the codec uses per call:
 * type info per named type (cached), children by local name, attributes by key, flattened
 * extension chains, resolved simple-type kinds. Nothing here re-walks the schema per message.
 */
import { NS } from '../xml/namespaces';
import type { ComplexTypeDef, Particle, SchemaModel, SimpleTypeDef, TypeRef } from './model';
import modelJson from './onvif-schema.json';

export const MODEL = modelJson as unknown as SchemaModel;

/** What a simple value is at heart, after following restrictions to a built-in type. */
export type Primitive = 'string' | 'boolean' | 'int' | 'float' | 'dateTime' | 'base64' | 'hex' | 'qname';

export interface SimpleInfo {
  kind: 'simple';
  /** QName of the type for messages (`tt:UserLevel`, `xs:int`) */
  name: string;
  /** the built-in XSD type it derives from (`anyURI`, `duration`, `int`, ...) */
  xsd: string;
  prim: Primitive;
  unsigned?: boolean;
  enum?: string[];
  list?: SimpleInfo;
  union?: SimpleInfo[];
  min?: number;
  max?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

export interface AnyInfo {
  kind: 'any';
  name: string;
}

export interface ChildInfo {
  /** JSON key: the element's local name */
  key: string;
  ns: string;
  local: string;
  typeRef: TypeRef;
  min: number;
  /** always an array in JSON: maxOccurs > 1, or inside a repeated group */
  many: boolean;
  max: number;
  resolved?: TypeInfo;
}

export interface AttrInfo {
  /** JSON key: local name, or `$name` when a child element has the same name */
  key: string;
  /** attribute name to write: plain, or Clark `{ns}local` when qualified */
  xmlName: string;
  local: string;
  ns: string;
  type: SimpleInfo;
  required: boolean;
}

/** Content particle with children resolved to ChildInfo. */
export type CParticle =
  | { kind: 'el'; child: ChildInfo; min: number; max: number }
  | { kind: 'seq' | 'choice'; items: CParticle[]; min: number; max: number; keys: string[] }
  | { kind: 'any'; min: number; max: number; namespace: string };

export interface ComplexInfo {
  kind: 'complex';
  name: string;
  content?: CParticle;
  children: Map<string, ChildInfo>;
  /** keys of array children, to start them as [] */
  arrayKeys: string[];
  attrs: AttrInfo[];
  attrByLocal: Map<string, AttrInfo>;
  attrByKey: Map<string, AttrInfo>;
  /** type of the text for simpleContent types */
  simple?: SimpleInfo;
  wildcard: boolean;
  anyAttribute: boolean;
  mixed: boolean;
  /** tt:DateTime: a Date/Time structure we present as an ISO string */
  isDateTime: boolean;
}

export type TypeInfo = SimpleInfo | ComplexInfo | AnyInfo;

const INT_TYPES = new Set(['int', 'integer', 'long', 'short', 'byte', 'nonPositiveInteger', 'negativeInteger']);
const UINT_TYPES = new Set(['unsignedInt', 'unsignedLong', 'unsignedShort', 'unsignedByte', 'nonNegativeInteger', 'positiveInteger']);
const FLOAT_TYPES = new Set(['float', 'double', 'decimal']);

function builtin(local: string): SimpleInfo | AnyInfo {
  const name = `xs:${local}`;
  const s = (prim: Primitive, extra: Partial<SimpleInfo> = {}): SimpleInfo => ({ kind: 'simple', name, xsd: local, prim, ...extra });
  if (local === 'anyType') return { kind: 'any', name };
  if (local === 'boolean') return s('boolean');
  if (INT_TYPES.has(local)) return s('int');
  if (UINT_TYPES.has(local)) return s('int', { unsigned: true, min: local === 'positiveInteger' ? 1 : 0 });
  if (FLOAT_TYPES.has(local)) return s('float');
  if (local === 'dateTime') return s('dateTime');
  if (local === 'base64Binary') return s('base64');
  if (local === 'hexBinary') return s('hex');
  if (local === 'QName') return s('qname');
  return s('string');
}

const ANY: AnyInfo = { kind: 'any', name: 'xs:anyType' };
const STRING: SimpleInfo = { kind: 'simple', name: 'xs:string', xsd: 'string', prim: 'string' };

function asSimple(t: TypeInfo): SimpleInfo {
  if (t.kind === 'simple') return t;
  if (t.kind === 'complex' && t.simple) return t.simple;
  return STRING;
}

function emptyComplex(name: string): ComplexInfo {
  return {
    kind: 'complex',
    name,
    children: new Map(),
    arrayKeys: [],
    attrs: [],
    attrByLocal: new Map(),
    attrByKey: new Map(),
    wildcard: false,
    anyAttribute: false,
    mixed: false,
    isDateTime: name === 'tt:DateTime',
  };
}

interface RawAttr {
  name: string;
  /** a model reference, or the already compiled type of an inherited attribute */
  type: TypeRef | SimpleInfo;
  required: boolean;
}

/** Children inherited from a base type are registered on the derived type too. */
function registerChildren(p: CParticle, owner: ComplexInfo): void {
  if (p.kind === 'el') {
    if (!owner.children.has(p.child.key)) {
      owner.children.set(p.child.key, p.child);
      if (p.child.many) owner.arrayKeys.push(p.child.key);
    }
  } else if (p.kind === 'any') owner.wildcard = true;
  else p.items.forEach((q) => registerChildren(q, owner));
}

/** Every element key a group can contain, to tell which choice branch / optional group a value uses. */
function fillKeys(p: CParticle): string[] {
  if (p.kind === 'el') return [p.child.key];
  if (p.kind === 'any') return [];
  if (!p.keys.length) p.keys = p.items.flatMap(fillKeys);
  return p.keys;
}

/** The lookups the codec needs, for one schema model. */
export interface CompiledSchema {
  model: SchemaModel;
  /** Split a model QName into namespace and local name. */
  splitModelName(name: string): { ns: string; local: string };
  /** Model QName (`tt:User`) of {ns}local, or undefined for a namespace the model does not use. */
  modelName(ns: string, local: string): string | undefined;
  /** Type info for a model type reference, compiled on first use and cached. */
  typeInfo(ref: TypeRef): TypeInfo;
  childType(c: ChildInfo): TypeInfo;
  /** Type of a global element, or undefined when the model does not declare it. */
  elementType(ns: string, local: string): TypeInfo | undefined;
  /** Global elements by local name, for wildcard content given as plain JSON (e.g. a Filter's TopicExpression). */
  globalElementsNamed(local: string): Array<{ ns: string; local: string }>;
  /** Named type by QName, or undefined. */
  namedType(ns: string, local: string): TypeInfo | undefined;
}

/**
 * Compile a schema model into lookups. The codec uses the one of onvif-schema.json (exported below); the
 * generator in tools/schema compiles the model it just made, so the TypeScript types it writes follow the
 * very structures decode and encode walk.
 */
export function compileSchema(model: SchemaModel): CompiledSchema {
  const PREFIX_URI = model.ns;
  const URI_PREFIX: Record<string, string> = Object.fromEntries(Object.entries(PREFIX_URI).map(([p, u]) => [u, p]));

  /** Split a model QName into namespace and local name. */
  function splitModelName(name: string): { ns: string; local: string } {
    const i = name.indexOf(':');
    if (i < 0) return { ns: '', local: name };
    const p = name.slice(0, i);
    return { ns: p === 'xs' ? NS.xs : PREFIX_URI[p] ?? '', local: name.slice(i + 1) };
  }

  function modelName(ns: string, local: string): string | undefined {
    if (ns === NS.xs) return `xs:${local}`;
    const p = URI_PREFIX[ns];
    return p ? `${p}:${local}` : undefined;
  }

  const named = new Map<string, TypeInfo>();
  const inline = new WeakMap<object, TypeInfo>();

  /** Type info for a model type reference, compiled on first use and cached. */
  function typeInfo(ref: TypeRef): TypeInfo {
    if (typeof ref === 'string') {
      const hit = named.get(ref);
      if (hit) return hit;
      let info: TypeInfo;
      if (ref.startsWith('xs:')) info = builtin(ref.slice(3));
      else {
        const def = model.types[ref];
        if (!def) info = ANY;
        else if (def.k === 's') info = compileSimple(def, ref);
        else {
          // Register before compiling so recursive types find themselves.
          const c = emptyComplex(ref);
          named.set(ref, c);
          compileComplex(def, c);
          return c;
        }
      }
      named.set(ref, info);
      return info;
    }
    const hit = inline.get(ref);
    if (hit) return hit;
    let info: TypeInfo;
    if (ref.k === 's') info = compileSimple(ref, 'anonymous simple type');
    else {
      const c = emptyComplex('anonymous type');
      inline.set(ref, c);
      compileComplex(ref, c);
      return c;
    }
    inline.set(ref, info);
    return info;
  }

  function childType(c: ChildInfo): TypeInfo {
    return (c.resolved ??= typeInfo(c.typeRef));
  }

  function compileSimple(def: SimpleTypeDef, name: string): SimpleInfo {
    let out: SimpleInfo;
    if (def.l !== undefined) out = { kind: 'simple', name, xsd: 'string', prim: 'string', list: asSimple(typeInfo(def.l)) };
    else if (def.u) out = { kind: 'simple', name, xsd: 'string', prim: 'string', union: def.u.map((m) => asSimple(typeInfo(m))) };
    else {
      const base = def.b !== undefined ? asSimple(typeInfo(def.b)) : STRING;
      out = { ...base, name };
    }
    if (def.en) out.enum = def.en;
    if (def.mi !== undefined) out.min = def.mi;
    if (def.ma !== undefined) out.max = def.ma;
    if (def.len !== undefined) out.minLength = out.maxLength = def.len;
    if (def.minL !== undefined) out.minLength = def.minL;
    if (def.maxL !== undefined) out.maxLength = def.maxL;
    if (def.pat !== undefined) out.pattern = def.pat;
    return out;
  }

  function inherited(from: ComplexInfo): RawAttr[] {
    return from.attrs.map((a) => ({ name: a.ns ? modelName(a.ns, a.local) ?? a.local : a.local, type: a.type, required: a.required }));
  }

  function compileComplex(def: ComplexTypeDef, out: ComplexInfo): void {
    let content: CParticle | undefined;
    let rawAttrs: RawAttr[] = [];
    if (def.b) {
      const base = typeInfo(def.b);
      if (base.kind === 'complex') {
        out.wildcard = base.wildcard;
        out.anyAttribute = base.anyAttribute;
        out.mixed = base.mixed;
        out.simple = base.simple;
        rawAttrs = inherited(base);
        if (!def.r) content = base.content;
      }
    }
    if (def.sc !== undefined) {
      const sc = typeInfo(def.sc);
      if (sc.kind === 'complex') {
        out.simple = sc.simple;
        out.anyAttribute = sc.anyAttribute;
        rawAttrs = inherited(sc);
      } else out.simple = asSimple(sc);
    }
    for (const [name, type, req] of def.a ?? []) {
      const a: RawAttr = { name, type, required: req === 1 };
      const i = rawAttrs.findIndex((r) => r.name === a.name);
      if (i >= 0) rawAttrs[i] = a;
      else rawAttrs.push(a);
    }
    if (def.p) {
      const mine = compileParticle(def.p, false, out);
      content = content ? { kind: 'seq', items: [content, mine], min: 1, max: 1, keys: [] } : mine;
    } else if (content) {
      registerChildren(content, out);
    }
    if (content && def.p && def.b && !def.r) registerChildren(content, out);
    out.content = content;
    if (def.aa) out.anyAttribute = true;
    if (def.m) out.mixed = true;
    if (content) fillKeys(content);
    for (const a of rawAttrs) {
      const { ns, local } = splitModelName(a.name);
      const type = typeof a.type === 'object' && 'kind' in a.type ? a.type : asSimple(typeInfo(a.type));
      const info: AttrInfo = {
        key: out.children.has(local) ? `$${local}` : local,
        xmlName: ns ? `{${ns}}${local}` : local,
        local,
        ns,
        type,
        required: a.required,
      };
      out.attrs.push(info);
      out.attrByLocal.set(local, info);
      out.attrByKey.set(info.key, info);
    }
  }

  /** Compile a particle; `repeated` says an enclosing group may occur more than once. */
  function compileParticle(p: Particle, repeated: boolean, owner: ComplexInfo): CParticle {
    const min = p.n ?? 1;
    const max = p.x === undefined ? 1 : p.x < 0 ? Infinity : p.x;
    if ('e' in p) {
      const { ns, local } = splitModelName(p.e);
      let child = owner.children.get(local);
      if (!child) {
        child = { key: local, ns, local, typeRef: p.t, min, max, many: repeated || max > 1 };
        owner.children.set(local, child);
        if (child.many) owner.arrayKeys.push(local);
      }
      return { kind: 'el', child, min, max };
    }
    if ('any' in p) {
      owner.wildcard = true;
      return { kind: 'any', min, max, namespace: p.any };
    }
    const items = ('s' in p ? p.s : p.c).map((q) => compileParticle(q, repeated || max > 1, owner));
    return { kind: 's' in p ? 'seq' : 'choice', items, min, max, keys: [] };
  }

  const elementCache = new Map<string, TypeInfo | null>();

  /** Type of a global element, or undefined when the model does not declare it. */
  function elementType(ns: string, local: string): TypeInfo | undefined {
    const k = `{${ns}}${local}`;
    let hit = elementCache.get(k);
    if (hit === undefined) {
      const name = modelName(ns, local);
      const ref = name !== undefined ? model.elements[name] : undefined;
      hit = ref === undefined ? null : typeInfo(ref);
      elementCache.set(k, hit);
    }
    return hit ?? undefined;
  }

  /** Global elements by local name, for wildcard content given as plain JSON (e.g. a Filter's TopicExpression). */
  const globalsByLocal = new Map<string, Array<{ ns: string; local: string }>>();
  for (const name of Object.keys(model.elements)) {
    const q = splitModelName(name);
    const list = globalsByLocal.get(q.local) ?? [];
    list.push(q);
    globalsByLocal.set(q.local, list);
  }

  function globalElementsNamed(local: string): Array<{ ns: string; local: string }> {
    return globalsByLocal.get(local) ?? [];
  }

  /** Named type by QName, or undefined. */
  function namedType(ns: string, local: string): TypeInfo | undefined {
    const name = modelName(ns, local);
    if (!name) return undefined;
    if (name.startsWith('xs:') || model.types[name]) return typeInfo(name);
    return undefined;
  }

  return { model, splitModelName, modelName, typeInfo, childType, elementType, globalElementsNamed, namedType };
}

const COMPILED = compileSchema(MODEL);
export const { splitModelName, modelName, typeInfo, childType, elementType, globalElementsNamed, namedType } = COMPILED;

/** Short description of what a type expects, for error messages. */
export function describeType(t: TypeInfo): string {
  if (t.kind === 'any') return 'any content';
  if (t.kind === 'complex') return t.isDateTime ? 'a date-time (ISO-8601 string, Date, or {Date, Time})' : t.simple ? describeType(t.simple) : 'an object';
  if (t.enum) return `one of ${t.enum.join(', ')}`;
  if (t.list) return `a list of ${describeType(t.list)}`;
  if (t.union) return t.union.map(describeType).join(' or ');
  switch (t.prim) {
    case 'boolean':
      return 'true or false';
    case 'int':
      return t.unsigned ? 'a non-negative integer' : 'an integer';
    case 'float':
      return 'a number';
    case 'dateTime':
      return 'a date-time (ISO-8601 string or Date)';
    case 'base64':
      return 'base64 text or a Buffer';
    case 'hex':
      return 'hex text or a Buffer';
    case 'qname':
      return 'a QName (prefix:Name)';
    default:
      return 'text';
  }
}
