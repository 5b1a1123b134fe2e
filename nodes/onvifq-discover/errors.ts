import { OnvifError, isOnvifError } from '../../lib/errors';
import { OnvifNodeError, type NodeError } from '../shared/errors';
import type { NodeStatus } from 'node-red';

/**
 * Where a discovery error is read: a flow node's error (Catch node, debug sidebar), which names the node's settings
 * and msg.targets, or the config dialog's Search, which shows it after its own "Search failed:" and names the
 * dialog's Find field.
 */
export type DiscoveryErrorAudience = 'node' | 'dialog';

/**
 * The Error a discovery run hands to done(): the library's reason as a sentence, with what to change.
 * `kind` travels on the error and in `cause`, like the other nodes' errors.
 */
export function discoveryError(err: unknown, audience: DiscoveryErrorAudience = 'node'): NodeError {
  const onvif = isOnvifError(err) ? err : new OnvifError('unreachable', err instanceof Error ? err.message : String(err));
  let reason = onvif.message.trim().replace(/\.$/, '');
  reason = reason.charAt(0).toUpperCase() + reason.slice(1);
  let advice = '';
  if (audience === 'dialog') {
    if (/target/i.test(reason)) advice = ' Correct the addresses in the Find field, or leave it empty to search by multicast.';
    else if (/socket|bind|EADDR|EACCES|EPERM/i.test(reason)) advice = ' Node-RED could not open a UDP socket for the search; enter the device address by hand.';
    else advice = ' Enter the device address by hand, or try again.';
    return new OnvifNodeError(`${reason}.${advice}`, { kind: onvif.kind }) as NodeError;
  }
  if (/target/i.test(reason)) advice = ' Fix the unicast targets in the node or in msg.targets.';
  else if (/interface/i.test(reason)) advice = ' Choose another interface in the node (or "all").';
  return new OnvifNodeError(`Discovery failed: ${reason}.${advice}`, { kind: onvif.kind }) as NodeError;
}

/** The red status for a failed run, by what went wrong (under 20 characters). */
export function discoveryFailedStatus(err: NodeError): NodeStatus {
  const m = err.message;
  const text = /target/i.test(m) ? 'bad targets' : /interface/i.test(m) ? 'no interface' : /socket|bind/i.test(m) ? 'bind failed' : 'search failed';
  return { fill: 'red', shape: 'ring', text };
}
