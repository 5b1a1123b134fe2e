import type { NodeStatus } from 'node-red';
import type { EventStreamState } from '../../lib/events';
import { retryingText } from '../shared/status';

// Texts stay under 20 characters so they fit under a node in the editor.
// Colours as everywhere (DESIGN.md): grey connecting, green listening, yellow retrying, red failed.

/**
 * The status an events node shows for the device's event stream. `lastEventAt` is this node's own last
 * delivered event (after its filter), so two nodes on one device can show different times.
 * `now` lets the retry countdown tick (to the hub's retryAt, the same moment for every node of the device).
 */
export function eventsStatus(state: EventStreamState, lastEventAt?: Date, now = Date.now()): NodeStatus {
  switch (state.status) {
    case 'idle':
      return { fill: 'grey', shape: 'ring', text: 'not subscribed' };
    case 'subscribing':
      return { fill: 'grey', shape: 'ring', text: 'subscribing…' };
    case 'active':
      return lastEventAt
        ? { fill: 'green', shape: 'dot', text: `last event ${clockTime(lastEventAt)}` }
        : { fill: 'green', shape: 'dot', text: 'connected' };
    case 'retrying':
      return { fill: 'yellow', shape: 'ring', text: retryingText(state.retryAt, state.error, now) };
    case 'failed': {
      const byKind: Record<string, string> = {
        auth: 'auth failed',
        tls: 'TLS failed',
        'invalid-input': 'bad config',
        unsupported: 'no event service',
        fault: 'device fault',
      };
      return { fill: 'red', shape: 'ring', text: (state.error && byKind[state.error.kind]) || 'failed' };
    }
    case 'closed':
      return { fill: 'grey', shape: 'ring', text: 'closed' };
    default:
      return { fill: 'grey', shape: 'ring', text: String((state as { status: unknown }).status).slice(0, 19) };
  }
}

/** HH:MM:SS in the Node-RED host's local time: the status is read by someone looking at the editor. */
export function clockTime(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

