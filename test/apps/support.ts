import { OnvifDevice } from '../../lib/device/onvif-device';
import { AppManager, type AppManagerOptions } from '../../lib/apps';
import { makeAppPackage, SimulatedDevice, type AppManifest, type SimulatorOptions } from '../../lib/simulator';

export const ADMIN = { username: 'admin', password: 'Adm1n-secret' };

/** A people counter: raises Counted (Count xs:int) while Active, has settings. */
export function counterPackage(version = '1.0.0', extra: Partial<AppManifest> = {}): Buffer {
  return makeAppPackage({
    id: 'Counter',
    name: 'People counter',
    version,
    privileges: ['video'],
    events: [{ name: 'Counted', data: [['Count', 'xs:int'], ['Zone', 'xs:string']], values: { Zone: 'door' } }],
    config: { threshold: 5 },
    ...extra,
  });
}

/** Simulators, sessions and managers made by a suite, all closed after each test. */
export function useApps(): {
  sim(o?: SimulatorOptions): Promise<SimulatedDevice>;
  open(s: SimulatedDevice, creds?: { username?: string; password?: string }): OnvifDevice;
  manager(s: SimulatedDevice, o?: AppManagerOptions, creds?: { username?: string; password?: string }): AppManager;
} {
  const sims: SimulatedDevice[] = [];
  const devices: OnvifDevice[] = [];
  const managers: AppManager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });
  const env = {
    async sim(o: SimulatorOptions = {}) {
      const s = new SimulatedDevice({
        ...ADMIN, discovery: false, processorUsageIntervalMs: 0, rebootDowntimeMs: 300, ...o,
        apps: o.apps === false ? false : { installDelayMs: 150, ...(o.apps ?? {}) },
      });
      await s.start();
      sims.push(s);
      return s;
    },
    open(s: SimulatedDevice, creds: { username?: string; password?: string } = ADMIN) {
      const d = new OnvifDevice({ address: s.xaddr, ...creds });
      devices.push(d);
      return d;
    },
    manager(s: SimulatedDevice, o: AppManagerOptions = {}, creds: { username?: string; password?: string } = ADMIN) {
      const m = new AppManager(env.open(s, creds), { pollIntervalMs: 100, ...o });
      managers.push(m);
      return m;
    },
  };
  return env;
}
