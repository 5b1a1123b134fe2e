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

  it('info without credentials says on stderr what is unknown, and the JSON marks the session partial', async () => {
    const r = await onvifq(['info', sim.xaddr]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^onvifq: Connected to .* without credentials: it refused GetScopes and GetDeviceInformation, so its .*Profile Q state.* unknown\..*set a username and password/m);
    const inv = JSON.parse(r.stdout);
    assert.equal(inv.profileQState, 'Unknown');
    assert.deepEqual(inv.partial.refused, ['GetScopes', 'GetDeviceInformation']);
    assert.match(inv.partial.text, /without credentials/);
    const full = JSON.parse((await onvifq(['info', sim.xaddr, '--user', 'admin', '--password', 'Adm1n-secret'])).stdout);
    assert.equal(full.partial, undefined, 'signed in: nothing partial');
  });

  it('--trace prints every request and answer of info to stderr, without the password; stdout stays the JSON', async () => {
    const r = await onvifq(['info', sim.xaddr, '--user', 'admin', '--password', 'Adm1n-secret', '--trace']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).model, 'CLI-Model-7');
    assert.match(r.stderr, /^>> #\d+ GetDeviceInformation POST http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service/m);
    assert.match(r.stderr, /^ {3}Authorization: Digest username="admin", .*response=\[redacted\]$/m);
    assert.match(r.stderr, /^<< #\d+ GetDeviceInformation HTTP 200 after \d+ ms$/m);
    assert.match(r.stderr, /<tt:Model>CLI-Model-7<\/tt:Model>|<tds:Model>CLI-Model-7<\/tds:Model>/);
    assert.doesNotMatch(r.stderr, /Adm1n-secret/);
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
    const r3 = await onvifq(['constructor', sim.xaddr]);
    assert.equal(r3.code, 2, r3.stderr);
    assert.match(r3.stderr, /unknown command "constructor"/);
  });

  it('an unknown operation and an unreachable device each give a clear one-line error', async () => {
    const r1 = await onvifq(['call', sim.xaddr, 'GetDeviceInfo', '-u', 'admin', '-p', 'Adm1n-secret']);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /Unknown ONVIF operation "GetDeviceInfo"/);
    const r2 = await onvifq(['info', '127.0.0.2:9', '--timeout', '1']);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /127\.0\.0\.2/);
  });

  describe('task', () => {
    const created: SimulatedDevice[] = [];
    const fresh = async (options: ConstructorParameters<typeof SimulatedDevice>[0] = {}) => {
      const d = new SimulatedDevice({ discovery: false, rebootDowntimeMs: 300, ...options });
      await d.start();
      created.push(d);
      return d;
    };
    after(() => Promise.all(created.map((d) => d.stop())));

    it('commission takes the new admin password from the environment, prints each step on stderr and the result as JSON', async () => {
      const box = await fresh();
      const r = await onvifq(['task', box.xaddr, 'commission', '{"hostname": "cli-cam"}'], { ONVIFQ_NEW_PASSWORD: 'Cli-Adm1n-pw' });
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(r.stdout);
      assert.equal(result.state, 'Operational');
      assert.deepEqual(result.steps.map((s: { step: string; ok: boolean }) => [s.step, s.ok]), [['admin', true], ['hostname', true]]);
      assert.ok(r.stderr.trim().split('\n').length >= 2, `progress lines: ${r.stderr}`);
      assert.equal(box.profileQState, 'Operational');
      assert.ok(!r.stdout.includes('Cli-Adm1n-pw') && !r.stderr.includes('Cli-Adm1n-pw'), 'the password is never printed');
      const inv = await onvifq(['task', box.xaddr, 'inventory', '-u', 'admin', '--compact'], { ONVIFQ_PASSWORD: 'Cli-Adm1n-pw' });
      assert.equal(inv.code, 0, inv.stderr);
      assert.equal(JSON.parse(inv.stdout).network.hostname, 'cli-cam');
    });

    it("backup to a file, restored onto another device, gives it the first one's host name", async () => {
      const creds = { username: 'admin', password: 'Cli-Backup-pw1' };
      const a = await fresh(creds);
      const b = await fresh(creds);
      const admin = ['-u', 'admin', '-p', creds.password];
      assert.equal((await onvifq(['call', a.xaddr, 'SetHostname', '{"Name": "from-a"}', ...admin])).code, 0);
      const file = path.join(REPO, 'test', 'output', `cli-backup-${process.pid}.bin`);
      const saved = await onvifq(['task', a.xaddr, 'backup', JSON.stringify({ file }), ...admin]);
      assert.equal(saved.code, 0, saved.stderr);
      assert.ok(JSON.parse(saved.stdout).bytes > 0);
      const restored = await onvifq(['task', b.xaddr, 'restore', JSON.stringify({ file }), ...admin]);
      assert.equal(restored.code, 0, restored.stderr);
      assert.equal(JSON.parse(restored.stdout).reconnected, true);
      assert.match(restored.stderr, /restart/i, 'the restart shows on stderr');
      assert.equal(b.state.hostname.name, 'from-a');
    });

    it('usage: an unknown task, and backup without a file, exit 2 before anything is sent', async () => {
      const r1 = await onvifq(['task', sim.xaddr, 'frobnicate']);
      assert.equal(r1.code, 2);
      assert.match(r1.stderr, /commission, syncTime, backup, restore, inventory/);
      const before = sim.requests.length;
      const r2 = await onvifq(['task', sim.xaddr, 'backup', '-u', 'admin', '-p', 'Adm1n-secret']);
      assert.equal(r2.code, 2);
      assert.match(r2.stderr, /backup needs a file/);
      assert.equal(sim.requests.length, before);
    });
  });
});
