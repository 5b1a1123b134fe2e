/**
 * What one message asks of onvifq-firmware: the image, the devices, the expected version, dry run or not.
 * Everything is checked here, before any device is contacted, so bad input never half-starts a fleet.
 */
import fs from 'node:fs';
import { inputError, type NodeError } from '../shared/errors';

/** The node's settings as the editor saves them (strings where the user typed). */
export interface FirmwareDef {
  source?: string;
  file?: string;
  url?: string;
  expectVersion?: string;
  backupFirst?: boolean | string;
  backupFolder?: string;
  concurrency?: number | string;
  skipCurrent?: boolean | string;
  stopOnFailure?: boolean | string;
  dryRun?: boolean | string;
  tryAnyway?: boolean | string;
}

export interface FirmwareSettings {
  source: 'msg' | 'file' | 'url';
  file: string;
  url: string;
  expectVersion?: string;
  backupFirst: boolean;
  backupFolder?: string;
  concurrency: number;
  skipCurrent: boolean;
  stopOnFailure: boolean;
  dryRun: boolean;
  tryAnyway: boolean;
}

/** The image to send: a Buffer, a file path, or a URL streamed to the device. */
export type ImageInput = { buffer: Buffer; label: string } | { file: string; label: string } | { url: string; label: string };

export interface FirmwareRequest {
  image: ImageInput;
  expectVersion?: string;
  dryRun: boolean;
  /** The devices named in msg.address; undefined: the config node's own device. */
  addresses?: string[];
}

export const MAX_CONCURRENCY = 32;
const NOTHING_SENT = 'Nothing was sent.';
const PAYLOAD_KEYS = ['file', 'url', 'expectVersion', 'dryRun'];

function flag(v: unknown, fallback: boolean): boolean {
  if (v === undefined || v === '') return fallback;
  return v === true || v === 'true';
}

/** The settings, or what is wrong with them in words the user can act on. */
export function settingsFrom(def: FirmwareDef): FirmwareSettings | NodeError {
  const source = def.source || 'msg';
  if (source !== 'msg' && source !== 'file' && source !== 'url') {
    return inputError(`The node's image source '${source}' is not one of msg, file, url. Open the node and choose one.`);
  }
  const concurrency = def.concurrency === undefined || def.concurrency === '' ? 1 : Number(def.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    return inputError(`The node's 'At a time' setting '${def.concurrency}' is not a whole number from 1 to ${MAX_CONCURRENCY}. Open the node and fix it.`);
  }
  const url = String(def.url ?? '').trim();
  if (source === 'url' && !isHttpUrl(url)) {
    return inputError(`The node's image URL '${url.slice(0, 100)}' is not an http(s) URL. Open the node and fix it.`);
  }
  const file = String(def.file ?? '').trim();
  if (source === 'file' && !file) return inputError("The node's image source is a file, but no file is set. Open the node and enter the path.");
  const expectVersion = String(def.expectVersion ?? '').trim() || undefined;
  const backupFolder = String(def.backupFolder ?? '').trim() || undefined;
  return {
    source,
    file,
    url,
    expectVersion,
    backupFirst: flag(def.backupFirst, false),
    backupFolder,
    concurrency,
    skipCurrent: flag(def.skipCurrent, true),
    stopOnFailure: flag(def.stopOnFailure, true),
    dryRun: flag(def.dryRun, false),
    tryAnyway: flag(def.tryAnyway, false),
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname;
  } catch {
    return false;
  }
}

/** A URL for messages and status: never its user:password part. */
export function safeUrl(text: string): string {
  try {
    const u = new URL(text);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return text.slice(0, 100);
  }
}

/** Something that means "use the node's setting": the inject node's timestamp, nothing, or an empty text. */
function isTrigger(payload: unknown): boolean {
  return payload === undefined || payload === null || payload === '' || typeof payload === 'number' || typeof payload === 'boolean';
}

/** The message's request, or an invalid-input error saying what to send instead. Reads the file's metadata only. */
export async function parseRequest(msg: { payload?: unknown; address?: unknown }, settings: FirmwareSettings): Promise<FirmwareRequest | NodeError> {
  const addresses = parseAddresses(msg.address);
  if (addresses instanceof Error) return addresses;

  let image: ImageInput | undefined;
  let expectVersion = settings.expectVersion;
  let dryRun = settings.dryRun;
  let from = "the node's settings";
  const payload = msg.payload;

  if (Buffer.isBuffer(payload)) {
    if (payload.length === 0) return inputError(`msg.payload is an empty Buffer: that is no firmware image. Check the node that read it. ${NOTHING_SENT}`);
    image = { buffer: payload, label: `msg.payload (${payload.length} bytes)` };
  } else if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) {
    const obj = payload as Record<string, unknown>;
    const unknown = Object.keys(obj).filter((k) => !PAYLOAD_KEYS.includes(k));
    if (unknown.length) {
      return inputError(
        `msg.payload has ${unknown.map((k) => `'${k.slice(0, 30)}'`).join(', ')}, which onvifq-firmware does not know. Send a Buffer (the image), ` +
          `{"file": "/path/image.bin"} or {"url": "http://…/image.bin"}, optionally with "expectVersion" and "dryRun". ${NOTHING_SENT}`,
      );
    }
    if (obj.file !== undefined && obj.url !== undefined) return inputError(`msg.payload has both 'file' and 'url': send one image. ${NOTHING_SENT}`);
    if (obj.file !== undefined) {
      if (typeof obj.file !== 'string' || !obj.file.trim()) return inputError(`msg.payload.file must be the path of the image file on the Node-RED machine. ${NOTHING_SENT}`);
      image = { file: obj.file.trim(), label: obj.file.trim() };
      from = 'msg.payload.file';
    } else if (obj.url !== undefined) {
      if (typeof obj.url !== 'string' || !isHttpUrl(obj.url.trim())) {
        return inputError(`msg.payload.url must be an http(s) URL, e.g. "http://firmware.example.lan/camera-2.1.0.bin". ${NOTHING_SENT}`);
      }
      image = { url: obj.url.trim(), label: safeUrl(obj.url.trim()) };
    }
    if (obj.expectVersion !== undefined) {
      if (typeof obj.expectVersion !== 'string' || !obj.expectVersion.trim()) return inputError(`msg.payload.expectVersion must be a version text, e.g. "2.1.0". ${NOTHING_SENT}`);
      expectVersion = obj.expectVersion.trim();
    }
    if (obj.dryRun !== undefined) {
      if (typeof obj.dryRun !== 'boolean') return inputError(`msg.payload.dryRun must be true or false. ${NOTHING_SENT}`);
      dryRun = obj.dryRun;
    }
  } else if (!isTrigger(payload)) {
    const what = typeof payload === 'string' ? 'a text' : Array.isArray(payload) ? 'a list' : `a ${typeof payload}`;
    return inputError(
      `msg.payload is ${what}; onvifq-firmware takes a Buffer (the image), {"file": "/path/image.bin"} or {"url": "http://…/image.bin"}, ` +
        `or a timestamp / nothing to use the node's image setting. ${NOTHING_SENT}`,
    );
  }

  if (!image) {
    if (settings.source === 'file') image = { file: settings.file, label: settings.file };
    else if (settings.source === 'url') image = { url: settings.url, label: safeUrl(settings.url) };
  }
  if (!image) {
    return inputError(
      `No firmware image: send a Buffer in msg.payload, {"file": "/path/image.bin"} or {"url": "http://…/image.bin"}, or set the node's Image to a file or URL. ${NOTHING_SENT}`,
    );
  }
  if (image && 'file' in image) {
    const problem = await fileProblem(image.file);
    if (problem) return inputError(`The firmware file '${image.file}' (${from}) ${problem}. Check the path on the Node-RED machine. ${NOTHING_SENT}`);
  }
  return { image, expectVersion, dryRun, addresses };
}

/** Why a file cannot be the image, or undefined when it can. */
async function fileProblem(file: string): Promise<string | undefined> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`;
  }
  if (!stat.isFile()) return 'is not a file';
  if (stat.size === 0) return 'is empty';
  try {
    await fs.promises.access(file, fs.constants.R_OK);
  } catch {
    return 'cannot be read by Node-RED (permissions)';
  }
  return undefined;
}

/** msg.address: nothing (the config node's device), one address, or a list of distinct addresses. */
export function parseAddresses(address: unknown): string[] | undefined | NodeError {
  if (address === undefined || address === null || address === '') return undefined;
  const example = '(host, host:port or the device service URL, e.g. "192.0.2.20" or ["192.0.2.20", "192.0.2.21"])';
  if (typeof address === 'string') {
    if (!address.trim()) return inputError(`msg.address is blank: give one address or a list ${example}. ${NOTHING_SENT}`);
    return [address.trim()];
  }
  if (!Array.isArray(address)) return inputError(`msg.address must be a text or a list of texts ${example}. ${NOTHING_SENT}`);
  if (address.length === 0) return inputError(`msg.address is an empty list: there is no device to upgrade. ${NOTHING_SENT}`);
  const out: string[] = [];
  for (let i = 0; i < address.length; i++) {
    const a = address[i];
    if (typeof a !== 'string' || !a.trim()) {
      return inputError(
        `msg.address[${i}] is not an address ${example}. From onvifq-discover, use msg.payload.map(d => d.xaddrs[0]). ${NOTHING_SENT}`,
      );
    }
    const key = a.trim();
    if (out.includes(key)) return inputError(`msg.address lists '${key.slice(0, 100)}' twice: a device is upgraded once per message. ${NOTHING_SENT}`);
    out.push(key);
  }
  return out;
}
