import { OnvifDevice } from '../../device/onvif-device';
import { EventHub } from '../../events/hub';
import { DEVICE_FLAGS, UsageError, deviceOptions, parseArgs, type Command } from '../args';

const FLAGS = { ...DEVICE_FLAGS, values: [...DEVICE_FLAGS.values, 'filter', 'count'] };

/**
 * Follow a device's events: one JSON line per event until --count events were printed, Ctrl-C, or a failure
 * retrying cannot fix (rejected credentials). Lost connections are retried; each retry is noted on stderr.
 */
export const events: Command = {
  usage: ['onvifq events <address> [--filter EXPR] [--count N]    print the device\'s events, one JSON line each'],
  options: [
    'Options for events:',
    '  --filter EXPR         topics to print (ONVIF ConcreteSet, e.g. \'tns1:RuleEngine//.|tns1:Monitoring//.\'); default all',
    '  --count N             stop after N events',
  ],
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv, FLAGS);
    const [address, extra] = positional;
    if (!address) throw new UsageError('events needs a device address');
    if (extra) throw new UsageError(`unexpected argument "${extra}"`);
    let count: number | undefined;
    if (flags.count !== undefined) {
      count = Number(flags.count);
      if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count must be a whole number above 0, not "${flags.count}"`);
    }
    const filter = typeof flags.filter === 'string' ? flags.filter : '';
    const device = new OnvifDevice(deviceOptions(address, flags));
    const hub = new EventHub(async () => device);
    let printed = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        if (io.signal.aborted) return resolve();
        io.signal.addEventListener('abort', () => resolve(), { once: true });
        let lastStatus = '';
        hub.state$.subscribe((s) => {
          if (s.status === 'failed') reject(s.error);
          if (s.status === 'retrying' && s.status !== lastStatus) {
            process.stderr.write(`onvifq: ${s.error?.message ?? 'the subscription was lost'} Retrying in ${Math.round((s.retryInMs ?? 0) / 100) / 10} s.\n`);
          }
          lastStatus = s.status;
        });
        hub.events(filter).subscribe((e) => {
          if (count !== undefined && printed >= count) return;
          io.out(JSON.stringify(e));
          if (count !== undefined && ++printed >= count) resolve();
        });
      });
    } finally {
      // Unsubscribe (short timeout) before the process ends, so the device's pull point slot is free again.
      await hub.close();
      await device.close();
    }
  },
};
