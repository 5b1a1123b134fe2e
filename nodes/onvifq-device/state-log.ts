import type { EventStreamState } from '../../lib/events';
import type { LinkState } from '../../lib/link';
import { redact } from '../shared/errors';

/**
 * The log lines of one device's connection and event subscription, written by its config node: one line per
 * change of state (lost, a different reason, back again), never one per retry and never one per flow node.
 */
export class DeviceStateLog {
  /** What the last line was about: `link:retrying:unreachable`, `events:active`, … */
  private linkKey = 'link:idle';
  private eventsKey = 'events:idle';
  private linkState?: LinkState;

  constructor(
    private readonly label: string,
    private readonly out: { warn(text: string): void; log(text: string): void },
    private readonly secrets: () => Array<string | undefined>,
  ) {}

  link(state: LinkState): void {
    this.linkState = state;
    // A new attempt is not a change of state: only where it ends is.
    if (state.status === 'connecting') return;
    const key = `link:${state.status}${state.error ? `:${state.error.kind}` : ''}`;
    if (key === this.linkKey) return;
    const before = this.linkKey;
    this.linkKey = key;
    if (state.status === 'retrying') {
      const why = state.error?.message.replace(/\.$/, '') ?? 'no reason given';
      const again = before.startsWith('link:retrying') ? 'Still cannot reach' : 'Cannot reach';
      this.out.warn(this.clean(`${again} '${this.label}': ${why}. Retrying in the background, at most a minute apart; the node status counts down.`));
    } else if (state.status === 'connected' && before.startsWith('link:retrying')) {
      this.out.log(`Connected to '${this.label}' again.`);
    } else if (state.status === 'failed') {
      this.out.warn(this.clean(`Stopped connecting to '${this.label}': ${state.error?.message ?? 'no reason given'}`));
    }
  }

  events(state: EventStreamState): void {
    if (state.status === 'subscribing') return;
    const key = `events:${state.status}${state.error ? `:${state.error.kind}` : ''}`;
    if (key === this.eventsKey) return;
    const before = this.eventsKey;
    this.eventsKey = key;
    // While the device itself is away, the connection's line says it all.
    const deviceAway = this.linkState?.status === 'retrying' || this.linkState?.status === 'failed';
    if (state.status === 'retrying' && !deviceAway && !before.startsWith('events:retrying')) {
      this.out.warn(this.clean(`Lost the event subscription on '${this.label}': ${state.error?.message.replace(/\.$/, '') ?? 'no reason given'}. Re-subscribing.`));
    } else if (state.status === 'active' && before.startsWith('events:retrying')) {
      this.out.log(`Event subscription on '${this.label}' restored.`);
    }
  }

  private clean(text: string): string {
    return redact(text, this.secrets());
  }
}
