/**
 * Test helper: a valid sample value for any type of the schema model. `required` mode fills only
 * what the schema demands; `full` mode also fills optional fields (bounded depth), to exercise
 * ordering, namespaces and attributes across whole type trees.
 */
import { el } from '../../lib/xml/build';
import { childType, elementType, type ComplexInfo, type CParticle, type SimpleInfo, type TypeInfo } from '../../lib/schema/compiled';

export type SampleMode = 'required' | 'full';

/** Values for the few pattern-restricted types in the model. */
const PATTERN_SAMPLES: Record<string, string> = {
  '[ -~]{8,63}': 'sample passphrase',
  '[0-9]+(.[0-9]+)*': '1.2.840.113549',
};

export function sampleSimple(t: SimpleInfo): unknown {
  if (t.enum?.length) return t.enum[0];
  if (t.list) return [sampleSimple(t.list), sampleSimple(t.list)];
  if (t.union) return sampleSimple(t.union[0]);
  if (t.pattern) {
    const v = PATTERN_SAMPLES[t.pattern];
    if (v === undefined) throw new Error(`sample helper: no sample for pattern ${t.pattern} (${t.name})`);
    return v;
  }
  switch (t.prim) {
    case 'boolean':
      return true;
    case 'int': {
      const lo = t.min ?? 0;
      const hi = t.max ?? 1e9;
      return Math.min(Math.max(2, lo), hi);
    }
    case 'float':
      return Math.min(Math.max(1.5, t.min ?? -Infinity), t.max ?? Infinity);
    case 'dateTime':
      return '2024-01-31T12:34:56Z';
    case 'base64':
      return Buffer.from('sample').toString('base64');
    case 'hex':
      return 'AB'.repeat(t.minLength ?? 2);
    case 'qname':
      return 'tt:Sample';
  }
  switch (t.xsd) {
    case 'anyURI':
      return 'http://example.com/sample';
    case 'duration':
      return 'PT10S';
    case 'date':
      return '2024-01-31';
    case 'time':
      return '12:34:56';
    case 'language':
      return 'en';
  }
  const s = 'sample';
  if (t.minLength && s.length < t.minLength) return s.padEnd(t.minLength, 'x');
  if (t.maxLength !== undefined && s.length > t.maxLength) return s.slice(0, t.maxLength);
  return s;
}

function sampleAttrs(t: ComplexInfo, out: Record<string, unknown>, mode: SampleMode): void {
  for (const a of t.attrs) if (a.required || mode === 'full') out[a.key] = sampleSimple(a.type);
}

function sampleParticle(p: CParticle, out: Record<string, unknown>, mode: SampleMode, depth: number, seen: Set<string>): void {
  if (p.kind === 'any') {
    // A required wildcard gets a vendor element, passed through as an XmlNode.
    if (p.min > 0) out.VendorSample = el('urn:example:vendor', 'VendorSample', { level: 1 }, 'x');
    return;
  }
  if (p.kind === 'el') {
    if (p.min === 0 && (mode === 'required' || depth > 5)) return;
    const t = childType(p.child);
    // Break recursion through optional self-referencing types.
    if (p.min === 0 && t.kind === 'complex' && seen.has(t.name) && t.name !== 'anonymous type') return;
    const v = sampleFor(t, mode, depth + 1, seen);
    out[p.child.key] = p.child.many ? [v] : v;
    return;
  }
  if (p.min === 0 && mode === 'required') return;
  if (p.kind === 'choice') {
    const first = p.items[0];
    if (first) sampleParticle(first, out, mode, depth, seen);
    return;
  }
  for (const q of p.items) sampleParticle(q, out, mode, depth, seen);
}

export function sampleFor(t: TypeInfo, mode: SampleMode = 'required', depth = 0, seen = new Set<string>()): unknown {
  if (t.kind === 'any') return 'sample';
  if (t.kind === 'simple') return sampleSimple(t);
  if (t.isDateTime) return '2024-01-31T12:34:56Z';
  const out: Record<string, unknown> = {};
  sampleAttrs(t, out, mode);
  if (t.simple) {
    out.value = sampleSimple(t.simple);
    return out;
  }
  const inner = new Set(seen).add(t.name);
  if (t.content) sampleParticle(t.content, out, mode, depth, inner);
  if (t.mixed && t.attrs.length && !t.content?.kind) out.value = 'sample';
  return out;
}

export function sampleElement(ns: string, local: string, mode: SampleMode = 'required'): unknown {
  const t = elementType(ns, local);
  if (!t) throw new Error(`sample helper: no element {${ns}}${local}`);
  return sampleFor(t, mode);
}
