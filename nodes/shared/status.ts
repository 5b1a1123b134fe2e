import type { NodeStatus } from 'node-red';
import type { LinkState } from '../../lib/link';
import type { OnvifError } from '../../lib/errors';
import { formatSeconds } from '../../lib/util/format';
import { secondsLeft } from './countdown';

// Status texts stay short so they fit under a node in the editor (a retry adds its reason: the user needs it).
// Colours (DESIGN.md): grey connecting, green ok, yellow retrying, red failed.

/** Why a retry is needed, in a word or two for the status ("retrying in 30s: unreachable"). */
export function retryReason(err: OnvifError | undefined): string {
  const byKind: Record<string, string> = {
    unreachable: 'unreachable',
    timeout: 'no answer',
    fault: 'device fault',
    'broken-http': 'broken HTTP',
    'bad-response': 'bad reply',
    'too-large': 'reply too large',
  };
  return (err && byKind[err.kind]) || 'failed';
}

/** `retrying in 30s: unreachable`, counted down to `retryAt` (the same moment on every node of the device). */
export function retryingText(retryAt: number | undefined, err: OnvifError | undefined, now = Date.now()): string {
  const why = retryReason(err);
  return retryAt === undefined ? `retrying: ${why}` : `retrying in ${formatSeconds(secondsLeft(retryAt, now))}: ${why}`;
}

/** The status a flow node shows for its config node's link state. `now` lets the retry countdown tick. */
export function linkStatus(state: LinkState, now = Date.now()): NodeStatus {
  switch (state.status) {
    case 'idle':
      return { fill: 'grey', shape: 'ring', text: 'not connected' };
    case 'connecting':
      return { fill: 'grey', shape: 'ring', text: 'connecting…' };
    case 'connected': {
      // Usable for what the device serves anonymously; the rest needs a login.
      if (state.session?.partial) return { fill: 'green', shape: 'ring', text: 'no credentials' };
      const q = state.session?.profileQState;
      const text = q === 'Operational' ? 'Operational' : q === 'FactoryDefault' ? 'factory default' : 'connected';
      return { fill: 'green', shape: 'dot', text };
    }
    case 'retrying':
      return { fill: 'yellow', shape: 'ring', text: retryingText(state.retryAt, state.error, now) };
    case 'failed': {
      // The link also stops for errors retrying cannot fix: a TLS mismatch or unusable settings.
      const kind = state.error?.kind;
      const text = kind === 'tls' ? 'TLS failed' : kind === 'invalid-input' ? 'bad config' : 'auth failed';
      return { fill: 'red', shape: 'ring', text };
    }
    case 'closed':
      return { fill: 'grey', shape: 'ring', text: 'closed' };
    default:
      return { fill: 'grey', shape: 'ring', text: String((state as { status: unknown }).status).slice(0, 19) };
  }
}

/** The status after one call failed while the link itself is fine (red, by what went wrong). */
export function callFailedStatus(err: OnvifError | undefined): NodeStatus {
  const byKind: Record<string, string> = {
    fault: 'device fault',
    auth: 'auth failed',
    timeout: 'timed out',
    unreachable: 'unreachable',
    'broken-http': 'broken HTTP',
    tls: 'TLS failed',
    'bad-response': 'bad reply',
    'too-large': 'reply too large',
    unsupported: 'not supported',
    closed: 'closed',
  };
  return { fill: 'red', shape: 'dot', text: (err && byKind[err.kind]) || 'failed' };
}
