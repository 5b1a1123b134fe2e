import { OnvifError, isOnvifError } from '../../lib/errors';
import { OnvifNodeError, type NodeError } from '../shared/errors';
import { englishTexts, type Texts } from '../shared/i18n';
import type { NodeStatus } from 'node-red';

/**
 * Where a discovery error is read: a flow node's error (Catch node, debug sidebar), which names the node's settings
 * and msg.targets, or the config dialog's Search, which shows it after its own "Search failed:" and names the
 * dialog's Find field.
 */
export type DiscoveryErrorAudience = 'node' | 'dialog';

/**
 * The Error a discovery run hands to done(): the library's reason as a sentence (in English: the library has no
 * catalogue), with what to change in Node-RED's language. `kind` travels on the error and in `cause`.
 */
export function discoveryError(err: unknown, audience: DiscoveryErrorAudience = 'node', t: Texts = englishTexts): NodeError {
  const onvif = isOnvifError(err) ? err : new OnvifError('unreachable', err instanceof Error ? err.message : String(err));
  let reason = onvif.message.trim().replace(/\.$/, '');
  reason = reason.charAt(0).toUpperCase() + reason.slice(1);
  let advice: string | undefined;
  if (audience === 'dialog') {
    if (/target/i.test(reason)) advice = t('onvifq-discover.error.dialogFixTargets');
    else if (/socket|bind|EADDR|EACCES|EPERM/i.test(reason)) advice = t('onvifq-discover.error.dialogNoSocket');
    else advice = t('onvifq-discover.error.dialogOther');
    return new OnvifNodeError(`${reason}. ${advice}`, { kind: onvif.kind }) as NodeError;
  }
  if (/target/i.test(reason)) advice = t('onvifq-discover.error.fixTargets');
  else if (/interface/i.test(reason)) advice = t('onvifq-discover.error.otherInterface');
  const message = t('onvifq-discover.error.failed', { reason }) + (advice ? ` ${advice}` : '');
  return new OnvifNodeError(message, { kind: onvif.kind }) as NodeError;
}

/** The red status for a failed run, by what went wrong (under 20 characters). */
export function discoveryFailedStatus(t: Texts, err: NodeError): NodeStatus {
  const m = err.message;
  const key = /target/i.test(m) ? 'badTargets' : /interface/i.test(m) ? 'noInterface' : /socket|bind/i.test(m) ? 'bindFailed' : 'searchFailed';
  return { fill: 'red', shape: 'ring', text: t(`onvifq-discover.status.${key}`) };
}
