/**
 * XML element → normalised JSON, guided by the schema model where it knows the element and by a
 * plain heuristic where it does not (vendor extensions, xs:any content). Never throws on content.
 */
import { NS } from '../xml/namespaces';
import type { XmlAttribute, XmlElement } from '../xml/parse';
import { resolveQName } from '../xml/query';
import { childType, elementType, namedType, type ComplexInfo, type TypeInfo } from './compiled';
import { decodeSimple } from './values';

type Json = Record<string, unknown>;

/*
 * Keys come from element and attribute names the device chooses, so they may be `constructor`,
 * `toString` or `__proto__`. Results stay plain objects (JSON.stringify, deepEqual and `hasOwnProperty`
 * calls keep working), so presence checks use Object.hasOwn, never `in`, and `putOwn` defines `__proto__`
 * as an own data property instead of letting the assignment replace the prototype.
 */
export function putOwn(out: Json, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/** Attributes that carry data (namespace declarations are already gone; xsi: is schema plumbing). */
function dataAttributes(el: XmlElement): XmlAttribute[] {
  return el.attributes.length ? el.attributes.filter((a) => a.ns !== NS.xsi && a.prefix !== 'xmlns' && a.name !== 'xmlns') : el.attributes;
}

/** Decode without a schema: repeated siblings → array, text-only → trimmed string, attributes kept. */
export function decodeHeuristic(el: XmlElement): unknown {
  const attrs = dataAttributes(el);
  if (el.children.length === 0) {
    const text = el.text.trim();
    if (!attrs.length) return text;
    const out: Json = {};
    for (const a of attrs) putOwn(out, a.local, a.value.trim());
    if (text) out.value = text;
    return out;
  }
  const out: Json = {};
  const arrays = new Set<string>();
  for (const c of el.children) {
    const v = decodeUndeclared(c);
    const k = c.local;
    if (!Object.hasOwn(out, k)) putOwn(out, k, v);
    else if (arrays.has(k)) (out[k] as unknown[]).push(v);
    else {
      out[k] = [out[k], v];
      arrays.add(k);
    }
  }
  for (const a of attrs) putOwn(out, Object.hasOwn(out, a.local) ? `$${a.local}` : a.local, a.value.trim());
  return out;
}

/** A child the parent's type does not declare (wildcard content, vendor additions): typed if it is a known global element. */
function decodeUndeclared(el: XmlElement): unknown {
  const t = elementType(el.ns, el.local);
  return t ? decodeTyped(el, t) : decodeHeuristic(el);
}

function isNil(el: XmlElement): boolean {
  return el.attributes.some((a) => a.ns === NS.xsi && a.local === 'nil' && /^(true|1)$/i.test(a.value.trim()));
}

/** An xsi:type on the element overrides the declared type when we know it. */
function effectiveType(el: XmlElement, declared: TypeInfo): TypeInfo {
  const xsiType = el.attributes.length ? el.attributes.find((a) => a.ns === NS.xsi && a.local === 'type') : undefined;
  if (!xsiType) return declared;
  const q = resolveQName(el, xsiType.value);
  return namedType(q.ns, q.local) ?? declared;
}

/** Decode an element whose type is known. */
export function decodeTyped(el: XmlElement, declared: TypeInfo): unknown {
  if (isNil(el)) return null;
  const t = effectiveType(el, declared);
  if (t.kind === 'any') return decodeHeuristic(el);
  if (t.kind === 'simple') {
    const attrs = dataAttributes(el);
    const value = decodeSimple(el.text, t);
    if (!attrs.length) return value;
    const out: Json = { value };
    for (const a of attrs) putOwn(out, a.local, a.value.trim());
    return out;
  }
  return decodeComplex(el, t);
}

function pad(n: unknown, width = 2): string {
  return String(n).padStart(width, '0');
}

/** tt:DateTime {Date{Year,Month,Day}, Time{Hour,Minute,Second}} → ISO string; undefined when incomplete. */
function dateTimeString(obj: Json, zoned: boolean): string | undefined {
  const d = obj.Date as Json | undefined;
  const t = obj.Time as Json | undefined;
  const nums = [d?.Year, d?.Month, d?.Day, t?.Hour, t?.Minute, t?.Second];
  if (!nums.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) return undefined;
  const [y, mo, da, h, mi, s] = nums as number[];
  return `${pad(y, 4)}-${pad(mo)}-${pad(da)}T${pad(h)}:${pad(mi)}:${pad(s)}${zoned ? 'Z' : ''}`;
}

function decodeComplex(el: XmlElement, t: ComplexInfo): unknown {
  const attrs = dataAttributes(el);
  if (t.simple) {
    const value = decodeSimple(el.text, t.simple);
    if (!attrs.length) return value;
    const out: Json = { value };
    for (const a of attrs) {
      const info = t.attrByLocal.get(a.local);
      putOwn(out, info ? info.key : a.local, info ? decodeSimple(a.value, info.type) : a.value.trim());
    }
    return out;
  }
  const out: Json = {};
  for (const k of t.arrayKeys) out[k] = [];
  let unknownArrays: Set<string> | undefined;
  for (const c of el.children) {
    const info = t.children.get(c.local);
    if (info) {
      const v = decodeTyped(c, childType(info));
      if (info.many) (out[info.key] as unknown[]).push(v);
      else if (!Object.hasOwn(out, info.key)) out[info.key] = v;
      else {
        // A single-valued child sent twice: keep both rather than lose one.
        unknownArrays ??= new Set();
        if (!unknownArrays.has(info.key)) {
          out[info.key] = [out[info.key]];
          unknownArrays.add(info.key);
        }
        (out[info.key] as unknown[]).push(v);
      }
    } else {
      const v = decodeUndeclared(c);
      const k = c.local;
      if (!Object.hasOwn(out, k)) putOwn(out, k, v);
      else {
        unknownArrays ??= new Set();
        if (!unknownArrays.has(k)) {
          out[k] = [out[k]];
          unknownArrays.add(k);
        }
        (out[k] as unknown[]).push(v);
      }
    }
  }
  for (const a of attrs) {
    const info = t.attrByLocal.get(a.local);
    if (info) out[info.key] = decodeSimple(a.value, info.type);
    else putOwn(out, Object.hasOwn(out, a.local) ? `$${a.local}` : a.local, a.value.trim());
  }
  if (el.children.length === 0 && t.mixed) {
    const text = el.text.trim();
    if (text) out.value = text;
  }
  if (t.isDateTime) return dateTimeString(out, el.local !== 'LocalDateTime') ?? out;
  return out;
}

/** Decode an element: by its global declaration when the model has one, else heuristically. */
export function decodeElement(el: XmlElement): unknown {
  const t = elementType(el.ns, el.local);
  return t ? decodeTyped(el, t) : decodeHeuristic(el);
}

/** Decode with a known type (or, failing that, a known global element of that name). */
export function decodeAs(el: XmlElement, type: { ns: string; local: string }): unknown {
  const t = namedType(type.ns, type.local) ?? elementType(type.ns, type.local);
  return t ? decodeTyped(el, t) : decodeHeuristic(el);
}
