import { strict as assert } from 'node:assert';
import { firstValueFrom } from 'rxjs';
import { filter, take, toArray } from 'rxjs/operators';
import { inventory, runTask } from '../../lib/configure';
import { OnvifDevice } from '../../lib/device';
import { DeviceLink, type LinkState } from '../../lib/link';
import { SimulatedDevice } from '../../lib/simulator';
import { ManualClock } from '../support/manual-clock';
import { freeTcpPort } from '../support/ports';

const ADMIN = { username: 'admin', password: 'Adm1n-secret' };

describe('DeviceLink: one supervised session per device', () => {
  let sim: SimulatedDevice | undefined;
  let link: DeviceLink | undefined;
  afterEach(async () => {
    await link?.close();
    await sim?.stop();
    link = undefined;
    sim = undefined;
  });

  it('stays idle until first use, then connects', async () => {
    sim = new SimulatedDevice(ADMIN);
    await sim.start();
    link = new DeviceLink({ address: sim.xaddr, ...ADMIN });
    assert.equal(link.state.status, 'idle');
    assert.equal(sim.stats.httpRequests, 0);
    const info = await link.call('GetDeviceInformation');
    assert.equal(typeof info.Model, 'string');
    assert.equal(link.state.status, 'connected');
    assert.equal(link.state.session?.profileQState, 'Operational');
  });

  it('retries with backoff while the device is absent, and connects once it appears', async function () {
    this.timeout(20_000);
    const port = await freeTcpPort();
    link = new DeviceLink({ address: `127.0.0.1:${port}`, ...ADMIN, backoff: { initialMs: 200, maxMs: 400 } });
    await assert.rejects(link.device(), (e: { kind: string }) => e.kind === 'unreachable');
    assert.equal(link.state.status, 'retrying');
    assert.ok((link.state.retryInMs ?? 0) > 0);
    sim = new SimulatedDevice({ ...ADMIN, port });
    await sim.start();
    const connected = await firstValueFrom(link.state$.pipe(filter((s) => s.status === 'connected')));
    assert.equal(connected.session?.deviceInformation.model.length ? true : false, true);
  });

  it('retry delays double up to maxMs and jitter only lengthens them (mocked clock, real connections)', async function () {
    const port = await freeTcpPort();
    const clock = new ManualClock();
    link = new DeviceLink({ address: `127.0.0.1:${port}`, ...ADMIN, backoff: { initialMs: 1000, maxMs: 8000 }, clock });
    const delays: number[] = [];
    link.state$.subscribe((s) => s.status === 'retrying' && delays.push(s.retryInMs!));
    await assert.rejects(link.device(), (e: { kind: string }) => e.kind === 'unreachable');
    for (let n = 1; n < 10; n++) {
      assert.deepEqual(clock.pending, [delays[n - 1]], `retry ${n} scheduled with the delay the state shows`);
      clock.fireNext();
      // The attempt is a real (refused) connection: wait until it failed and scheduled the next one.
      await firstValueFrom(link.state$.pipe(filter(() => delays.length > n)));
    }
    const nominal = [1000, 2000, 4000, 8000, 8000, 8000, 8000, 8000, 8000, 8000];
    delays.forEach((d, i) => assert.ok(d >= nominal[i]! && d <= nominal[i]! * 1.2, `delay ${i + 1}: ${d} ms, nominal ${nominal[i]}`));
  });

  it('stops retrying after an authentication failure (no account lock-out loop)', async function () {
    this.timeout(10_000);
    sim = new SimulatedDevice(ADMIN);
    await sim.start();
    const clock = new ManualClock();
    link = new DeviceLink({ address: sim.xaddr, username: 'admin', password: 'nope', backoff: { initialMs: 50, maxMs: 100 }, clock });
    await assert.rejects(link.device(), (e: { kind: string }) => e.kind === 'auth');
    assert.equal(link.state.status, 'failed');
    assert.deepEqual(clock.pending, [], 'no retry scheduled');
    const requests = sim.stats.httpRequests;
    clock.advance(60_000);
    await assert.rejects(link.call('GetDeviceInformation'), (e: { kind: string }) => e.kind === 'auth');
    assert.equal(sim.stats.httpRequests, requests, 'no further requests after the auth failure');
  });

  it('without credentials: connected with a partial session, and a refused operation does not stop the link', async () => {
    sim = new SimulatedDevice(ADMIN);
    await sim.start();
    link = new DeviceLink({ address: sim.xaddr, backoff: { initialMs: 50, maxMs: 100 } });
    const clock = await link.call('GetSystemDateAndTime');
    assert.ok(clock.SystemDateAndTime);
    assert.equal(link.state.status, 'connected');
    assert.deepEqual(link.state.session?.partial?.refused, ['GetScopes', 'GetDeviceInformation']);
    await assert.rejects(link.call('GetUsers'), (e: { kind: string; operation?: string }) => e.kind === 'auth' && e.operation === 'GetUsers');
    assert.equal(link.state.status, 'connected', 'there is no password to lock out');
    assert.ok((await link.call('GetServiceCapabilities')).Capabilities);
  });

  it('notices a device that went away and reconnects when it is back', async function () {
    this.timeout(20_000);
    sim = new SimulatedDevice(ADMIN);
    await sim.start();
    const port = sim.port;
    link = new DeviceLink({ address: sim.xaddr, ...ADMIN, timeoutMs: 1000, backoff: { initialMs: 200, maxMs: 400 } });
    await link.call('GetDeviceInformation');
    const seen = link.state$.pipe(take(4), toArray());
    const statuses = firstValueFrom(seen);
    await sim.stop();
    await assert.rejects(link.call('GetDeviceInformation'));
    sim = new SimulatedDevice({ ...ADMIN, port });
    await sim.start();
    const got: LinkState[] = await statuses;
    assert.deepEqual(got.map((s) => s.status).slice(0, 2), ['connected', 'retrying']);
    await firstValueFrom(link.state$.pipe(filter((s) => s.status === 'connected')));
    assert.equal(typeof (await link.call('GetDeviceInformation')).Model, 'string');
  });

  describe('run(): work that reports its own outcome to the link', () => {
    it('passes the connected device in and the result out', async () => {
      sim = new SimulatedDevice(ADMIN);
      await sim.start();
      link = new DeviceLink({ address: sim.xaddr, ...ADMIN });
      const result = await link.run((device) => inventory(device));
      assert.equal(link.state.status, 'connected');
      assert.ok(result.deviceInformation.model.length > 0, 'the inventory of the connected device');
      assert.equal(result.profileQState, 'Operational');
    });

    it('a task whose device went away makes the link reconnect with backoff', async function () {
      this.timeout(20_000);
      sim = new SimulatedDevice(ADMIN);
      await sim.start();
      const port = sim.port;
      link = new DeviceLink({ address: sim.xaddr, ...ADMIN, timeoutMs: 1000, backoff: { initialMs: 200, maxMs: 400 } });
      await link.device();
      await sim.stop();
      await assert.rejects(
        link.run((device) => runTask(device, 'inventory', {})),
        (e: { kind: string }) => e.kind === 'unreachable',
      );
      assert.equal(link.state.status, 'retrying');
      assert.equal(link.state.error?.kind, 'unreachable');
      sim = new SimulatedDevice({ ...ADMIN, port });
      await sim.start();
      await firstValueFrom(link.state$.pipe(filter((s) => s.status === 'connected')));
    });

    it('credentials rejected during the work stop the link: no retries that would lock the account', async function () {
      this.timeout(10_000);
      sim = new SimulatedDevice(ADMIN);
      await sim.start();
      link = new DeviceLink({ address: sim.xaddr, ...ADMIN, backoff: { initialMs: 50, maxMs: 100 } });
      await link.device();
      // Someone changes the password on the device while the link holds the old one.
      const other = new OnvifDevice({ address: sim.xaddr, ...ADMIN });
      await other.call('SetUser', { User: [{ Username: 'admin', Password: 'Changed-elsewhere-1', UserLevel: 'Administrator' }] });
      await other.close();
      await assert.rejects(
        link.run((device) => device.call('GetUsers')),
        (e: { kind: string }) => e.kind === 'auth',
      );
      assert.equal(link.state.status, 'failed');
      assert.equal(link.state.error?.kind, 'auth');
      const requests = sim.stats.httpRequests;
      await assert.rejects(link.run((device) => device.call('GetDeviceInformation')), (e: { kind: string }) => e.kind === 'auth');
      assert.equal(sim.stats.httpRequests, requests, 'nothing sent once the link failed');
    });
  });
});
