/**
 * What one message asks of onvifq-firmware: the image, the devices, the expected version, dry run or not.
 * Everything is checked here, before any device is contacted, so bad input never half-starts a fleet.
 */
import fs from 'node:fs';
import { inputError, type NodeError } from '../shared/errors';
import { englishTexts, type Texts } from '../shared/i18n';

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
const PAYLOAD_KEYS = ['file', 'url', 'expectVersion', 'dryRun'];

function flag(v: unknown, fallback: boolean): boolean {
  if (v === undefined || v === '') return fallback;
  return v === true || v === 'true';
}

/** The settings, or what is wrong with them in words the user can act on. */
export function settingsFrom(def: FirmwareDef, t: Texts = englishTexts): FirmwareSettings | NodeError {
  const source = def.source || 'msg';
  if (source !== 'msg' && source !== 'file' && source !== 'url') {
    return inputError(t('onvifq-firmware.error.badSource', { source }));
  }
  const concurrency = def.concurrency === undefined || def.concurrency === '' ? 1 : Number(def.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    return inputError(t('onvifq-firmware.error.badConcurrency', { value: String(def.concurrency), max: MAX_CONCURRENCY }));
  }
  const url = String(def.url ?? '').trim();
  if (source === 'url' && !isHttpUrl(url)) {
    return inputError(t('onvifq-firmware.error.badUrlSetting', { url: url.slice(0, 100) }));
  }
  const file = String(def.file ?? '').trim();
  if (source === 'file' && !file) return inputError(t('onvifq-firmware.error.noFileSetting'));
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
export async function parseRequest(
  msg: { payload?: unknown; address?: unknown },
  settings: FirmwareSettings,
  t: Texts = englishTexts,
): Promise<FirmwareRequest | NodeError> {
  const addresses = parseAddresses(msg.address, t);
  if (addresses instanceof Error) return addresses;

  let image: ImageInput | undefined;
  let expectVersion = settings.expectVersion;
  let dryRun = settings.dryRun;
  let from = t('onvifq-firmware.error.fromSettings');
  const payload = msg.payload;

  if (Buffer.isBuffer(payload)) {
    if (payload.length === 0) return inputError(t('onvifq-firmware.error.emptyBuffer'));
    image = { buffer: payload, label: `msg.payload (${payload.length} bytes)` };
  } else if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) {
    const obj = payload as Record<string, unknown>;
    const unknown = Object.keys(obj).filter((k) => !PAYLOAD_KEYS.includes(k));
    if (unknown.length) {
      return inputError(t('onvifq-firmware.error.unknownKeys', { keys: unknown.map((k) => `'${k.slice(0, 30)}'`).join(', ') }));
    }
    if (obj.file !== undefined && obj.url !== undefined) return inputError(t('onvifq-firmware.error.fileAndUrl'));
    if (obj.file !== undefined) {
      if (typeof obj.file !== 'string' || !obj.file.trim()) return inputError(t('onvifq-firmware.error.badFile'));
      image = { file: obj.file.trim(), label: obj.file.trim() };
      from = 'msg.payload.file';
    } else if (obj.url !== undefined) {
      if (typeof obj.url !== 'string' || !isHttpUrl(obj.url.trim())) {
        return inputError(t('onvifq-firmware.error.badUrl'));
      }
      image = { url: obj.url.trim(), label: safeUrl(obj.url.trim()) };
    }
    if (obj.expectVersion !== undefined) {
      if (typeof obj.expectVersion !== 'string' || !obj.expectVersion.trim()) return inputError(t('onvifq-firmware.error.badExpectVersion'));
      expectVersion = obj.expectVersion.trim();
    }
    if (obj.dryRun !== undefined) {
      if (typeof obj.dryRun !== 'boolean') return inputError(t('onvifq-firmware.error.badDryRun'));
      dryRun = obj.dryRun;
    }
  } else if (!isTrigger(payload)) {
    const what = typeof payload === 'string' ? t('onvifq-firmware.error.kind.text') : Array.isArray(payload) ? t('onvifq-firmware.error.kind.list') : t('onvifq-firmware.error.kind.other', { type: typeof payload });
    return inputError(t('onvifq-firmware.error.badPayload', { what }));
  }

  if (!image) {
    if (settings.source === 'file') image = { file: settings.file, label: settings.file };
    else if (settings.source === 'url') image = { url: settings.url, label: safeUrl(settings.url) };
  }
  if (!image) {
    return inputError(t('onvifq-firmware.error.noImage'));
  }
  if (image && 'file' in image) {
    const problem = await fileProblem(image.file, t);
    if (problem) return inputError(t('onvifq-firmware.error.fileProblem', { file: image.file, from, problem }));
  }
  return { image, expectVersion, dryRun, addresses };
}

/** Why a file cannot be the image, or undefined when it can. */
async function fileProblem(file: string, t: Texts): Promise<string | undefined> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? t('onvifq-firmware.error.file.missing') : t('onvifq-firmware.error.file.unreadable', { reason: code ?? (err as Error).message });
  }
  if (!stat.isFile()) return t('onvifq-firmware.error.file.notAFile');
  if (stat.size === 0) return t('onvifq-firmware.error.file.empty');
  try {
    await fs.promises.access(file, fs.constants.R_OK);
  } catch {
    return t('onvifq-firmware.error.file.permissions');
  }
  return undefined;
}

/** msg.address: nothing (the config node's device), one address, or a list of distinct addresses. */
export function parseAddresses(address: unknown, t: Texts = englishTexts): string[] | undefined | NodeError {
  if (address === undefined || address === null || address === '') return undefined;
  if (typeof address === 'string') {
    if (!address.trim()) return inputError(t('onvifq-firmware.error.blankAddress'));
    return [address.trim()];
  }
  if (!Array.isArray(address)) return inputError(t('onvifq-firmware.error.addressType'));
  if (address.length === 0) return inputError(t('onvifq-firmware.error.noAddresses'));
  const out: string[] = [];
  for (let i = 0; i < address.length; i++) {
    const a = address[i];
    if (typeof a !== 'string' || !a.trim()) {
      return inputError(t('onvifq-firmware.error.notAnAddress', { index: i }));
    }
    const key = a.trim();
    if (out.includes(key)) return inputError(t('onvifq-firmware.error.addressTwice', { address: key.slice(0, 100) }));
    out.push(key);
  }
  return out;
}
