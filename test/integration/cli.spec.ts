import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { SimulatedDevice } from '../../lib/simulator';
import { REPO } from '../support/shared';

const TSX = path.join(REPO, 'node_modules/.bin/tsx');
const CLI = path.join(REPO, 'lib/cli/onvifq.ts');

function onvifq(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('onvifq terminal client', () => {
  let sim: SimulatedDevice;
  before(async () => {
    sim = new SimulatedDevice({ username: 'admin', password: 'Adm1n-secret', deviceInformation: { Model: 'CLI-Model-7' } });
    await sim.start();
  });
  after(() => sim.stop());

  it('info prints the inventory as JSON', async () => {
    const r = await onvifq(['info', sim.xaddr, '--user', 'admin', '--password', 'Adm1n-secret']);
    assert.equal(r.code, 0, r.stderr);
    const inv = JSON.parse(r.stdout);
    assert.equal(inv.model, 'CLI-Model-7');
    assert.equal(inv.profileQState, 'Operational');
    assert.equal(inv.endpoint, sim.endpoint);
    assert.ok(inv.services.length >= 1);
  });

  it('call prints one operation result, with JSON parameters, password from the environment', async () => {
    const host = sim.xaddr.replace(/^http:\/\//, '').replace(/\/onvif.*$/, '');
    const r = await onvifq(['call', host, 'GetServices', '{"IncludeCapability": false}', '-u', 'admin', '--compact'], { ONVIFQ_PASSWORD: 'Adm1n-secret' });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.ok(Array.isArray(out.Service));
    assert.equal(r.stdout.trim().split('\n').length, 1);
  });

  it('a wrong password gives one line on stderr and exit code 1, without the password', async () => {
    const r = await onvifq(['info', sim.xaddr, '--user', 'admin', '--password', 'Not-The-Password']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^onvifq: .*admin/);
    assert.doesNotMatch(r.stderr, /Not-The-Password/);
  });

  it('usage errors exit 2', async () => {
    const r1 = await onvifq(['frobnicate', sim.xaddr]);
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, /unknown command/);
    const r2 = await onvifq(['call', sim.xaddr, 'GetUsers', '{not json']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /not valid JSON/);
  });

  it('an unknown operation and an unreachable device each give a clear one-line error', async () => {
    const r1 = await onvifq(['call', sim.xaddr, 'GetDeviceInfo', '-u', 'admin', '-p', 'Adm1n-secret']);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /Unknown ONVIF operation "GetDeviceInfo"/);
    const r2 = await onvifq(['info', '127.0.0.2:9', '--timeout', '1']);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /127\.0\.0\.2/);
  });
});
