import { OnvifError, isOnvifError } from '../../lib/errors';

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
export function toNodeError(err: unknown, configLabel: string, secrets: Array<string | undefined> = []): NodeError {
  const onvif: OnvifError = isOnvifError(err)
    ? err
    : new OnvifError('bad-response', err instanceof Error ? err.message : String(err));
  let message = (onvif.message || 'The device call failed.').trim();
  const where = `config node '${configLabel}'`;
  if (onvif.isNotAuthorized) {
    const advice = /Check the (username and password|credentials)\.?/i;
    if (advice.test(message)) message = message.replace(advice, `Check the username and password in ${where}.`);
    else if (!/credential|password/i.test(message)) message += ` Check the username and password in ${where}.`;
  }
  if (!message.includes(configLabel)) message += ` (${where})`;
  const out = new Error(redact(message, secrets)) as NodeError;
  const fields: NodeErrorFields = { kind: onvif.kind };
  if (onvif.code !== undefined) fields.code = onvif.code;
  if (onvif.subcodes !== undefined) fields.subcodes = [...onvif.subcodes];
  if (onvif.reason !== undefined) fields.reason = redact(onvif.reason, secrets);
  if (onvif.reasons !== undefined) fields.reasons = onvif.reasons.map((r) => ({ lang: r.lang, text: redact(r.text, secrets) }));
  if (onvif.httpStatus !== undefined) fields.httpStatus = onvif.httpStatus;
  if (onvif.operation !== undefined) fields.operation = onvif.operation;
  Object.assign(out, fields);
  out.name = 'OnvifError';
  (out as { cause?: unknown }).cause = { ...fields };
  return out;
}

/** Bad input from the msg: nothing was sent to the device. */
export function inputError(message: string): NodeError {
  const out = new Error(message) as NodeError;
  out.name = 'OnvifError';
  out.kind = 'invalid-input';
  (out as { cause?: unknown }).cause = { kind: 'invalid-input' };
  return out;
}
