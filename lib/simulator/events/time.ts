/** xs:duration → ms (years as 365 days, months as 30 days: leases never need calendar precision). Undefined when invalid. */
export function parseDuration(value: string): number | undefined {
  const m = /^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value.trim());
  if (!m || /^-?PT?$/.test(value.trim())) return undefined;
  const [, neg, y, mo, w, d, h, mi, s] = m;
  const n = (x: string | undefined) => (x ? Number(x) : 0);
  const ms = ((((n(y) * 365 + n(mo) * 30 + n(w) * 7 + n(d)) * 24 + n(h)) * 60 + n(mi)) * 60 + n(s)) * 1000;
  return neg ? -ms : Math.round(ms);
}

/** Whole seconds as an xs:duration, e.g. 60 → 'PT60S'. */
export function formatDuration(ms: number): string {
  return `PT${Math.round(ms / 1000)}S`;
}

/**
 * wsnt:AbsoluteOrRelativeTimeType: an xs:dateTime or an xs:duration from `now`. Returns the absolute
 * device time in ms, or undefined when the value is neither.
 */
export function parseAbsoluteOrRelative(value: string, now: number): number | undefined {
  const v = value.trim();
  if (v.startsWith('P') || v.startsWith('-P')) {
    const d = parseDuration(v);
    return d === undefined ? undefined : now + d;
  }
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v)) return undefined;
  // A dateTime without a zone is read as UTC, as ONVIF times are.
  const t = Date.parse(/(Z|[+-]\d\d:\d\d)$/.test(v) ? v : `${v}Z`);
  return Number.isNaN(t) ? undefined : t;
}

/** UTC with 'Z' and whole seconds, as Core §9.1.1 asks for CurrentTime/TerminationTime. */
export function utc(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** UTC with milliseconds, for message UtcTime (several messages can share one second). */
export function utcPrecise(ms: number): string {
  // Events raised together share their millisecond: format it once.
  if (ms !== lastPrecise.ms) {
    lastPrecise.ms = ms;
    lastPrecise.text = new Date(ms).toISOString();
  }
  return lastPrecise.text;
}

const lastPrecise = { ms: NaN, text: '' };
