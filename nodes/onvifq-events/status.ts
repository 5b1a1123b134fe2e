import type { NodeStatus } from 'node-red';
import type { EventStreamState } from '../../lib/events';
import type { Texts } from '../shared/i18n';
import { retryingText } from '../shared/status';

// Texts stay short so they fit under a node in the editor.
// Colours as everywhere (DESIGN.md): grey connecting, green listening, yellow retrying, red failed.

const FAILED: Record<string, string> = { auth: 'authFailed', tls: 'tlsFailed', 'invalid-input': 'badConfig', unsupported: 'noEventService', fault: 'deviceFault' };

/**
 * The status an events node shows for the device's event stream. `lastEventAt` is this node's own last
 * delivered event (after its filter), so two nodes on one device can show different times.
 * `now` lets the retry countdown tick (to the hub's retryAt, the same moment for every node of the device).
 */
export function eventsStatus(t: Texts, state: EventStreamState, lastEventAt?: Date, now = Date.now()): NodeStatus {
  switch (state.status) {
    case 'idle':
      return { fill: 'grey', shape: 'ring', text: t('onvifq-events.status.notSubscribed') };
    case 'subscribing':
      return { fill: 'grey', shape: 'ring', text: t('onvifq-events.status.subscribing') };
    case 'active':
      return lastEventAt
        ? { fill: 'green', shape: 'dot', text: t('onvifq-events.status.lastEvent', { time: clockTime(lastEventAt) }) }
        : { fill: 'green', shape: 'dot', text: t('onvifq-events.status.connected') };
    case 'retrying':
      return { fill: 'yellow', shape: 'ring', text: retryingText(t, state.retryAt, state.error, now) };
    case 'failed':
      return { fill: 'red', shape: 'ring', text: t(`onvifq-events.status.${(state.error && FAILED[state.error.kind]) || 'failed'}`) };
    case 'closed':
      return { fill: 'grey', shape: 'ring', text: t('onvifq-events.status.closed') };
    default:
      return { fill: 'grey', shape: 'ring', text: String((state as { status: unknown }).status).slice(0, 19) };
  }
}

/** HH:MM:SS in the Node-RED host's local time: the status is read by someone looking at the editor. */
export function clockTime(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
