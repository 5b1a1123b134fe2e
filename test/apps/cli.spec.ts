import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../../lib/cli/args';
import { run } from '../../lib/cli/onvifq';
import { makeAppMain } from '../../lib/simulator/apps/make-app';
import { ADMIN, useApps } from './support';

describe('onvifq apps and onvifq-sim make-app', function () {
  this.timeout(60_000);
  const env = useApps();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'onvifq-apps-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('make-app builds a package that installs; every apps action works from the command line', async () => {
    const pkg = path.join(dir, 'counter.app');
    const made: string[] = [];
    const code = await makeAppMain('make-app', ['--id', 'Counter', '--name', 'People counter', '--version', '1.0.0', '--event', 'Counted:Count=xs:int', '--config', '{"threshold":5}', '--out', pkg], (s) => made.push(s), (s) => made.push(s));
    assert.equal(code, 0, made.join(''));
    const s = await env.sim();
    const cli = async (...args: string[]) => {
      const out: string[] = [];
      const progress: string[] = [];
      await run(['apps', s.xaddr, ...args, '-u', ADMIN.username, '-p', ADMIN.password], (x) => out.push(x), undefined, (x) => progress.push(x));
      return { json: JSON.parse(out.join('\n')), progress };
    };
    const installed = await cli('install', pkg);
    assert.deepEqual([installed.json.appId, installed.json.state], ['Counter', 'Active']);
    assert.ok(installed.progress.includes('installing…') && installed.progress.includes('Active'), installed.progress.join(' | '));
    assert.ok(installed.progress.some((p) => /^uploading \d+ %$/.test(p)));
    assert.deepEqual((await cli('list')).json, [{ appId: 'Counter', name: 'People counter' }]);
    assert.equal((await cli('info', 'Counter')).json[0].version, '1.0.0');
    assert.equal((await cli('deactivate', 'Counter')).json.state, 'Inactive');
    assert.equal((await cli('activate', 'Counter', '--poll')).json.state, 'Active');
    const deviceId = (await cli('device-id')).json.deviceId;
    const licenseOut: string[] = [];
    assert.equal(await makeAppMain('make-license', ['--app', 'Counter', '--device', deviceId, '--name', 'basic', '--valid-days', '5'], (x) => licenseOut.push(x), () => undefined), 0);
    const lic = path.join(dir, 'counter.lic');
    writeFileSync(lic, licenseOut.join(''));
    assert.deepEqual((await cli('license', 'Counter', lic)).json.added, ['basic']);
    const report = (await cli('licenses', '--warn-days', '10')).json;
    assert.equal(report.attention[0].status, 'expiring');
    const conf = path.join(dir, 'counter.conf');
    assert.equal((await cli('backup', 'Counter', conf)).json.file, conf);
    assert.equal(JSON.parse(readFileSync(conf, 'utf8')).settings.threshold, 5);
    assert.equal((await cli('restore', 'Counter', conf)).json.appId, 'Counter');
    const pkg2 = path.join(dir, 'counter2.app');
    assert.equal(await makeAppMain('make-app', ['--id', 'Counter', '--name', 'People counter', '--version', '2.0.0', '--out', pkg2], () => undefined, () => undefined), 0);
    const updated = (await cli('update', pkg2, '--app', 'Counter')).json;
    assert.deepEqual([updated.previousVersion, updated.version], ['1.0.0', '2.0.0']);
    assert.equal((await cli('uninstall', 'Counter')).json.state, 'Removed');
  });

  it('usage errors say what is missing', async () => {
    const s = await env.sim();
    await assert.rejects(run(['apps', s.xaddr, 'fly'], () => undefined), (e: Error) => e instanceof UsageError && /apps needs one of list, info/.test(e.message));
    await assert.rejects(run(['apps', s.xaddr, 'install'], () => undefined), (e: Error) => e instanceof UsageError && /needs a package/.test(e.message));
    await assert.rejects(run(['apps', s.xaddr, 'backup', 'Counter'], () => undefined), (e: Error) => e instanceof UsageError && /needs an AppID and the file/.test(e.message));
    const errs: string[] = [];
    assert.equal(await makeAppMain('make-app', ['--id', '1bad', '--name', 'x', '--version', '1', '--out', path.join(dir, 'x')], () => undefined, (x) => errs.push(x)), 2);
    assert.match(errs.join(''), /not a valid AppID/);
  });
});
