import type { NodeStatus } from 'node-red';
import type { LinkState } from '../../lib/link';
import type { OnvifError } from '../../lib/errors';
import { formatSeconds } from '../../lib/util/format';
import { secondsLeft } from './countdown';
import type { Texts } from './i18n';

// Status texts stay short so they fit under a node in the editor (a retry adds its reason: the user needs it).
// Colours (DESIGN.md): grey connecting, green ok, yellow retrying, red failed. Texts come from the onvifq-device
// catalogue (every flow node shows its config node's connection).

const RETRY_REASONS = ['unreachable', 'timeout', 'fault', 'broken-http', 'bad-response', 'too-large'];
const CALL_FAILURES = ['fault', 'auth', 'timeout', 'unreachable', 'broken-http', 'tls', 'bad-response', 'too-large', 'unsupported', 'closed'];

/** Why a retry is needed, in a word or two for the status ("retrying in 30s: unreachable"). */
export function retryReason(t: Texts, err: OnvifError | undefined): string {
  return t(`onvifq-device.why.${err && RETRY_REASONS.includes(err.kind) ? err.kind : 'other'}`);
}

/** `retrying in 30s: unreachable`, counted down to `retryAt` (the same moment on every node of the device). */
export function retryingText(t: Texts, retryAt: number | undefined, err: OnvifError | undefined, now = Date.now()): string {
  const why = retryReason(t, err);
  return retryAt === undefined
    ? t('onvifq-device.status.retrying', { why })
    : t('onvifq-device.status.retryingIn', { time: formatSeconds(secondsLeft(retryAt, now)), why });
}

/** The status a flow node shows for its config node's link state. `now` lets the retry countdown tick. */
export function linkStatus(t: Texts, state: LinkState, now = Date.now()): NodeStatus {
  switch (state.status) {
    case 'idle':
      return { fill: 'grey', shape: 'ring', text: t('onvifq-device.status.notConnected') };
    case 'connecting':
      return { fill: 'grey', shape: 'ring', text: t('onvifq-device.status.connecting') };
    case 'connected': {
      // Usable for what the device serves anonymously; the rest needs a login.
      if (state.session?.partial) return { fill: 'green', shape: 'ring', text: t('onvifq-device.status.noCredentials') };
      const q = state.session?.profileQState;
      const key = q === 'Operational' ? 'operational' : q === 'FactoryDefault' ? 'factoryDefault' : 'connected';
      return { fill: 'green', shape: 'dot', text: t(`onvifq-device.status.${key}`) };
    }
    case 'retrying':
      return { fill: 'yellow', shape: 'ring', text: retryingText(t, state.retryAt, state.error, now) };
    case 'failed': {
      // The link also stops for errors retrying cannot fix: a TLS mismatch or unusable settings.
      const kind = state.error?.kind;
      const key = kind === 'tls' ? 'tlsFailed' : kind === 'invalid-input' ? 'badConfig' : 'authFailed';
      return { fill: 'red', shape: 'ring', text: t(`onvifq-device.status.${key}`) };
    }
    case 'closed':
      return { fill: 'grey', shape: 'ring', text: t('onvifq-device.status.closed') };
    default:
      return { fill: 'grey', shape: 'ring', text: String((state as { status: unknown }).status).slice(0, 19) };
  }
}

/** The status after one call failed while the link itself is fine (red, by what went wrong). */
export function callFailedStatus(t: Texts, err: OnvifError | undefined): NodeStatus {
  return { fill: 'red', shape: 'dot', text: t(`onvifq-device.callFailed.${err && CALL_FAILURES.includes(err.kind) ? err.kind : 'other'}`) };
}
