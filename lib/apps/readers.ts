import type { OnvifDevice } from '../device/onvif-device';
import { reachable } from '../configure/util';
import { asArray } from '../util/as-array';
import type { AppCapabilities, AppInfo, AppLicense, AppState, InstalledApp } from './types';

type Json = Record<string, unknown>;

const STATES: readonly AppState[] = ['Active', 'Inactive', 'Installing', 'Uninstalling', 'Removed', 'InstallationFailed'];

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && typeof v === 'object' && 'value' in v) return str((v as Json).value);
  return undefined;
}

function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap((x) => (typeof x === 'string' ? x.split(/\s+/) : [])).filter(Boolean);
  if (typeof v === 'string') return v.split(/\s+/).filter(Boolean);
  return [];
}

function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return /^(true|1)$/i.test(v.trim()) ? true : /^(false|0)$/i.test(v.trim()) ? false : undefined;
  return undefined;
}

/** A state as the device wrote it; the text's 'DeInstalling' is read as Uninstalling. */
export function readState(v: unknown): AppState | undefined {
  const s = str(v);
  if (!s) return undefined;
  if (/^de-?installing$/i.test(s)) return 'Uninstalling';
  return STATES.find((x) => x.toLowerCase() === s.toLowerCase());
}

/**
 * ans:Capabilities: the attributes the schema names (UploadPath, FormatsSupported), or those the 22.12 text
 * names (UploadUri, SupportedFormat); some firmware writes them as child elements, which are read too.
 */
export function readCapabilities(device: OnvifDevice, result: unknown): AppCapabilities {
  const c = ((result as Json | undefined)?.Capabilities ?? {}) as Json;
  const reported = str(c.UploadPath) ?? str(c.UploadUri);
  const formats = list(c.FormatsSupported ?? c.SupportedFormat).map((f) => f.toLowerCase());
  return {
    uploadUrl: reported ? reachable(device, reported.startsWith('/') ? new URL(reported, device.url).toString() : reported) : undefined,
    reportedUploadUrl: reported,
    formats,
    licensing: bool(c.Licensing) ?? false,
    eventTopicPrefix: str(c.EventTopicPrefix),
    naming: str(c.UploadPath) || c.FormatsSupported !== undefined ? 'schema' : str(c.UploadUri) || c.SupportedFormat !== undefined ? '22.12' : 'schema',
  };
}

export function readInstalledApps(result: unknown): InstalledApp[] {
  return asArray((result as Json | undefined)?.App).flatMap((a) => {
    const id = str((a as Json)?.AppID);
    return id ? [{ appId: id, name: str((a as Json).Name) ?? id }] : [];
  });
}

function readLicense(v: unknown): AppLicense | undefined {
  const l = v as Json | undefined;
  const name = str(l?.Name);
  if (!name) return undefined;
  const out: AppLicense = { name };
  const from = str(l!.ValidFrom);
  const until = str(l!.ValidUntil);
  if (from) out.validFrom = from;
  if (until) out.validUntil = until;
  return out;
}

export function readAppsInfo(device: OnvifDevice, result: unknown): AppInfo[] {
  return asArray((result as Json | undefined)?.Info).flatMap((raw) => {
    const i = raw as Json;
    const appId = str(i?.AppID);
    if (!appId) return [];
    const configuration = str(i.Configuration);
    const info: AppInfo = {
      appId,
      name: str(i.Name) ?? appId,
      version: str(i.Version) ?? '',
      licenses: asArray(i.Licenses).flatMap((l) => readLicense(l) ?? []),
      privileges: asArray(i.Privileges).flatMap((p) => str(p) ?? []),
      installationDate: str(i.InstallationDate),
      lastUpdate: str(i.LastUpdate),
      state: readState(i.State) ?? 'Inactive',
      status: str(i.Status),
      autostart: bool(i.Autostart),
      website: str(i.Website),
      openSource: str(i.OpenSource),
      configuration: configuration ? reachable(device, configuration) : undefined,
      interfaceDescription: asArray(i.InterfaceDescription).flatMap((d) => str(d) ?? []),
    };
    for (const k of Object.keys(info) as Array<keyof AppInfo>) if (info[k] === undefined) delete info[k];
    return [info];
  });
}
