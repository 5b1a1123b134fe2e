import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { AppError, AppFleet, runAppAction } from '../../lib/apps';
import { backup } from '../../lib/configure';
import { EventHub, listEventTopics, type OnvifEvent } from '../../lib/events';
import { makeLicense } from '../../lib/simulator';
import { ADMIN, counterPackage, useApps } from './support';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('apps: operations, licenses, configuration, events', function () {
  this.timeout(60_000);
  const env = useApps();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'onvifq-apps-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('capabilities: UploadPath, FormatsSupported, Licensing, EventTopicPrefix; the 22.12 names are read too', async () => {
    const s = await env.sim();
    const caps = await env.manager(s).capabilities();
    assert.deepEqual({ ...caps, uploadUrl: undefined, reportedUploadUrl: undefined }, {
      uploadUrl: undefined, reportedUploadUrl: undefined, formats: ['application/vnd.onvifq.sim-app'], licensing: true, eventTopicPrefix: 'OnvifqApp', naming: 'schema',
    });
    assert.equal(caps.uploadUrl, `${s.xaddr.replace('/onvif/device_service', '')}/onvifq/apps/upload`);
    const old = await env.sim({ apps: { capabilityNames: '22.12' } });
    const c2 = await env.manager(old).capabilities();
    assert.equal(c2.naming, '22.12');
    assert.deepEqual(c2.formats, ['application/vnd.onvifq.sim-app']);
    assert.match(c2.uploadUrl!, /\/onvifq\/apps\/upload$/);
    // And it installs through the 22.12-named capabilities.
    assert.equal((await env.manager(old).install(counterPackage())).state, 'Active');
  });

  it('a device without App Management: every action fails as unsupported, naming the step', async () => {
    const s = await env.sim({ apps: false });
    const apps = env.manager(s);
    await assert.rejects(apps.list(), (e: AppError) => e.kind === 'unsupported' && e.step === 'operation' && /does not offer ONVIF App Management/.test(e.message));
    await assert.rejects(apps.install(counterPackage()), (e: AppError) => e.kind === 'unsupported' && e.step === 'capabilities');
  });

  it('GetServices lists the service with its capabilities inline', async () => {
    const s = await env.sim();
    const services = (await env.open(s).call('GetServices', { IncludeCapability: true })) as { Service: Array<{ Namespace: string; XAddr: string; Capabilities?: Record<string, unknown> }> };
    const ans = services.Service.find((x) => x.Namespace === 'http://www.onvif.org/ver10/appmgmt/wsdl')!;
    assert.match(ans.XAddr, /\/onvif\/app_management$/);
    assert.ok(JSON.stringify(ans.Capabilities).includes('UploadPath'));
  });

  it('list, info, deviceId; unknown AppIDs get ter:UnknownId explained; responses with qualified children read the same', async () => {
    for (const qualifiedChildren of [false, true]) {
      const s = await env.sim({ apps: { qualifiedChildren } });
      const apps = env.manager(s);
      await apps.install(counterPackage('1.2.3'));
      assert.deepEqual(await apps.list(), [{ appId: 'Counter', name: 'People counter' }]);
      const [info] = await apps.info('Counter');
      assert.equal(info!.version, '1.2.3');
      assert.equal(info!.state, 'Active');
      assert.equal(info!.autostart, true);
      assert.deepEqual(info!.privileges, ['video']);
      assert.match(info!.configuration!, /\/onvifq\/apps\/config\/Counter$/);
      assert.equal((await apps.info()).length, 1);
      assert.equal(await apps.deviceId(), s.appDeviceId);
      await assert.rejects(apps.info('Ghost'), (e: AppError) => e.step === 'operation' && e.hasSubcode('UnknownId') && /has no app 'Ghost' \(ter:UnknownId\)/.test(e.message));
    }
  });

  it('activate and deactivate are confirmed; unknown ids fail', async () => {
    const s = await env.sim();
    const apps = env.manager(s);
    await apps.install(counterPackage());
    assert.deepEqual(await apps.deactivate('Counter'), { appId: 'Counter', state: 'Inactive', via: 'polling' });
    assert.equal(s.appStates.Counter, 'Inactive');
    const r = await apps.activate('Counter');
    assert.equal(r.state, 'Active');
    assert.equal(s.appStates.Counter, 'Active');
    await assert.rejects(apps.activate('Ghost'), (e: AppError) => e.step === 'operation' && e.hasSubcode('UnknownId'));
    await assert.rejects(apps.deactivate(''), (e: AppError) => e.kind === 'invalid-input' && /No AppID/.test(e.message));
  });

  it('uninstall: Uninstalling, then gone from the list; watch reports both', async () => {
    const s = await env.sim();
    const apps = env.manager(s);
    await apps.install(counterPackage());
    const seen = firstValueFrom(apps.watch().pipe(filter((c) => !c.initial), take(2), toArray()));
    await new Promise((r) => setTimeout(r, 200));
    const r = await apps.uninstall('Counter');
    assert.equal(r.state, 'Removed');
    assert.deepEqual(await apps.list(), []);
    assert.deepEqual((await seen).map((c) => [c.oldState, c.newState, c.name]), [['Active', 'Uninstalling', 'People counter'], ['Uninstalling', 'Removed', 'People counter']]);
    await assert.rejects(apps.uninstall('Counter'), (e: AppError) => e.hasSubcode('UnknownId'));
  });

  it('watch without events polls GetAppsInfo and reports the changes', async () => {
    const s = await env.sim();
    const apps = env.manager(s, { events: false });
    await apps.install(counterPackage());
    const seen = firstValueFrom(apps.watch({ pollIntervalMs: 50 }).pipe(take(2), toArray()));
    await new Promise((r) => setTimeout(r, 300));
    await env.open(s).call('ans:Deactivate', { AppID: 'Counter' });
    const changes = await seen;
    assert.deepEqual(changes.map((c) => [c.newState, c.initial, c.via]), [['Active', true, 'poll'], ['Inactive', false, 'poll']]);
  });

  it('licenses: InstallLicense is verified through GetAppsInfo; bad, foreign and unsupported licenses are refused', async () => {
    const s = await env.sim();
    const apps = env.manager(s);
    await apps.install(counterPackage());
    const deviceId = await apps.deviceId();
    const until = iso(Date.now() + 90 * DAY);
    const r = await apps.installLicense('Counter', makeLicense({ app: 'Counter', device: deviceId, name: 'basic', validUntil: until }));
    assert.deepEqual(r, { appId: 'Counter', licenses: [{ name: 'basic', validUntil: until }], added: ['basic'] });
    await assert.rejects(apps.installLicense('Counter', 'garbage'), (e: AppError) => e.step === 'operation' && e.hasSubcode('InvalidFormat') && /cannot read the license/.test(e.message));
    await assert.rejects(apps.installLicense('Counter', makeLicense({ app: 'Counter', device: 'SimQ-1-OTHER', name: 'x' })), (e: AppError) => e.hasSubcode('InvalidFormat') && /bound to device 'SimQ-1-OTHER'/.test(e.message));
    const unlicensed = await env.sim({ apps: { licensing: false } });
    await assert.rejects(env.manager(unlicensed).installLicense('Counter', 'x'), (e: AppError) => e.kind === 'unsupported' && e.step === 'capabilities');
  });

  it('license report: ValidUntil, days left, expired and expiring ones need attention', async () => {
    const s = await env.sim();
    const apps = env.manager(s);
    await apps.install(counterPackage());
    await apps.install(makeAppPackageNamed('Plate', 'Plate reader'));
    await apps.install(makeAppPackageNamed('Free', 'Free tool'));
    const deviceId = await apps.deviceId();
    const now = Date.now();
    await apps.installLicense('Counter', makeLicense({ app: 'Counter', device: deviceId, name: 'year', validFrom: iso(now - 300 * DAY), validUntil: iso(now + 65 * DAY + 3600_000) }));
    await apps.installLicense('Counter', makeLicense({ app: 'Counter', device: deviceId, name: 'trial', validUntil: iso(now - 2 * DAY) }));
    await apps.installLicense('Plate', makeLicense({ app: 'Plate', device: deviceId, name: 'pro', validUntil: iso(now + 10 * DAY + 3600_000) }));
    const report = await apps.licenseReport({ now: new Date(now) });
    const rows = Object.fromEntries(report.rows.map((r) => [`${r.appId}/${r.license}`, [r.status, r.daysLeft]]));
    assert.deepEqual(rows, { 'Counter/year': ['valid', 65], 'Counter/trial': ['expired', -2], 'Plate/pro': ['expiring', 10], 'Free/': ['unlicensed', undefined] });
    assert.deepEqual(report.attention.map((r) => r.license).sort(), ['pro', 'trial']);
    assert.equal(report.deviceId, deviceId);
    assert.match(report.text, /3 license\(s\) on 3 app\(s\): 1 expired, 1 expiring within 30 days/);
  });

  it('configuration backup and restore; a configuration from another version gets 521, explained; the backup task includes apps', async () => {
    const s = await env.sim();
    const apps = env.manager(s);
    await apps.install(counterPackage('1.0.0'));
    const saved = await apps.backupConfig('Counter');
    const doc = JSON.parse(saved.buffer!.toString('utf8'));
    assert.deepEqual(doc.settings, { threshold: 5 });
    const changed = Buffer.from(JSON.stringify({ ...doc, settings: { threshold: 9 } }));
    assert.deepEqual(await apps.restoreConfig('Counter', changed), { appId: 'Counter', bytes: changed.length });
    assert.deepEqual(JSON.parse((await apps.backupConfig('Counter')).buffer!.toString('utf8')).settings, { threshold: 9 });
    const file = path.join(dir, 'counter.config');
    await apps.backupConfig('Counter', { file });
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).version, '1.0.0');
    // After an update, the old version's configuration no longer fits.
    await apps.update(counterPackage('2.0.0'), { appId: 'Counter' });
    await assert.rejects(apps.restoreConfig('Counter', { file }), (e: AppError) => e.step === 'config' && e.httpStatus === 521 && /version mismatch/.test(e.message) && /backed up from another version/.test(e.message));
    // The system backup task with includeApps.
    const device = env.open(s);
    const sys = await backup(device, { file: path.join(dir, 'system.bak'), includeApps: true });
    assert.equal(sys.apps!.length, 1);
    assert.equal(sys.apps![0]!.appId, 'Counter');
    assert.equal(JSON.parse(readFileSync(sys.apps![0]!.file!, 'utf8')).version, '2.0.0');
    assert.equal((await backup(device, {})).apps, undefined);
  });

  it("app events are typed after the install (GetEventProperties read again) and the new topic is listed", async () => {
    const s = await env.sim();
    const device = env.open(s);
    const hub = new EventHub(async () => device);
    try {
      const apps = env.manager(s, { events: hub });
      const appEvent = firstValueFrom(hub.events('tns1:OnvifqApp//.'));
      await apps.install(counterPackage());
      // Values an untyped reading would get wrong: '007' (xs:int) stays text, '42' (xs:string) becomes a number.
      s.raiseAppEvent('Counter', 'Counted', { Count: '007', Zone: '42' });
      const e: OnvifEvent = await appEvent;
      assert.equal(e.topic, 'tns1:OnvifqApp/Counter/Counted');
      assert.equal(e.data.Count, 7, 'Count is typed xs:int');
      assert.equal(e.data.Zone, '42', 'Zone is typed xs:string');
      const topics = await listEventTopics(device);
      assert.ok(topics.some((t) => t.topic === 'tns1:OnvifqApp/Counter/Counted'));
      assert.ok(topics.some((t) => t.topic === 'tns1:AppMgmt/State'));
      // The install and this test shared the hub's one pull point.
      assert.equal(s.stats.byOperation.CreatePullPointSubscription, 1);
    } finally {
      await hub.close();
    }
  });

  it('a running app raises its events by itself; a stopped one does not', async () => {
    const s = await env.sim();
    const device = env.open(s);
    const hub = new EventHub(async () => device);
    try {
      const apps = env.manager(s, { events: hub });
      const two = firstValueFrom(hub.events('tns1:OnvifqApp//.').pipe(take(2), toArray()));
      await apps.install(counterPackage('1.0.0', { events: [{ name: 'Counted', data: [['Count', 'xs:int']], everyMs: 100 }] }));
      const events = await two;
      assert.ok((events[1]!.data.Count as number) > (events[0]!.data.Count as number));
    } finally {
      await hub.close();
    }
  });

  it('apps persist across a restart (Autostart ones Active again); a hard factory default removes them', async () => {
    const stateFile = path.join(dir, 'state.json');
    const s = await env.sim({ stateFile });
    const apps = env.manager(s);
    await apps.install(counterPackage());
    await apps.install(makeAppPackageNamed('Manual', 'Manual app', false));
    await apps.activate('Manual');
    await apps.installLicense('Counter', makeLicense({ app: 'Counter', device: await apps.deviceId(), name: 'basic' }));
    await s.stop();
    await s.start();
    assert.deepEqual(s.appStates, { Counter: 'Active', Manual: 'Inactive' });
    const again = env.manager(s);
    assert.deepEqual((await again.info('Counter'))[0]!.licenses, [{ name: 'basic' }]);
    // A soft factory default keeps the apps (they are software, not settings); a hard one removes them.
    await env.open(s).call('SetSystemFactoryDefault', { FactoryDefault: 'Soft' }, { waitForRestart: false });
    await new Promise((r) => s.once('ready', r));
    assert.deepEqual(Object.keys(s.appStates).sort(), ['Counter', 'Manual']);
    await env.open(s).call('SetSystemFactoryDefault', { FactoryDefault: 'Hard' }, { waitForRestart: false });
    await new Promise((r) => s.once('ready', r));
    assert.deepEqual(s.appStates, {});
    assert.equal(s.state.apps?.length ?? 0, 0);
  });

  it('runAppAction by name and AppFleet over several devices with a summary', async () => {
    const a = await env.sim();
    const b = await env.sim();
    const fleet = new AppFleet({ pollIntervalMs: 100 });
    try {
      const template = { address: a.xaddr, ...ADMIN };
      const r = await fleet.run([a.xaddr, b.xaddr, 'http://127.0.0.2:9/onvif/device_service'], { ...template, timeoutMs: 1500 }, 'install', { package: counterPackage() });
      assert.deepEqual(r.results.map((x) => x.ok), [true, true, false]);
      assert.equal(r.summary.text.startsWith('install: 2 of 3 device(s) ok, 1 failed'), true, r.summary.text);
      assert.equal((r.results[0]!.result as { state: string }).state, 'Active');
      const list = await runAppAction(fleet.manager(b.xaddr, template), 'list');
      assert.deepEqual(list, { apps: [{ appId: 'Counter', name: 'People counter' }] });
      await assert.rejects(runAppAction(fleet.manager(b.xaddr, template), 'activate', {}), (e: AppError) => /activate needs appId/.test(e.message));
      await assert.rejects(runAppAction(fleet.manager(b.xaddr, template), 'install', {}), (e: AppError) => /install needs package/.test(e.message));
    } finally {
      await fleet.closeAll();
    }
  });
});

function makeAppPackageNamed(id: string, name: string, autostart = true): Buffer {
  return counterPackage('1.0.0', { id, name, autostart, config: undefined, events: [] });
}
