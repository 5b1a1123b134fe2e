#!/usr/bin/env node
import { makeAppMain } from './apps/make-app';
import { startSimulators, type SimulatedDevice, type SimulatorOptions } from './device';
import { writeFirmware } from './firmware/image';
import { DEFAULT_DEVICE_INFORMATION } from './state';

const USAGE = `Usage: onvifq-sim [options]
       onvifq-sim make-app --id ID --name NAME --version V --out FILE [options]   (an app package; make-app --help)
       onvifq-sim make-license --app ID --device DEVICEID --name NAME [--valid-days N]   (an app license)

Runs simulated ONVIF Profile Q devices and prints one JSON line per device once it listens:
  {"xaddr": "http://127.0.0.1:8000/onvif/device_service", "endpoint": "urn:uuid:...", "discovery": "udp://127.0.0.1:3702"}

Options:
  --port N             first port (devices get N, N+1, ...); default: ephemeral ports
  --devices N          how many devices (default 1)
  --host H             address to listen on (default 127.0.0.1)
  --username U         create an Administrator U (needs --password); the device starts Operational
  --password P         its password
  --default-admin U    strict Profile Q: ship with Administrator U and an empty password (e.g. root); Factory
                       Default State lasts until SetUser gives it a password (CreateUsers of another
                       Administrator does not end it); once Operational, empty passwords never sign in
  --reboot-on-commission  restart (2 s away) right after leaving Factory Default State
  --auth MODE          digest | ws-security | any | none (default any)
  --state FILE         keep device state in FILE (JSON); extra devices use FILE-1, FILE-2, ...
  --skew MS            device clock = host clock + MS
  --latency MS         delay every answer by MS
  --motion-every S     raise CellMotionDetector motion (true, then false) every S seconds
  --max-pull-points N  event pull points allowed at once (default 2)
  --reference-parameters  Axis-style pull points: one shared address plus a SubscriptionId header
  --expose-state       serve GET /onvifq/state without credentials even when Operational
  --https-port N       the port HTTPS uses once turned on (SetNetworkProtocols; default: a free one)
  --deprecated-tas     the tas capabilities in the deprecated names only (RSAKeyPairGeneration, ...)
  --discovery-port N   answer WS-Discovery probes on UDP port N (default 3702; all devices share it)
  --no-discovery       no WS-Discovery at all (no Hello/Bye, probes go unanswered)
  --help               show this help

Each device also serves its event service at /onvif/events_service and its live state as JSON at
GET /onvifq/state (pull points, users without passwords, scopes): open in Factory Default State or
with --expose-state, otherwise for an Administrator with HTTP digest. Configuration backup: GET
/onvifq/backup (GetSystemUris); restore: POST the file to the URI StartSystemRestore gives (both need an
Administrator with HTTP digest once Operational; the device restarts after a restore).

Firmware: each device takes firmware images over HTTP (StartFirmwareUpgrade) and restarts with the new
version. Options: --firmware-mode http|legacy|off, --upload-delay S, --firmware-downtime S.
  onvifq-sim make-firmware --version 2.0.0 --model MODEL [--size BYTES] [--out FILE]
                       writes a simulated firmware image (default FILE: MODEL-VERSION.fw; MODEL defaults
                       to the simulator's own model) and prints its path and size

Stops cleanly on SIGINT or SIGTERM.`;

class UsageError extends Error {}

function intArg(flag: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined || !/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${flag} needs a whole number between ${min} and ${max}, got ${value === undefined ? 'nothing' : `'${value}'`}`);
  }
  return Number(value);
}

export function parseArgs(argv: string[]): { help: true } | { help: false; count: number; options: SimulatorOptions } {
  const options: SimulatorOptions = {};
  let count = 1;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return { help: true };
      case '--port': options.port = intArg(flag, value(), 1, 65535); break;
      case '--devices': count = intArg(flag, value(), 1, 1000); break;
      case '--host': options.host = value(); break;
      case '--username': options.username = value(); break;
      case '--password': options.password = value(); break;
      case '--default-admin': options.defaultAdmin = value(); break;
      case '--reboot-on-commission': options.rebootOnCommission = true; break;
      case '--auth': {
        const v = value();
        if (!['digest', 'ws-security', 'any', 'none'].includes(v)) throw new UsageError(`--auth must be digest, ws-security, any or none, got '${v}'`);
        options.auth = v as SimulatorOptions['auth'];
        break;
      }
      case '--state': options.stateFile = value(); break;
      case '--skew': options.clockSkewMs = intArg(flag, value(), -1e12, 1e12); break;
      case '--latency': options.latencyMs = intArg(flag, value(), 0, 600_000); break;
      case '--motion-every': options.motionIntervalMs = intArg(flag, value(), 1, 86_400) * 1000; break;
      case '--max-pull-points': options.maxPullPoints = intArg(flag, value(), 0, 1000); break;
      case '--reference-parameters': options.referenceParameters = true; break;
      case '--expose-state': options.exposeState = true; break;
      case '--https-port': options.httpsPort = intArg(flag, value(), 1, 65535); break;
      case '--deprecated-tas': options.security = { ...options.security, capabilityNames: 'deprecated' }; break;
      case '--discovery-port': {
        if (options.discovery === false) throw new UsageError('--discovery-port and --no-discovery contradict each other');
        options.discovery = { port: intArg(flag, value(), 1, 65535) };
        break;
      }
      case '--firmware-mode': {
        const v = value();
        if (!['http', 'legacy', 'off'].includes(v)) throw new UsageError(`--firmware-mode must be http, legacy or off, got '${v}'`);
        options.firmwareMode = v as SimulatorOptions['firmwareMode'];
        break;
      }
      case '--upload-delay': options.firmwareUploadDelayMs = intArg(flag, value(), 0, 3600) * 1000; break;
      case '--firmware-downtime': options.firmwareDownTimeMs = intArg(flag, value(), 1, 3600) * 1000; break;
      case '--no-discovery':
        if (options.discovery) throw new UsageError('--discovery-port and --no-discovery contradict each other');
        options.discovery = false;
        break;
      default: throw new UsageError(`unknown option '${flag}' (see --help)`);
    }
  }
  if ((options.username === undefined) !== (options.password === undefined)) throw new UsageError('--username and --password go together');
  if (options.port !== undefined && options.port + count - 1 > 65535) throw new UsageError(`--port ${options.port} leaves no room for ${count} devices`);
  return { help: false, count, options };
}

/** `onvifq-sim make-firmware --version V [--model M] [--size N] [--out FILE]`: resolves with the file and its size. */
export async function makeFirmwareCommand(argv: string[]): Promise<{ file: string; bytes: number; model: string; version: string }> {
  let version: string | undefined;
  let model = DEFAULT_DEVICE_INFORMATION.Model;
  let size = 1024 * 1024;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--version': version = value(); break;
      case '--model': model = value(); break;
      case '--size': size = intArg(flag, value(), 0, 4 * 1024 ** 3); break;
      case '--out': out = value(); break;
      default: throw new UsageError(`make-firmware: unknown option '${flag}' (--version V [--model M] [--size BYTES] [--out FILE])`);
    }
  }
  if (!version) throw new UsageError('make-firmware needs --version, e.g. --version 2.0.0');
  const file = out ?? `${model.replace(/[^\w.-]/g, '_')}-${version}.fw`;
  const bytes = await writeFirmware(file, { model, version, payloadBytes: size });
  return { file, bytes, model, version };
}

async function main(): Promise<void> {
  const sub = process.argv[2];
  if (sub === 'make-firmware') {
    try {
      process.stdout.write(`${JSON.stringify(await makeFirmwareCommand(process.argv.slice(3)))}\n`);
    } catch (e) {
      process.stderr.write(`onvifq-sim: ${(e as Error).message}\n`);
      process.exit(e instanceof UsageError ? 2 : 1);
    }
    return;
  }
  if (sub === 'make-app' || sub === 'make-license') {
    process.exitCode = await makeAppMain(sub, process.argv.slice(3), (t) => process.stdout.write(t), (t) => process.stderr.write(t));
    return;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`onvifq-sim: ${(e as Error).message}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let devices: SimulatedDevice[];
  try {
    devices = await startSimulators(parsed.count, parsed.options);
  } catch (e) {
    process.stderr.write(`onvifq-sim: could not start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  for (const d of devices) process.stdout.write(`${JSON.stringify({ xaddr: d.xaddr, endpoint: d.endpoint, discovery: d.discoveryAddress })}\n`);
  const problem = devices.find((d) => d.discoveryProblem)?.discoveryProblem;
  if (problem) process.stderr.write(`onvifq-sim: running without WS-Discovery: ${problem}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void Promise.all(devices.map((d) => d.stop())).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) void main();
