import { readFileSync } from 'node:fs';
import { makeLicense } from './licenses';
import { checkManifest, writeAppPackage, type AppEventSpec, type AppManifest } from './package';

export const MAKE_APP_USAGE = `Usage: onvifq-sim make-app --id ID --name NAME --version V --out FILE [options]

Builds a package for the simulator's App Management service (format: lib/simulator/apps/package.ts).
Upload it with Content-Type application/vnd.onvifq.sim-app (onvifq apps <address> install FILE does).

Options:
  --manifest FILE        start from this JSON manifest (the flags below override it)
  --no-autostart         the app stays Inactive after install and at boot
  --privilege P          a privilege (repeatable)
  --website URL          the app's website
  --event SPEC           an event the app raises: Name:Item=type,Item=type (types xs:int, xs:boolean, xs:string...),
                         on tns1:OnvifqApp/<id>/<Name>; e.g. --event Counted:Count=xs:int (repeatable)
  --event-every MS       raise every event this often while Active (default: only on request)
  --config JSON          the app's settings (backed up and restored through its Configuration URI)
  --payload BYTES        payload size, stands in for the app's binaries (default 1024)
  --requires-model M     incompatible with other models (install fails)
  --requires-firmware V  incompatible with older firmware (install fails)
  --fail STATUS          the install fails with this Status (tests of InstallationFailed)

Usage: onvifq-sim make-license --app ID --device DEVICEID --name NAME [--valid-from ISO] [--valid-until ISO | --valid-days N]
Prints a license for InstallLicense; DEVICEID is what GetDeviceId answers (Model-SerialNumber).`;

export class MakeAppUsageError extends Error {}

export function parseMakeApp(argv: string[]): { out: string; manifest: AppManifest } {
  let base: Partial<AppManifest> = {};
  const m: Partial<AppManifest> = {};
  let out: string | undefined;
  let every: number | undefined;
  const events: AppEventSpec[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new MakeAppUsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--id': m.id = value(); break;
      case '--name': m.name = value(); break;
      case '--version': m.version = value(); break;
      case '--out': out = value(); break;
      case '--manifest': {
        const file = value();
        try {
          base = JSON.parse(readFileSync(file, 'utf8')) as Partial<AppManifest>;
        } catch (e) {
          throw new MakeAppUsageError(`--manifest ${file}: ${(e as Error).message}`);
        }
        break;
      }
      case '--no-autostart': m.autostart = false; break;
      case '--privilege': (m.privileges ??= []).push(value()); break;
      case '--website': m.website = value(); break;
      case '--event': {
        const spec = value();
        const mm = /^([A-Za-z_][\w.-]*):(.+)$/.exec(spec);
        if (!mm) throw new MakeAppUsageError(`--event ${spec}: write Name:Item=type,Item=type`);
        const data = mm[2]!.split(',').map((p) => p.split('=') as [string, string]);
        if (data.some((d) => d.length !== 2 || !d[0] || !d[1])) throw new MakeAppUsageError(`--event ${spec}: write Name:Item=type,Item=type`);
        events.push({ name: mm[1]!, data });
        break;
      }
      case '--event-every': every = Number(value()); break;
      case '--config': {
        try {
          m.config = JSON.parse(value()) as Record<string, unknown>;
        } catch {
          throw new MakeAppUsageError('--config needs JSON, e.g. \'{"threshold": 5}\'');
        }
        break;
      }
      case '--payload': m.payloadBytes = Number(value()); break;
      case '--requires-model': m.requires = { ...m.requires, model: value() }; break;
      case '--requires-firmware': m.requires = { ...m.requires, minFirmware: value() }; break;
      case '--fail': m.failInstall = value(); break;
      default: throw new MakeAppUsageError(`unknown option '${flag}' (see --help)`);
    }
  }
  if (!out) throw new MakeAppUsageError('--out FILE is required');
  const all: Partial<AppManifest> = { ...base, ...m, payloadBytes: m.payloadBytes ?? base.payloadBytes ?? 1024 };
  if (events.length) all.events = [...(base.events ?? []), ...events];
  if (every !== undefined) all.events = (all.events ?? []).map((e) => ({ ...e, everyMs: every }));
  const checked = checkManifest(all);
  if (typeof checked === 'string') throw new MakeAppUsageError(checked);
  return { out, manifest: checked };
}

export function parseMakeLicense(argv: string[]): string {
  const o: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const v = argv[i + 1];
    if (!['--app', '--device', '--name', '--valid-from', '--valid-until', '--valid-days'].includes(flag)) throw new MakeAppUsageError(`unknown option '${flag}' (see --help)`);
    if (v === undefined) throw new MakeAppUsageError(`${flag} needs a value`);
    o[flag.slice(2)] = v;
  }
  if (!o.app || !o.device || !o.name) throw new MakeAppUsageError('--app, --device and --name are required');
  let validUntil = o['valid-until'];
  if (o['valid-days'] !== undefined) validUntil = new Date(Date.now() + Number(o['valid-days']) * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (validUntil !== undefined && !Number.isFinite(Date.parse(validUntil))) throw new MakeAppUsageError('--valid-until needs a date such as 2027-12-31T23:59:59Z');
  return makeLicense({ app: o.app, device: o.device, name: o.name, validFrom: o['valid-from'], validUntil });
}

/** `onvifq-sim make-app …` / `make-license …`: exit code. */
export async function makeAppMain(command: 'make-app' | 'make-license', argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(`${MAKE_APP_USAGE}\n`);
    return 0;
  }
  try {
    if (command === 'make-license') {
      out(`${parseMakeLicense(argv)}\n`);
      return 0;
    }
    const { out: file, manifest } = parseMakeApp(argv);
    const { payloadBytes, ...rest } = manifest;
    const bytes = await writeAppPackage(file, rest, payloadBytes);
    out(`${JSON.stringify({ file, bytes, id: manifest.id, version: manifest.version })}\n`);
    return 0;
  } catch (e) {
    err(`onvifq-sim ${command}: ${(e as Error).message}\n`);
    return e instanceof MakeAppUsageError ? 2 : 1;
  }
}
