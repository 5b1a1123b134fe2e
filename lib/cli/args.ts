import { readFileSync } from 'node:fs';
import type { OnvifDeviceOptions } from '../device/types';
import type { AuthMode } from '../transport/types';

/** A mistake in how the command was called: one line on stderr, exit code 2. */
export class UsageError extends Error {}

export interface ParsedArgs {
  positional: string[];
  /** Flag values; a flag given several times (e.g. --target) keeps every value in `multi`. */
  flags: Record<string, string | boolean>;
  multi: Record<string, string[]>;
}

export interface FlagSpec {
  /** Flags that take a value. */
  values: string[];
  /** Flags without a value. */
  booleans: string[];
  /** One-letter aliases. */
  short?: Record<string, string>;
}

/** The flags every device command understands. */
export const DEVICE_FLAGS: FlagSpec = {
  values: ['user', 'password', 'auth', 'timeout', 'ca', 'fingerprint'],
  booleans: ['insecure', 'compact', 'help', 'trace'],
  short: { u: 'user', p: 'password', h: 'help' },
};

export function parseArgs(argv: string[], spec: FlagSpec = DEVICE_FLAGS): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string | boolean> = {};
  const multi: Record<string, string[]> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    const m = /^--?([a-z][a-z-]*)(?:=(.*))?$/i.exec(a);
    if (!m) {
      positional.push(a);
      continue;
    }
    const name = a.startsWith('--') ? m[1] : spec.short?.[m[1]] ?? m[1];
    if (spec.booleans.includes(name)) flags[name] = true;
    else if (spec.values.includes(name)) {
      const v = m[2] ?? argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      flags[name] = v;
      (multi[name] ??= []).push(v);
    } else throw new UsageError(`unknown option ${a} (see --help)`);
  }
  return { positional, flags, multi };
}

/** Seconds flag → milliseconds, or undefined when absent. */
export function secondsFlag(flags: ParsedArgs['flags'], name: string): number | undefined {
  if (flags[name] === undefined) return undefined;
  const s = Number(flags[name]);
  if (!(s > 0)) throw new UsageError(`--${name} must be a positive number of seconds, not "${flags[name]}"`);
  return s * 1000;
}

/** Library options from the common device flags (password may come from ONVIFQ_PASSWORD). */
export function deviceOptions(address: string, flags: ParsedArgs['flags']): OnvifDeviceOptions {
  const auth = (flags.auth as string | undefined) ?? 'auto';
  if (!['auto', 'digest', 'ws-security', 'none'].includes(auth)) throw new UsageError(`--auth must be auto, digest, ws-security or none, not "${auth}"`);
  let ca: string | undefined;
  if (typeof flags.ca === 'string') {
    try {
      ca = readFileSync(flags.ca, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read the CA file ${flags.ca}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const username = (flags.user as string | undefined) ?? process.env.ONVIFQ_USER;
  const password = (flags.password as string | undefined) ?? process.env.ONVIFQ_PASSWORD;
  // A user without a password is nearly always a forgotten ONVIFQ_PASSWORD; sending it would only earn a
  // rejection from the device (and count towards its lock-out).
  if (username && password === undefined) {
    throw new UsageError(`no password given for user '${username}': add --password P, or set ONVIFQ_PASSWORD (keeps it out of the shell history); for an account without a password give --password ''`);
  }
  return {
    address,
    username,
    password,
    auth: auth as AuthMode,
    timeoutMs: secondsFlag(flags, 'timeout'),
    tls: ca || flags.fingerprint || flags.insecure
      ? { ca, fingerprint: flags.fingerprint as string | undefined, rejectUnauthorized: flags.insecure ? false : undefined }
      : undefined,
  };
}

/** How a command writes: `out` for results (stdout), `progress` for what it is doing (stderr), and a signal that ends long-running commands (Ctrl-C). */
export interface CommandIo {
  out: (line: string) => void;
  progress?: (line: string) => void;
  signal: AbortSignal;
}

/** Parameters given on the command line as one JSON object argument (absent: undefined). */
export function jsonParams(json: string | undefined, example: string): Record<string, unknown> | undefined {
  if (json === undefined) return undefined;
  let params: unknown;
  try {
    params = JSON.parse(json);
  } catch (e) {
    throw new UsageError(`the parameters are not valid JSON: ${(e as Error).message}`);
  }
  if (!params || typeof params !== 'object' || Array.isArray(params)) throw new UsageError(`the parameters must be a JSON object, e.g. '${example}'`);
  return params as Record<string, unknown>;
}

export interface Command {
  /** One line per usage form, shown by --help. */
  usage: string[];
  /** Extra option help lines, when the command has its own flags. */
  options?: string[];
  run(argv: string[], io: CommandIo): Promise<void>;
}
