import { deviceText, type FaultReason } from '../errors';
import { NS, PREFIX_FOR_NS, UNDECLARED_NS_PREFIX } from '../xml/namespaces';
import type { XmlElement } from '../xml/parse';
import { attr, child, children, deepText, resolveQName, text } from '../xml/query';

/** A SOAP fault as read from the wire, vendor oddities smoothed over. */
export interface SoapFault {
  /** `env:Sender`, `env:Receiver`, `env:VersionMismatch`, `env:MustUnderstand`, `env:DataEncodingUnknown`, or the raw value. */
  code: string;
  /** Subcode QNames, outermost first, with canonical prefixes (`ter:NotAuthorized`). */
  subcodes: string[];
  /** Reason text ('' when the device sent none): of several languages, the preferred one, else English, else the first. */
  reason: string;
  /** Every Reason Text with its xml:lang ('' when it had none), in document order. */
  reasons: FaultReason[];
  /** Detail text, when any. */
  detail?: string;
  /** The first element inside Detail, for faults whose detail is structured (e.g. tev:PullMessagesFaultResponse). */
  detailElement?: XmlElement;
}

const TOP_CODES = ['Sender', 'Receiver', 'VersionMismatch', 'MustUnderstand', 'DataEncodingUnknown'];
// Misspellings seen on real firmware (QUIRKS.md §5: Hikvision `env:Reveiver`) and SOAP 1.1 names.
// Looked up with the device's words, so without a prototype (`constructor` is no alias).
const CODE_ALIASES: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, { reveiver: 'Receiver', reciever: 'Receiver', client: 'Sender', server: 'Receiver' });

/** Render a QName with the prefix we use for its namespace, so `SOAP-ENV:Sender` and `s:Sender` read alike. */
export function canonicalQName(el: XmlElement, value: string): string {
  const q = resolveQName(el, value);
  if (!q.prefix && !q.ns) return q.local;
  const p = (Object.hasOwn(PREFIX_FOR_NS, q.ns) ? PREFIX_FOR_NS[q.ns] : undefined) ?? (q.ns.startsWith(UNDECLARED_NS_PREFIX) ? q.ns.slice(UNDECLARED_NS_PREFIX.length) : q.prefix);
  return p ? `${p}:${q.local}` : q.local;
}

function normaliseTopCode(el: XmlElement, raw: string): string {
  const local = raw.includes(':') ? raw.slice(raw.indexOf(':') + 1) : raw;
  const known = TOP_CODES.find((c) => c.toLowerCase() === local.toLowerCase()) ?? CODE_ALIASES[local.toLowerCase()];
  return known ? `env:${known}` : canonicalQName(el, raw);
}

let preferredLanguage: string | undefined;

/**
 * The language fault reasons are shown in when a device sends several (SOAP 1.2 Reason/Text xml:lang), e.g. `de` or
 * `de-DE`; undefined (or empty) means English. One setting for the whole library: Node-RED sets it from its locale.
 */
export function setPreferredLanguage(lang: string | undefined): void {
  preferredLanguage = lang?.trim() || undefined;
}

export function getPreferredLanguage(): string | undefined {
  return preferredLanguage;
}

const primaryTag = (lang: string) => lang.toLowerCase().split(/[-_]/)[0]!;

/** The reason to show: the exact language asked for, then its primary tag (de for de-CH), then English, then the first. */
export function chooseReason(reasons: FaultReason[], lang = preferredLanguage): FaultReason | undefined {
  const exact = (l: string) => reasons.find((r) => r.lang.toLowerCase().replace('_', '-') === l.toLowerCase().replace('_', '-'));
  const primary = (l: string) => reasons.find((r) => primaryTag(r.lang) === primaryTag(l));
  return (lang ? exact(lang) ?? primary(lang) : undefined) ?? primary('en') ?? reasons[0];
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
    const reasons = children(child(fault, 'Reason'), 'Text')
      .map((t) => ({ lang: (attr(t, 'lang', NS.xml) ?? attr(t, 'lang') ?? '').trim(), text: t.text.trim() }))
      .filter((r) => r.text);
    const detailEl = child(fault, 'Detail');
    const detail = deepText(detailEl).trim();
    return {
      code,
      subcodes,
      reason: chooseReason(reasons)?.text ?? '',
      reasons,
      detail: detail && detail !== 'NULL' ? detail : undefined,
      detailElement: detailEl?.children[0],
    };
  }
  // SOAP 1.1 shape.
  const fc = child(fault, 'faultcode');
  const code = fc ? normaliseTopCode(fc, fc.text) : '';
  const detail = deepText(child(fault, 'detail')).trim();
  const faultstring = child(fault, 'faultstring');
  const reason = text(faultstring) ?? '';
  const reasons = reason ? [{ lang: (attr(faultstring, 'lang', NS.xml) ?? '').trim(), text: reason }] : [];
  return { code, subcodes: [], reason, reasons, detail: detail || undefined };
}

export function isFaultElement(el: XmlElement | undefined): boolean {
  return !!el && el.local === 'Fault' && (el.ns === NS.soap || el.ns === NS.soap11 || el.ns.startsWith(UNDECLARED_NS_PREFIX));
}

/**
 * A short human description: `env:Sender / ter:InvalidArgVal / ter:UsernameClash: reason`, safe to log or show
 * (the device's words through deviceText(); the full text stays in the fault's fields).
 */
export function describeFault(f: SoapFault): string {
  const codes = deviceText([f.code, ...f.subcodes].filter(Boolean).join(' / '));
  const why = deviceText(f.reason || f.detail);
  return why ? `${codes}: ${why}` : codes || 'SOAP fault without a code';
}
