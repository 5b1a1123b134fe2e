import { OnvifError } from '../errors';
import type { OnvifDevice } from '../device/onvif-device';
import { sleep } from '../util/sleep';
import type { TaskOptions } from './types';
import { invalid, networkHost } from './util';
import { posixTimeZone } from '../util/time-zone';

export interface SyncTimeParams {
  /** 'host' (default): set the clock from this computer; 'ntp': let the device follow NTP. */
  mode?: 'host' | 'ntp';
  /** IANA (Europe/Berlin) or POSIX (CET-1CEST,M3.5.0,M10.5.0/3) time zone; the device gets POSIX. Default: keep the device's. */
  timeZone?: string;
  /** mode 'ntp': servers to use (addresses or names); none = keep the device's (or DHCP's). */
  ntp?: string[];
}

export interface SyncTimeResult {
  mode: 'host' | 'ntp';
  /** Device clock minus this computer's clock, before and after, ms. */
  offsetBeforeMs: number;
  offsetAfterMs: number;
  timeZone?: string;
  ntp?: string[];
}

/** Set the device clock from this computer (UTC, time zone kept or given), or point it at NTP. */
export async function syncTime(device: OnvifDevice, params: SyncTimeParams = {}, options: TaskOptions = {}): Promise<SyncTimeResult> {
  const mode = params.mode ?? 'host';
  if (mode !== 'host' && mode !== 'ntp') throw invalid(`syncTime: mode must be 'host' or 'ntp' (got ${JSON.stringify(params.mode)}).`);
  if (params.ntp !== undefined && !(Array.isArray(params.ntp) && params.ntp.every((s) => typeof s === 'string' && s.trim()))) {
    throw invalid('syncTime: ntp must be a list of NTP server addresses or names.');
  }
  if (params.timeZone !== undefined && (typeof params.timeZone !== 'string' || !params.timeZone.trim())) {
    throw invalid('syncTime: timeZone must be an IANA time zone such as Europe/Berlin or a POSIX one such as UTC0.');
  }
  const givenZone = params.timeZone === undefined ? undefined : posixTimeZone(params.timeZone);
  const progress = (step: string, text: string, percent: number) => options.onProgress?.({ task: 'syncTime', step, text: `syncTime: ${text}`, percent });

  progress('measure', 'measuring the clock', 0);
  await device.connect();
  const before = (await device.measureClock()).offsetMs;
  const current = (await device.call('GetSystemDateAndTime')).SystemDateAndTime ?? {};
  const timeZone: string | undefined = givenZone ?? current.TimeZone?.TZ;
  const base: { DaylightSavings: boolean; TimeZone?: { TZ: string } } = { DaylightSavings: current.DaylightSavings ?? false };
  if (timeZone) base.TimeZone = { TZ: timeZone };

  if (mode === 'ntp') {
    if (params.ntp?.length) {
      progress('ntp', 'setting NTP servers', 30);
      await device.call('SetNTP', { FromDHCP: false, NTPManual: params.ntp.map((s) => networkHost(s.trim())) });
    }
    progress('set', 'switching to NTP', 60);
    await device.call('SetSystemDateAndTime', { DateTimeType: 'NTP', ...base });
  } else {
    // tt:DateTime has whole seconds: send right at a second boundary so the device is not up to 1 s off.
    await sleep(1000 - (Date.now() % 1000));
    progress('set', 'setting the clock', 50);
    await device.call('SetSystemDateAndTime', { DateTimeType: 'Manual', ...base, UTCDateTime: new Date(Math.round(Date.now() / 1000) * 1000).toISOString().replace(/\.\d+Z$/, 'Z') });
  }
  // The session re-measured after the Set call; read it again for the report.
  const after = (await device.measureClock()).offsetMs;
  if (device.session) device.session.clockOffsetMs = after;
  if (mode === 'host' && Math.abs(after) > 5000) {
    throw new OnvifError('bad-response', `The clock of ${device.displayAddress} was set but is still ${(after / 1000).toFixed(1)} s off; the device may follow NTP or ignore manual time.`);
  }
  progress('done', `offset ${(after / 1000).toFixed(1)} s`, 100);
  return { mode, offsetBeforeMs: before, offsetAfterMs: after, ...(timeZone ? { timeZone } : {}), ...(params.ntp?.length ? { ntp: params.ntp } : {}) };
}
