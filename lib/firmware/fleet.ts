import type { OnvifDevice } from '../device/onvif-device';
import type { EventHub } from '../events/hub';
import { OnvifError, isOnvifError } from '../errors';
import { openImage, type FirmwareImage, type OpenedImage } from './source';
import { FirmwareError, type FirmwareProgress, type FirmwareResult } from './types';
import { upgradeFirmware, type FirmwareOptions } from './upgrade';

export interface FleetUpgradeOptions extends Omit<FirmwareOptions, 'onProgress' | 'backupFirst' | 'events'> {
  /** How many devices upgrade at once (default 1: a rolling upgrade). */
  concurrency?: number;
  /** Start no further device after the first failure (default true); those report 'not-started'. */
  stopOnFailure?: boolean;
  /** A backup before each upgrade: the file for one device (e.g. `(d) => \`backups/${d.displayAddress}.bin\``). */
  backupFirst?: (device: OnvifDevice) => string | true | undefined;
  onProgress?(device: OnvifDevice, p: FirmwareProgress): void;
  /** A device's shared event stream, when it has one (see FirmwareOptions.events). */
  events?: (device: OnvifDevice) => EventHub | undefined;
  /** Each device's result as soon as it is known (a node sends one message per device). */
  onDeviceResult?(r: FleetDeviceResult): void;
}

export interface FleetDeviceResult {
  address: string;
  /** upgraded; skipped (already on expectVersion); failed; not-started (stopped after a failure, or cancelled). */
  status: 'upgraded' | 'skipped' | 'failed' | 'not-started';
  result?: FirmwareResult;
  /** The failure (a FirmwareError with kind, failure, steps, before). */
  error?: OnvifError;
  /** The version it runs now, when known. */
  version?: string;
  text: string;
}

export interface FleetUpgradeResult {
  results: FleetDeviceResult[];
  summary: {
    total: number;
    upgraded: number;
    skipped: number;
    failed: number;
    notStarted: number;
    /** The run stopped early (stopOnFailure after a failure, or the signal). */
    stopped: boolean;
    text: string;
  };
}

/**
 * A rolling upgrade: `concurrency` devices at a time, in the given order; a device already on
 * expectVersion is skipped (read-only check); with stopOnFailure (default) no device starts after the
 * first failure. The image is opened once (a URL is fetched again per device, never stored). Never throws
 * for a device's failure: every device gets a result, then a summary.
 */
export async function upgradeFleet(devices: readonly OnvifDevice[], image: FirmwareImage, options: FleetUpgradeOptions = {}): Promise<FleetUpgradeResult> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
  const stopOnFailure = options.stopOnFailure ?? true;
  const results: FleetDeviceResult[] = devices.map((d) => ({ address: d.displayAddress, status: 'not-started', text: `${d.displayAddress}: not started` }));
  let stop = false;
  // Check the image once, before any device is touched: a bad path fails the whole run at once.
  let opened: OpenedImage;
  try {
    opened = await openImage(image, options.signal);
  } catch (e) {
    throw isOnvifError(e) ? e : new OnvifError('invalid-input', String(e));
  }
  // Every device gets its own fresh stream of the same image (a URL is fetched again, never stored).
  const shared: FirmwareImage = opened.from === 'file' ? opened.name : { open: () => opened.open(), size: opened.size, name: opened.name };

  const one = async (index: number): Promise<void> => {
    const device = devices[index]!;
    const address = device.displayAddress;
    const done = (r: FleetDeviceResult) => {
      results[index] = r;
      try {
        options.onDeviceResult?.(r);
      } catch {
        // A failing callback must not stop the fleet.
      }
    };
    try {
      const result = await upgradeFirmware(device, shared, {
        ...options,
        backupFirst: options.backupFirst?.(device),
        events: options.events?.(device),
        onProgress: (p) => options.onProgress?.(device, p),
      });
      done({ address, status: 'upgraded', result, version: result.after.firmwareVersion, text: `${address}: ${result.before.firmwareVersion} → ${result.after.firmwareVersion}` });
    } catch (e) {
      if (e instanceof FirmwareError && e.failure === 'already-current') {
        done({ address, status: 'skipped', version: e.before?.firmwareVersion, text: `${address}: already on ${e.before?.firmwareVersion}` });
        return;
      }
      const error = isOnvifError(e) ? e : new OnvifError('bad-response', String((e as Error)?.message ?? e), { cause: e });
      const version = e instanceof FirmwareError ? (e.after ?? e.before)?.firmwareVersion : undefined;
      if (stopOnFailure) stop = true;
      done({ address, status: 'failed', error, ...(version ? { version } : {}), text: `${address}: ${error.message}` });
    }
  };

  let next = 0;
  const worker = async () => {
    while (!stop && !options.signal?.aborted && next < devices.length) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));

  const count = (s: FleetDeviceResult['status']) => results.filter((r) => r.status === s).length;
  const summary = {
    total: devices.length,
    upgraded: count('upgraded'),
    skipped: count('skipped'),
    failed: count('failed'),
    notStarted: count('not-started'),
    stopped: count('not-started') > 0,
    text: '',
  };
  summary.text =
    `${summary.upgraded} upgraded, ${summary.skipped} skipped, ${summary.failed} failed` +
    (summary.notStarted ? `, ${summary.notStarted} not started (${options.signal?.aborted ? 'cancelled' : 'stopped after the first failure'})` : '') +
    ` of ${summary.total}.`;
  return { results, summary };
}
