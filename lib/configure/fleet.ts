/**
 * Devices named by address that share one set of credentials and settings (the configure node's
 * msg.address: a fleet behind one config node). One session per address, kept for later use
 * (a commissioned device keeps its new credentials); the oldest is closed beyond a limit.
 */
import { OnvifDevice } from '../device/onvif-device';
import type { OnvifDeviceOptions } from '../device/types';

export const FLEET_LIMIT = 64;

export class FleetDevices {
  private readonly devices = new Map<string, OnvifDevice>();

  /** `onNew` runs once per new session (e.g. to subscribe to its changes). */
  constructor(private readonly onNew: (device: OnvifDevice, address: string) => void) {}

  /** The session for `address`, with the shared options (credentials, auth mode, TLS, timeout). Throws for an unusable address. */
  get(address: string, template: Readonly<OnvifDeviceOptions>): OnvifDevice {
    const key = address.trim();
    const known = this.devices.get(key);
    if (known) {
      // Most recently used last, so the limit closes the one unused longest.
      this.devices.delete(key);
      this.devices.set(key, known);
      return known;
    }
    const { name: _name, ...options } = template;
    const device = new OnvifDevice({ ...options, address: key });
    this.devices.set(key, device);
    if (this.devices.size > FLEET_LIMIT) {
      const [oldestKey, oldest] = this.devices.entries().next().value as [string, OnvifDevice];
      this.devices.delete(oldestKey);
      void oldest.close().catch(() => undefined);
    }
    this.onNew(device, key);
    return device;
  }

  get size(): number {
    return this.devices.size;
  }

  async closeAll(): Promise<void> {
    const all = [...this.devices.values()];
    this.devices.clear();
    await Promise.all(all.map((d) => d.close().catch(() => undefined)));
  }
}
