#!/usr/bin/env node
/**
 * onvifq: a small terminal client for ONVIF devices.
 *   onvifq info <address> [--user U --password P]            the device's inventory as JSON
 *   onvifq call <address> <Operation> ['<json>'] [...]        one operation's normalised result as JSON
 * Errors: one line on stderr, exit 1 (device/network) or 2 (usage).
 */
import { readFileSync } from 'node:fs';
import { OnvifDevice } from '../device/onvif-device';
import type { OnvifDeviceOptions } from '../device/types';
import { isOnvifError } from '../errors';
import type { AuthMode } from '../transport/types';

const USAGE = `Usage:
  onvifq info <address> [options]                     print the device's inventory as JSON
  onvifq call <address> <Operation> ['<json>'] [options]  run one operation, print the result as JSON

Options:
  --user, -u U          username (or ONVIFQ_USER)
  --password, -p P      password (or ONVIFQ_PASSWORD, which keeps it out of shell history)
  --auth MODE           auto (default) | digest | ws-security | none
  --timeout S           per-request timeout in seconds (default 10)
  --ca FILE             PEM file with the CA that signed the device's HTTPS certificate
  --fingerprint HEX     pin the device certificate's SHA-256 fingerprint
  --insecure            accept any HTTPS certificate (only if you know why)
  --compact             one-line JSON
  --help, -h            this text

<address> is host, host:port or a full URL (http://192.168.1.20/onvif/device_service).`;

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Record<string, string | boolean>;
}

const VALUE_FLAGS = new Set(['user', 'password', 'auth', 'timeout', 'ca', 'fingerprint']);
const BOOL_FLAGS = new Set(['insecure', 'compact', 'help']);
const SHORT: Record<string, string> = { u: 'user', p: 'password', h: 'help' };

export function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    const m = /^--?([a-z-]+)(?:=(.*))?$/i.exec(a);
    if (!m || /^-?\d/.test(a.slice(1)) || a === '-') {
      positional.push(a);
      continue;
    }
    const name = a.startsWith('--') ? m[1] : SHORT[m[1]] ?? m[1];
    if (BOOL_FLAGS.has(name)) flags[name] = true;
    else if (VALUE_FLAGS.has(name)) {
      const v = m[2] ?? argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      flags[name] = v;
    } else throw new UsageError(`unknown option ${a} (see --help)`);
  }
  return { positional, flags };
}

function deviceOptions(address: string, flags: Parsed['flags']): OnvifDeviceOptions {
  const auth = (flags.auth as string | undefined) ?? 'auto';
  if (!['auto', 'digest', 'ws-security', 'none'].includes(auth)) throw new UsageError(`--auth must be auto, digest, ws-security or none, not "${auth}"`);
  let timeoutMs: number | undefined;
  if (flags.timeout !== undefined) {
    const s = Number(flags.timeout);
    if (!(s > 0)) throw new UsageError(`--timeout must be a positive number of seconds, not "${flags.timeout}"`);
    timeoutMs = s * 1000;
  }
  let ca: string | undefined;
  if (typeof flags.ca === 'string') {
    try {
      ca = readFileSync(flags.ca, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read the CA file ${flags.ca}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return {
    address,
    username: (flags.user as string | undefined) ?? process.env.ONVIFQ_USER,
    password: (flags.password as string | undefined) ?? process.env.ONVIFQ_PASSWORD,
    auth: auth as AuthMode,
    timeoutMs,
    tls: ca || flags.fingerprint || flags.insecure
      ? { ca, fingerprint: flags.fingerprint as string | undefined, rejectUnauthorized: flags.insecure ? false : undefined }
      : undefined,
  };
}

export async function run(argv: string[], out: (s: string) => void): Promise<void> {
  const { positional, flags } = parseArgs(argv);
  if (flags.help || positional.length === 0) {
    out(USAGE);
    return;
  }
  const [command, address, ...rest] = positional;
  if (command !== 'info' && command !== 'call') throw new UsageError(`unknown command "${command}": use info or call (see --help)`);
  if (!address) throw new UsageError(`${command} needs a device address`);
  const indent = flags.compact ? undefined : 2;
  const device = new OnvifDevice(deviceOptions(address, flags));
  try {
    if (command === 'info') {
      if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
      const s = await device.connect();
      out(JSON.stringify({
        address: s.xaddr,
        endpoint: s.endpoint,
        ...s.deviceInformation,
        profileQState: s.profileQState,
        authMethod: s.authMethod,
        clockOffsetMs: s.clockOffsetMs,
        scopes: s.scopes,
        services: s.services.map((x) => ({ namespace: x.namespace, xaddr: x.xaddr, version: `${x.version.major}.${x.version.minor}` })),
        capabilities: s.capabilities,
      }, null, indent));
      return;
    }
    const [operation, json, ...extra] = rest;
    if (!operation) throw new UsageError('call needs an operation name, e.g. GetDeviceInformation');
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}" (quote the JSON parameters as one argument)`);
    let params: Record<string, unknown> | undefined;
    if (json !== undefined) {
      try {
        params = JSON.parse(json);
      } catch (e) {
        throw new UsageError(`the parameters are not valid JSON: ${(e as Error).message}`);
      }
      if (!params || typeof params !== 'object' || Array.isArray(params)) throw new UsageError('the parameters must be a JSON object, e.g. \'{"IncludeCapability": true}\'');
    }
    out(JSON.stringify(await device.call(operation, params), null, indent));
  } finally {
    await device.close();
  }
}

if (require.main === module) {
  run(process.argv.slice(2), (s) => process.stdout.write(s + '\n')).then(
    () => process.exit(0),
    (e: unknown) => {
      const usage = e instanceof UsageError;
      const msg = usage ? `onvifq: ${(e as Error).message}` : `onvifq: ${isOnvifError(e) ? e.message : (e as Error)?.message ?? String(e)}`;
      process.stderr.write(msg.replace(/\s*\n\s*/g, ' ') + '\n');
      process.exit(usage ? 2 : 1);
    },
  );
}
