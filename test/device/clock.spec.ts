import { strict as assert } from 'node:assert';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { TestServer, envelope, sendSoap } from '../transport/soap-server';

/** GetSystemDateAndTime as a device with 1 s resolution answers it: its clock (local + skew) cut to whole seconds. */
function clockAnswer(deviceNow: number): string {
  const d = new Date(deviceNow);
  return envelope(
    '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime xmlns:tt="http://www.onvif.org/ver10/schema">' +
      '<tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings><tt:UTCDateTime>' +
      `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
      `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>` +
      '</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>',
  );
}

describe('OnvifDevice.measureClock against a device clock with whole-second resolution', () => {
  let srv: TestServer | undefined;
  let device: OnvifDevice | undefined;
  afterEach(async () => {
    await device?.close();
    await srv?.stop();
  });

  it('centres the offset: over skews spread across a second, the mean error is near zero, not -0.5 s', async () => {
    let skewMs = 0;
    srv = await TestServer.start((_req, res) => sendSoap(res, clockAnswer(Date.now() + skewMs)));
    device = new OnvifDevice({ address: srv.url });
    const errors: number[] = [];
    // Ten skews 100 ms apart put the device clock at every tenth of its second, so truncation errors average out.
    for (let k = 0; k < 10; k++) {
      skewMs = 3_600_000 + k * 100;
      const { offsetMs } = await device.measureClock();
      errors.push(offsetMs - skewMs);
    }
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    console.log(`      offset error per measurement (ms): ${errors.join(', ')}; mean ${mean.toFixed(0)}`);
    assert.ok(Math.abs(mean) < 150, `mean error ${mean.toFixed(0)} ms`);
    for (const e of errors) assert.ok(Math.abs(e) < 700, `error ${e} ms is more than half a second plus the round trip`);
  });
});
