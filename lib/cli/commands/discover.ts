import { isOnvifError } from '../../errors';
import { probe$, DEFAULT_PROBE_TIMEOUT_MS } from '../../discovery';
import { UsageError, parseArgs, secondsFlag, type Command, type FlagSpec } from '../args';

const DISCOVER_FLAGS: FlagSpec = {
  values: ['timeout', 'interface', 'target', 'port', 'scope'],
  booleans: ['multicast', 'help'],
  short: { h: 'help', t: 'target', i: 'interface' },
};

export const discover: Command = {
  usage: ['onvifq discover [--timeout S] [--interface IF] [--target ADDR...]   find ONVIF devices (WS-Discovery), one JSON line each'],
  options: [
    'Options for discover:',
    '  --timeout S           how long to collect replies, seconds (default 3)',
    '  --interface, -i IF    probe on this interface (name or IPv4 address; repeatable); default: every one',
    '  --target, -t ADDR     unicast probe to a.b.c.d[:port], a.b.c.d-e or a.b.c.0/24 (repeatable), for networks without multicast',
    '  --multicast           also multicast when --target is given',
    '  --port N              WS-Discovery port of the devices (default 3702)',
    '  --scope URI           only devices with this scope, e.g. onvif://www.onvif.org/Profile/Q (repeatable)',
  ],
  async run(argv, io) {
    const { positional, flags, multi } = parseArgs(argv, DISCOVER_FLAGS);
    if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}" (use --target ${positional[0]} for a unicast probe)`);
    let port: number | undefined;
    if (flags.port !== undefined) {
      port = Number(flags.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be a port number, not "${flags.port}"`);
    }
    const targets = multi.target ?? [];
    const options = {
      timeoutMs: secondsFlag(flags, 'timeout') ?? DEFAULT_PROBE_TIMEOUT_MS,
      interfaces: multi.interface,
      targets,
      multicast: flags.multicast ? true : targets.length === 0,
      port,
      scopes: multi.scope,
      signal: io.signal,
    };
    // One line per device as it answers, so a long search shows progress and pipes into jq.
    await new Promise<void>((resolve, reject) => {
      probe$(options).subscribe({
        next: (d) => io.out(JSON.stringify(d)),
        // A bad --target or --interface is a usage mistake (exit 2), like any other bad flag.
        error: (e: unknown) => reject(isOnvifError(e) && e.kind === 'invalid-input' ? new UsageError(e.message) : e),
        complete: resolve,
      });
    });
  },
};
