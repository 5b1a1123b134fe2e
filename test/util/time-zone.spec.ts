/**
 * IANA time zones for the device (issue 16, item 13): the POSIX string built from Node's Intl must give the same
 * UTC offset as Intl itself at every moment of two years, checked by an evaluator of POSIX rules written here
 * independently of the converter; it must also read as the IANA database's own POSIX footers do.
 */
import { strict as assert } from 'node:assert';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { OnvifError } from '../../lib/errors';
import { commission, syncTime } from '../../lib/configure';
import { SimulatedDevice } from '../../lib/simulator';
import { ianaToPosix, posixTimeZone, utcOffsetMinutes } from '../../lib/util/time-zone';

/** Minutes east of UTC at `instant` by the POSIX TZ `tz` (only the forms the converter writes: Mm.w.d rules). */
function posixOffsetAt(tz: string, instant: number): number {
  const m = /^(<[^>]+>|[A-Za-z]+)([+-]?[\d:]+)(?:(<[^>]+>|[A-Za-z]+)([+-]?[\d:]+)?,(M[\d.]+)(?:\/([+-]?[\d:]+))?,(M[\d.]+)(?:\/([+-]?[\d:]+))?)?$/.exec(tz);
  assert.ok(m, `not a POSIX TZ the evaluator reads: ${tz}`);
  const hm = (t: string) => {
    const [h, min = '0'] = t.replace(/^[+-]/, '').split(':');
    return (t.startsWith('-') ? -1 : 1) * (Number(h) * 60 + Number(min));
  };
  const std = -hm(m[2]!);
  if (!m[3]) return std;
  const dst = m[4] ? -hm(m[4]) : std + 60;
  const year = new Date(instant).getUTCFullYear();
  /** The UTC instant of rule `Mm.w.d` at local `time` in `year`, the wall clock showing `offset`. */
  const when = (rule: string, time: string | undefined, offset: number, y: number) => {
    const [mo, w, d] = rule.slice(1).split('.').map(Number) as [number, number, number];
    const first = new Date(Date.UTC(y, mo - 1, 1)).getUTCDay();
    let day = 1 + ((d - first + 7) % 7) + (w - 1) * 7;
    const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    while (day > days) day -= 7;
    return Date.UTC(y, mo - 1, day) + (time === undefined ? 120 : hm(time)) * 60_000 - offset * 60_000;
  };
  const start = when(m[5]!, m[6], std, year);
  const end = when(m[7]!, m[8], dst, year);
  // Northern hemisphere: summer between start and end; southern: summer outside end..start.
  const inDst = start < end ? instant >= start && instant < end : !(instant >= end && instant < start);
  return inDst ? dst : std;
}

describe('time zones: IANA names become the POSIX form a device needs', () => {
  const expected: Record<string, string> = {
    'Europe/Berlin': 'CET-1CEST,M3.5.0,M10.5.0/3',
    'America/New_York': 'EST5EDT,M3.2.0,M11.1.0',
    'Australia/Sydney': 'AEST-10AEDT,M10.1.0,M4.1.0/3',
    'Asia/Kolkata': 'IST-5:30',
    UTC: 'UTC0',
  };

  for (const [zone, posix] of Object.entries(expected)) {
    it(`${zone} → ${posix}, and that rule agrees with Intl every 3 hours of 2026 and 2027 and a minute either side of each change`, () => {
      assert.equal(posixTimeZone(zone, 2026), posix);
      const instants: number[] = [];
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2028, 0, 1); t += 3 * 3_600_000) instants.push(t);
      // Around each real change, found by Intl alone (hourly scan, then minute by minute).
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2028, 0, 1); t += 3_600_000) {
        if (utcOffsetMinutes(zone, t) !== utcOffsetMinutes(zone, t + 3_600_000)) {
          for (let u = t; u <= t + 3_600_000; u += 60_000) instants.push(u);
        }
      }
      const wrong = instants.filter((t) => posixOffsetAt(posix, t) !== utcOffsetMinutes(zone, t));
      assert.deepEqual(wrong.slice(0, 3).map((t) => new Date(t).toISOString()), [], `${wrong.length} of ${instants.length} instants disagree`);
    });
  }

  it('the southern hemisphere starts summer in October and ends it in April; half-hour zones keep their minutes', () => {
    assert.match(ianaToPosix('Australia/Sydney', 2027), /,M10\.\d\.0,M4\.\d\.0/);
    assert.equal(ianaToPosix('Asia/Kolkata', 2030), 'IST-5:30');
  });

  it('POSIX strings pass unchanged; anything else is refused with what to write instead', () => {
    for (const posix of ['UTC0', 'CET-1CEST,M3.5.0,M10.5.0/3', 'EST5EDT', '<+0530>-5:30']) assert.equal(posixTimeZone(posix), posix);
    assert.throws(() => posixTimeZone('Europe/Berlinn'), (e: OnvifError) => e.kind === 'invalid-input' && /Europe\/Berlin.*CET-1CEST/.test(e.message));
    assert.throws(() => posixTimeZone('CET+'), (e: OnvifError) => e.kind === 'invalid-input');
    // Morocco's changes follow Ramadan: no yearly POSIX rule describes them, so it is refused rather than guessed.
    assert.throws(() => posixTimeZone('Africa/Casablanca', 2026), (e: OnvifError) => e.kind === 'invalid-input' && /differ from year to year/.test(e.message));
  });

  describe('against the simulated device', () => {
    let sim: SimulatedDevice;
    let device: OnvifDevice;
    before(async () => {
      sim = new SimulatedDevice({ username: 'admin', password: 'Tz-test-pw1' });
      await sim.start();
      device = new OnvifDevice({ address: sim.xaddr, username: 'admin', password: 'Tz-test-pw1' });
    });
    after(async () => {
      await device?.close();
      await sim?.stop();
    });

    it('syncTime with Europe/Berlin sets the device to its POSIX form; a POSIX zone is sent as given', async function () {
      this.timeout(15000);
      const r = await syncTime(device, { timeZone: 'Europe/Berlin' });
      assert.equal(r.timeZone, posixTimeZone('Europe/Berlin'));
      assert.equal((await device.call('GetSystemDateAndTime')).SystemDateAndTime?.TimeZone?.TZ, 'CET-1CEST,M3.5.0,M10.5.0/3');
      assert.equal(sim.state.time.timeZone, 'CET-1CEST,M3.5.0,M10.5.0/3');
      await syncTime(device, { timeZone: 'IST-5:30' });
      assert.equal(sim.state.time.timeZone, 'IST-5:30');
    });

    it('commission refuses an unknown zone before changing anything', async () => {
      const before = structuredClone(sim.state.time);
      await assert.rejects(commission(device, { password: 'N3w-pass-word', hostname: 'tz-cam', timeZone: 'Mars/Olympus' }), (e: OnvifError) => e.kind === 'invalid-input');
      assert.deepEqual(sim.state.time, before);
    });
  });
});
