import { el, type XmlNode } from '../../xml/build';
import { NS } from '../../xml/namespaces';
import { SimFault } from '../faults';

/**
 * An event-service fault. WS-BaseNotification faults (Core §9.9) travel as env:Receiver with HTTP 500,
 * name the fault as a subcode (so clients can switch on it) and carry the fault element in Detail.
 */
export class EventFault extends SimFault {
  constructor(
    code: 'Sender' | 'Receiver',
    /** Subcode QNames, outermost first, each with its namespace. */
    readonly qualifiedSubcodes: Array<{ ns: string; prefix: string; local: string }>,
    reason: string,
    readonly detail?: XmlNode,
    httpStatus?: number,
  ) {
    super(code, qualifiedSubcodes.map((s) => s.local), reason, httpStatus ?? (code === 'Sender' ? 400 : 500));
    this.name = 'EventFault';
  }

  toElement(): XmlNode {
    const decls: Record<string, string> = {};
    for (const s of this.qualifiedSubcodes) decls[`xmlns:${s.prefix}`] = s.ns;
    const nest = (i: number): XmlNode | undefined => {
      const s = this.qualifiedSubcodes[i];
      return s ? el(NS.soap, 'Subcode', undefined, el(NS.soap, 'Value', undefined, `${s.prefix}:${s.local}`), nest(i + 1)) : undefined;
    };
    return el(
      NS.soap,
      'Fault',
      decls,
      el(NS.soap, 'Code', undefined, el(NS.soap, 'Value', undefined, `env:${this.code}`), nest(0)),
      el(NS.soap, 'Reason', undefined, el(NS.soap, 'Text', { 'xml:lang': 'en' }, this.reason)),
      this.detail ? el(NS.soap, 'Detail', undefined, this.detail) : undefined,
    );
  }
}

const ter = (local: string) => ({ ns: NS.ter, prefix: 'ter', local });

/** A WS-BaseNotification / WS-ResourceFramework fault: the named element with its required Timestamp. */
function baseFault(ns: string, prefix: string, local: string, reason: string, now: number): EventFault {
  const detail = el(ns, local, undefined, el(NS.wsrfbf, 'Timestamp', undefined, new Date(now).toISOString()), el(NS.wsrfbf, 'Description', undefined, reason));
  return new EventFault('Receiver', [{ ns, prefix, local }], reason, detail, 500);
}

export const wsntFault = (local: string, reason: string, now: number) => baseFault(NS.wsnt, 'wsnt', local, reason, now);

export const resourceUnknown = (reason: string, now: number) => baseFault(NS.wsrfr, 'wsrf-r', 'ResourceUnknownFault', reason, now);

/** Core §9.1.2: a Timeout above the device's limit; Detail tells the client the limits to retry with. */
export function pullMessagesFault(maxTimeout: string, maxMessageLimit: number, asked: string): EventFault {
  const detail = el(NS.tev, 'PullMessagesFaultResponse', undefined, el(NS.tev, 'MaxTimeout', undefined, maxTimeout), el(NS.tev, 'MaxMessageLimit', undefined, maxMessageLimit));
  return new EventFault('Sender', [ter('InvalidArgVal')], `Timeout ${asked} exceeds the maximum of ${maxTimeout}: pull again with a Timeout of at most ${maxTimeout}.`, detail, 400);
}

export const invalidArgs = (reason: string) => new EventFault('Sender', [ter('InvalidArgs')], reason);
export const invalidArgVal = (reason: string) => new EventFault('Sender', [ter('InvalidArgVal')], reason);
