import { strict as assert } from 'node:assert';
import { SimulatedDevice, type SimulatorOptions } from '../../lib/simulator';

// The npm `onvif` package: a third-party client, to show the simulator behaves like a real device to others.
const { Cam } = require('onvif') as { Cam: new (o: Record<string, unknown>) => OnvifCam };

interface OnvifCam {
  getSystemDateAndTime(cb: (err: Error | null, date: Date) => void): void;
  getDeviceInformation(cb: (err: Error | null, info: Record<string, string>) => void): void;
}

function promisify<T>(fn: (cb: (err: Error | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

describe('simulator: npm onvif client (third party) with credentials', function () {
  const cases: Array<[string, SimulatorOptions, Record<string, unknown>]> = [
    ['WS-UsernameToken (its default), with a skewed device clock', { auth: 'any', clockSkewMs: 90 * 60_000 }, {}],
    ['HTTP digest only (SHA-256 and MD5 offered)', { auth: 'digest' }, { useWSSecurity: false }],
    ['HTTP digest, MD5 only', { auth: 'digest', digestAlgorithms: ['MD5'] }, { useWSSecurity: false }],
  ];
  for (const [name, options, camOptions] of cases) {
    it(`reads device information and time: ${name}`, async () => {
      const dev = new SimulatedDevice({ username: 'admin', password: 'Npm-Client-1', deviceInformation: { Model: 'NpmTest' }, ...options });
      await dev.start();
      try {
        const cam = new Cam({ hostname: '127.0.0.1', port: dev.port, username: 'admin', password: 'Npm-Client-1', autoconnect: false, timeout: 5000, ...camOptions });
        const date = await promisify<Date>((cb) => cam.getSystemDateAndTime(cb));
        assert.ok(Math.abs(date.getTime() - dev.deviceNow()) < 5000, 'the device clock as the device reports it');
        const info = await promisify<Record<string, string>>((cb) => cam.getDeviceInformation(cb));
        assert.equal(info.model, 'NpmTest');
        assert.equal(info.manufacturer, 'onvifq');
        assert.ok(dev.stats.byOperation.GetDeviceInformation! >= 1);
        const last = dev.requests.filter((r) => r.operation === 'GetDeviceInformation').pop()!;
        assert.equal(last.status, 200);
        if (options.auth === 'digest') assert.match(String(last.headers.authorization), /^Digest /);
      } finally {
        await dev.stop();
      }
    });
  }

  it('a wrong password is refused', async () => {
    const dev = new SimulatedDevice({ username: 'admin', password: 'Npm-Client-1' });
    await dev.start();
    try {
      const cam = new Cam({ hostname: '127.0.0.1', port: dev.port, username: 'admin', password: 'wrong-one', autoconnect: false, timeout: 5000 });
      await promisify((cb) => cam.getSystemDateAndTime(cb));
      await assert.rejects(promisify((cb) => cam.getDeviceInformation(cb)));
    } finally {
      await dev.stop();
    }
  });
});
