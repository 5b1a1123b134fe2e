/**
 * One result convention (issue 16, item 14; README "Result names"): operations answer with ONVIF's element names,
 * tasks with this package's camelCase, and the README's table of inventory fields matches what inventory returns.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { inventory, syncTime } from '../../lib/configure';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { SimulatedDevice } from '../../lib/simulator';

const README = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

/** Every object key in `value`, with its path. */
function keys(value: unknown, at = ''): Array<{ key: string; path: string }> {
  if (Array.isArray(value)) return value.flatMap((v, i) => keys(v, `${at}[${i}]`));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [{ key: k, path: `${at}.${k}` }, ...keys(v, `${at}.${k}`)]);
}

describe('result names: ONVIF for operations, camelCase for tasks', function () {
  this.timeout(20000);
  let sim: SimulatedDevice;
  let device: OnvifDevice;
  before(async () => {
    sim = new SimulatedDevice({ username: 'admin', password: 'Res-ult-pw1', discovery: false });
    await sim.start();
    device = new OnvifDevice({ address: sim.xaddr, username: 'admin', password: 'Res-ult-pw1' });
  });
  after(async () => {
    await device?.close();
    await sim?.stop();
  });

  it('operations: element names as ONVIF writes them (PascalCase; attributes such as token as in the schema)', async () => {
    for (const operation of ['GetDeviceInformation', 'GetNetworkInterfaces', 'GetSystemDateAndTime']) {
      const wrong = keys(await device.call(operation)).filter(({ key }) => !/^[A-Z]/.test(key) && key !== 'token');
      assert.deepEqual(wrong, [], operation);
    }
  });

  it('tasks: camelCase throughout (inventory, syncTime)', async () => {
    const results = { inventory: await inventory(device), syncTime: await syncTime(device, {}) };
    for (const [task, result] of Object.entries(results)) {
      const wrong = keys(result).filter(({ key }) => !/^[a-z][A-Za-z0-9_]*$/.test(key));
      assert.deepEqual(wrong, [], task);
    }
  });

  it("the README's table names every inventory field, and only fields inventory returns", async () => {
    const result = (await inventory(device)) as unknown as Record<string, any>;
    const section = README.slice(README.indexOf('#### Result names'), README.indexOf('### onvifq-discover'));
    assert.ok(section.length > 200, 'README has the "Result names" section');
    const rows = section.split('\n').filter((l) => /^\| `/.test(l)).map((l) => l.split('|')[1]!);
    const documented = rows.flatMap((cell) => [...cell.matchAll(/`([a-zA-Z.]+)`/g)].map((m) => m[1]!));
    // Top-level and network.* names stand on their own; names in parentheses belong to the field before them.
    const fields = rows.flatMap((cell) => [...cell.replace(/\([^)]*\)/g, '').matchAll(/`([a-zA-Z.]+)`/g)].map((m) => m[1]!));
    const actual = [...Object.keys(result).filter((k) => k !== 'network' && k !== 'unavailable'), ...Object.keys(result.network).map((k) => `network.${k}`)];
    for (const name of actual) assert.ok(fields.includes(name), `${name} is not in the README table`);
    for (const name of fields.filter((f) => f !== 'unavailable')) {
      const value = name.split('.').reduce<any>((o, k) => o?.[k], result);
      assert.notEqual(value, undefined, `the README names ${name}, which inventory does not return`);
    }
    for (const inner of ['manufacturer', 'firmwareVersion', 'hardwareId']) assert.ok(documented.includes(inner), inner);
    assert.deepEqual(Object.keys(result.deviceInformation).sort(), ['firmwareVersion', 'hardwareId', 'manufacturer', 'model', 'serialNumber']);
  });
});
