import type { OnvifEvent } from './notifications';

/** "Which events go out" options for one listener (an events node), beyond the topic filter (which the hub applies). */
export interface SelectionOptions {
  dropInitialized: boolean;
  dropDeleted: boolean;
  /** Per property instance (topic + source + key): drop an event whose data equals the last one seen. */
  onlyChanges: boolean;
}

/** Property instances remembered for "only changes"; beyond this the oldest is forgotten (a device inventing keys must not grow memory forever). */
const MAX_REMEMBERED = 10_000;

/** Decides per event whether it goes out. One per listener (an events node): each remembers the values it has seen. */
export class EventSelection {
  private readonly lastData = new Map<string, string>();

  constructor(private readonly options: SelectionOptions) {}

  accept(ev: OnvifEvent): boolean {
    if (ev.operation === 'Initialized' && this.options.dropInitialized) {
      // Still remember the value, so the first Changed that repeats it is not news either.
      if (this.options.onlyChanges) this.remember(ev);
      return false;
    }
    if (ev.operation === 'Deleted') {
      // The property is gone: a later Initialized with the old value is news again.
      this.lastData.delete(instanceKey(ev));
      return !this.options.dropDeleted;
    }
    if (!this.options.onlyChanges) return true;
    return this.remember(ev);
  }

  /** Records the event's data; true when it differs from what this instance had. */
  private remember(ev: OnvifEvent): boolean {
    const id = instanceKey(ev);
    const data = stableJson(ev.data);
    const before = this.lastData.get(id);
    if (before === data) return false;
    this.lastData.delete(id);
    this.lastData.set(id, data);
    if (this.lastData.size > MAX_REMEMBERED) {
      const oldest = this.lastData.keys().next().value;
      if (oldest !== undefined) this.lastData.delete(oldest);
    }
    return true;
  }
}

function instanceKey(ev: OnvifEvent): string {
  return `${ev.topic}\u0000${stableJson(ev.source)}\u0000${stableJson(ev.key)}`;
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` compare equal. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v as Record<string, unknown>).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  }) ?? 'undefined';
}
