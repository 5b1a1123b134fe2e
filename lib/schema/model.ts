/**
 * Layout of `onvif-schema.json`, the compact schema model written by tools/schema/generate.ts.
 *
 * QNames are written `prefix:Local` with the prefixes of `ns`; built-in XSD types are `xs:int` etc.
 * A local element name without a prefix is unqualified (appmgmt's schema has no
 * elementFormDefault="qualified"). Anonymous types are written inline where they are used.
 */
export interface SchemaModel {
  version: number;
  /** prefix → namespace URI */
  ns: Record<string, string>;
  /** global element → its type */
  elements: Record<string, TypeRef>;
  types: Record<string, ComplexTypeDef | SimpleTypeDef>;
  operations: OperationRow[];
}

/** [service, operation name, input element, output element, soapAction] */
export type OperationRow = [
  'device' | 'events' | 'pullpoint' | 'subscription' | 'appmgmt' | 'advancedsecurity',
  string,
  string,
  string,
  string,
];

/** min (`n`, default 1) and max (`x`, default 1, -1 = unbounded) occurrences */
export interface Occurs {
  n?: number;
  x?: number;
}

/** A named type (`tt:User`, `xs:int`) or an anonymous type written in place. */
export type TypeRef = string | ComplexTypeDef | SimpleTypeDef;

export type Particle =
  | ({ e: string; t: TypeRef } & Occurs) // element: name (prefixed when qualified) and type
  | ({ s: Particle[] } & Occurs) // sequence (or xs:all)
  | ({ c: Particle[] } & Occurs) // choice
  | ({ any: string } & Occurs); // wildcard with its namespace constraint

export interface ComplexTypeDef {
  k?: undefined;
  /** complexContent base type */
  b?: string;
  /** 1 when derived by restriction (content replaced, attributes inherited) */
  r?: 1;
  /** simpleContent: type of the text (a simple type, or a complex type with simple content) */
  sc?: TypeRef;
  /** content model */
  p?: Particle;
  /** attributes: [name, type, required?] */
  a?: Array<[string, TypeRef] | [string, TypeRef, 1]>;
  /** anyAttribute present */
  aa?: 1;
  /** mixed content */
  m?: 1;
}

export interface SimpleTypeDef {
  k: 's';
  /** restriction base */
  b?: TypeRef;
  en?: string[];
  /** list item type */
  l?: TypeRef;
  /** union member types */
  u?: TypeRef[];
  mi?: number;
  ma?: number;
  len?: number;
  minL?: number;
  maxL?: number;
  pat?: string;
}
