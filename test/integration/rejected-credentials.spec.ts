import { strict as assert } from 'node:assert';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { OnvifError } from '../../lib/errors';
import { SimulatedDevice } from '../../lib/simulator';

const ADMIN = { username: 'admin', password: 'Adm1n-secret' };
const WRONG = 'wrong-password';

describe('OnvifDevice does not send credentials the device rejected again', () => {
  let sim: SimulatedDevice;
  const opened: OnvifDevice[] = [];
  const open = (password: string, o: Partial<ConstructorParameters<typeof OnvifDevice>[0]> = {}) => {
    const d = new OnvifDevice({ address: sim.xaddr, username: ADMIN.username, password, ...o });
    opened.push(d);
    return d;
  };
  /** Requests that carried credentials and were refused: the ones that count towards an account lockout. */
  const refusedCredentials = () =>
    sim.requests.filter((r) => (r.body.includes('UsernameToken') || /^Digest /i.test(String(r.headers.authorization ?? ''))) && r.status >= 400).length;

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()));
    await sim?.stop();
  });

  for (const [deviceAuth, before] of [
    ['ws-security', '108 requests, 36 refused tokens'],
    ['any', '72 requests, 18 refused digest attempts'],
  ] as const) {
    it(`18 calls with a wrong password (device auth ${deviceAuth}) send a small fixed number of requests and one refused attempt`, async () => {
      sim = new SimulatedDevice({ ...ADMIN, auth: deviceAuth, discovery: false });
      await sim.start();
      const device = open(WRONG);
      const errors: OnvifError[] = [];
      for (let i = 0; i < 18; i++) {
        await assert.rejects(device.call('GetDeviceInformation'), (e: OnvifError) => (errors.push(e), true));
      }
      const sent = sim.stats.httpRequests;
      console.log(`      18 calls with a wrong password -> ${sent} requests, ${refusedCredentials()} refused credentials (before: ${before})`);
      assert.ok(sent <= 5, `${sent} requests`);
      assert.equal(refusedCredentials(), 1);
      for (const e of errors) {
        assert.equal(e.kind, 'auth');
        assert.doesNotMatch(e.message, new RegExp(WRONG));
      }
      assert.match(errors[0]!.message, /rejected the user 'admin'/);
      for (const e of errors.slice(1)) {
        assert.match(e.message, /already rejected the credentials of user 'admin'/);
        assert.ok(e.message.includes(errors[0]!.message), 'later calls carry the first error');
      }
    });
  }

  it('new credentials are tried at once; after the password is fixed on the device, reconnect() tries the held-back ones again', async () => {
    sim = new SimulatedDevice({ ...ADMIN, discovery: false });
    await sim.start();
    const device = open(WRONG);
    await assert.rejects(device.call('GetDeviceInformation'), (e: OnvifError) => e.kind === 'auth');
    assert.equal(refusedCredentials(), 1);

    // Someone sets the device's password to what this session holds: the session still waits for an explicit retry.
    const admin = open(ADMIN.password);
    await admin.call('SetUser', { User: [{ Username: 'admin', Password: WRONG, UserLevel: 'Administrator' }] });
    const sentBefore = sim.stats.httpRequests;
    await assert.rejects(device.call('GetDeviceInformation'), (e: OnvifError) => e.kind === 'auth' && /already rejected/.test(e.message));
    assert.equal(sim.stats.httpRequests, sentBefore, 'held back: nothing sent');
    const session = await device.reconnect();
    assert.equal(session.authMethod, 'digest-SHA-256');
    assert.equal(typeof (await device.call('GetDeviceInformation')).Manufacturer, 'string');

    // A different password given by setCredentials is tried without a reconnect() (the device rejects it once).
    const other = open(ADMIN.password);
    await assert.rejects(other.call('GetDeviceInformation'), (e: OnvifError) => e.kind === 'auth' && /rejected the user/.test(e.message));
    other.setCredentials('admin', WRONG);
    assert.equal(typeof (await other.call('GetDeviceInformation')).Manufacturer, 'string');
  });
});
