import { AppManager } from '../../apps/manager';
import type { FileSource } from '../../transfer/source';
import { OnvifDevice } from '../../device/onvif-device';
import { DEVICE_FLAGS, UsageError, deviceOptions, parseArgs, secondsFlag, type Command } from '../args';

const FLAGS = { ...DEVICE_FLAGS, values: [...DEVICE_FLAGS.values, 'content-type', 'wait', 'app', 'warn-days'], booleans: [...DEVICE_FLAGS.booleans, 'poll'] };

const ACTIONS = ['list', 'info', 'install', 'update', 'uninstall', 'activate', 'deactivate', 'license', 'licenses', 'device-id', 'backup', 'restore'] as const;
type CliAction = (typeof ACTIONS)[number];

/** A package argument: an http(s) URL is streamed from there, anything else is a file path. */
function packageArg(arg: string | undefined, action: string): FileSource {
  if (!arg) throw new UsageError(`apps ${action} needs a package: a file path or an http(s) URL`);
  return /^https?:\/\//i.test(arg) ? { url: arg } : { file: arg };
}

function idArg(arg: string | undefined, action: string): string {
  if (!arg) throw new UsageError(`apps ${action} needs an AppID (apps <address> list shows them)`);
  return arg;
}

/** App Management: install/update confirmed (progress on stderr), the other actions, result as JSON. */
export const apps: Command = {
  usage: [
    'onvifq apps <address> list|info [id]|install <pkg>|update <pkg>|uninstall <id>|activate <id>|deactivate <id>',
    '                     |license <id> <file>|licenses|device-id|backup <id> <file>|restore <id> <file>',
    '                                                        App Management: results as JSON, progress on stderr',
  ],
  options: [
    'Options for apps:',
    '  --content-type T      Content-Type of the package (default: recognised, from the device\'s FormatsSupported)',
    '  --app ID              update: the app being updated (checked first; only its state events count)',
    '  --wait S              install/update/uninstall/activate/deactivate: give up after S seconds (default 600 / 120)',
    '  --poll                follow the state by polling GetAppsInfo instead of the tns1:AppMgmt/State events',
    '  --warn-days N         licenses: report licenses expiring within N days (default 30)',
    '  <pkg> is a file path or an http(s) URL (streamed from there).',
  ],
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv, FLAGS);
    const [address, action, a1, a2, extra] = positional;
    if (!address) throw new UsageError('apps needs a device address');
    if (!ACTIONS.includes(action as CliAction)) throw new UsageError(`apps needs one of ${ACTIONS.join(', ')}${action ? `, not "${action}"` : ''}`);
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const timeoutMs = secondsFlag(flags, 'wait');
    const contentType = typeof flags['content-type'] === 'string' ? flags['content-type'] : undefined;
    const device = new OnvifDevice(deviceOptions(address, flags));
    const manager = new AppManager(device, flags.poll ? { events: false } : {});
    let last = '';
    const onProgress = (p: { text: string }) => {
      if (p.text !== last) io.progress?.((last = p.text));
    };
    const wait = { timeoutMs, signal: io.signal, onProgress };
    try {
      let result: unknown;
      switch (action as CliAction) {
        case 'list': result = await manager.list(); break;
        case 'info': result = await manager.info(a1); break;
        case 'install': result = await manager.install(packageArg(a1, action!), { ...wait, contentType }); break;
        case 'update': result = await manager.update(packageArg(a1, action!), { ...wait, contentType, appId: typeof flags.app === 'string' ? flags.app : undefined }); break;
        case 'uninstall': result = await manager.uninstall(idArg(a1, action!), wait); break;
        case 'activate': result = await manager.activate(idArg(a1, action!), wait); break;
        case 'deactivate': result = await manager.deactivate(idArg(a1, action!), wait); break;
        case 'license':
          if (!a2) throw new UsageError('apps license needs an AppID and the license file');
          result = await manager.installLicense(idArg(a1, action!), { file: a2 });
          break;
        case 'licenses': {
          const warnDays = flags['warn-days'] === undefined ? undefined : Number(flags['warn-days']);
          if (warnDays !== undefined && (!Number.isFinite(warnDays) || warnDays < 0)) throw new UsageError(`--warn-days must be a number of days, not "${String(flags['warn-days'])}"`);
          result = await manager.licenseReport({ warnDays });
          break;
        }
        case 'device-id': result = { deviceId: await manager.deviceId() }; break;
        case 'backup':
          if (!a2) throw new UsageError('apps backup needs an AppID and the file to write');
          result = await manager.backupConfig(idArg(a1, action!), { file: a2, signal: io.signal });
          break;
        case 'restore':
          if (!a2) throw new UsageError('apps restore needs an AppID and the configuration file');
          result = await manager.restoreConfig(idArg(a1, action!), { file: a2 }, { signal: io.signal });
          break;
      }
      io.out(JSON.stringify(result, null, flags.compact ? undefined : 2));
    } finally {
      await manager.close();
      await device.close();
    }
  },
};
