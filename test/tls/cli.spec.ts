/** Issue 14: `onvifq tls <address> enable | renew | report` against the simulator, then `onvifq info` over the HTTPS it printed. */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SimulatedDevice } from '../../lib/simulator';
import { REPO } from '../support/shared';
import { makeCa } from './pki';

const TSX = path.join(REPO, 'node_modules/.bin/tsx');
const CLI = path.join(REPO, 'lib/cli/onvifq.ts');
const CREDS = ['-u', 'admin'];

function onvifq(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [CLI, ...args], { env: { ...process.env, ONVIFQ_PASSWORD: 'Adm1n-secret' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('onvifq tls', function () {
  this.timeout(180_000);
  let sim: SimulatedDevice;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'onvifq-tls-cli-'));
    sim = new SimulatedDevice({ username: 'admin', password: 'Adm1n-secret', discovery: false, processorUsageIntervalMs: 0, deviceInformation: { Model: 'TLS-CLI-1' }, security: { keyGenerationDelayMs: 50 } });
    await sim.start();
  });
  after(async () => {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('enable with a CA, info over the printed https address with --ca, report, renew self-signed, info with --fingerprint', async () => {
    const ca = makeCa();
    const caCert = path.join(dir, 'ca.pem');
    const caKey = path.join(dir, 'ca.key');
    writeFileSync(caCert, ca.certificate);
    writeFileSync(caKey, ca.key);

    const enabled = await onvifq(['tls', sim.xaddr, 'enable', '--ca-cert', caCert, '--ca-key', caKey, ...CREDS]);
    assert.equal(enabled.code, 0, enabled.stderr);
    const result = JSON.parse(enabled.stdout);
    assert.equal(result.address, sim.httpsXaddr);
    assert.match(enabled.stderr, /verifying https:/);
    const keyBody = ca.key.split('\n')[1]!;
    assert.ok(!enabled.stdout.includes(keyBody) && !enabled.stderr.includes(keyBody), 'the CA key is never printed');

    const info = await onvifq(['info', result.address, '--ca', caCert, ...CREDS]);
    assert.equal(info.code, 0, info.stderr);
    assert.equal(JSON.parse(info.stdout).model, 'TLS-CLI-1');
    const untrusted = await onvifq(['info', result.address, ...CREDS]);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /could not be verified/);

    const report = await onvifq(['tls', result.address, 'report', '--ca', caCert, '--warn-days', '400', ...CREDS]);
    assert.equal(report.code, 0, report.stderr);
    const r = JSON.parse(report.stdout);
    assert.ok(r.daysLeft >= 363 && r.daysLeft <= 365, `days left ${r.daysLeft}`);
    assert.equal(r.expiresSoon, true);

    const renewed = await onvifq(['tls', result.address, 'renew', '--self-signed', '--ca', caCert, ...CREDS]);
    assert.equal(renewed.code, 0, renewed.stderr);
    const pinned = JSON.parse(renewed.stdout);
    assert.ok(pinned.tls.fingerprint);
    const again = await onvifq(['info', pinned.address, '--fingerprint', pinned.fingerprint, ...CREDS]);
    assert.equal(again.code, 0, again.stderr);

    const usage = await onvifq(['tls', sim.xaddr, 'enable', '--self-signed', '--cert', caCert, ...CREDS]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /choose one source/);
  });
});
