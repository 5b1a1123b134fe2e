import { OnvifDevice } from '../../device/onvif-device';
import { UsageError, deviceOptions, jsonParams, parseArgs, type Command } from '../args';

export const call: Command = {
  usage: ["onvifq call <address> <Operation> ['<json>'] [options]  run one operation, print the result as JSON"],
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    const [address, operation, json, extra] = positional;
    if (!address) throw new UsageError('call needs a device address');
    if (!operation) throw new UsageError('call needs an operation name, e.g. GetDeviceInformation');
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}" (quote the JSON parameters as one argument)`);
    const params = jsonParams(json, '{"IncludeCapability": true}');
    const device = new OnvifDevice(deviceOptions(address, flags));
    try {
      io.out(JSON.stringify(await device.call(operation, params), null, flags.compact ? undefined : 2));
    } finally {
      await device.close();
    }
  },
};
