/**
 * Time zones for SetSystemDateAndTime. ONVIF devices take a POSIX TZ string (Core §8.3.10, IEEE 1003.1 §8.3:
 * `CET-1CEST,M3.5.0,M10.5.0/3`); people know IANA names (`Europe/Berlin`). An IANA name is turned into the POSIX
 * rule that describes it, built from what Node's Intl (ICU's copy of the IANA database) says about the zone:
 * the UTC offset at any instant, from which the DST transitions of a year are found and written as POSIX rules.
 */
import { OnvifError } from '../errors';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** POSIX TZ syntax, enough to tell a POSIX string from an IANA name and to reject typos. */
const POSIX_NAME = '(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>)';
const POSIX_OFFSET = '[+-]?\\d{1,2}(?::\\d{1,2}(?::\\d{1,2})?)?';
const POSIX_DATE = `(?:J\\d{1,3}|\\d{1,3}|M\\d{1,2}\\.[1-5]\\.[0-6])(?:/${POSIX_OFFSET.replace('\\d{1,2}', '\\d{1,3}')})?`;
const POSIX_TZ = new RegExp(`^${POSIX_NAME}${POSIX_OFFSET}(?:${POSIX_NAME}(?:${POSIX_OFFSET})?(?:,${POSIX_DATE},${POSIX_DATE})?)?$`);

/** True for a POSIX TZ string such as `UTC0`, `IST-5:30` or `EST5EDT,M3.2.0,M11.1.0`. */
export function isPosixTimeZone(tz: string): boolean {
  return POSIX_TZ.test(tz);
}

/** True when this Node's Intl knows `name` as an IANA zone (`Europe/Berlin`, `UTC`). */
export function isIanaTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * The POSIX TZ string a device needs: a POSIX string is passed on as it is, an IANA name is converted (for the
 * rules in force in `year`, default this year). Throws an invalid-input OnvifError for anything else.
 */
export function posixTimeZone(tz: string, year = new Date().getUTCFullYear()): string {
  const text = String(tz ?? '').trim();
  // "UTC" and "GMT" are IANA names but not POSIX (no offset); "EST5EDT" is both and means the same either way.
  if (isPosixTimeZone(text)) return text;
  if (!isIanaTimeZone(text)) {
    throw new OnvifError(
      'invalid-input',
      `'${text.slice(0, 60)}' is neither an IANA time zone (e.g. Europe/Berlin) nor a POSIX time zone (e.g. CET-1CEST,M3.5.0,M10.5.0/3 or UTC0).`,
    );
  }
  const posix = ianaToPosix(text, year);
  // A POSIX rule repeats every year. Zones whose change dates move (Morocco's Ramadan rule) cannot be written so:
  // say so rather than send a rule that is wrong next year.
  if (ianaToPosix(text, year + 1) !== posix) {
    throw new OnvifError(
      'invalid-input',
      `The time zone ${text} changes its clock on dates that differ from year to year, which a POSIX time zone cannot express. ` +
        'Give the device a POSIX time zone instead, e.g. <+01>-1 for UTC+1 all year.',
    );
  }
  return posix;
}

/** Minutes east of UTC that `zone` uses at `instant` (ms), from the wall-clock time Intl shows there. */
export function utcOffsetMinutes(zone: string, instant: number): number {
  const parts = wallClock(zone).formatToParts(new Date(instant));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour') % 24, n('minute'), n('second'));
  return Math.round((asUtc - Math.floor(instant / 1000) * 1000) / 60_000);
}

interface Transition {
  /** The first instant (ms, whole minute) of the new offset. */
  at: number;
  before: number;
  after: number;
}

/** Every change of offset in `year` (UTC), found by sampling each day and narrowing down to the minute. */
export function offsetTransitions(zone: string, year: number): Transition[] {
  const out: Transition[] = [];
  const end = Date.UTC(year + 1, 0, 1);
  let t = Date.UTC(year, 0, 1);
  let offset = utcOffsetMinutes(zone, t);
  while (t < end) {
    const next = Math.min(t + DAY_MS, end);
    const nextOffset = utcOffsetMinutes(zone, next);
    if (nextOffset !== offset) {
      // The change lies in (t, next]: halve the interval down to one minute.
      let lo = t;
      let hi = next;
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 2 / 60_000) * 60_000 || lo + 60_000;
        if (utcOffsetMinutes(zone, mid) === offset) lo = mid;
        else hi = mid;
      }
      out.push({ at: hi, before: offset, after: nextOffset });
      offset = nextOffset;
    }
    t = next;
  }
  return out;
}

/**
 * The POSIX TZ string for an IANA zone, for the rules in force in `year`. A zone without DST that year is
 * `NAME offset`; with DST it gets the two transitions as `Mm.w.d/time` rules (week 5 = the last such weekday),
 * times in the local time in force before each change, as POSIX defines them.
 */
export function ianaToPosix(zone: string, year = new Date().getUTCFullYear()): string {
  const transitions = offsetTransitions(zone, year);
  if (transitions.length !== 2) {
    // No DST (or a zone that changed its standard offset this year): the offset in force at the end of the year.
    const offset = utcOffsetMinutes(zone, Date.UTC(year, 11, 31, 12));
    return `${abbreviation(zone, Date.UTC(year, 11, 31, 12), offset)}${posixOffset(offset)}`;
  }
  // Standard time is the lower offset (true for every zone with summer time; Europe/Dublin's "negative DST"
  // comes out as GMT0IST, which is how devices and glibc write it too).
  const [a, b] = transitions as [Transition, Transition];
  const std = Math.min(a.before, a.after);
  const dst = Math.max(a.before, a.after);
  const toDst = a.after === dst ? a : b;
  const toStd = a.after === dst ? b : a;
  const stdName = abbreviation(zone, toStd.at + HOUR_MS, std);
  const dstName = abbreviation(zone, toDst.at + HOUR_MS, dst);
  const dstPart = dst - std === 60 ? dstName : `${dstName}${posixOffset(dst)}`;
  return `${stdName}${posixOffset(std)}${dstPart},${posixRule(toDst.at, std)},${posixRule(toStd.at, dst)}`;
}

/** `Mm.w.d[/time]` for a transition at `at` (UTC ms), with the wall clock then showing `offsetBefore` minutes. */
function posixRule(at: number, offsetBefore: number): string {
  const local = new Date(at + offsetBefore * 60_000);
  const day = local.getUTCDate();
  const month = local.getUTCMonth() + 1;
  const daysInMonth = new Date(Date.UTC(local.getUTCFullYear(), month, 0)).getUTCDate();
  const week = day + 7 > daysInMonth ? 5 : Math.ceil(day / 7);
  const minutes = local.getUTCHours() * 60 + local.getUTCMinutes();
  const time = minutes === 120 ? '' : `/${clock(minutes)}`;
  return `M${month}.${week}.${local.getUTCDay()}${time}`;
}

/** POSIX offsets count hours WEST of UTC: UTC+1 is -1, UTC-5 is 5, UTC+5:30 is -5:30. */
function posixOffset(eastMinutes: number): string {
  const west = -eastMinutes;
  return `${west < 0 ? '-' : ''}${clock(Math.abs(west))}`;
}

/** 2, 2:30, 10:45 (hours without leading zero, minutes only when not zero). */
function clock(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h}:${String(m).padStart(2, '0')}` : String(h);
}

/**
 * The zone's abbreviation at `instant` (CET, EDT, AEST, IST) where ICU has one in some English locale; otherwise
 * the numeric form POSIX allows in angle brackets (`<+04>`), as the IANA database itself writes such zones.
 */
function abbreviation(zone: string, instant: number, offset: number): string {
  if (offset === 0 && /^(Etc\/)?(UTC|UCT|Universal|Zulu)$/i.test(zone)) return 'UTC';
  for (const locale of ['en-US', 'en-GB', 'en-AU', 'en-IN', 'en-NZ', 'en-CA', 'en-ZA']) {
    const name = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' })
      .formatToParts(new Date(instant))
      .find((p) => p.type === 'timeZoneName')?.value;
    if (name && /^[A-Z]{3,5}$/.test(name) && !/^(GMT|UTC)$/.test(name)) return name;
    if (name && offset === 0 && /^(GMT|UTC)$/.test(name)) return name;
  }
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  return `<${sign}${hh}${abs % 60 ? String(abs % 60).padStart(2, '0') : ''}>`;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function wallClock(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formats.set(zone, f);
  }
  return f;
}
