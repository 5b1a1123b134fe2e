import { OnvifDevice } from '../../device/onvif-device';
import { UsageError, deviceOptions, parseArgs, type Command } from '../args';

export const info: Command = {
  usage: ['onvifq info <address> [options]                       who the device is, as JSON (device information, Profile Q state, authentication, scopes, services, capabilities; what is unknown without credentials on stderr)'],
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    const [address, extra] = positional;
    if (!address) throw new UsageError('info needs a device address');
    if (extra) throw new UsageError(`unexpected argument "${extra}"`);
    const device = new OnvifDevice(deviceOptions(address, flags));
    try {
      const s = await device.connect();
      // Without credentials most devices refuse some reads: say so next to the JSON, not only as empty fields in it.
      if (s.partial) io.progress?.(`onvifq: ${s.partial.text}`);
      io.out(JSON.stringify({
        address: s.xaddr,
        endpoint: s.endpoint,
        ...s.deviceInformation,
        profileQState: s.profileQState,
        authMethod: s.authMethod,
        clockOffsetMs: s.clockOffsetMs,
        scopes: s.scopes,
        services: s.services.map((x) => ({ namespace: x.namespace, xaddr: x.xaddr, version: `${x.version.major}.${x.version.minor}` })),
        capabilities: s.capabilities,
        ...(s.partial ? { partial: s.partial } : {}),
      }, null, flags.compact ? undefined : 2));
    } finally {
      await device.close();
    }
  },
};
