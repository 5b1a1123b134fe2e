import { NS, PREFIX_FOR_NS, UNDECLARED_NS_PREFIX } from '../xml/namespaces';
import type { XmlElement } from '../xml/parse';
import { child, children, deepText, resolveQName, text } from '../xml/query';

/** A SOAP fault as read from the wire, vendor oddities smoothed over. */
export interface SoapFault {
  /** `env:Sender`, `env:Receiver`, `env:VersionMismatch`, `env:MustUnderstand`, `env:DataEncodingUnknown`, or the raw value. */
  code: string;
  /** Subcode QNames, outermost first, with canonical prefixes (`ter:NotAuthorized`). */
  subcodes: string[];
  /** Reason text ('' when the device sent none). */
  reason: string;
  /** Detail text, when any. */
  detail?: string;
  /** The first element inside Detail, for faults whose detail is structured (e.g. tev:PullMessagesFaultResponse). */
  detailElement?: XmlElement;
}

const TOP_CODES = ['Sender', 'Receiver', 'VersionMismatch', 'MustUnderstand', 'DataEncodingUnknown'];
// Misspellings seen on real firmware (QUIRKS.md §5: Hikvision `env:Reveiver`) and SOAP 1.1 names.
const CODE_ALIASES: Record<string, string> = { reveiver: 'Receiver', reciever: 'Receiver', client: 'Sender', server: 'Receiver' };

/** Render a QName with the prefix we use for its namespace, so `SOAP-ENV:Sender` and `s:Sender` read alike. */
export function canonicalQName(el: XmlElement, value: string): string {
  const q = resolveQName(el, value);
  if (!q.prefix && !q.ns) return q.local;
  const p = PREFIX_FOR_NS[q.ns] ?? (q.ns.startsWith(UNDECLARED_NS_PREFIX) ? q.ns.slice(UNDECLARED_NS_PREFIX.length) : q.prefix);
  return p ? `${p}:${q.local}` : q.local;
}

function normaliseTopCode(el: XmlElement, raw: string): string {
  const local = raw.includes(':') ? raw.slice(raw.indexOf(':') + 1) : raw;
  const known = TOP_CODES.find((c) => c.toLowerCase() === local.toLowerCase()) ?? CODE_ALIASES[local.toLowerCase()];
  return known ? `env:${known}` : canonicalQName(el, raw);
}

/** Read a `Fault` element (SOAP 1.2, or SOAP 1.1 faultcode/faultstring). */
export function parseFault(fault: XmlElement): SoapFault {
  const codeEl = child(fault, 'Code');
  if (codeEl) {
    const valueEl = child(codeEl, 'Value');
    const code = valueEl ? normaliseTopCode(valueEl, valueEl.text) : '';
    const subcodes: string[] = [];
    let sub = child(codeEl, 'Subcode');
    while (sub) {
      const v = child(sub, 'Value');
      const s = v ? canonicalQName(v, v.text) : '';
      // Some firmware repeats the same subcode nested (QUIRKS.md §4, BlockedThreadUpperLimit).
      if (s && subcodes[subcodes.length - 1] !== s) subcodes.push(s);
      sub = child(sub, 'Subcode');
    }
    const reasons = children(child(fault, 'Reason'), 'Text').map((t) => t.text.trim()).filter(Boolean);
    const detailEl = child(fault, 'Detail');
    const detail = deepText(detailEl).trim();
    return { code, subcodes, reason: reasons.join(' / '), detail: detail && detail !== 'NULL' ? detail : undefined, detailElement: detailEl?.children[0] };
  }
  // SOAP 1.1 shape.
  const fc = child(fault, 'faultcode');
  const code = fc ? normaliseTopCode(fc, fc.text) : '';
  const detail = deepText(child(fault, 'detail')).trim();
  return { code, subcodes: [], reason: text(fault, 'faultstring') ?? '', detail: detail || undefined };
}

export function isFaultElement(el: XmlElement | undefined): boolean {
  return !!el && el.local === 'Fault' && (el.ns === NS.soap || el.ns === NS.soap11 || el.ns.startsWith(UNDECLARED_NS_PREFIX));
}

/** A short human description: `env:Sender / ter:InvalidArgVal / ter:UsernameClash: reason`. */
export function describeFault(f: SoapFault): string {
  const codes = [f.code, ...f.subcodes].filter(Boolean).join(' / ');
  const why = f.reason || f.detail;
  return why ? `${codes}: ${why}` : codes || 'SOAP fault without a code';
}
