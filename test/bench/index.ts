/**
 * `npm run bench`: every benchmark in turn, each printing its own figures. Scripts that print numbers,
 * not tests with time limits. `npm run bench -- --only <name>` runs one. The device side runs in a process of its
 * own (support/sim-process.ts); each goal's figure is printed next to its target (issue 15).
 */
import { benchApps } from './apps.bench';
import { benchDiscovery } from './discovery.bench';
import { benchEvents } from './events.bench';
import { benchFirmware } from './firmware.bench';
import { benchGetDeviceInformation } from './get-device-information.bench';
import { benchParse } from './parse.bench';

const BENCHES: Record<string, () => Promise<void>> = {
  'get-device-information': benchGetDeviceInformation,
  events: benchEvents,
  discovery: benchDiscovery,
  parse: benchParse,
  apps: benchApps,
  firmware: benchFirmware,
};

async function main(): Promise<void> {
  const i = process.argv.indexOf('--only');
  const only = i >= 0 ? process.argv[i + 1] : undefined;
  if (only && !BENCHES[only]) throw new Error(`no benchmark "${only}"; have: ${Object.keys(BENCHES).join(', ')}`);
  for (const [name, bench] of Object.entries(BENCHES)) {
    if (only && name !== only) continue;
    console.log(`\n== ${name}`);
    await bench();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench failed: ${(e as Error).message}`);
    process.exit(1);
  },
);
