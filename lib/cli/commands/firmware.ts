import { OnvifDevice } from '../../device/onvif-device';
import { EventHub } from '../../events/hub';
import { firmwareDryRun, upgradeFirmware, type FirmwareOptions } from '../../firmware';
import { isDeviceReport } from '../../firmware/device-events';
import { DEVICE_FLAGS, UsageError, deviceOptions, parseArgs, type Command } from '../args';

const FLAGS = {
  ...DEVICE_FLAGS,
  values: [...DEVICE_FLAGS.values, 'expect-version', 'expect-model', 'backup-first', 'method'],
  booleans: [...DEVICE_FLAGS.booleans, 'dry-run', 'try-anyway', 'device-events'],
};

export const firmware: Command = {
  usage: [
    'onvifq firmware <address> <image|url> [--expect-version V] [--backup-first FILE] [--dry-run]',
    '                                                        upgrade the firmware: progress on stderr, result as JSON',
  ],
  options: [
    'Firmware options:',
    '  --expect-version V    the version the image installs: the device must come back with it (skipped if it already runs it)',
    '  --expect-model M      refuse before sending anything when the device is another model',
    '  --backup-first FILE   save the configuration backup to FILE before the upgrade',
    '  --dry-run             check capability, model, reachability and version; change nothing',
    '  --try-anyway          upgrade even when the capabilities list no firmware upgrade',
    '  --method M            auto (default) | http | mtom (the legacy UpgradeSystemFirmware)',
    "  --device-events       also show the device's own account (upload began, percent received, restart announced):",
    '                        takes one event subscription (pull point) on the device during the upgrade',
    '  Ctrl-C cancels: before the upload nothing happens; once the image is sent the device may still be flashing (never power it off).',
  ],
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv, FLAGS);
    const [address, image, extra] = positional;
    if (!address) throw new UsageError('firmware needs a device address');
    if (!image) throw new UsageError('firmware needs the image: a file path or an http(s) URL');
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const method = (flags.method as string | undefined) ?? 'auto';
    if (!['auto', 'http', 'mtom'].includes(method)) throw new UsageError(`--method must be auto, http or mtom, not "${method}"`);
    const common = {
      expectVersion: flags['expect-version'] as string | undefined,
      expectModel: flags['expect-model'] as string | undefined,
      tryAnyway: flags['try-anyway'] === true,
      method: method as FirmwareOptions['method'],
      signal: io.signal,
    };
    const device = new OnvifDevice(deviceOptions(address, flags));
    const print = (v: unknown) => io.out(JSON.stringify(v, null, flags.compact ? undefined : 2));
    const onCancel = () => io.progress?.('cancelling… (the error says whether the device may still be flashing)');
    let hub: EventHub | undefined;
    io.signal.addEventListener('abort', onCancel, { once: true });
    try {
      if (flags['dry-run']) {
        const plan = await firmwareDryRun(device, image, common);
        io.progress?.(plan.text);
        print(plan);
        return;
      }
      let last = '';
      hub = flags['device-events'] ? new EventHub(async () => device) : undefined;
      const result = await upgradeFirmware(device, image, {
        ...common,
        backupFirst: flags['backup-first'] as string | undefined,
        events: hub,
        onProgress: (p) => {
          const text = p.devicePercent !== undefined ? `${p.text} (the device has ${p.devicePercent} %)` : p.text;
          if (text !== last) io.progress?.((last = text));
        },
      });
      // What the device said about itself, from its events (also in the result's steps).
      if (hub) for (const s of result.steps) if (isDeviceReport(s)) io.progress?.(s.text);
      for (const w of result.warnings) io.progress?.(`warning: ${w}`);
      print(result);
    } finally {
      io.signal.removeEventListener('abort', onCancel);
      await hub?.close();
      await device.close();
    }
  },
};
