import { OnvifError, isOnvifError } from '../../lib/errors';
import type { NodeError } from '../shared/errors';
import type { NodeStatus } from 'node-red';

/**
 * The Error a discovery run hands to done(): the library's reason as a sentence, with what to change.
 * `kind` travels on the error and in `cause`, like the other nodes' errors.
 */
export function discoveryError(err: unknown): NodeError {
  const onvif = isOnvifError(err) ? err : new OnvifError('unreachable', err instanceof Error ? err.message : String(err));
  let reason = onvif.message.trim().replace(/\.$/, '');
  reason = reason.charAt(0).toUpperCase() + reason.slice(1);
  let advice = '';
  if (/target/i.test(reason)) advice = ' Fix the unicast targets in the node or in msg.targets.';
  else if (/interface/i.test(reason)) advice = ' Choose another interface in the node (or "all").';
  const out = new Error(`Discovery failed: ${reason}.${advice}`) as NodeError;
  out.name = 'OnvifError';
  out.kind = onvif.kind;
  (out as { cause?: unknown }).cause = { kind: onvif.kind };
  return out;
}

/** The red status for a failed run, by what went wrong (under 20 characters). */
export function discoveryFailedStatus(err: NodeError): NodeStatus {
  const m = err.message;
  const text = /target/i.test(m) ? 'bad targets' : /interface/i.test(m) ? 'no interface' : /socket|bind/i.test(m) ? 'bind failed' : 'search failed';
  return { fill: 'red', shape: 'ring', text };
}
