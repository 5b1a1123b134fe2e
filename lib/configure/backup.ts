import { promises as fsp } from 'node:fs';
import { OnvifError, isOnvifError } from '../errors';
import type { OnvifDevice } from '../device/onvif-device';
import { AppManager } from '../apps/manager';
import { NS } from '../xml/namespaces';
import type { ProfileQState } from '../device/types';
import type { TaskOptions } from './types';
import { formatBytes } from '../util/format';
import { durationMs, invalid, reachable } from './util';

export interface BackupParams {
  /** Write the backup to this file; without it the result carries the bytes in `buffer`. */
  file?: string;
  /**
   * Also back up the configuration of every installed app that offers one (App Management §6.2.6): next to
   * `file` as `<file>.app-<AppID>.config`, or in memory (`apps[].buffer`).
   */
  includeApps?: boolean;
}

/** One app's configuration backup within a system backup; `error` when that app's could not be read. */
export interface AppConfigBackup {
  appId: string;
  version?: string;
  bytes?: number;
  file?: string;
  buffer?: Buffer;
  error?: string;
}

export interface BackupResult {
  bytes: number;
  file?: string;
  buffer?: Buffer;
  contentType?: string;
  /** With includeApps: the apps' configurations (empty when the device has no App Management or no app has one). */
  apps?: AppConfigBackup[];
}

export interface RestoreParams {
  /** A backup file to upload, or */
  file?: string;
  /** the backup bytes (e.g. msg.payload from a backup). */
  data?: Buffer;
  /**
   * Credentials that work after the restore. A backup carries the accounts of the device it was taken
   * from, so restoring another device's backup usually changes them; default: keep the session's.
   */
  username?: string;
  password?: string;
}

export interface RestoreResult {
  bytes: number;
  /** How long the device said it would be away (ExpectedDownTime), ms. */
  downtimeMs: number;
  reconnected: true;
  profileQState: ProfileQState;
}

function notSupported(device: OnvifDevice, what: string, e?: unknown): OnvifError {
  return new OnvifError('unsupported', `${device.displayAddress} does not support ${what} over HTTP.`, { address: device.displayAddress, cause: e });
}

function isNotSupportedFault(e: unknown): boolean {
  return isOnvifError(e) && (e.kind === 'unsupported' || (e.kind === 'fault' && !!e.subcodes?.some((s) => /ActionNotSupported|NotSupported$/.test(s))));
}

/** GetSystemUris, then download the system backup (to a file, or into memory). */
export async function backup(device: OnvifDevice, params: BackupParams = {}, options: TaskOptions = {}): Promise<BackupResult> {
  if (params.file !== undefined && (typeof params.file !== 'string' || !params.file.trim())) throw invalid('backup: file must be a file path.');
  if (params.includeApps !== undefined && typeof params.includeApps !== 'boolean') throw invalid('backup: includeApps must be true or false.');
  const session = await device.connect();
  if (session.capabilities.system.httpSystemBackup === false) throw notSupported(device, 'system backup (its capabilities say HttpSystemBackup false)');
  options.onProgress?.({ task: 'backup', step: 'locate', text: 'backup: asking for the address', percent: 0 });
  let uris;
  try {
    uris = await device.call('GetSystemUris');
  } catch (e) {
    if (isNotSupportedFault(e)) throw notSupported(device, 'system backup (GetSystemUris)', e);
    throw e;
  }
  if (typeof uris?.SystemBackupUri !== 'string' || !uris.SystemBackupUri) throw notSupported(device, 'system backup (GetSystemUris names no SystemBackupUri)');
  const url = reachable(device, uris.SystemBackupUri);
  const file = params.file?.trim();
  const r = await device.download(url, {
    to: file ?? 'buffer',
    signal: options.signal,
    onProgress: (p) =>
      options.onProgress?.({ task: 'backup', step: 'download', text: `backup: ${p.percent !== undefined ? `${p.percent}% ` : ''}${formatBytes(p.bytes)}`, percent: p.percent }),
  });
  const apps = params.includeApps ? await backupAppConfigurations(device, file, options) : undefined;
  options.onProgress?.({ task: 'backup', step: 'done', text: `backup: ${formatBytes(r.bytes)}${apps ? ` + ${apps.filter((a) => !a.error).length} app configuration(s)` : ''}`, percent: 100 });
  return {
    bytes: r.bytes, ...(r.file ? { file: r.file } : {}), ...(r.buffer ? { buffer: r.buffer } : {}), ...(r.contentType ? { contentType: r.contentType } : {}), ...(apps ? { apps } : {}),
  };
}

/** Each installed app's configuration (those with a Configuration URI); one app's failure is recorded, not fatal. */
async function backupAppConfigurations(device: OnvifDevice, file: string | undefined, options: TaskOptions): Promise<AppConfigBackup[]> {
  if (!device.serviceAddress(NS.ans)) return [];
  const manager = new AppManager(device, { events: false });
  options.onProgress?.({ task: 'backup', step: 'apps', text: 'backup: app configurations' });
  const out: AppConfigBackup[] = [];
  for (const app of await manager.info()) {
    if (!app.configuration) continue;
    try {
      const r = await manager.backupConfig(app.appId, { file: file ? `${file}.app-${app.appId.replace(/[^\w.-]/g, '_')}.config` : undefined, signal: options.signal });
      out.push({ appId: app.appId, version: r.version, bytes: r.bytes, ...(r.file ? { file: r.file } : {}), ...(r.buffer ? { buffer: r.buffer } : {}) });
    } catch (e) {
      out.push({ appId: app.appId, version: app.version, error: (e as Error).message });
    }
  }
  return out;
}

/** StartSystemRestore, upload the backup, wait ExpectedDownTime, reconnect. */
export async function restore(device: OnvifDevice, params: RestoreParams, options: TaskOptions = {}): Promise<RestoreResult> {
  const hasFile = typeof params?.file === 'string' && params.file.trim() !== '';
  const hasData = (params?.data as unknown) instanceof Uint8Array;
  if (hasFile === hasData) throw invalid('restore needs exactly one of file (a backup file path) or data (the backup as a Buffer).');
  const source = hasFile ? params.file!.trim() : Buffer.from(params.data as Uint8Array);
  if (typeof source === 'string') {
    // Check the file before asking the device to wait for one.
    const stat = await fsp.stat(source).catch(() => undefined);
    if (!stat?.isFile()) throw invalid(`The backup file ${source} does not exist or is not a file. Check the path.`);
  } else if (source.length === 0) {
    throw invalid('restore: the backup data is empty.');
  }
  await device.connect();
  options.onProgress?.({ task: 'restore', step: 'start', text: 'restore: starting', percent: 0 });
  let started;
  try {
    started = await device.call('StartSystemRestore');
  } catch (e) {
    if (isNotSupportedFault(e)) throw notSupported(device, 'system restore (StartSystemRestore)', e);
    throw e;
  }
  if (typeof started?.UploadUri !== 'string' || !started.UploadUri) throw new OnvifError('bad-response', `${device.displayAddress} answered StartSystemRestore without an UploadUri.`);
  const downtimeMs = durationMs(started.ExpectedDownTime) ?? 60_000;
  const sent = await device.upload(reachable(device, started.UploadUri), source, {
    signal: options.signal,
    onProgress: (p) =>
      options.onProgress?.({ task: 'restore', step: 'upload', text: `restore: ${p.percent !== undefined ? `${p.percent}% ` : ''}${formatBytes(p.bytes)}`, percent: p.percent }),
  });
  options.onProgress?.({ task: 'restore', step: 'restart', text: `restore: restarting (~${Math.round(downtimeMs / 1000)} s)` });
  if (params.password !== undefined) {
    const username = params.username ?? device.user ?? 'admin';
    device.setCredentials(username, params.password, `After the restore the session signs in to ${device.displayAddress} as '${username}' (the accounts came with the backup). Update the stored credentials.`);
  }
  let session;
  try {
    session = await device.waitForRestart({ kind: 'restore', expectedDowntimeMs: downtimeMs, timeoutMs: Math.max(120_000, downtimeMs * 3 + 60_000), signal: options.signal });
  } catch (e) {
    if (isOnvifError(e) && e.kind === 'auth') {
      throw new OnvifError(
        'auth',
        `${device.displayAddress} restored the backup and is back, but does not accept the session's credentials any more: a backup carries the accounts of the device it came from. ` +
          'Sign in with an account of that device (restore accepts username and password for this).',
        { address: device.displayAddress, httpStatus: e.httpStatus, cause: e },
      );
    }
    throw e;
  }
  options.onProgress?.({ task: 'restore', step: 'done', text: 'restore: reconnected', percent: 100 });
  return { bytes: sent.bytes, downtimeMs, reconnected: true, profileQState: session.profileQState };
}
