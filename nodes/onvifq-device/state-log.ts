import type { EventStreamState } from '../../lib/events';
import type { LinkState } from '../../lib/link';
import { redact } from '../shared/errors';
import type { Texts } from '../shared/i18n';

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
    private readonly t: Texts,
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
    const label = this.label;
    if (state.status === 'retrying') {
      const key = before.startsWith('link:retrying') ? 'stillCannotReach' : 'cannotReach';
      this.out.warn(this.clean(this.t(`onvifq-device.log.${key}`, { label, why: this.why(state.error) })));
    } else if (state.status === 'connected' && before.startsWith('link:retrying')) {
      this.out.log(this.t('onvifq-device.log.connectedAgain', { label }));
    } else if (state.status === 'failed') {
      this.out.warn(this.clean(this.t('onvifq-device.log.stopped', { label, why: this.why(state.error) })));
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
      this.out.warn(this.clean(this.t('onvifq-device.log.lostSubscription', { label: this.label, why: this.why(state.error) })));
    } else if (state.status === 'active' && before.startsWith('events:retrying')) {
      this.out.log(this.t('onvifq-device.log.subscriptionRestored', { label: this.label }));
    }
  }

  /** The library's reason (English: the library has no catalogue), without its full stop. */
  private why(err: { message: string } | undefined): string {
    return err?.message.replace(/\.$/, '') ?? this.t('onvifq-device.log.noReason');
  }

  private clean(text: string): string {
    return redact(text, this.secrets());
  }
}
