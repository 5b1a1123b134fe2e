import { CONFIGURE_TASKS, isConfigureTask, runTask } from '../../configure';
import { OnvifDevice } from '../../device/onvif-device';
import { UsageError, deviceOptions, jsonParams, parseArgs, type Command } from '../args';

/** Tasks whose result is a file: a terminal is no place for the backup's bytes. */
const NEEDS_FILE = new Set(['backup', 'restore']);

export const task: Command = {
  usage: [
    "onvifq task <address> <task> ['<json>'] [options]      run a task: progress on stderr, result as JSON",
    `                                                        (${CONFIGURE_TASKS.join(', ')})`,
  ],
  options: [
    'Task examples:',
    '  onvifq task 192.168.1.20 commission \'{"hostname": "lobby-cam", "ntp": ["pool.ntp.org"]}\'   (new admin password from ONVIFQ_NEW_PASSWORD)',
    '  onvifq task 192.168.1.20 backup \'{"file": "lobby-cam.bin"}\' -u admin        restore reads {"file": ...} the same way',
    '  onvifq task 192.168.1.20 inventory -u admin                              syncTime takes {"mode": "host" | "ntp", ...}',
  ],
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    const [address, name, json, extra] = positional;
    if (!address) throw new UsageError('task needs a device address');
    if (!isConfigureTask(name)) throw new UsageError(`task needs one of ${CONFIGURE_TASKS.join(', ')}${name ? `, not "${name}"` : ''}`);
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}" (quote the JSON parameters as one argument)`);
    const params = jsonParams(json, '{"file": "camera.bin"}') ?? {};
    if (NEEDS_FILE.has(name) && typeof params.file !== 'string') throw new UsageError(`${name} needs a file: '{"file": "camera.bin"}'`);
    // The new admin password may come from the environment, so that it stays out of the shell history.
    if (name === 'commission' && params.password === undefined && process.env.ONVIFQ_NEW_PASSWORD) params.password = process.env.ONVIFQ_NEW_PASSWORD;
    const device = new OnvifDevice(deviceOptions(address, flags));
    let last = '';
    const changes = device.changes$.subscribe((c) => io.progress?.(c.text));
    try {
      const result = await runTask(device, name, params, {
        signal: io.signal,
        onProgress: (p) => {
          if (p.text !== last) io.progress?.((last = p.text));
        },
      });
      io.out(JSON.stringify(result, null, flags.compact ? undefined : 2));
    } finally {
      changes.unsubscribe();
      await device.close();
    }
  },
};
