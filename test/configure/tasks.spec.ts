import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CONFIGURE_TASKS, commission, inventory, isConfigureTask, runTask, syncTime, type CommissionError, type TaskProgress } from '../../lib/configure';
import { OnvifDevice } from '../../lib/device/onvif-device';
import type { SessionChange } from '../../lib/device/types';
import { OnvifError } from '../../lib/errors';
import { SimulatedDevice } from '../../lib/simulator';
import { NS } from '../../lib/xml/namespaces';

const ADMIN = { username: 'admin', password: 'Adm1n-secret' };

describe('configure tasks against the simulated device', function () {
  this.timeout(60_000);
  const sims: SimulatedDevice[] = [];
  const devices: OnvifDevice[] = [];
  let dir: string;
  const sim = async (o: ConstructorParameters<typeof SimulatedDevice>[0] = {}) => {
    const s = new SimulatedDevice({ discovery: false, rebootDowntimeMs: 500, ...o });
    await s.start();
    sims.push(s);
    return s;
  };
  const open = (s: SimulatedDevice, creds: { username?: string; password?: string } = ADMIN) => {
    const d = new OnvifDevice({ address: s.xaddr, ...creds });
    devices.push(d);
    return d;
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'onvifq-tasks-'));
  });
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists its tasks and refuses unknown ones', async () => {
    assert.deepEqual([...CONFIGURE_TASKS], ['commission', 'syncTime', 'backup', 'restore', 'inventory', 'enableHttps', 'renewCertificate', 'certificateReport']);
    assert.ok(isConfigureTask('backup') && !isConfigureTask('GetUsers'));
    const s = await sim(ADMIN);
    await assert.rejects(runTask(open(s), 'reboot' as never, {}), (e: OnvifError) => e.kind === 'invalid-input' && /tasks are commission, syncTime/.test(e.message));
  });

  it('commission: Factory Default -> Operational; afterwards anonymous calls are refused and the admin works', async () => {
    const s = await sim();
    assert.equal(s.profileQState, 'FactoryDefault');
    const device = open(s, {});
    const changes: SessionChange[] = [];
    device.changes$.subscribe((c) => changes.push(c));
    const progress: TaskProgress[] = [];
    const r = (await runTask(
      device,
      'commission',
      {
        password: 'N3w-admin-pass',
        hostname: 'lobby-cam',
        ntp: ['192.0.2.123', 'ntp.example.org'],
        timeZone: 'CET-1CEST,M3.5.0,M10.5.0/3',
        users: [{ username: 'viewer', password: 'View-pass1', level: 'User' }],
      },
      { onProgress: (p) => progress.push(p) },
    )) as Awaited<ReturnType<typeof commission>>;
    assert.deepEqual(r.steps.map((x) => [x.step, x.ok]), [['admin', true], ['hostname', true], ['ntp', true], ['time', true], ['users', true]]);
    assert.equal(r.state, 'Operational');
    assert.equal(s.profileQState, 'Operational');
    assert.ok(progress.some((p) => p.step === 'hostname' && p.text.length < 40));
    const credentials = changes.find((c) => c.kind === 'credentials-changed');
    assert.ok(credentials, 'the session says it uses new credentials');
    assert.ok(!JSON.stringify(changes).includes('N3w-admin-pass'), 'no password in change texts');

    const anonymous = open(s, {});
    await assert.rejects(anonymous.call('GetUsers'), (e: OnvifError) => e.kind === 'auth');
    const admin = open(s, { username: 'admin', password: 'N3w-admin-pass' });
    assert.equal((await admin.call('GetHostname')).HostnameInformation.Name, 'lobby-cam');
    const time = (await admin.call('GetSystemDateAndTime')).SystemDateAndTime;
    assert.equal(time.DateTimeType, 'NTP');
    assert.equal(time.TimeZone?.TZ, 'CET-1CEST,M3.5.0,M10.5.0/3');
    assert.deepEqual((await admin.call('GetNTP')).NTPInformation.NTPManual.map((h: any) => h.IPv4Address ?? h.DNSname), ['192.0.2.123', 'ntp.example.org']);
    assert.deepEqual((await admin.call('GetUsers')).User.map((u: any) => `${u.Username}:${u.UserLevel}`).sort(), ['admin:Administrator', 'viewer:User']);
    // The session that commissioned goes on working with the new credentials.
    assert.equal((await device.call('GetHostname')).HostnameInformation.Name, 'lobby-cam');
  });

  it('commission stops at the first failure and says what was done; an Operational device is refused without force', async () => {
    const s = await sim();
    const device = open(s, {});
    await assert.rejects(
      // 'admin' exists once the admin step has made it: the device refuses the extra user (ter:UsernameClash).
      commission(device, { password: 'N3w-admin-pass', hostname: 'cam-2', users: [{ username: 'admin', password: 'Other-pass-1', level: 'User' }], network: 'dhcp' }),
      (e: CommissionError) => {
        assert.match(e.message, /stopped at step 'users'/);
        assert.match(e.message, /Done: admin, hostname\./);
        assert.match(e.message, /Not tried: network\./);
        assert.ok(e.subcodes?.includes('ter:UsernameClash'), `subcodes ${e.subcodes}`);
        assert.deepEqual(e.steps.map((x) => [x.step, x.ok]), [['admin', true], ['hostname', true], ['users', false]]);
        assert.ok(!e.message.includes('N3w-admin-pass'));
        return true;
      },
    );
    assert.equal(s.profileQState, 'Operational');
    await assert.rejects(commission(open(s, { username: 'admin', password: 'N3w-admin-pass' }), { password: 'Other-pass-1' }), (e: OnvifError) => /already commissioned/.test(e.message));
    const forced = await commission(open(s, { username: 'admin', password: 'N3w-admin-pass' }), { password: '', force: true, hostname: 'cam-3' } as never);
    assert.deepEqual(forced.steps.map((x) => x.step), ['hostname']);
    await assert.rejects(commission(open(s, {}), {} as never), (e: OnvifError) => e.kind === 'invalid-input' && /password/.test(e.message));
  });

  it('syncTime host: a device 1 h off ends within a second; ntp mode switches DateTimeType to NTP', async () => {
    const s = await sim({ ...ADMIN, clockSkewMs: 3600_000 });
    const device = open(s);
    const r = await syncTime(device, {});
    assert.ok(Math.abs(r.offsetBeforeMs - 3600_000) < 2000, `before ${r.offsetBeforeMs}`);
    assert.ok(Math.abs(r.offsetAfterMs) < 1000, `after ${r.offsetAfterMs}`);
    assert.ok(Math.abs(s.deviceNow() - Date.now()) < 1000, 'the simulator clock agrees');
    assert.equal(r.timeZone, 'UTC0', 'the device time zone is kept');
    const n = (await runTask(device, 'syncTime', { mode: 'ntp', ntp: ['192.0.2.5'], timeZone: 'EST5EDT' })) as { mode: string };
    assert.equal(n.mode, 'ntp');
    const t = (await device.call('GetSystemDateAndTime')).SystemDateAndTime;
    assert.equal(t.DateTimeType, 'NTP');
    assert.equal(t.TimeZone?.TZ, 'EST5EDT');
    await assert.rejects(syncTime(device, { mode: 'gps' as never }), (e: OnvifError) => e.kind === 'invalid-input');
  });

  it("backup of device A restored onto device B makes B's configuration equal A's (identity and addressing stay)", async function () {
    const a = await sim(ADMIN);
    const b = await sim({ username: 'admin', password: 'B-admin-pass1' });
    const devA = open(a);
    await devA.call('SetHostname', { Name: 'device-a' });
    await devA.call('SetScopes', { Scopes: ['onvif://www.onvif.org/location/hall-a'] });
    await devA.call('CreateUsers', { User: [{ Username: 'op', Password: 'Op-pass-12', UserLevel: 'Operator' }] });
    await devA.call('SetDiscoveryMode', { DiscoveryMode: 'NonDiscoverable' });
    const progress: TaskProgress[] = [];
    const file = path.join(dir, 'a.backup');
    const toFile = (await runTask(devA, 'backup', { file }, { onProgress: (p) => progress.push(p) })) as { bytes: number; file: string };
    assert.equal(toFile.file, file);
    assert.equal(readFileSync(file).length, toFile.bytes);
    assert.ok(progress.some((p) => p.step === 'download'));
    const inMemory = (await runTask(devA, 'backup', {})) as { bytes: number; buffer: Buffer };
    assert.ok(Buffer.isBuffer(inMemory.buffer) && inMemory.buffer.length === inMemory.bytes);

    const config = (s: SimulatedDevice) => (s.stateSnapshot() as { configuration: unknown }).configuration;
    assert.notDeepEqual(config(b), config(a));
    const devB = open(b, { username: 'admin', password: 'B-admin-pass1' });
    const changes: SessionChange[] = [];
    devB.changes$.subscribe((c) => changes.push(c));
    // B's own password no longer works once A's accounts are restored: a clear error, not a retry loop.
    await assert.rejects(runTask(devB, 'restore', { file }), (e: OnvifError) => e.kind === 'auth' && /carries the accounts/.test(e.message));
    assert.deepEqual(config(b), config(a));
    changes.length = 0;
    await devB.close();
    const devB2 = open(b, ADMIN);
    devB2.changes$.subscribe((c) => changes.push(c));
    const restoreSteps: string[] = [];
    const r = (await runTask(devB2, 'restore', { file, username: 'admin', password: ADMIN.password }, { onProgress: (p) => restoreSteps.push(p.step) })) as {
      reconnected: boolean;
      downtimeMs: number;
      bytes: number;
    };
    assert.equal(r.reconnected, true);
    assert.equal(r.bytes, toFile.bytes);
    assert.ok(r.downtimeMs > 0);
    assert.deepEqual([...new Set(restoreSteps)], ['start', 'upload', 'restart', 'done']);
    assert.deepEqual(config(b), config(a));
    assert.notEqual(b.endpoint, a.endpoint, 'identity stays with B');
    assert.deepEqual(changes.map((c) => c.kind), ['credentials-changed', 'restarting', 'reconnected']);
    // B now has A's accounts: A's admin password works there.
    const bAsA = open(b);
    assert.equal((await bAsA.call('GetHostname')).HostnameInformation.Name, 'device-a');
    await assert.rejects(runTask(devB2, 'restore', {}), (e: OnvifError) => e.kind === 'invalid-input');
    await assert.rejects(runTask(bAsA, 'restore', { file: path.join(dir, 'missing') }), (e: OnvifError) => /does not exist/.test(e.message));
  });

  it('inventory: device information, firmware, services with versions, capabilities, Profile Q state and a network summary', async () => {
    const s = await sim({ ...ADMIN, deviceInformation: { Manufacturer: 'Acme', FirmwareVersion: '9.8.7' } });
    const r = (await runTask(open(s), 'inventory', {})) as Awaited<ReturnType<typeof inventory>>;
    assert.equal(r.deviceInformation.manufacturer, 'Acme');
    assert.equal(r.firmware, '9.8.7');
    assert.equal(r.profileQState, 'Operational');
    const device = r.services.find((x) => x.namespace === NS.tds);
    assert.ok(device && device.name === 'device' && /^\d+\.\d+$/.test(device.version));
    assert.ok(r.services.some((x) => x.name === 'events'));
    assert.equal(r.capabilities.system.httpSystemBackup, true);
    assert.match(r.network.hostname ?? '', /^simq-/);
    assert.deepEqual(r.network.protocols?.find((p) => p.name === 'HTTP')?.ports, [s.port]);
    assert.ok(r.network.interfaces?.[0]?.mac);
    assert.ok(Array.isArray(r.network.dns) && Array.isArray(r.network.ntp) && Array.isArray(r.network.gateway));
    assert.equal(r.network.discoveryMode, 'Discoverable');
    assert.ok(r.scopes.includes('onvif://www.onvif.org/Profile/Q/Operational'));
    assert.equal(typeof r.clockOffsetMs, 'number');
    assert.equal(r.endpoint, s.endpoint);
    assert.equal(r.unavailable, undefined);
  });
});
