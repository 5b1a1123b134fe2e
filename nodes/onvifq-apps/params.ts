import { APP_ACTIONS, isAppAction, type AppAction, type AppActionParams } from '../../lib/apps';

/** The node's action setting: one of the library's actions, or 'msg' (msg.action, else msg.topic). */
export const ACTION_FROM_MSG = 'msg';

/** What the editor stores besides the action (never a secret). */
export interface AppsNodeSettings {
  appId?: string;
  /** Where install/update take the package from: 'msg' (msg.payload), 'file' or 'url' (the `source` field). */
  packageSource?: string;
  /** A path on the Node-RED host or an http(s) URL, by packageSource. */
  source?: string;
  /** backupConfig: write the configuration here instead of into msg.payload; restoreConfig: read it from here. */
  configFile?: string;
  warnDays?: number | string;
  /** Longest wait for a confirmed outcome, seconds (empty: the library's 10 minutes). */
  timeout?: number | string;
}

export { APP_ACTIONS, isAppAction };

/** The node settings as the library's parameters. */
export function settingsParams(action: AppAction, s: AppsNodeSettings): AppActionParams {
  const p: AppActionParams = {};
  const appId = String(s.appId ?? '').trim();
  if (appId) p.appId = appId;
  const source = String(s.source ?? '').trim();
  if ((action === 'install' || action === 'update') && source) {
    if (s.packageSource === 'file') p.package = { file: source };
    else if (s.packageSource === 'url') p.package = { url: source };
  }
  const configFile = String(s.configFile ?? '').trim();
  if (configFile && (action === 'backupConfig' || action === 'restoreConfig')) p.file = configFile;
  if (s.warnDays !== undefined && s.warnDays !== '' && Number.isFinite(Number(s.warnDays))) p.warnDays = Number(s.warnDays);
  if (s.timeout !== undefined && s.timeout !== '' && Number(s.timeout) > 0) p.timeoutMs = Math.round(Number(s.timeout) * 1000);
  return p;
}

/**
 * msg.payload over the node settings: a Buffer is the package (install, update), the license (installLicense) or
 * the configuration (restoreConfig); a string is the AppID, or the license text for installLicense; an object
 * overrides key by key, and for install/update its `file` / `url` name the package.
 */
export function messageParams(action: AppAction, base: AppActionParams, payload: unknown): AppActionParams {
  const p: AppActionParams = { ...base };
  if (Buffer.isBuffer(payload)) {
    if (action === 'install' || action === 'update') p.package = payload;
    else if (action === 'installLicense') p.license = payload;
    else if (action === 'restoreConfig') {
      p.data = payload;
      delete p.file;
    }
    return p;
  }
  if (typeof payload === 'string' && payload.trim()) {
    if (action === 'installLicense') p.license = payload;
    else p.appId = payload.trim();
    return p;
  }
  if (payload && typeof payload === 'object' && !Array.isArray(payload)) {
    const o = payload as Record<string, unknown>;
    if (action === 'install' || action === 'update') {
      if (o.package !== undefined) p.package = o.package as AppActionParams['package'];
      else if (typeof o.file === 'string') p.package = { file: o.file };
      else if (typeof o.url === 'string') p.package = { url: o.url };
    } else if (action === 'installLicense' && typeof o.file === 'string' && o.license === undefined) {
      p.license = { file: o.file };
    } else if (typeof o.file === 'string') {
      p.file = o.file;
    }
    if (action === 'restoreConfig' && Buffer.isBuffer(o.data)) {
      p.data = o.data;
      if (typeof o.file !== 'string') delete p.file;
    }
    if (typeof o.appId === 'string') p.appId = o.appId;
    if (o.license !== undefined) p.license = o.license as AppActionParams['license'];
    if (typeof o.contentType === 'string') p.contentType = o.contentType;
    if (typeof o.timeoutMs === 'number') p.timeoutMs = o.timeoutMs;
    if (typeof o.warnDays === 'number') p.warnDays = o.warnDays;
  }
  return p;
}
