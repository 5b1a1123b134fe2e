import { isIPv4, isIPv6 } from 'node:net';
import type { XmlElement } from '../xml/parse';
import { child, children, text } from '../xml/query';
import { invalidArgVal } from './faults';
import type { NetworkHostSetting } from './state';

/** Readers for request values: each rejects a bad value with env:Sender/ter:InvalidArgVal, as a device would. */

export function readBool(parent: XmlElement | undefined, local: string): boolean | undefined {
  const v = text(parent, local);
  if (v === undefined) return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalidArgVal('InvalidArgVal', `${local} must be true or false, got '${v}'`);
}

export function requireBool(parent: XmlElement | undefined, local: string): boolean {
  const v = readBool(parent, local);
  if (v === undefined) throw invalidArgVal('InvalidArgs', `${local} is missing`);
  return v;
}

export function readInt(parent: XmlElement | undefined, local: string, min: number, max: number, specific = 'InvalidArgVal'): number | undefined {
  const v = text(parent, local);
  if (v === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw invalidArgVal(specific, `${local} must be an integer, got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) throw invalidArgVal(specific, `${local} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function requireText(parent: XmlElement | undefined, local: string): string {
  const v = text(parent, local);
  if (v === undefined) throw invalidArgVal('InvalidArgs', `${local} is missing`);
  return v;
}

export function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw invalidArgVal('InvalidArgVal', `${what} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

export function checkIPv4(v: string): string {
  if (!isIPv4(v)) throw invalidArgVal('InvalidIPv4Address', `'${v}' is not a valid IPv4 address`);
  return v;
}

export function checkIPv6(v: string): string {
  if (!isIPv6(v)) throw invalidArgVal('InvalidIPv6Address', `'${v}' is not a valid IPv6 address`);
  return v;
}

/** RFC 1123 §2.1 host name: dot-separated labels of letters, digits and inner hyphens. */
export function isHostname(v: string): boolean {
  if (v.length < 1 || v.length > 253) return false;
  return v.split('.').every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

/** tt:IPAddress (Type + IPv4Address | IPv6Address). */
export function readIPAddress(e: XmlElement): NetworkHostSetting {
  const type = requireText(e, 'Type');
  if (type === 'IPv4') return { type, address: checkIPv4(requireText(e, 'IPv4Address')) };
  if (type === 'IPv6') return { type, address: checkIPv6(requireText(e, 'IPv6Address')) };
  throw invalidArgVal('InvalidArgVal', `IPAddress Type must be IPv4 or IPv6, got '${type}'`);
}

/** tt:NetworkHost (Type + IPv4Address | IPv6Address | DNSname). */
export function readNetworkHost(e: XmlElement): NetworkHostSetting {
  const type = requireText(e, 'Type');
  if (type === 'IPv4') return { type, address: checkIPv4(requireText(e, 'IPv4Address')) };
  if (type === 'IPv6') return { type, address: checkIPv6(requireText(e, 'IPv6Address')) };
  if (type === 'DNS') {
    const name = requireText(e, 'DNSname');
    if (!isHostname(name)) throw invalidArgVal('InvalidDnsName', `'${name}' is not a valid DNS name`);
    return { type, address: name };
  }
  throw invalidArgVal('InvalidArgVal', `NetworkHost Type must be IPv4, IPv6 or DNS, got '${type}'`);
}

export function texts(parent: XmlElement | undefined, local: string): string[] {
  return children(parent, local).map((c) => c.text.trim());
}

/**
 * POSIX TZ (IEEE 1003.1 §8.3): std offset [dst [offset] [,start[/time],end[/time]]].
 * Returns the standard-time offset east of UTC in minutes (POSIX writes west as positive), or undefined when invalid.
 */
export function parsePosixTz(tz: string): { stdOffsetMinutes: number; hasDst: boolean } | undefined {
  const name = '(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>)';
  const off = '([+-]?)(\\d{1,2})(?::(\\d{1,2})(?::(\\d{1,2}))?)?';
  const date = '(?:J\\d{1,3}|\\d{1,3}|M\\d{1,2}\\.[1-5]\\.[0-6])(?:/[+-]?\\d{1,3}(?::\\d{1,2}(?::\\d{1,2})?)?)?';
  const re = new RegExp(`^${name}${off}(${name}(?:[+-]?\\d{1,2}(?::\\d{1,2}(?::\\d{1,2})?)?)?(?:,${date},${date})?)?$`);
  const m = re.exec(tz);
  if (!m) return undefined;
  const hours = Number(m[2]);
  const minutes = Number(m[3] ?? 0);
  if (hours > 24 || minutes > 59) return undefined;
  const west = (hours * 60 + minutes) * (m[1] === '-' ? -1 : 1);
  return { stdOffsetMinutes: -west, hasDst: !!m[5] };
}

export { child };
