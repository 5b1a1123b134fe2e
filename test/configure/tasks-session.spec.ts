import { strict as assert } from 'node:assert';
import { OnvifDevice } from '../../lib/device/onvif-device';
import type { SessionChange } from '../../lib/device/types';
import { OnvifError } from '../../lib/errors';
import { SimulatedDevice } from '../../lib/simulator';

const ADMIN = { username: 'admin', password: 'Adm1n-secret' };

describe('the session follows what a call changed (device.changes$)', function () {
  this.timeout(60_000);
  let sim: SimulatedDevice;
  const devices: OnvifDevice[] = [];
  let changes: SessionChange[];
  const open = (creds: { username?: string; password?: string } = ADMIN) => {
    const d = new OnvifDevice({ address: sim.xaddr, ...creds, name: 'lobby camera' });
    devices.push(d);
    return d;
  };
  beforeEach(async () => {
    sim = new SimulatedDevice({ ...ADMIN, discovery: false, rebootDowntimeMs: 700 });
    await sim.start();
    changes = [];
  });
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await sim.stop();
  });

  it("SetUser on the session's own user: the session uses the new password and says the stored credentials need updating", async () => {
    const device = open();
    device.changes$.subscribe((c) => changes.push(c));
    await device.call('SetUser', { User: [{ Username: 'admin', Password: 'Brand-new-pass9', UserLevel: 'Administrator' }] });
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.kind, 'credentials-changed');
    assert.match(changes[0]!.text, /stored credentials of lobby camera need updating/);
    assert.ok(!changes[0]!.text.includes('Brand-new-pass9'));
    device.reset();
    assert.ok((await device.call('GetUsers')).User.length >= 1, 'the session signs in with the new password');
    await assert.rejects(open().call('GetUsers'), (e: OnvifError) => e.kind === 'auth');
    // Another user's password: nothing changes for the session.
    await device.call('CreateUsers', { User: [{ Username: 'viewer', Password: 'View-pass12', UserLevel: 'User' }] });
    await device.call('SetUser', { User: [{ Username: 'viewer', Password: 'View-pass34', UserLevel: 'User' }] });
    assert.equal(changes.length, 1);
  });

  it('SetSystemDateAndTime re-measures the clock offset', async () => {
    const device = open();
    device.changes$.subscribe((c) => changes.push(c));
    await device.connect();
    assert.ok(Math.abs(device.session!.clockOffsetMs) < 2000);
    const ahead = new Date(Date.now() + 2 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await device.call('SetSystemDateAndTime', { DateTimeType: 'Manual', DaylightSavings: false, UTCDateTime: ahead });
    assert.ok(Math.abs(device.session!.clockOffsetMs - 2 * 3600_000) < 2000, `offset ${device.session!.clockOffsetMs}`);
    assert.equal(changes[0]?.kind, 'clock-remeasured');
    assert.match(changes[0]!.text, /ahead of/);
  });

  it('SystemReboot: waits until the device is back and reconnects; the next call works', async () => {
    const device = open();
    device.changes$.subscribe((c) => changes.push(c));
    let rebooted = false;
    sim.once('reboot', () => (rebooted = true));
    const t0 = Date.now();
    await device.call('SystemReboot');
    assert.ok(rebooted);
    assert.ok(Date.now() - t0 >= 600, 'the call returned only after the device was back');
    assert.deepEqual(changes.map((c) => c.kind), ['restarting', 'reconnected']);
    assert.equal(device.session?.profileQState, 'Operational');
    assert.equal(typeof (await device.call('GetDeviceInformation')).Manufacturer, 'string');
  });

  it("SystemReboot's wait for the device ends at once when the call's signal aborts or the session closes", async () => {
    await sim.stop();
    // A long downtime, so only cancellation can end the wait quickly.
    sim = new SimulatedDevice({ ...ADMIN, discovery: false, rebootDowntimeMs: 30_000 });
    await sim.start();
    const aborted = new AbortController();
    const t0 = Date.now();
    const byAbort = open().call('SystemReboot', {}, { signal: aborted.signal });
    setTimeout(() => aborted.abort(), 300);
    await assert.rejects(byAbort, (e: OnvifError) => e.kind === 'closed');
    assert.ok(Date.now() - t0 < 5000, `abort ended the wait after ${Date.now() - t0} ms`);

    await sim.stop();
    sim = new SimulatedDevice({ ...ADMIN, discovery: false, rebootDowntimeMs: 30_000 });
    await sim.start();
    const device = open();
    const t1 = Date.now();
    const byClose = device.call('SystemReboot');
    setTimeout(() => void device.close(), 300);
    await assert.rejects(byClose, (e: OnvifError) => e.kind === 'closed');
    assert.ok(Date.now() - t1 < 5000, `close ended the wait after ${Date.now() - t1} ms`);
  });

  it('a hard factory default reconnects and says the device is in Factory Default State', async () => {
    const device = open();
    device.changes$.subscribe((c) => changes.push(c));
    await device.call('SetSystemFactoryDefault', { FactoryDefault: 'Hard' });
    assert.deepEqual(changes.map((c) => c.kind), ['restarting', 'reconnected']);
    assert.match(changes[0]!.text, /hard factory default.*Factory Default State/);
    assert.match(changes[1]!.text, /Factory Default State/);
    assert.equal(device.session?.profileQState, 'FactoryDefault');
    assert.equal(sim.profileQState, 'FactoryDefault');
  });

  it('a new HTTP port says where the device went; the same port says nothing', async () => {
    const device = open();
    device.changes$.subscribe((c) => changes.push(c));
    const protocols = (await device.call('GetNetworkProtocols')).NetworkProtocols;
    const http = protocols.find((p: any) => p.Name === 'HTTP');
    await device.call('SetNetworkProtocols', { NetworkProtocols: [{ Name: 'HTTP', Enabled: true, Port: [sim.port] }] });
    assert.equal(changes.length, 0);
    await device.call('SetNetworkProtocols', { NetworkProtocols: [{ Name: 'HTTP', Enabled: true, Port: [8089] }] });
    assert.equal(changes[0]?.kind, 'moved');
    assert.equal(changes[0]!.address, `http://127.0.0.1:8089/onvif/device_service`);
    assert.match(changes[0]!.text, /port is now 8089/);
    await device.call('SetNetworkProtocols', { NetworkProtocols: [{ Name: 'HTTP', Enabled: true, Port: http!.Port }] });
    await device.call('SetNetworkInterfaces', {
      InterfaceToken: 'eth0',
      NetworkInterface: { Enabled: true, IPv4: { Enabled: true, DHCP: false, Manual: [{ Address: '192.0.2.10', PrefixLength: 24 }] } },
    });
    const moved = changes[changes.length - 1]!;
    assert.equal(moved.kind, 'moved');
    assert.match(moved.text, /moves to 192\.0\.2\.10 after the next reboot/);
  });
});
