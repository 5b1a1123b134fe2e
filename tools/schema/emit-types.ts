/**
 * Write lib/schema/onvif-types.ts: TypeScript types for every operation of the model, the request
 * (what `OnvifDevice.call` accepts as params) and the response (what it returns, as decode.ts makes it).
 *
 * The types are read off the compiled model (lib/schema/compiled.ts), the same structures encode.ts and
 * decode.ts walk, so "always an array", "optional", "number" and "string" here mean what the codec does:
 * - a child that may repeat is `T[]` in a response (decode starts it as `[]`), `T | readonly T[]` in a request;
 * - a child is optional when its minOccurs is 0 or an enclosing sequence is optional or it is one branch of a choice;
 * - booleans, integers and floats are `boolean`/`number`; xs:dateTime and tt:DateTime are ISO strings
 *   (a request also takes a Date); base64/hex are strings (a request also takes a Uint8Array);
 * - simple content with optional attributes is `V | { value: V, ...attributes }`: decode makes the object only
 *   when the element carries attributes;
 * - a type with a wildcard (xs:any; in responses also xs:anyAttribute) gets an index signature: vendor content
 *   lands there.
 */
import { compileSchema, type ChildInfo, type ComplexInfo, type CParticle, type SimpleInfo, type TypeInfo } from '../../lib/schema/compiled';
import type { SchemaModel } from '../../lib/schema/model';
import { SERVICE_ORDER } from '../../lib/schema/operations';

type Direction = 'in' | 'out';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `tt:User` → `TtUser`, in requests `TtUserInput`; characters a TS name cannot hold become `_`. */
function tsName(modelName: string, dir: Direction): string {
  const [prefix, local] = modelName.includes(':') ? modelName.split(':', 2) : ['', modelName];
  const pascal = prefix ? prefix[0].toUpperCase() + prefix.slice(1) : '';
  return `${pascal}${local.replace(/[^A-Za-z0-9_]/g, '_')}${dir === 'in' ? 'Input' : ''}`;
}

function propertyName(key: string): string {
  return IDENTIFIER.test(key) ? key : JSON.stringify(key);
}

function union(parts: string[]): string {
  return [...new Set(parts)].join(' | ');
}

interface Field {
  child: ChildInfo;
  required: boolean;
}

/** Children in schema order, each with whether a well-formed message must carry it. */
function fields(t: ComplexInfo): Field[] {
  const out = new Map<string, Field>();
  const walk = (p: CParticle, required: boolean) => {
    if (p.kind === 'el') {
      if (!out.has(p.child.key)) out.set(p.child.key, { child: p.child, required: required && p.min > 0 });
    } else if (p.kind === 'seq') p.items.forEach((q) => walk(q, required && p.min > 0));
    else if (p.kind === 'choice') p.items.forEach((q) => walk(q, required && p.min > 0 && p.items.length === 1));
  };
  if (t.content) walk(t.content, true);
  for (const child of t.children.values()) if (!out.has(child.key)) out.set(child.key, { child, required: false });
  return [...out.values()];
}

export function formatTypes(model: SchemaModel): string {
  const schema = compileSchema(model);
  /** Named types to write, per direction, in the order first met (deterministic: operations are in WSDL order). */
  const pending: Array<{ name: string; dir: Direction }> = [];
  const queued = new Set<string>();
  const written: string[] = [];
  const taken = new Map<string, string>();

  const isNamed = (name: string) => Object.hasOwn(model.types, name);

  function ref(name: string, dir: Direction): string {
    const ts = tsName(name, dir);
    const owner = taken.get(ts);
    if (owner !== undefined && owner !== name) throw new Error(`TypeScript name ${ts} stands for both ${owner} and ${name}`);
    taken.set(ts, name);
    if (!queued.has(`${dir} ${name}`)) {
      queued.add(`${dir} ${name}`);
      pending.push({ name, dir });
    }
    return ts;
  }

  function simple(t: SimpleInfo, dir: Direction, top = false): string {
    if (!top && isNamed(t.name)) return ref(t.name, dir);
    if (t.list) {
      const item = simple(t.list, dir);
      const array = /[ |]/.test(item) ? `Array<${item}>` : `${item}[]`;
      return dir === 'out' ? array : `readonly ${array} | string`;
    }
    if (t.union) return union(t.union.map((m) => simple(m, dir)));
    if (t.enum && (t.prim === 'string' || t.prim === 'qname')) {
      // The same in both directions, so an answer can be changed and sent back (GetNTP → SetNTP).
      return union(t.enum.map((v) => JSON.stringify(v)));
    }
    switch (t.prim) {
      case 'boolean':
        return 'boolean';
      case 'int':
      case 'float':
        return 'number';
      case 'dateTime':
        return dir === 'out' ? 'string' : 'string | Date';
      case 'base64':
      case 'hex':
        return dir === 'out' ? 'string' : 'string | Uint8Array';
      default:
        return 'string';
    }
  }

  function type(t: TypeInfo, dir: Direction, top = false): string {
    if (t.kind === 'any') return 'unknown';
    if (t.kind === 'simple') return simple(t, dir, top);
    if (!top && isNamed(t.name)) return ref(t.name, dir);
    return complex(t, dir);
  }

  function complex(t: ComplexInfo, dir: Direction): string {
    const attributes = t.attrs.map((a) => `${propertyName(a.key)}${a.required ? '' : '?'}: ${simple(a.type, dir)}`);
    if (t.simple) {
      const value = simple(t.simple, dir);
      if (!t.attrs.length && !t.anyAttribute) return value;
      // Unknown attributes are decoded (anyAttribute) but refused by encode.
      const open = t.anyAttribute && dir === 'out' ? '; [attribute: string]: unknown' : '';
      const object = `{ value: ${value}${attributes.map((a) => `; ${a}`).join('')}${open} }`;
      return t.attrs.some((a) => a.required) ? object : `${value} | ${object}`;
    }
    const lines: string[] = [];
    for (const { child, required } of fields(t)) {
      const item = type(childTypeOf(child), dir);
      const wrapped = /[ |&]/.test(item) && !item.startsWith('{') ? `(${item})` : item;
      if (child.many) {
        if (dir === 'out') lines.push(`${propertyName(child.key)}: ${wrapped}[]`);
        else lines.push(`${propertyName(child.key)}${required ? '' : '?'}: ${item} | readonly ${wrapped}[]`);
      } else lines.push(`${propertyName(child.key)}${required ? '' : '?'}: ${item}`);
    }
    lines.push(...attributes);
    if (t.mixed && !t.children.has('value')) lines.push('value?: string');
    // decode keeps whatever a wildcard or anyAttribute let in; encode takes extra keys only for a wildcard (xs:any).
    if (t.wildcard || (t.anyAttribute && dir === 'out')) lines.push('[extension: string]: unknown');
    const object = lines.length ? `{\n${lines.map((l) => `  ${indent(l)};`).join('\n')}\n}` : 'Record<string, never>';
    if (!t.isDateTime) return object;
    // decode turns a complete Date/Time structure into an ISO string; encode takes a string, a Date or the structure.
    return dir === 'out' ? 'string' : `string | Date | ${object}`;
  }

  const childTypeOf = (c: ChildInfo) => schema.childType(c);

  // One entry per bare operation name, resolved the way findOperation resolves it (device first).
  const byName = new Map<string, SchemaModel['operations'][number]>();
  for (const service of SERVICE_ORDER) {
    for (const op of model.operations) if (op[0] === service && !byName.has(op[1])) byName.set(op[1], op);
  }
  const entries: string[] = [];
  for (const [name, [service, , input, output]] of byName) {
    const request = type(elementTypeOf(input), 'in');
    const response = type(elementTypeOf(output), 'out');
    entries.push(`  /** ${service} service: ${input} → ${output} */\n  ${name}: {\n    request: ${indent(request, 2)};\n    response: ${indent(response, 2)};\n  };`);
  }

  function elementTypeOf(modelName: string): TypeInfo {
    const { ns, local } = schema.splitModelName(modelName);
    const t = schema.elementType(ns, local);
    if (!t) throw new Error(`element ${modelName} is not in the model`);
    return t;
  }

  while (pending.length) {
    const { name, dir } = pending.shift()!;
    const body = type(schema.typeInfo(name), dir, true);
    const ts = tsName(name, dir);
    const doc = `/** ${name}${dir === 'in' ? ', as a request takes it' : ''} */`;
    written.push(body.startsWith('{') ? `${doc}\nexport interface ${ts} ${body}` : `${doc}\nexport type ${ts} = ${body};`);
  }

  return [
    HEADER,
    'export interface OnvifOperations {',
    entries.join('\n'),
    '}',
    '',
    '/** Operation names `OnvifDevice.call` knows the types of (bare names; qualified ones such as `tev:Renew` stay untyped). */',
    'export type OperationName = keyof OnvifOperations;',
    '/** What `call(name, params)` takes as params: the normalised JSON encode.ts turns into the request. */',
    "export type OperationRequest<K extends string> = K extends OperationName ? OnvifOperations[K]['request'] : Record<string, unknown>;",
    '/** What `call(name)` resolves to: the normalised JSON decode.ts makes of the answer. */',
    "export type OperationResult<K extends string> = K extends OperationName ? OnvifOperations[K]['response'] : any;",
    '',
    written.join('\n\n'),
    '',
  ].join('\n');
}

function indent(body: string, levels = 1): string {
  return body.replace(/\n/g, `\n${'  '.repeat(levels)}`);
}

const HEADER = `/* eslint-disable */
/**
 * Generated by tools/schema/generate.ts from the official ONVIF WSDL/XSD (\`npm run schema\`): do not edit.
 *
 * Per operation, the request \`OnvifDevice.call\` takes and the normalised result it returns: plain JSON,
 * no prefixes, repeated children always arrays, booleans and numbers typed, times as ISO-8601 strings.
 * The types describe a well-formed answer: decode never throws, so a value the device writes wrongly
 * (\`yes\` for a boolean, \`INF\` for a float) stays the device's text, and a required child the device leaves
 * out is missing. Vendor elements land in the index signature of types with a wildcard, or as extra keys.
 */
`;
