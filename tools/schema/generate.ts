/**
 * Maintainer tool, not shipped: derive the compact schema model `lib/schema/onvif-schema.json` and the
 * operation types `lib/schema/onvif-types.ts` from the official ONVIF WSDL/XSD.
 *
 *   npm run schema [-- wsdlDir]      (default: <repo>/../shared/onvif/wsdl)
 *
 * Only what the device, event, application-management and advanced-security services can reach from
 * their messages is kept, so the committed JSON stays small and the product never needs the WSDL
 * files at run time. The JSON layout is described by `SchemaModel` in lib/schema/model.ts.
 * Importing this file does nothing; it runs only as a script.
 */
import * as fs from 'fs';
import * as path from 'path';
import { NS, PREFIX_FOR_NS } from '../../lib/xml/namespaces';
import { parseXml, type XmlElement } from '../../lib/xml/parse';
import { resolveQName } from '../../lib/xml/query';
import type { ComplexTypeDef, OperationRow, Particle, SchemaModel, SimpleTypeDef, TypeRef } from '../../lib/schema/model';
import { formatTypes } from './emit-types';

const XS = NS.xs;
const WSDL = 'http://schemas.xmlsoap.org/wsdl/';
const WSDL_SOAP12 = 'http://schemas.xmlsoap.org/wsdl/soap12/';
const WSAW = 'http://www.w3.org/2006/05/addressing/wsdl';
const XMIME = 'http://www.w3.org/2005/05/xmlmime';
const XOP = 'http://www.w3.org/2004/08/xop/include';

/** Prefixes used for QNames inside the model; every namespace we may meet needs one. */
const MODEL_PREFIX: Record<string, string> = {
  ...PREFIX_FOR_NS,
  [NS.wsa2004]: 'wsa04',
  [NS.wsrfr]: 'wsrfr',
  [NS.wsrfbf]: 'wsrfbf',
  [XMIME]: 'xmime',
  [XOP]: 'xop',
};

/**
 * Attributes that older ONVIF releases defined and the current WSDL/XSD no longer has, but that deployed
 * firmware still sends: every events and device GetServiceCapabilities capture in shared/fixtures/real has
 * them (Hikvision, Pelco, TRENDnet, Sunba, unbranded). They are added to the compiled type as that release
 * typed them, so `WSPullPointSupport="true"` decodes to `true` like its neighbours instead of staying the
 * device's text. `definedIn` names a release known to define it; should the current schema define the name
 * again, its definition wins and the generator warns.
 */
export const LEGACY_ATTRIBUTES: ReadonlyArray<{ type: QN; name: string; xsType: string; definedIn: string }> = [
  // Not in event.wsdl 24.12, the version the 26.06 release ships.
  { type: { ns: NS.tev, local: 'Capabilities' }, name: 'WSPullPointSupport', xsType: 'boolean', definedIn: 'event.wsdl 20.06' },
  // "Indicates support for firmware upgrade through MTOM"; not in devicemgmt.wsdl 26.06.
  { type: { ns: NS.tds, local: 'SystemCapabilities' }, name: 'FirmwareUpgrade', xsType: 'boolean', definedIn: 'devicemgmt.wsdl 19.12' },
];

interface SchemaDoc {
  el: XmlElement;
  tns: string;
  qualifiedElements: boolean;
  qualifiedAttributes: boolean;
}

interface Decl {
  el: XmlElement;
  schema: SchemaDoc;
}

type QN = { ns: string; local: string };

function key(ns: string, local: string): string {
  return `{${ns}}${local}`;
}

function isXs(e: XmlElement, local: string): boolean {
  return e.ns === XS && e.local === local;
}

function attrOf(e: XmlElement, name: string): string | undefined {
  return e.attributes.find((a) => a.local === name && a.ns === '')?.value;
}

function xsChildren(e: XmlElement): XmlElement[] {
  return e.children.filter((c) => c.ns === XS && c.local !== 'annotation');
}

export class SchemaCompiler {
  private readonly elements = new Map<string, Decl>();
  private readonly types = new Map<string, Decl>();
  private readonly attributes = new Map<string, Decl>();
  readonly warnings: string[] = [];

  private readonly outElements: Record<string, TypeRef> = {};
  private readonly outTypes: Record<string, ComplexTypeDef | SimpleTypeDef> = {};
  private readonly typeQueue: QN[] = [];
  private readonly queuedTypes = new Set<string>();
  private readonly usedPrefixes = new Set<string>();

  addSchema(schemaEl: XmlElement): void {
    const doc: SchemaDoc = {
      el: schemaEl,
      tns: attrOf(schemaEl, 'targetNamespace') ?? '',
      qualifiedElements: attrOf(schemaEl, 'elementFormDefault') === 'qualified',
      qualifiedAttributes: attrOf(schemaEl, 'attributeFormDefault') === 'qualified',
    };
    for (const c of xsChildren(schemaEl)) {
      const name = attrOf(c, 'name');
      if (!name) continue;
      const k = key(doc.tns, name);
      if (isXs(c, 'element')) this.elements.set(k, { el: c, schema: doc });
      else if (isXs(c, 'complexType') || isXs(c, 'simpleType')) this.types.set(k, { el: c, schema: doc });
      else if (isXs(c, 'attribute')) this.attributes.set(k, { el: c, schema: doc });
    }
  }

  /** Add every xs:schema found in a file (a .xsd root or the schemas embedded in a WSDL). */
  addFile(file: string): XmlElement {
    const root = parseXml(fs.readFileSync(file));
    const walk = (e: XmlElement) => {
      if (isXs(e, 'schema')) this.addSchema(e);
      else for (const c of e.children) walk(c);
    };
    walk(root);
    return root;
  }

  /** QName in model notation, `tt:User`, or `User` for no namespace. */
  private q(ns: string, local: string): string {
    if (!ns) return local;
    const p = MODEL_PREFIX[ns];
    if (!p) throw new Error(`no model prefix for namespace ${ns}`);
    this.usedPrefixes.add(p);
    return `${p}:${local}`;
  }

  elementNames(ns: string): string[] {
    const prefix = `{${ns}}`;
    return [...this.elements.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  hasElement(ns: string, local: string): boolean {
    return this.elements.has(key(ns, local));
  }

  /** Register a global element (and everything its type reaches); returns its model name. */
  element(ns: string, local: string): string {
    const name = this.q(ns, local);
    if (name in this.outElements) return name;
    const d = this.elements.get(key(ns, local));
    if (!d) {
      this.warnings.push(`element {${ns}}${local} not found; treated as xs:anyType`);
      this.outElements[name] = 'xs:anyType';
      return name;
    }
    this.outElements[name] = 'xs:anyType'; // placeholder against recursion
    this.outElements[name] = this.typeOfDecl(d.el, d.schema, `${name}~`);
    return name;
  }

  /** Type of an element/attribute declaration: its @type name, or its anonymous type definition inline. */
  private typeOfDecl(decl: XmlElement, schema: SchemaDoc, anonName: string): TypeRef {
    const t = attrOf(decl, 'type');
    if (t) return this.typeRef(decl, t);
    const inline = xsChildren(decl).find((c) => isXs(c, 'complexType') || isXs(c, 'simpleType'));
    if (!inline) return isXs(decl, 'attribute') ? 'xs:anySimpleType' : 'xs:anyType';
    return isXs(inline, 'complexType') ? this.complexType(inline, schema, anonName) : this.simpleType(inline, schema, anonName);
  }

  /** Resolve a type QName written in the schema, queueing named types for compilation. */
  private typeRef(ctx: XmlElement, value: string): string {
    const { ns, local } = resolveQName(ctx, value);
    if (ns === XS) return `xs:${local}`;
    const k = key(ns, local);
    if (!this.types.has(k)) {
      this.warnings.push(`type {${ns}}${local} not found; treated as xs:anyType`);
      return 'xs:anyType';
    }
    if (!this.queuedTypes.has(k)) {
      this.queuedTypes.add(k);
      this.typeQueue.push({ ns, local });
    }
    return this.q(ns, local);
  }

  /** Compile queued named types until nothing new is reachable. */
  drain(): void {
    while (this.typeQueue.length) {
      const { ns, local } = this.typeQueue.shift()!;
      const d = this.types.get(key(ns, local))!;
      const name = this.q(ns, local);
      if (isXs(d.el, 'complexType')) {
        const def = this.complexType(d.el, d.schema, name);
        this.addLegacyAttributes(ns, local, def);
        this.outTypes[name] = def;
      } else this.outTypes[name] = this.simpleType(d.el, d.schema, name);
    }
  }

  private readonly legacyApplied = new Set<(typeof LEGACY_ATTRIBUTES)[number]>();

  private addLegacyAttributes(ns: string, local: string, def: ComplexTypeDef): void {
    for (const legacy of LEGACY_ATTRIBUTES) {
      if (legacy.type.ns !== ns || legacy.type.local !== local) continue;
      this.legacyApplied.add(legacy);
      if (def.a?.some(([name]) => name === legacy.name)) {
        this.warnings.push(`legacy attribute ${legacy.name} of ${this.q(ns, local)} is in the current schema again; remove it from LEGACY_ATTRIBUTES`);
        continue;
      }
      (def.a ??= []).push([legacy.name, `xs:${legacy.xsType}`]);
    }
  }

  private occurs(e: XmlElement, p: { n?: number; x?: number }): void {
    const min = attrOf(e, 'minOccurs');
    const max = attrOf(e, 'maxOccurs');
    if (min !== undefined && min !== '1') p.n = Number(min);
    if (max !== undefined && max !== '1') p.x = max === 'unbounded' ? -1 : Number(max);
  }

  private particle(e: XmlElement, schema: SchemaDoc, owner: string): Particle | undefined {
    if (isXs(e, 'element')) {
      const ref = attrOf(e, 'ref');
      let p: Particle;
      if (ref) {
        const r = resolveQName(e, ref);
        const name = this.element(r.ns, r.local);
        p = { e: name, t: this.outElements[name] };
      } else {
        const local = attrOf(e, 'name')!;
        const form = attrOf(e, 'form');
        const qualified = form ? form === 'qualified' : schema.qualifiedElements;
        p = { e: qualified ? this.q(schema.tns, local) : local, t: this.typeOfDecl(e, schema, `${owner}/${local}`) };
      }
      this.occurs(e, p);
      return p;
    }
    if (isXs(e, 'sequence') || isXs(e, 'all') || isXs(e, 'choice')) {
      const parts = xsChildren(e)
        .map((c) => this.particle(c, schema, owner))
        .filter((x): x is Particle => !!x);
      const p: Particle = isXs(e, 'choice') ? { c: parts } : { s: parts };
      this.occurs(e, p);
      return p;
    }
    if (isXs(e, 'any')) {
      const p: Particle = { any: attrOf(e, 'namespace') ?? '##any' };
      this.occurs(e, p);
      return p;
    }
    if (isXs(e, 'group')) this.warnings.push(`xs:group in ${owner} not supported`);
    return undefined;
  }

  /** Attributes and anyAttribute of a complexType/extension/restriction node. */
  private attrs(node: XmlElement, schema: SchemaDoc, owner: string, out: ComplexTypeDef): void {
    for (const c of xsChildren(node)) {
      if (isXs(c, 'anyAttribute')) out.aa = 1;
      if (!isXs(c, 'attribute')) continue;
      if (attrOf(c, 'use') === 'prohibited') continue;
      const ref = attrOf(c, 'ref');
      let name: string;
      let type: TypeRef;
      if (ref) {
        const r = resolveQName(c, ref);
        const d = this.attributes.get(key(r.ns, r.local));
        name = this.q(r.ns, r.local);
        type = d ? this.typeOfDecl(d.el, d.schema, `${name}@`) : 'xs:string';
        if (!d && r.ns !== NS.xml) this.warnings.push(`attribute {${r.ns}}${r.local} not found; treated as xs:string`);
      } else {
        const local = attrOf(c, 'name')!;
        const form = attrOf(c, 'form');
        const qualified = form ? form === 'qualified' : schema.qualifiedAttributes;
        name = qualified ? this.q(schema.tns, local) : local;
        type = this.typeOfDecl(c, schema, `${owner}@${local}`);
      }
      (out.a ??= []).push(attrOf(c, 'use') === 'required' ? [name, type, 1] : [name, type]);
    }
  }

  private complexType(ct: XmlElement, schema: SchemaDoc, name: string): ComplexTypeDef {
    const out: ComplexTypeDef = {};
    if (attrOf(ct, 'mixed') === 'true') out.m = 1;
    for (const c of xsChildren(ct)) {
      if (isXs(c, 'complexContent') || isXs(c, 'simpleContent')) {
        if (attrOf(c, 'mixed') === 'true') out.m = 1;
        const der = xsChildren(c).find((d) => isXs(d, 'extension') || isXs(d, 'restriction'));
        if (!der) continue;
        const base = this.typeRef(der, attrOf(der, 'base') ?? 'xs:anyType');
        if (isXs(c, 'simpleContent')) {
          out.sc = base;
        } else if (base !== 'xs:anyType') {
          out.b = base;
          if (isXs(der, 'restriction')) out.r = 1;
        }
        for (const d of xsChildren(der)) {
          const p = this.particle(d, schema, name);
          if (p) out.p = p;
        }
        this.attrs(der, schema, name, out);
      } else {
        const p = this.particle(c, schema, name);
        if (p) out.p = p;
      }
    }
    this.attrs(ct, schema, name, out);
    return out;
  }

  private simpleType(st: XmlElement, schema: SchemaDoc, name: string): SimpleTypeDef {
    const out: SimpleTypeDef = { k: 's' };
    for (const c of xsChildren(st)) {
      if (isXs(c, 'restriction')) {
        const base = attrOf(c, 'base');
        if (base) out.b = this.typeRef(c, base);
        for (const f of xsChildren(c)) {
          const v = attrOf(f, 'value');
          if (isXs(f, 'simpleType')) out.b = this.typeOfInline(f, schema, `${name}^`);
          else if (v === undefined) continue;
          else if (isXs(f, 'enumeration')) (out.en ??= []).push(v);
          else if (isXs(f, 'minInclusive')) out.mi = Number(v);
          else if (isXs(f, 'maxInclusive')) out.ma = Number(v);
          else if (isXs(f, 'length')) out.len = Number(v);
          else if (isXs(f, 'minLength')) out.minL = Number(v);
          else if (isXs(f, 'maxLength')) out.maxL = Number(v);
          else if (isXs(f, 'pattern')) out.pat = v.trim();
        }
      } else if (isXs(c, 'list')) {
        const item = attrOf(c, 'itemType');
        const inline = xsChildren(c).find((d) => isXs(d, 'simpleType'));
        out.l = item ? this.typeRef(c, item) : inline ? this.typeOfInline(inline, schema, `${name}*`) : 'xs:string';
      } else if (isXs(c, 'union')) {
        const members: TypeRef[] = (attrOf(c, 'memberTypes') ?? '').split(/\s+/).filter(Boolean).map((m) => this.typeRef(c, m));
        xsChildren(c)
          .filter((d) => isXs(d, 'simpleType'))
          .forEach((d, i) => members.push(this.typeOfInline(d, schema, `${name}|${i}`)));
        out.u = members;
      }
    }
    return out;
  }

  private typeOfInline(st: XmlElement, schema: SchemaDoc, name: string): SimpleTypeDef {
    return this.simpleType(st, schema, name);
  }

  /** Also keep a named type that decodeAs callers ask for by name. */
  namedType(ns: string, local: string): void {
    const k = key(ns, local);
    if (!this.types.has(k) || this.queuedTypes.has(k)) return;
    this.queuedTypes.add(k);
    this.typeQueue.push({ ns, local });
  }

  result(operations: OperationRow[]): SchemaModel {
    this.drain();
    for (const legacy of LEGACY_ATTRIBUTES) {
      if (!this.legacyApplied.has(legacy)) this.warnings.push(`legacy attribute ${legacy.name}: type {${legacy.type.ns}}${legacy.type.local} is not in the model`);
    }
    const ns: Record<string, string> = {};
    for (const [uri, p] of Object.entries(MODEL_PREFIX)) if (this.usedPrefixes.has(p)) ns[p] = uri;
    const sortObj = <T>(o: Record<string, T>) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
    return { version: 1, ns, elements: sortObj(this.outElements), types: sortObj(this.outTypes), operations };
  }

  modelName(ns: string, local: string): string {
    return this.q(ns, local);
  }
}

/** Which of our services a WSDL binding belongs to; bindings not listed are not modelled. */
const BINDING_SERVICE: Record<string, OperationRow[0]> = {
  DeviceBinding: 'device',
  EventBinding: 'events',
  NotificationProducerBinding: 'events',
  PullPointSubscriptionBinding: 'pullpoint',
  SubscriptionManagerBinding: 'subscription',
  PausableSubscriptionManagerBinding: 'subscription',
  AppManagementBinding: 'appmgmt',
  AdvancedSecurityServiceBinding: 'advancedsecurity',
  JWTBinding: 'advancedsecurity',
  KeystoreBinding: 'advancedsecurity',
  TLSServerBinding: 'advancedsecurity',
  Dot1XBinding: 'advancedsecurity',
  MediaSigningBinding: 'advancedsecurity',
  AuthorizationServerBinding: 'advancedsecurity',
};

interface WsdlDefs {
  messages: Map<string, QN>;
  portTypes: Map<string, XmlElement>;
  bindings: XmlElement[];
}

function wsdlChildren(e: XmlElement, local: string): XmlElement[] {
  return e.children.filter((c) => c.ns === WSDL && c.local === local);
}

function readWsdl(root: XmlElement, defs: WsdlDefs): void {
  const tns = attrOf(root, 'targetNamespace') ?? '';
  for (const m of wsdlChildren(root, 'message')) {
    const part = wsdlChildren(m, 'part')[0];
    const elName = part && attrOf(part, 'element');
    if (elName) defs.messages.set(key(tns, attrOf(m, 'name')!), resolveQName(part, elName));
  }
  for (const pt of wsdlChildren(root, 'portType')) defs.portTypes.set(key(tns, attrOf(pt, 'name')!), pt);
  defs.bindings.push(...wsdlChildren(root, 'binding'));
}

function collectOperations(defs: WsdlDefs, compiler: SchemaCompiler, out: OperationRow[]): void {
  for (const b of defs.bindings) {
    const service = BINDING_SERVICE[attrOf(b, 'name') ?? ''];
    if (!service) continue;
    const ptName = resolveQName(b, attrOf(b, 'type')!);
    const pt = defs.portTypes.get(key(ptName.ns, ptName.local));
    if (!pt) throw new Error(`portType ${ptName.local} of binding ${attrOf(b, 'name')} not found`);
    for (const bop of wsdlChildren(b, 'operation')) {
      const name = attrOf(bop, 'name')!;
      if (out.some((o) => o[0] === service && o[1] === name)) continue; // Renew/Unsubscribe appear in two managers
      const pop = wsdlChildren(pt, 'operation').find((o) => attrOf(o, 'name') === name);
      if (!pop) throw new Error(`operation ${name} missing from portType ${ptName.local}`);
      const msg = (local: string) => {
        const io = wsdlChildren(pop, local)[0];
        if (!io) return undefined;
        const m = resolveQName(io, attrOf(io, 'message')!);
        const el = defs.messages.get(key(m.ns, m.local));
        if (!el) throw new Error(`message ${m.local} of ${name} not found`);
        return { el, action: io.attributes.find((a) => a.ns === WSAW && a.local === 'Action')?.value };
      };
      const input = msg('input');
      const output = msg('output');
      if (!input || !output) continue; // one-way operations (Notify) are not request/response calls
      const soapOp = bop.children.find((c) => c.ns === WSDL_SOAP12 && c.local === 'operation');
      const action = (soapOp && attrOf(soapOp, 'soapAction')) || input.action || '';
      out.push([service, name, compiler.element(input.el.ns, input.el.local), compiler.element(output.el.ns, output.el.local), action]);
    }
  }
}

export function generateModel(wsdlDir: string): { model: SchemaModel; warnings: string[] } {
  const at = (...p: string[]) => path.join(wsdlDir, ...p);
  const compiler = new SchemaCompiler();
  const xsds = [
    at('ver10/schema/onvif.xsd'),
    at('ver10/schema/common.xsd'),
    at('external/docs.oasis-open.org/wsn/b-2.xsd'),
    at('external/docs.oasis-open.org/wsn/t-1.xsd'),
    at('external/docs.oasis-open.org/wsrf/r-2.xsd'),
    at('external/docs.oasis-open.org/wsrf/bf-2.xsd'),
    at('external/www.w3.org/2005/08/addressing/ws-addr.xsd'),
    at('external/www.w3.org/2005/05/xmlmime.xsd'),
    at('external/www.w3.org/2004/08/xop/include.xsd'),
  ];
  for (const f of xsds) compiler.addFile(f);
  const defs: WsdlDefs = { messages: new Map(), portTypes: new Map(), bindings: [] };
  // bw-2.wsdl supplies the WS-BaseNotification portTypes and messages that event.wsdl binds.
  readWsdl(compiler.addFile(at('external/docs.oasis-open.org/wsn/bw-2.wsdl')), defs);
  const services = [
    'ver10/device/wsdl/devicemgmt.wsdl',
    'ver10/events/wsdl/event.wsdl',
    'ver10/appmgmt/wsdl/appmgmt.wsdl',
    'ver10/advancedsecurity/wsdl/advancedsecurity.wsdl',
  ];
  for (const f of services) readWsdl(compiler.addFile(at(f)), defs);
  const operations: OperationRow[] = [];
  collectOperations(defs, compiler, operations);

  // Elements that appear inside wildcards (filters, notifications, addressing headers) and
  // that callers decode or build on their own.
  const extraElements: Array<[string, string]> = [
    [NS.wsnt, 'TopicExpression'],
    [NS.wsnt, 'MessageContent'],
    [NS.wsnt, 'ProducerProperties'],
    [NS.wsnt, 'Notify'],
    [NS.wsnt, 'NotificationMessage'],
    [NS.wsnt, 'SubscriptionReference'],
    [NS.wsnt, 'SubscriptionPolicy'],
    [NS.wsa, 'EndpointReference'],
    [NS.wsa, 'Action'],
    [NS.wsa, 'To'],
    [NS.wsa, 'MessageID'],
    [NS.wsa, 'ReplyTo'],
    [NS.wsa, 'RelatesTo'],
    [NS.tt, 'Message'],
  ];
  for (const [ns, local] of extraElements) if (compiler.hasElement(ns, local)) compiler.element(ns, local);
  // Every global element of the four services: some only ever appear inside wildcards, such as
  // tds:Capabilities inside a GetServices answer.
  for (const ns of [NS.tds, NS.tev, NS.ans, NS.tas]) for (const local of compiler.elementNames(ns)) compiler.element(ns, local);
  compiler.namedType(NS.tt, 'DateTime');
  compiler.namedType(NS.tt, 'ItemList');
  return { model: compiler.result(operations), warnings: compiler.warnings };
}

/** One line per element/type/operation: small diffs when the schemas change. */
export function formatModel(model: SchemaModel): string {
  const block = (o: Record<string, unknown>) =>
    '{\n' + Object.entries(o).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',\n') + '\n}';
  return (
    '{\n' +
    `"version":${model.version},\n` +
    `"ns":${JSON.stringify(model.ns)},\n` +
    `"elements":${block(model.elements)},\n` +
    `"types":${block(model.types)},\n` +
    `"operations":[\n${model.operations.map((o) => JSON.stringify(o)).join(',\n')}\n]\n}\n`
  );
}

/** Where the generated files go. */
export const SCHEMA_DIR = path.resolve(__dirname, '../../lib/schema');
export const MODEL_FILE = path.join(SCHEMA_DIR, 'onvif-schema.json');
export const TYPES_FILE = path.join(SCHEMA_DIR, 'onvif-types.ts');

/** Both generated files' text, from the WSDL tree at `wsdlDir`. */
export function generateFiles(wsdlDir: string): { model: SchemaModel; modelText: string; typesText: string; warnings: string[] } {
  const { model, warnings } = generateModel(wsdlDir);
  return { model, modelText: formatModel(model), typesText: formatTypes(model), warnings };
}

function main(): void {
  const wsdlDir = path.resolve(process.argv[2] ?? path.resolve(__dirname, '../../../shared/onvif/wsdl'));
  if (!fs.existsSync(path.join(wsdlDir, 'ver10/device/wsdl/devicemgmt.wsdl'))) {
    console.error(`generate: ${wsdlDir} does not hold the ONVIF WSDL tree (ver10/device/wsdl/devicemgmt.wsdl missing)`);
    process.exit(2);
  }
  const { model, modelText, typesText, warnings } = generateFiles(wsdlDir);
  for (const w of warnings) console.error(`warning: ${w}`);
  fs.writeFileSync(MODEL_FILE, modelText);
  fs.writeFileSync(TYPES_FILE, typesText);
  const count = (s: string) => model.operations.filter((o) => o[0] === s).length;
  console.log(
    `wrote ${path.relative(process.cwd(), MODEL_FILE)}: ${modelText.length} bytes, ${Object.keys(model.elements).length} elements, ` +
      `${Object.keys(model.types).length} types, ${model.operations.length} operations ` +
      `(device ${count('device')}, events ${count('events')}, pullpoint ${count('pullpoint')}, subscription ${count('subscription')}, ` +
      `appmgmt ${count('appmgmt')}, advancedsecurity ${count('advancedsecurity')})`,
  );
  console.log(`wrote ${path.relative(process.cwd(), TYPES_FILE)}: ${typesText.length} bytes`);
}

if (require.main === module) main();
