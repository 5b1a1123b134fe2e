import type { XmlElement } from './xml/parse';

/**
 * One error class for everything the library reports, so a Node-RED Catch node (or a caller) can
 * branch on `kind` and read the fault fields without instanceof chains.
 */
export type OnvifErrorKind =
  | 'fault' // the device answered with a SOAP fault
  | 'auth' // credentials rejected, missing, or an auth method we will not use
  | 'timeout' // no complete answer in time
  | 'unreachable' // connection refused / reset / DNS / host down
  | 'broken-http' // the device answered, but not in valid HTTP (status line, headers, chunk sizes, Content-Length)
  | 'tls' // certificate verification or pin mismatch
  | 'bad-response' // the answer is not SOAP we can read (HTML page, garbage, truncated)
  | 'too-large' // the answer exceeded the response size cap
  | 'invalid-input' // the caller's input is wrong; nothing was sent
  | 'unsupported' // the device does not offer the service or operation
  | 'closed'; // the session was closed

export interface OnvifErrorDetails {
  /** SOAP fault code, e.g. `env:Sender` (faults only). */
  code?: string;
  /** SOAP fault subcodes, outermost first, QNames with canonical prefixes, e.g. [`ter:InvalidArgVal`, `ter:UsernameClash`]. */
  subcodes?: string[];
  /**
   * Fault reason as the device wrote it, in full (the message shows it through deviceText(): no control
   * characters, cut at 200). With several languages, the one matching the preferred language, else English, else the first.
   */
  reason?: string;
  /** Every fault reason the device sent, one per language (`lang` is '' when it named none). */
  reasons?: FaultReason[];
  /**
   * The device-supplied words the message quotes, in full as received (a fault's reason or detail text, an HTML
   * page's title, the start of a non-SOAP body): the message shows them through deviceText(), cleaned and cut.
   */
  deviceText?: string;
  /** The fault's structured detail element, when it had one (e.g. tev:PullMessagesFaultResponse); not serialised. */
  detail?: XmlElement;
  /** HTTP status of the answer, when there was one. */
  httpStatus?: number;
  /** Device address (never with credentials). */
  address?: string;
  /** Operation that failed. */
  operation?: string;
  /** Underlying error (network errno, parser error), its message whole (the error's own message says it in plain words). */
  cause?: unknown;
}

/** One SOAP 1.2 fault Reason Text and its xml:lang. */
export interface FaultReason {
  lang: string;
  text: string;
}

export class OnvifError extends Error implements OnvifErrorDetails {
  readonly kind: OnvifErrorKind;
  code?: string;
  subcodes?: string[];
  reason?: string;
  reasons?: FaultReason[];
  deviceText?: string;
  detail?: XmlElement;
  httpStatus?: number;
  address?: string;
  operation?: string;
  override cause?: unknown;

  constructor(kind: OnvifErrorKind, message: string, details: OnvifErrorDetails = {}) {
    super(message);
    this.name = 'OnvifError';
    this.kind = kind;
    Object.assign(this, details);
  }

  /** True when the fault (or HTTP status) says the credentials were not accepted. */
  get isNotAuthorized(): boolean {
    return this.kind === 'auth' || !!this.subcodes?.some((s) => /NotAuthori[sz]ed$/i.test(s));
  }

  /** Has this fault subcode (local name match, e.g. `UsernameClash` or `ter:UsernameClash`). */
  hasSubcode(name: string): boolean {
    const local = name.includes(':') ? name.slice(name.indexOf(':') + 1) : name;
    return !!this.subcodes?.some((s) => s === name || s.slice(s.indexOf(':') + 1) === local);
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      message: this.message,
      code: this.code,
      subcodes: this.subcodes,
      reason: this.reason,
      reasons: this.reasons,
      deviceText: this.deviceText,
      httpStatus: this.httpStatus,
      address: this.address,
      operation: this.operation,
    };
  }
}

export function isOnvifError(e: unknown): e is OnvifError {
  return e instanceof OnvifError;
}

/** How much device-supplied text an error message or status shows; the full text stays in a property. */
export const DEVICE_TEXT_LIMIT = 200;

/**
 * Device text made safe to show: control characters (ESC, NUL, vertical tab, C1, bidi overrides) cannot
 * reach a terminal or a log line, whitespace runs become one space, and long text is cut at `limit`
 * characters with a note of how much was left out. Use it wherever a device's words enter a message.
 */
export function deviceText(text: unknown, limit = DEVICE_TEXT_LIMIT): string {
  const s = String(text ?? '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (s.length <= limit) return s;
  // Never cut between the two halves of a surrogate pair (an emoji would become a broken character).
  const cut = /[\ud800-\udbff]/.test(s[limit - 1] ?? '') ? limit - 1 : limit;
  return `${s.slice(0, cut)}… (${s.length - cut} more characters)`;
}
