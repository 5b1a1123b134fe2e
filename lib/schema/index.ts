/**
 * Schema-driven codec for the ONVIF device, event, application-management and advanced-security
 * services. The model (onvif-schema.json) and the operation types (onvif-types.ts) are generated from the
 * official WSDL/XSD by tools/schema/generate.ts (`npm run schema`).
 *
 * JSON conventions ("normalised"), the same in both directions:
 * - Keys are the local names of child elements and attributes: no prefixes, no '@'. When an attribute
 *   and a child element share a name, the attribute's key is `$name`.
 * - An element with simple content and attributes is `{ value: <typed text>, ...attributes }`
 *   (decode produces this only when the element actually carries attributes).
 * - A child that may occur more than once (maxOccurs > 1, or inside a repeated group) is always an
 *   array, `[]` when absent. Encode also accepts a single object for such a child.
 * - xs:boolean → boolean (decode reads true/false/1/0 in any case: firmware sends `True`, `FALSE`);
 *   integer types → number (`00` → 0); float/double/decimal → number (INF/NaN stay strings);
 *   xs:dateTime → ISO-8601 UTC string, `Z` added when the text has no zone, offsets converted,
 *   fraction digits kept; unparseable text is returned as written.
 * - tt:DateTime (the Date/Time structure) → `"YYYY-MM-DDTHH:MM:SSZ"`; for an element named
 *   LocalDateTime the `Z` is left off, as it is a wall-clock time. Encode accepts such a string, a JS
 *   Date, or the {Date:{Year,Month,Day}, Time:{Hour,Minute,Second}} structure.
 * - List types (tt:StringList, tt:IntList, tt:StringAttrList, tt:FloatList, any xs:list) → arrays
 *   (encode also accepts a space-separated string).
 * - Enumerations, QNames, anyURI, duration, base64 and other text → trimmed strings.
 *   Encode also accepts a Buffer for base64/hex.
 * - Unknown elements (vendor extensions, xs:any content, types not in the model) decode by heuristic:
 *   repeated siblings → array, text-only → trimmed string (no type guessing), attributes kept.
 * - xsi:nil="true" → null.
 * - Encode: keys in any order; children come out in schema order with their namespaces; attributes
 *   as attributes; booleans/numbers/Dates or their string forms. Optional fields may be left out.
 *   Missing required fields, unknown keys, wrong types and bad enum values throw
 *   OnvifError('invalid-input') naming the path, e.g.
 *   `CreateUsers.User[0].UserLevel: "Admin" is not one of Administrator, Operator, User, Anonymous, Extended`.
 *   Where the schema has a wildcard (xs:any) an XmlNode (lib/xml el()) passes through, and a key
 *   that names a global schema element (e.g. a Filter's `TopicExpression`) is encoded as that element.
 *   Prefixes used in QName values and topic expressions (tns1:, tt:, ...) are declared for you.
 */
import type { XmlNode } from '../xml/build';
import type { XmlElement } from '../xml/parse';
import { decodeAs as decodeAsImpl, decodeElement as decodeElementImpl } from './decode';
import { encodeElement as encodeElementImpl } from './encode';

export { findOperation, listOperations, type OperationInfo, type ServiceName } from './operations';
export type { OnvifOperations, OperationName, OperationRequest, OperationResult } from './onvif-types';

/** Build element {ns}local (e.g. an operation's input element) from normalised JSON. */
export function encodeElement(ns: string, local: string, value?: unknown): XmlNode {
  return encodeElementImpl(ns, local, value);
}

/** Normalised JSON of an element (e.g. a response body's content). Never throws on content. */
export function decodeElement(el: XmlElement): unknown {
  return decodeElementImpl(el);
}

/** Decode with a known type, e.g. decodeAs(messageEl, { ns: NS.tt, local: 'Message' }). A global element name works too. */
export function decodeAs(el: XmlElement, type: { ns: string; local: string }): unknown {
  return decodeAsImpl(el, type);
}
