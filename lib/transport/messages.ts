import { OnvifError, deviceText } from '../errors';
import type { SoapFault } from '../soap/fault';
import { NotSoapError } from '../soap/envelope';
import { XmlParseError } from '../xml/parse';

// What to do for the subcodes users meet most (Core Table 5.4 and the user-management faults).
// No prototype: the subcodes are the device's words, `ter:constructor` has no hint.
const FAULT_HINTS: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  NotAuthorized: 'The device did not accept the credentials for this operation: check the username and password, the user level, and the device clock.',
  ActionNotSupported: 'The device does not implement this operation.',
  UnknownAction: 'The device does not know this operation.',
  InvalidArgVal: 'The device rejected a value in the request; check the input.',
  InvalidArgs: 'The device rejected the arguments of the request; check the input.',
  OperationProhibited: 'The device refuses this operation in its current state or configuration.',
  Action: 'The device could not carry out the action.',
  WellFormed: 'The device could not read the request (it may not support this operation or version).',
  TagMismatch: 'The device could not read the request (it may not support this operation or version).',
  Tag: 'The device could not read the request (it may not support this operation or version).',
  Namespace: 'The device could not read the request (it may not support this operation or version).',
  OutofMemory: 'The device is short of resources; try again later.',
  CriticalError: 'The device reported an internal error; try again later or restart it.',
  BlockedThreadUpperLimit: 'The device is overloaded; try again later.',
  UsernameClash: 'A user with that name already exists.',
  PasswordTooWeak: 'The device refused the password as too weak (SetUser without a password asks it to clear the password).',
  Password: "The password does not meet the device's rules.",
  PasswordTooLong: 'The password is too long for the device.',
  UsernameTooLong: 'The username is too long for the device.',
  UsernameTooShort: 'The username is too short for the device.',
  FixedUser: 'This user cannot be changed or deleted on the device.',
  AnonymousNotAllowed: 'The device does not allow users at the Anonymous level.',
  TooManyUsers: 'The device cannot store more users.',
});

const localName = (q: string) => (q.includes(':') ? q.slice(q.indexOf(':') + 1) : q);

export function faultHint(fault: SoapFault): string | undefined {
  // The most specific subcode with a hint wins (the nested one names the actual problem).
  for (const s of [...fault.subcodes].reverse()) {
    const hint = FAULT_HINTS[localName(s)];
    if (hint) return hint;
  }
  return undefined;
}

/** `<what the device said> (<codes>)` plus what to do. The device's words go through deviceText(). */
export function faultMessage(fault: SoapFault, operation?: string): string {
  const codes = deviceText([fault.code, ...fault.subcodes].filter(Boolean).join(' / '));
  const said = deviceText(fault.reason || fault.detail) || 'The device returned a fault without an explanation';
  const hint = faultHint(fault);
  return `${operation ? `${operation}: ` : ''}${said}${codes ? ` (${codes})` : ''}${hint ? `. ${hint}` : ''}`;
}

export function faultError(fault: SoapFault, httpStatus: number, address: string, operation?: string): OnvifError {
  return new OnvifError('fault', faultMessage(fault, operation), {
    code: fault.code,
    subcodes: fault.subcodes,
    reason: fault.reason,
    reasons: fault.reasons,
    deviceText: fault.reason || fault.detail || undefined,
    detail: fault.detailElement,
    httpStatus,
    address,
    operation,
  });
}

export function isNotAuthorizedFault(fault: SoapFault | undefined): boolean {
  return !!fault && fault.subcodes.some((s) => /^NotAuthori[sz]ed$/i.test(localName(s)));
}

/**
 * A short readable description of a non-SOAP body (the HTML title, or the start of the text), and the device's
 * words it quotes, in full, for the error's `deviceText`.
 */
function describeBody(body: Buffer, contentType: string | undefined): { what: string; quoted?: string } {
  if (body.length === 0) return { what: 'an empty body' };
  const text = body.subarray(0, 4096).toString('utf8');
  const title = text.match(/<title[^>]*>([^<]*)<\/title>/i)?.[1]?.trim();
  const isHtml = /html/i.test(contentType ?? '') || /<html|<!doctype html/i.test(text);
  if (isHtml) return title ? { what: `an HTML page "${deviceText(title)}"`, quoted: title } : { what: 'an HTML page' };
  const printable = text.replace(/\s+/g, ' ').trim();
  if (!printable || /[\x00-\x08\x0e-\x1f]/.test(printable)) return { what: `${body.length} bytes that are not text` };
  return { what: `"${deviceText(printable, 80)}"`, quoted: printable };
}

/**
 * Why a body could not be read, in plain words. Our own parser errors already say it plainly (with the device's
 * names in them, so they go through deviceText()); anything else is the XML library's internals, which mean
 * nothing to a user ("readTagExp returned undefined", "Maximum nested tags exceeded"): say the XML could not be
 * read, and where when that is known.
 */
function describeProblem(problem: unknown): string | undefined {
  if (problem === undefined || problem === '') return undefined;
  if (typeof problem === 'string') return deviceText(problem);
  if (problem instanceof XmlParseError || problem instanceof NotSoapError) return deviceText(problem.message);
  const at = /position (\d+)/.exec(String((problem as Error)?.message ?? ''))?.[1];
  return `the XML could not be read${at ? ` near character ${at}` : ''}`;
}

/**
 * The answer is not SOAP we can read. `problem` is why (the parser's error, or a sentence): the message says it in
 * plain words, a parser error stays whole in `cause`; the body's words quoted in the message stay whole in `deviceText`.
 */
export function badResponseError(
  status: number,
  body: Buffer,
  contentType: string | undefined,
  address: string,
  operation: string | undefined,
  problem?: unknown,
): OnvifError {
  let hint: string;
  if (status === 404) hint = 'A 404 usually means the service path is wrong or the device does not offer this service; check the service address.';
  else if (status === 405 || status === 415) hint = 'The device refused the request method or content type; this address may not be an ONVIF service.';
  else if (status >= 500) hint = 'The device reported an internal error; try again later or restart it.';
  else if (status >= 200 && status < 300 && body.length === 0) hint = 'The device sent no answer; it may not support this operation.';
  else if (status >= 200 && status < 300) hint = 'The device is not answering as an ONVIF service at this address, or its answer is broken.';
  else hint = 'This address may not be an ONVIF service.';
  const { what, quoted } = describeBody(body, contentType);
  const why = describeProblem(problem);
  return new OnvifError(
    'bad-response',
    `${operation ? `${operation}: ` : ''}The device at ${address} answered HTTP ${status} with ${what}, not a SOAP message${why ? ` (${why})` : ''}. ${hint}`,
    {
      httpStatus: status,
      address,
      operation,
      deviceText: quoted,
      cause: problem instanceof Error ? problem : undefined,
    },
  );
}
