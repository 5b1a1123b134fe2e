#!/usr/bin/env node
/**
 * onvifq: a small terminal client for ONVIF devices. Each subcommand lives in lib/cli/commands/.
 * Errors: one line on stderr, exit 1 (device/network) or 2 (usage).
 */
import { isOnvifError } from '../errors';
import { formatWireTrace, subscribeWireTrace } from '../transport/trace';
import { UsageError, type Command } from './args';
import { call } from './commands/call';
import { events } from './commands/events';
import { discover } from './commands/discover';
import { info } from './commands/info';
import { task } from './commands/task';
import { firmware } from './commands/firmware';
import { tls } from './commands/tls';
import { apps } from './commands/apps';

/** The subcommands, in the order --help lists them. */
export const COMMANDS: Record<string, Command> = {
  info,
  call,
  task,
  firmware,
  tls,
  discover,
  events,
  apps,
};

const COMMON_OPTIONS = `Options for device commands:
  --user, -u U          username (or ONVIFQ_USER)
  --password, -p P      password (or ONVIFQ_PASSWORD, which keeps it out of shell history)
  --auth MODE           auto (default) | digest | ws-security | none
  --timeout S           per-request timeout in seconds (default 10)
  --ca FILE             PEM file with the CA that signed the device's HTTPS certificate
  --fingerprint HEX     pin the device certificate's SHA-256 fingerprint
  --insecure            accept any HTTPS certificate (only if you know why)
  --compact             one-line JSON
  --trace               print every HTTP request and answer to stderr (passwords, nonces and digests redacted)
  --help, -h            this text

<address> is host, host:port or a full URL (http://192.168.1.20/onvif/device_service).`;

export function usage(): string {
  const cmds = Object.values(COMMANDS);
  const lines = cmds.flatMap((c) => c.usage.map((u) => `  ${u}`));
  const extra = cmds.flatMap((c) => c.options ?? []);
  return ['Usage:', ...lines, '', COMMON_OPTIONS, ...(extra.length ? ['', ...extra] : [])].join('\n');
}

export async function run(
  argv: string[],
  out: (s: string) => void,
  signal: AbortSignal = new AbortController().signal,
  progress?: (s: string) => void,
): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(usage());
    return;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(`unknown command "${name}": use ${Object.keys(COMMANDS).join(', ')} (see --help)`);
  if (rest.includes('--help') || rest.includes('-h')) {
    out(usage());
    return;
  }
  // The wire trace goes where progress goes (stderr), never into the JSON on stdout.
  const traceLine = progress ?? ((s: string) => process.stderr.write(s + '\n'));
  const stopTrace = rest.includes('--trace') ? subscribeWireTrace((m) => traceLine(formatWireTrace(m))) : undefined;
  try {
    await command.run(rest, { out, signal, progress });
  } finally {
    stopTrace?.();
  }
}

if (require.main === module) {
  const abort = new AbortController();
  // Long-running commands (discover, events) end cleanly on Ctrl-C; a second Ctrl-C exits at once.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (abort.signal.aborted) process.exit(130);
      abort.abort();
    });
  }
  run(process.argv.slice(2), (s) => process.stdout.write(s + '\n'), abort.signal, (s) => process.stderr.write(s + '\n')).then(
    () => process.exit(0),
    (e: unknown) => {
      const usageError = e instanceof UsageError;
      const msg = isOnvifError(e) || usageError ? (e as Error).message : (e as Error)?.message ?? String(e);
      process.stderr.write(`onvifq: ${msg.replace(/\s*\n\s*/g, ' ')}\n`);
      process.exit(usageError ? 2 : 1);
    },
  );
}
