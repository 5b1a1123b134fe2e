/**
 * Issue 10, items 9-11: commissioning gives the existing administrator its password (Profile Q §9) and leaves
 * none without one, waits when the device restarts; SetUser without a Password is refused unless the caller
 * asks to clear it (Core §8.4.6); user names and passwords are checked against the device's limits and
 * password rules (Core §8.5.2) before anything is sent.
 */
import { strict as assert } from 'node:assert';
import { commission, type CommissionError, type TaskProgress } from '../../lib/configure';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { readDeviceServiceCapabilities } from '../../lib/device/readers';
import { OnvifError } from '../../lib/errors';
import { SimulatedDevice, type SimulatorOptions } from '../../lib/simulator';
import { parseXml } from '../../lib/xml/parse';

const NEW_PASS = 'N3w-admin-pass';
const ADMIN = { username: 'admin', password: 'Adm1n-secret' };

describe('configure: commissioning and user checks (Profile Q §9, Core §8.4-8.5)', function () {
  this.timeout(60_000);
  const sims: SimulatedDevice[] = [];
  const devices: OnvifDevice[] = [];
  const sim = async (o: SimulatorOptions = {}) => {
    const s = new SimulatedDevice({ discovery: false, processorUsageIntervalMs: 0, rebootDowntimeMs: 500, ...o });
    await s.start();
    sims.push(s);
    return s;
  };
  const open = (s: SimulatedDevice, creds: { username?: string; password?: string } = {}) => {
    const d = new OnvifDevice({ address: s.xaddr, ...creds });
    devices.push(d);
    return d;
  };
  /** Whether `username` with `password` gets GetDeviceInformation answered (a fresh session, so nothing is reused). */
  const signsIn = async (s: SimulatedDevice, username: string, password: string) => {
    const d = open(s, { username, password });
    try {
      await d.call('GetDeviceInformation');
      return true;
    } catch (e) {
      if (e instanceof OnvifError && e.kind === 'auth') return false;
      throw e;
    }
  };
  const userWrites = (s: SimulatedDevice) => (s.stats.byOperation.CreateUsers ?? 0) + (s.stats.byOperation.SetUser ?? 0);
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  describe('item 9: commissioning', () => {
    it("a device shipped with 'root' and an empty password (strict): root gets the password, no second admin, empty-password root is refused", async () => {
      const s = await sim({ defaultAdmin: 'root' });
      assert.equal(s.profileQState, 'FactoryDefault');
      const device = open(s);
      const result = await commission(device, { password: NEW_PASS, hostname: 'gate-cam' });
      assert.equal(result.username, 'root');
      assert.equal(result.state, 'Operational');
      assert.equal(s.profileQState, 'Operational');
      assert.deepEqual((await device.call('GetUsers')).User, [{ Username: 'root', UserLevel: 'Administrator' }]);
      assert.equal(s.stats.byOperation.CreateUsers ?? 0, 0, 'no second administrator');
      assert.equal(await signsIn(s, 'root', ''), false, 'the empty password no longer signs in');
      assert.equal(await signsIn(s, 'root', NEW_PASS), true);
      assert.equal((await device.call('GetHostname')).HostnameInformation.Name, 'gate-cam');
    });

    it("the issue's case on a lenient device ('root' with an empty password): root gets the password, the empty one stops working", async () => {
      const s = await sim({ username: 'root', password: '' });
      assert.equal(await signsIn(s, 'root', ''), true, 'in Factory Default State anything goes');
      const result = await commission(open(s), { password: NEW_PASS });
      assert.equal(result.username, 'root');
      assert.deepEqual(s.stateSnapshot().users, [{ username: 'root', level: 'Administrator' }]);
      assert.equal(await signsIn(s, 'root', ''), false);
    });

    it('another name while an administrator exists is refused before any change, naming the existing one and the fix', async () => {
      const s = await sim({ defaultAdmin: 'root' });
      await assert.rejects(commission(open(s), { username: 'admin', password: NEW_PASS }), (e: OnvifError) => {
        assert.equal(e.kind, 'invalid-input');
        assert.match(e.message, /administrator 'root'/);
        assert.match(e.message, /username: 'root'/);
        assert.match(e.message, /Nothing was changed/);
        assert.ok(!e.message.includes(NEW_PASS));
        return true;
      });
      assert.equal(userWrites(s), 0);
      assert.equal(s.profileQState, 'FactoryDefault');
    });

    it('two administrators and no name given: refused, listing both', async () => {
      const s = await sim({ username: 'root', password: '' });
      await open(s).call('CreateUsers', { User: [{ Username: 'service', Password: '', UserLevel: 'Administrator' }] });
      const writes = userWrites(s);
      await assert.rejects(commission(open(s), { password: NEW_PASS }), (e: OnvifError) => {
        assert.equal(e.kind, 'invalid-input');
        assert.match(e.message, /administrators 'root', 'service'; say which one gets the password, e.g. username: 'root'/);
        return true;
      });
      assert.equal(userWrites(s), writes);
      assert.equal(s.profileQState, 'FactoryDefault');
    });

    it('an administrator left without a password after commissioning fails the task, naming it', async () => {
      // A lenient device with two administrators, both without a password: setting root's leaves 'service' open.
      const s = await sim({ username: 'root', password: '' });
      const setup = open(s);
      await setup.call('CreateUsers', { User: [{ Username: 'service', Password: '', UserLevel: 'Administrator' }] });
      await assert.rejects(commission(open(s), { username: 'root', password: NEW_PASS, hostname: 'never-set' }), (e: CommissionError) => {
        assert.match(e.message, /stopped at step 'admin'/);
        assert.match(e.message, /'service'.*without a password/);
        assert.match(e.message, /SetUser|DeleteUsers/);
        assert.deepEqual(e.steps.map((x) => [x.step, x.ok]), [['admin', false]]);
        return true;
      });
      assert.equal(s.stateSnapshot().hostname === 'never-set', false, 'the task stopped there');
    });

    it('a device that restarts on leaving Factory Default State: commissioning waits for it, then goes on with the new credentials', async () => {
      const s = await sim({ rebootOnCommission: true });
      let reboots = 0;
      s.on('reboot', () => reboots++);
      const progress: TaskProgress[] = [];
      const device = open(s);
      const result = await commission(device, { password: NEW_PASS, hostname: 'after-reboot' }, { onProgress: (p) => progress.push(p) });
      assert.equal(reboots, 1);
      assert.deepEqual(result.steps.map((x) => [x.step, x.ok]), [['admin', true], ['hostname', true]]);
      assert.ok(progress.some((p) => /waiting for restart/.test(p.text)), JSON.stringify(progress));
      assert.equal(s.stateSnapshot().hostname, 'after-reboot');
      assert.equal(await signsIn(s, 'admin', NEW_PASS), true);
    });

    it('a password the device would refuse is refused before anything changes', async () => {
      const s = await sim({ defaultAdmin: 'root' });
      await open(s).call('SetPasswordComplexityConfiguration', { MinLen: 10, Number: 1 });
      await assert.rejects(commission(open(s), { password: 'Short-1' }), (e: OnvifError) => e.kind === 'invalid-input' && /MinLen/.test(e.message) && !e.message.includes('Short-1'));
      await assert.rejects(
        commission(open(s), { password: NEW_PASS, users: [{ username: 'viewer', password: 'no-digits-here', level: 'User' }] }),
        (e: OnvifError) => e.kind === 'invalid-input' && /viewer/.test(e.message) && /Number/.test(e.message),
      );
      assert.equal(userWrites(s), 0);
      assert.equal(s.profileQState, 'FactoryDefault');
    });
    it("the device's administrator name in a refusal goes through deviceText (no bidi controls)", async () => {
      // The name comes from GetUsers when none is given: U+202E (right-to-left override) would turn the message around.
      const s = await sim({ defaultAdmin: 'root\u202eevil' });
      await open(s).call('SetPasswordComplexityConfiguration', { MinLen: 10 });
      await assert.rejects(commission(open(s), { password: 'Short-1' }), (e: OnvifError) => {
        assert.equal(e.kind, 'invalid-input');
        assert.match(e.message, /the password for 'root evil' breaks the password rule MinLen/);
        return true;
      });
    });
  });

  describe('item 10: SetUser without a password', () => {
    it('a level-only SetUser is refused locally; clearPassword: true sends it without Password, and the device says why it refuses', async () => {
      const s = await sim(ADMIN);
      const device = open(s, ADMIN);
      await device.call('CreateUsers', { User: [{ Username: 'viewer', Password: 'View-pass1', UserLevel: 'User' }] });
      await assert.rejects(device.call('SetUser', { User: [{ Username: 'viewer', UserLevel: 'Operator' }] }), (e: OnvifError) => {
        assert.equal(e.kind, 'invalid-input');
        assert.match(e.message, /no Password/);
        assert.match(e.message, /clearPassword: true/);
        return true;
      });
      assert.equal(s.stats.byOperation.SetUser ?? 0, 0, 'nothing was sent');
      const bodies: string[] = [];
      s.on('request', (r: { operation?: string; body: string }) => r.operation === 'SetUser' && bodies.push(r.body));
      await assert.rejects(device.call('SetUser', { User: [{ Username: 'viewer', UserLevel: 'Operator' }], clearPassword: true }), (e: OnvifError) => {
        assert.equal(e.kind, 'fault');
        assert.ok(e.subcodes?.includes('ter:PasswordTooWeak'));
        assert.match(e.message, /clear the password/);
        assert.doesNotMatch(e.message, /complexity/, 'the hint does not blame the rules of a password nobody sent');
        assert.doesNotMatch(e.reason ?? '', /at least \d+ characters/, 'the device does not blame the complexity of a password nobody sent');
        return true;
      });
      assert.equal(bodies.length, 1);
      assert.doesNotMatch(bodies[0]!, /Password/);
      assert.match(bodies[0]!, /<[\w:]*UserLevel>Operator</);
    });

    it('in Factory Default State clearPassword: true really clears it', async () => {
      const s = await sim();
      const device = open(s);
      await device.call('CreateUsers', { User: [{ Username: 'op', Password: 'Op-pass-1', UserLevel: 'Operator' }] });
      await device.call('SetUser', { User: [{ Username: 'op', UserLevel: 'Operator' }], clearPassword: true });
      await device.call('CreateUsers', { User: [{ Username: 'admin', Password: NEW_PASS, UserLevel: 'Administrator' }] });
      assert.equal(s.profileQState, 'Operational');
      // This lenient device lets an empty password sign in: proof that it was cleared.
      assert.equal(await signsIn(s, 'op', 'Op-pass-1'), false);
      assert.equal(await signsIn(s, 'op', ''), true);
    });
  });

  describe("item 11: the device's limits and password rules", () => {
    it('a user name over MaxUserNameLength or a password over MaxPasswordLength is refused locally, naming the limit', async () => {
      const s = await sim(ADMIN);
      const device = open(s, ADMIN);
      await device.connect();
      const cases: Array<[string, Record<string, unknown>, RegExp]> = [
        ['CreateUsers', { User: [{ Username: 'u'.repeat(33), Password: 'Fine-pass1', UserLevel: 'User' }] }, /MaxUserNameLength.*32|32.*MaxUserNameLength/],
        ['CreateUsers', { User: [{ Username: 'longpass', Password: 'x'.repeat(65), UserLevel: 'User' }] }, /64.*MaxPasswordLength/],
        ['SetUser', { User: [{ Username: 'admin', Password: 'x'.repeat(65), UserLevel: 'Administrator' }] }, /64.*MaxPasswordLength/],
      ];
      for (const [op, params, limit] of cases) {
        await assert.rejects(device.call(op, params), (e: OnvifError) => {
          assert.equal(e.kind, 'invalid-input', e.message);
          assert.match(e.message, limit);
          assert.ok(!e.message.includes('x'.repeat(65)), 'the password is not shown');
          return true;
        });
      }
      assert.equal(userWrites(s), 0, 'zero user requests reached the device');
    });

    it("the Profile Q spelling MaxUsernameLength is read as the user name limit too", () => {
      const caps = parseXml(
        '<tds:Capabilities xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><tds:Network/><tds:Security MaxUsernameLength="16" MaxPasswordLength="32"/><tds:System/></tds:Capabilities>',
      );
      const security = readDeviceServiceCapabilities(caps).security;
      assert.equal(security.maxUserNameLength, 16);
      assert.equal(security.maxPasswordLength, 32);
    });

    it('each password complexity rule is refused locally and named; the rules are read once per session', async () => {
      const s = await sim(ADMIN);
      const device = open(s, ADMIN);
      await device.call('SetPasswordComplexityConfiguration', { MinLen: 8, Uppercase: 1, Number: 1, SpecialChars: 1, BlockUsernameOccurrence: true });
      const reads = s.stats.byOperation.GetPasswordComplexityConfiguration ?? 0;
      const cases: Array<[string, string]> = [
        ['MinLen', 'Ab1!xyz'],
        ['Uppercase', 'abcdef1!'],
        ['Number', 'Abcdefg!'],
        ['SpecialChars', 'Abcdefg1'],
        ['BlockUsernameOccurrence', 'X-Viewer-1'],
      ];
      for (const [rule, password] of cases) {
        for (const op of ['CreateUsers', 'SetUser']) {
          const username = op === 'CreateUsers' ? 'viewer' : 'admin';
          const pass = op === 'SetUser' && rule === 'BlockUsernameOccurrence' ? 'X-Admin-1' : password;
          await assert.rejects(device.call(op, { User: [{ Username: username, Password: pass, UserLevel: op === 'SetUser' ? 'Administrator' : 'User' }] }), (e: OnvifError) => {
            assert.equal(e.kind, 'invalid-input', `${op} ${rule}: ${e.message}`);
            assert.match(e.message, new RegExp(`rule ${rule}\\b`));
            assert.ok(!e.message.includes(pass), 'the password is not shown');
            return true;
          });
        }
      }
      assert.equal(userWrites(s), 0, 'zero user requests reached the device');
      assert.equal((s.stats.byOperation.GetPasswordComplexityConfiguration ?? 0) - reads, 1, 'read once for the session');
      await device.call('CreateUsers', { User: [{ Username: 'viewer', Password: 'Good-Pass1', UserLevel: 'User' }] });
      assert.deepEqual((await device.call('GetUsers')).User.map((u: { Username: string }) => u.Username), ['admin', 'viewer']);
    });
  });
});
