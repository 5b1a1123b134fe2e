/**
 * Who is online, across discovery runs (the onvifq-discover node keeps one): first-seen times across probes
 * and online/offline changes from Hello/Bye and from devices that stop answering probes.
 */
import type { DiscoveredDevice } from './messages';

export type PresenceChange = { state: 'online' | 'offline'; device: DiscoveredDevice; reason: 'hello' | 'probe' | 'bye' | 'missed' };

interface Entry {
  device: DiscoveredDevice;
  online: boolean;
  /** Probes in a row the device did not answer. */
  misses: number;
}

export class PresenceRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly missLimit: number) {}

  /** The device with firstSeen set to when this registry first saw it (a probe's is per probe). */
  remember(device: DiscoveredDevice): DiscoveredDevice {
    const known = this.entries.get(device.endpoint);
    const merged: DiscoveredDevice = known ? { ...device, firstSeen: known.device.firstSeen } : { ...device };
    if (known) known.device = merged;
    else this.entries.set(device.endpoint, { device: merged, online: false, misses: 0 });
    return merged;
  }

  /** A device announced itself or answered: online (a change only if it was not). */
  seen(device: DiscoveredDevice, reason: 'hello' | 'probe'): PresenceChange | undefined {
    const merged = this.remember(device);
    const entry = this.entries.get(device.endpoint)!;
    entry.misses = 0;
    if (entry.online) return undefined;
    entry.online = true;
    return { state: 'online', device: merged, reason };
  }

  /** A device said Bye. */
  bye(device: DiscoveredDevice): PresenceChange | undefined {
    const entry = this.entries.get(device.endpoint);
    if (!entry) {
      // A Bye from a device never seen: nothing to report, it was never online for us.
      return undefined;
    }
    if (!entry.online) return undefined;
    entry.online = false;
    entry.misses = 0;
    // The Bye carries little more than the endpoint; report what we knew about the device.
    return { state: 'offline', device: { ...entry.device, lastSeen: device.lastSeen || entry.device.lastSeen }, reason: 'bye' };
  }

  /**
   * A complete probe run (with the same settings each time) answered by `answered` (endpoints): the online devices
   * that did not answer get one more miss, and go offline at the limit.
   */
  probeMissed(answered: Set<string>): PresenceChange[] {
    const changes: PresenceChange[] = [];
    for (const entry of this.entries.values()) {
      if (!entry.online || answered.has(entry.device.endpoint)) continue;
      entry.misses += 1;
      if (entry.misses >= this.missLimit) {
        entry.online = false;
        entry.misses = 0;
        changes.push({ state: 'offline', device: entry.device, reason: 'missed' });
      }
    }
    return changes;
  }

  get onlineCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.online) n += 1;
    return n;
  }
}
