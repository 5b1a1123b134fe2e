import { el, type XmlNode } from '../xml/build';
import { NS } from '../xml/namespaces';

/**
 * A SOAP fault the simulated device answers with. Subcodes are local names in the ter namespace,
 * outermost first (generic, then specific), as Core §5.8.2 lays them out.
 */
export class SimFault extends Error {
  constructor(
    readonly code: 'Sender' | 'Receiver' | 'VersionMismatch' | 'MustUnderstand',
    readonly subcodes: string[],
    readonly reason: string,
    /** HTTP status; SOAP 1.2 HTTP binding: Sender → 400, everything else → 500. */
    readonly httpStatus: number = code === 'Sender' ? 400 : 500,
  ) {
    super(reason);
    this.name = 'SimFault';
  }
}

/** Sender fault for a bad value; `specific` names it (InvalidHostname, ...), or is itself a generic subcode (InvalidArgVal, InvalidArgs). */
export const invalidArgVal = (specific: string, reason: string) =>
  new SimFault('Sender', specific === 'InvalidArgVal' || specific === 'InvalidArgs' ? [specific] : ['InvalidArgVal', specific], reason);
export const prohibited = (specific: string, reason: string) => new SimFault('Sender', ['OperationProhibited', specific], reason);
export const notAuthorized = (reason = 'Sender not authorized') => new SimFault('Sender', ['NotAuthorized'], reason);
export const actionNotSupported = (reason: string, specific?: string) =>
  new SimFault('Receiver', specific ? ['ActionNotSupported', specific] : ['ActionNotSupported'], reason);

/** The env:Fault element. The ter prefix is declared on the Fault because it only appears inside QName text. */
export function faultElement(f: SimFault): XmlNode {
  const nest = (i: number): XmlNode | undefined =>
    i < f.subcodes.length ? el(NS.soap, 'Subcode', undefined, el(NS.soap, 'Value', undefined, `ter:${f.subcodes[i]}`), nest(i + 1)) : undefined;
  return el(
    NS.soap,
    'Fault',
    { 'xmlns:ter': NS.ter },
    el(NS.soap, 'Code', undefined, el(NS.soap, 'Value', undefined, `env:${f.code}`), nest(0)),
    el(NS.soap, 'Reason', undefined, el(NS.soap, 'Text', { 'xml:lang': 'en' }, f.reason)),
  );
}
