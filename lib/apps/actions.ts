import type { FileSource } from '../transfer/source';
import type { AppManager, WaitOptions } from './manager';
import { AppError } from './types';

/** What the apps node (and the CLI) can ask for, by name. */
export const APP_ACTIONS = [
  'list', 'info', 'install', 'update', 'uninstall', 'activate', 'deactivate', 'installLicense', 'licenseReport', 'backupConfig', 'restoreConfig', 'deviceId',
] as const;
export type AppAction = (typeof APP_ACTIONS)[number];

export function isAppAction(name: unknown): name is AppAction {
  return typeof name === 'string' && (APP_ACTIONS as readonly string[]).includes(name);
}

/**
 * Parameters of runAppAction (msg.payload of the apps node), each action reading what it needs:
 * - info: appId? · activate, deactivate, uninstall: appId
 * - install: package · update: package, appId? (both: contentType?, timeoutMs?)
 * - installLicense: appId?, license (text, Buffer or { file })
 * - licenseReport: warnDays? (default 30)
 * - backupConfig: appId, file? (without it the result carries `buffer`)
 * - restoreConfig: appId, and file or data (a Buffer, e.g. a backupConfig result's buffer)
 */
export interface AppActionParams {
  appId?: string;
  /** The package: a Buffer, { file: '/path' } or { url: 'http://...' } (streamed). */
  package?: FileSource;
  contentType?: string;
  timeoutMs?: number;
  license?: string | Buffer | { file: string };
  warnDays?: number;
  file?: string;
  data?: Buffer;
}

function need(params: AppActionParams, key: 'appId', action: AppAction): string {
  const v = params[key];
  if (typeof v !== 'string' || !v.trim()) throw new AppError('invalid-input', `${action} needs appId: the AppID of the app (the list action shows them).`, 'operation');
  return v.trim();
}

function packageOf(params: AppActionParams, action: AppAction): FileSource {
  const p = params.package;
  if (Buffer.isBuffer(p) || (p && typeof p === 'object' && (typeof (p as { file?: unknown }).file === 'string' || typeof (p as { url?: unknown }).url === 'string'))) return p;
  throw new AppError('invalid-input', `${action} needs package: the app package as a Buffer, { file: "/path/app.pkg" } or { url: "http://server/app.pkg" }.`, 'package');
}

/** Run one app action by name with loose parameters; the result is plain JSON (plus Buffers where bytes come back). */
export async function runAppAction(manager: AppManager, action: AppAction, raw: AppActionParams = {}, options: WaitOptions = {}): Promise<unknown> {
  if (!isAppAction(action)) throw new AppError('invalid-input', `Unknown action ${JSON.stringify(action)}; the actions are ${APP_ACTIONS.join(', ')}.`, 'operation');
  const params = (raw && typeof raw === 'object' ? raw : {}) as AppActionParams;
  const wait = { ...options, ...(params.timeoutMs !== undefined ? { timeoutMs: params.timeoutMs } : {}) };
  switch (action) {
    case 'list':
      return { apps: await manager.list() };
    case 'info':
      return { apps: await manager.info(params.appId) };
    case 'install':
      return manager.install(packageOf(params, action), { ...wait, contentType: params.contentType });
    case 'update':
      return manager.update(packageOf(params, action), { ...wait, contentType: params.contentType, appId: params.appId });
    case 'uninstall':
      return manager.uninstall(need(params, 'appId', action), wait);
    case 'activate':
      return manager.activate(need(params, 'appId', action), wait);
    case 'deactivate':
      return manager.deactivate(need(params, 'appId', action), wait);
    case 'installLicense':
      if (params.license === undefined) throw new AppError('invalid-input', 'installLicense needs license: the license text, a Buffer or { file: "/path" }.', 'package');
      return manager.installLicense(params.appId, params.license);
    case 'licenseReport':
      return manager.licenseReport({ warnDays: params.warnDays });
    case 'backupConfig':
      return manager.backupConfig(need(params, 'appId', action), { file: params.file, signal: options.signal });
    case 'restoreConfig': {
      const appId = need(params, 'appId', action);
      const hasFile = typeof params.file === 'string' && params.file.trim() !== '';
      const hasData = Buffer.isBuffer(params.data);
      if (hasFile === hasData) throw new AppError('invalid-input', 'restoreConfig needs exactly one of file (a configuration file) or data (a Buffer from backupConfig).', 'package');
      return manager.restoreConfig(appId, hasFile ? { file: params.file!.trim() } : params.data!, { signal: options.signal });
    }
    case 'deviceId':
      return { deviceId: await manager.deviceId() };
  }
}
