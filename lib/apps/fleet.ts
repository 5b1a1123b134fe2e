/**
 * App actions on a fleet: devices named by address sharing one set of credentials and settings (the apps
 * node's msg.address list), each with its AppManager, run a few at a time, with a summary — so the node stays thin.
 */
import { FleetDevices } from '../configure/fleet';
import type { OnvifDevice } from '../device/onvif-device';
import type { OnvifDeviceOptions } from '../device/types';
import { isOnvifError } from '../errors';
import { runAppAction, type AppAction, type AppActionParams } from './actions';
import { AppManager, type AppManagerOptions, type WaitOptions } from './manager';
import type { AppProgress } from './types';

export interface FleetAppOutcome {
  address: string;
  ok: boolean;
  result?: unknown;
  /** What failed, as plain JSON (kind, message, step, appId, appStatus ...). */
  error?: Record<string, unknown>;
}

export interface FleetAppResult {
  action: AppAction;
  results: FleetAppOutcome[];
  summary: { total: number; ok: number; failed: number; text: string };
}

export interface FleetRunOptions extends Omit<WaitOptions, 'onProgress'> {
  /** Devices worked on at once (default 4). */
  concurrency?: number;
  onProgress?(address: string, p: AppProgress): void;
}

export class AppFleet {
  private readonly devices: FleetDevices;
  private readonly managers = new Map<OnvifDevice, AppManager>();

  constructor(private readonly managerOptions: Omit<AppManagerOptions, 'events'> & { events?: false } = {}) {
    this.devices = new FleetDevices(() => undefined);
  }

  /** The manager of one address (its session is kept for later use). */
  manager(address: string, template: Readonly<OnvifDeviceOptions>): AppManager {
    const device = this.devices.get(address, template);
    let m = this.managers.get(device);
    if (!m) {
      m = new AppManager(device, this.managerOptions);
      this.managers.set(device, m);
    }
    return m;
  }

  /** Run `action` on every address; never throws for one device's failure (see each outcome and the summary). */
  async run(addresses: readonly string[], template: Readonly<OnvifDeviceOptions>, action: AppAction, params: AppActionParams = {}, options: FleetRunOptions = {}): Promise<FleetAppResult> {
    const list = [...new Set(addresses.map((a) => String(a).trim()).filter(Boolean))];
    const results: FleetAppOutcome[] = new Array(list.length);
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const i = next++;
        const address = list[i]!;
        try {
          const m = this.manager(address, template);
          const result = await runAppAction(m, action, params, { ...options, onProgress: (p) => options.onProgress?.(address, p) });
          results[i] = { address, ok: true, result };
        } catch (e) {
          results[i] = { address, ok: false, error: isOnvifError(e) ? (e.toJSON() as Record<string, unknown>) : { message: String((e as Error)?.message ?? e) } };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(Math.max(1, options.concurrency ?? 4), Math.max(1, list.length)) }, worker));
    const ok = results.filter((r) => r.ok).length;
    const failed = results.length - ok;
    const text = `${action}: ${ok} of ${results.length} device(s) ok${failed ? `, ${failed} failed (${results.filter((r) => !r.ok).map((r) => r.address).join(', ')})` : ''}`;
    return { action, results, summary: { total: results.length, ok, failed, text } };
  }

  async closeAll(): Promise<void> {
    const managers = [...this.managers.values()];
    this.managers.clear();
    await Promise.all(managers.map((m) => m.close().catch(() => undefined)));
    await this.devices.closeAll();
  }
}
