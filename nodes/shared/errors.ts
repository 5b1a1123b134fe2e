import { OnvifError, isOnvifError } from '../../lib/errors';
import { englishTexts, type Texts } from './i18n';

/** The fault fields copied onto a node error so a Catch node (msg.error) and node.error listeners can branch on them. */
export interface NodeErrorFields {
  kind: string;
  code?: string;
  subcodes?: string[];
  reason?: string;
  /** Every fault reason with its language, when the device sent several. */
  reasons?: Array<{ lang: string; text: string }>;
  httpStatus?: number;
  operation?: string;
}

export type NodeError = Error & Partial<NodeErrorFields>;

/**
 * msg.error.cause: the fault fields as a plain-data object (a Catch node branches on `kind`, `code`, …) that also
 * reads as a sentence where Node-RED turns it into text (the debug sidebar shows an error's cause as `cause + ""`,
 * which for a bare object is "[object Object]"). toString lives on the prototype, so JSON and the debug node's
 * object view show only the fields, and Node-RED's message cloning (which keeps prototypes) keeps it readable.
 */
export class ErrorCause {
  kind!: string;
  [field: string]: unknown;

  constructor(fields: NodeErrorFields) {
    Object.assign(this, fields);
  }

  toString(): string {
    return describeCause(this as unknown as NodeErrorFields);
  }
}

/** `fault ter:InvalidArgVal, ter:NoSuchService: "Service not available" (HTTP 500, operation GetScopes)`. */
export function describeCause(f: NodeErrorFields): string {
  let text = f.kind || 'error';
  if (f.subcodes?.length) text += ` ${f.subcodes.join(', ')}`;
  else if (f.code) text += ` ${f.code}`;
  if (f.reason) text += `: "${f.reason}"`;
  const where: string[] = [];
  if (f.httpStatus !== undefined) where.push(`HTTP ${f.httpStatus}`);
  if (f.operation) where.push(`operation ${f.operation}`);
  if (where.length) text += ` (${where.join(', ')})`;
  return text;
}

/**
 * The error class flow nodes hand to done() and node.error(). Node-RED builds msg.error.message from the error's
 * toString(), which for an Error named 'OnvifError' would start every message with "OnvifError: ": the message is
 * written for a person, so toString() is the message alone. `name` stays, for code that branches on it.
 */
export class OnvifNodeError extends Error {
  constructor(message: string, fields: NodeErrorFields) {
    super(message);
    this.name = 'OnvifError';
    Object.assign(this, fields);
    (this as { cause?: unknown }).cause = new ErrorCause(fields);
  }

  override toString(): string {
    return this.message;
  }
}

/** Replace every occurrence of each secret in `text` (defence in depth: the library should never echo them). */
export function redact(text: string, secrets: Array<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 1) out = out.split(s).join('***');
  }
  return out;
}

/**
 * The Error a flow node hands to done(): plain words naming the config node and what to do, with the
 * OnvifError fields on it. Node-RED copies `code` and `cause` into a Catch node's msg.error, so the other
 * fields also travel in `cause` (a plain object, never the credentials).
 */
export function toNodeError(err: unknown, configLabel: string, secrets: Array<string | undefined> = [], t: Texts = englishTexts): NodeError {
  const onvif: OnvifError = isOnvifError(err)
    ? err
    : new OnvifError('bad-response', err instanceof Error ? err.message : String(err));
  // The library's own words stay English (it has no catalogue); what the node adds is in Node-RED's language.
  let message = (onvif.message || t('onvifq-device.error.callFailed')).trim();
  if (onvif.isNotAuthorized) {
    const check = t('onvifq-device.error.checkCredentials', { label: configLabel });
    const advice = /Check the (username and password|credentials)\.?/i;
    if (advice.test(message)) message = message.replace(advice, check);
    else if (!/credential|password/i.test(message)) message += ` ${check}`;
  }
  if (!message.includes(configLabel)) message += ` ${t('onvifq-device.error.where', { label: configLabel })}`;
  const fields: NodeErrorFields = { kind: onvif.kind };
  if (onvif.code !== undefined) fields.code = onvif.code;
  if (onvif.subcodes !== undefined) fields.subcodes = [...onvif.subcodes];
  if (onvif.reason !== undefined) fields.reason = redact(onvif.reason, secrets);
  if (onvif.reasons !== undefined) fields.reasons = onvif.reasons.map((r) => ({ lang: r.lang, text: redact(r.text, secrets) }));
  if (onvif.httpStatus !== undefined) fields.httpStatus = onvif.httpStatus;
  if (onvif.operation !== undefined) fields.operation = onvif.operation;
  return new OnvifNodeError(redact(message, secrets), fields) as NodeError;
}

/** Bad input from the msg: nothing was sent to the device. */
export function inputError(message: string): NodeError {
  return new OnvifNodeError(message, { kind: 'invalid-input' }) as NodeError;
}
