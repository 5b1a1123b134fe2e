/**
 * Simple values: XML text ⇄ JSON value for one simple type. Decoding never throws (firmware sends
 * `True`, `00`, dates without a zone, junk); encoding checks the caller's value and says what is wrong.
 */
import { OnvifError } from '../errors';
import { describeType, type SimpleInfo } from './compiled';

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATETIME_RE = /^(-?\d{4,})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

function pad(n: number, width = 2): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}

/**
 * xs:dateTime text → `YYYY-MM-DDTHH:MM:SS[.fff]Z` in UTC. Text without a zone is taken as UTC
 * (what ONVIF devices mean); an offset is converted. Unparseable text comes back as written (trimmed).
 */
export function normaliseDateTime(text: string): string {
  return parseDateTime(text) ?? text.trim();
}

/** Like normaliseDateTime, but undefined for text that is not a valid date-time. */
export function parseDateTime(text: string): string | undefined {
  // Events of one burst carry the same few times: the last one read is answered at once.
  if (text === lastDateTime.text) return lastDateTime.result;
  const result = readDateTime(text);
  if (text.length > 64) return result;
  lastDateTime.text = text;
  lastDateTime.result = result;
  return result;
}

const lastDateTime: { text?: string; result?: string } = {};

function readDateTime(text: string): string | undefined {
  const raw = text.trim();
  const m = DATETIME_RE.exec(raw);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  // Reject out-of-range fields (month 13, day 32) rather than letting Date roll them over; 24:00:00 is allowed by XSD.
  if (Number.isNaN(ms) || (check.getUTCDate() !== Number(d) && !(h === '24' && mi === '00' && s === '00'))) return undefined;
  if (Number(mo) < 1 || Number(mo) > 12 || Number(h) > 24 || Number(mi) > 59 || Number(s) > 60) return undefined;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60000;
  }
  const t = new Date(ms);
  const year = t.getUTCFullYear();
  return (
    `${year < 0 ? '-' + pad(-year, 4) : pad(year, 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}` +
    `T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}${frac ?? ''}Z`
  );
}

/** Parse a date-time string into UTC parts (for tt:DateTime). Undefined when it is not a date-time. */
export function dateTimeParts(text: string): { Year: number; Month: number; Day: number; Hour: number; Minute: number; Second: number } | undefined {
  const norm = parseDateTime(text);
  const m = norm === undefined ? null : DATETIME_RE.exec(norm);
  if (!m) return undefined;
  return { Year: Number(m[1]), Month: Number(m[2]), Day: Number(m[3]), Hour: Number(m[4]), Minute: Number(m[5]), Second: Number(m[6]) };
}

function decodeBoolean(raw: string): boolean | string {
  const l = raw.toLowerCase();
  if (l === 'true' || l === '1') return true;
  if (l === 'false' || l === '0') return false;
  return raw;
}

/** Decode the text of an element or attribute with a known simple type. */
export function decodeSimple(text: string, t: SimpleInfo): unknown {
  const raw = text.trim();
  if (t.list) return raw ? raw.split(/\s+/).map((item) => decodeSimple(item, t.list!)) : [];
  if (t.union) {
    for (const m of t.union) {
      if (m.enum && !m.enum.includes(raw)) continue;
      if (m.prim === 'string' || m.list || m.union) continue;
      const v = decodeSimple(raw, m);
      if (typeof v !== 'string' || (m.prim === 'dateTime' && v !== raw)) return v;
      if (m.prim === 'dateTime' && DATETIME_RE.test(raw)) return v;
    }
    return raw;
  }
  switch (t.prim) {
    case 'boolean':
      return decodeBoolean(raw);
    case 'int':
      return INT_RE.test(raw) ? Number(raw) : raw;
    case 'float':
      return FLOAT_RE.test(raw) ? Number(raw) : raw;
    case 'dateTime':
      return normaliseDateTime(raw);
    default:
      return raw;
  }
}

function fail(path: string, message: string): never {
  throw new OnvifError('invalid-input', `${path}: ${message}`);
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Date) return `Date(${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()})`;
  if (Array.isArray(v)) return 'an array';
  if (v && typeof v === 'object') return 'an object';
  return String(v);
}

/** Turn a JSON value into the text for a simple type, or throw invalid-input naming `path`. */
export function encodeSimple(v: unknown, t: SimpleInfo, path: string): string {
  if (t.list) {
    const items = Array.isArray(v) ? v : typeof v === 'string' ? v.trim().split(/\s+/).filter(Boolean) : [v];
    return items.map((item, i) => encodeSimple(item, t.list!, `${path}[${i}]`)).join(' ');
  }
  if (t.union) {
    for (const m of t.union) {
      try {
        return encodeSimple(v, m, path);
      } catch {
        // try the next member type
      }
    }
    fail(path, `${show(v)} is not ${describeType(t)}`);
  }
  let text: string;
  switch (t.prim) {
    case 'boolean': {
      if (typeof v === 'boolean') text = String(v);
      else {
        const b = typeof v === 'string' || typeof v === 'number' ? decodeBoolean(String(v).trim()) : undefined;
        if (typeof b !== 'boolean') fail(path, `${show(v)} is not true or false`);
        text = String(b);
      }
      break;
    }
    case 'int': {
      const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : '') : typeof v === 'string' ? v.trim() : typeof v === 'bigint' ? v.toString() : '';
      if (!INT_RE.test(s)) fail(path, `${show(v)} is not ${describeType(t)}`);
      const n = Number(s);
      if (t.min !== undefined && n < t.min) fail(path, `${s} is below the minimum ${t.min}`);
      if (t.max !== undefined && n > t.max) fail(path, `${s} is above the maximum ${t.max}`);
      text = s.replace(/^\+/, '');
      break;
    }
    case 'float': {
      const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : v > 0 ? 'INF' : v < 0 ? '-INF' : 'NaN') : typeof v === 'string' ? v.trim() : '';
      if (!FLOAT_RE.test(s) && !/^(-?INF|NaN)$/.test(s)) fail(path, `${show(v)} is not a number`);
      const n = Number(s);
      if (t.min !== undefined && n < t.min) fail(path, `${s} is below the minimum ${t.min}`);
      if (t.max !== undefined && n > t.max) fail(path, `${s} is above the maximum ${t.max}`);
      text = s;
      break;
    }
    case 'dateTime': {
      if (v instanceof Date) {
        if (Number.isNaN(v.getTime())) fail(path, 'the Date is invalid');
        text = v.toISOString();
      } else if (typeof v === 'string' && DATETIME_RE.test(v.trim())) text = v.trim().replace(' ', 'T');
      else fail(path, `${show(v)} is not a date-time (ISO-8601 like 2024-01-31T12:00:00Z, or a Date)`);
      break;
    }
    case 'base64': {
      if (v instanceof Uint8Array) text = Buffer.from(v).toString('base64');
      else if (typeof v === 'string' && /^[A-Za-z0-9+/=\s]*$/.test(v)) text = v.replace(/\s+/g, '');
      else fail(path, `${show(v)} is not base64 text or a Buffer`);
      break;
    }
    case 'hex': {
      if (v instanceof Uint8Array) text = Buffer.from(v).toString('hex').toUpperCase();
      else if (typeof v === 'string' && /^([0-9a-fA-F]{2})*$/.test(v.trim())) text = v.trim();
      else fail(path, `${show(v)} is not hex text or a Buffer`);
      break;
    }
    default: {
      if (typeof v === 'string') text = v;
      else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') text = String(v);
      else fail(path, `${show(v)} is not ${describeType(t)}`);
    }
  }
  if (t.enum && !t.enum.includes(text)) fail(path, `${show(text)} is not one of ${t.enum.join(', ')}`);
  const len = t.prim === 'hex' ? text.length / 2 : [...text].length;
  if (t.minLength !== undefined && len < t.minLength) fail(path, `${show(text)} is shorter than ${t.minLength}`);
  if (t.maxLength !== undefined && len > t.maxLength) fail(path, `${show(text)} is longer than ${t.maxLength}`);
  return text;
}
