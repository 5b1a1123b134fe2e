/**
 * The parameters of one call: the operation's defaults, then the node's own (form / JSON editor), then the
 * node's password credential, then msg.payload on top. Nothing here talks to a device.
 */
import { posixTimeZone } from '../../lib/util/time-zone';
import { inputError } from '../shared/errors';
import { DEFAULT_PARAMS, PASSWORD_TARGETS } from './operations';

type Params = Record<string, unknown>;

function isPlainObject(v: unknown): v is Params {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** The value at `a.0.b` (numeric segments index arrays). */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Set the value at `a.0.b`, creating objects (or arrays, for numeric segments) on the way. */
export function setPath(obj: Params, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur: Record<string, unknown> = obj;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i]!;
    const nextIsIndex = /^\d+$/.test(keys[i + 1]!);
    if (cur[key] === null || typeof cur[key] !== 'object') cur[key] = nextIsIndex ? [] : {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

/**
 * The node's stored parameters (a JSON text from the editor, or an object in hand-written flows).
 * An Error when they are not a JSON object: the node then refuses every message with that reason.
 */
export function parseNodeParams(raw: unknown): Params | Error {
  if (raw === undefined || raw === null || raw === '') return {};
  if (isPlainObject(raw)) return withoutPasswords(raw);
  if (typeof raw !== 'string') return inputError('The parameters stored in the node are not a JSON object. Open the node and fix them.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    return inputError(`The parameters stored in the node are not valid JSON (${(e as Error).message}). Open the node and fix them.`);
  }
  if (!isPlainObject(parsed)) return inputError('The parameters stored in the node must be a JSON object such as {"Name": "lobby-cam"}. Open the node and fix them.');
  return withoutPasswords(parsed);
}

function withoutPasswords(params: Params): Params | Error {
  const where = passwordPath(params);
  if (where !== undefined) {
    // The flow file is readable by anyone who can read the Node-RED folder: a password there is refused, not used.
    return inputError(
      `The parameters stored in the flow hold a password (${where}), readable by anyone who can read the flow file. ` +
        "Open the node and press Done: the password moves to the node's Password field (credentials). Then deploy again.",
    );
  }
  return params;
}

/** The path of the first non-empty value under a key named like a password, if any. */
export function passwordPath(value: unknown, prefix = ''): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, v] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (/password/i.test(key)) {
      if (v !== '' && v !== undefined && v !== null) return path;
    } else {
      const inner = passwordPath(v, path);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

/**
 * Parameters for `operation`. The node's settings apply only when the node itself names the operation
 * (`fromNode`): with the operation from msg they were made for another one. The password credential goes
 * where PASSWORD_TARGETS says, into the node's parameters only (so it never lands on a user msg.payload named).
 * msg.payload: an object overrides key by key; a Buffer is the backup for restore; a number (an inject
 * timestamp), '' or nothing means "no parameters".
 */
export function buildParams(operation: string, nodeParams: Params, fromNode: boolean, password: string | undefined, payload: unknown): Params | Error {
  const base: Params = structuredClone(DEFAULT_PARAMS[operation] ?? {});
  const own: Params = fromNode ? structuredClone(nodeParams) : {};
  const target = PASSWORD_TARGETS[operation];
  if (fromNode && target && password) {
    const parent = target.includes('.') ? getPath(own, target.slice(0, target.lastIndexOf('.'))) : own;
    // Only next to what the node set (a user name): a password on its own would create a nameless user.
    if (isPlainObject(parent) && getPath(own, target) === undefined) setPath(own, target, password);
  }
  const params: Params = { ...base, ...own };

  if (payload === undefined || payload === null || payload === '' || typeof payload === 'number') return withPosixTimeZone(operation, params);
  if (Buffer.isBuffer(payload)) {
    if (operation === 'restore') {
      delete params.file;
      return { ...params, data: payload };
    }
    return inputError(`msg.payload is a Buffer; only restore takes one (the backup). ${operation} takes its parameters from msg.payload as an object (or no payload). Nothing was sent.`);
  }
  if (!isPlainObject(payload)) {
    const what = Array.isArray(payload) ? 'an array' : `a ${typeof payload}`;
    return inputError(`msg.payload is ${what}; ${operation} takes its parameters from msg.payload as an object (or no payload). Nothing was sent.`);
  }
  // A restore file from msg replaces the node's backup source, and the other way round.
  if (operation === 'restore' && ('file' in payload || 'data' in payload)) {
    delete params.file;
    delete params.data;
  }
  return withPosixTimeZone(operation, { ...params, ...payload });
}

/** SetSystemDateAndTime takes an IANA time zone too (TimeZone.TZ: Europe/Berlin); the device gets its POSIX form. */
function withPosixTimeZone(operation: string, params: Params): Params | Error {
  const zone = params.TimeZone as { TZ?: unknown } | undefined;
  if (operation !== 'SetSystemDateAndTime' || !isPlainObject(zone) || typeof zone.TZ !== 'string' || !zone.TZ.trim()) return params;
  try {
    return { ...params, TimeZone: { ...zone, TZ: posixTimeZone(zone.TZ) } };
  } catch (err) {
    return inputError(`TimeZone.TZ: ${(err as Error).message} Nothing was sent.`);
  }
}
