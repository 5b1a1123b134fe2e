import { OnvifError, type OnvifErrorKind, type OnvifErrorDetails } from '../errors';

/** ans:AppState (AppMgmt §7.1). Removed and InstallationFailed only travel in tns1:AppMgmt/State events. */
export type AppState = 'Active' | 'Inactive' | 'Installing' | 'Uninstalling' | 'Removed' | 'InstallationFailed';

/** What GetServiceCapabilities says, whichever names the device used. */
export interface AppCapabilities {
  /** Where packages are POSTed, re-aimed at the address the session uses; undefined when the device names none. */
  uploadUrl?: string;
  /** UploadPath (or UploadUri) exactly as the device wrote it. */
  reportedUploadUrl?: string;
  /** FormatsSupported (or SupportedFormat): MIME types, lower case. */
  formats: string[];
  licensing: boolean;
  eventTopicPrefix?: string;
  /** 'schema': UploadPath / FormatsSupported (appmgmt.wsdl); '22.12': UploadUri / SupportedFormat (the 22.12 text). */
  naming: 'schema' | '22.12';
}

export interface AppLicense {
  name: string;
  /** ISO-8601 UTC. */
  validFrom?: string;
  validUntil?: string;
}

/** One app as GetAppsInfo describes it (ans:AppInfo), with friendly names. */
export interface AppInfo {
  appId: string;
  name: string;
  version: string;
  licenses: AppLicense[];
  privileges: string[];
  installationDate?: string;
  lastUpdate?: string;
  state: AppState;
  status?: string;
  autostart?: boolean;
  website?: string;
  openSource?: string;
  /** Backup/restore URI of the app's configuration (reachable address), when the app has one. */
  configuration?: string;
  interfaceDescription: string[];
}

/** GetInstalledApps: AppID and name. */
export interface InstalledApp {
  appId: string;
  name: string;
}

/** One change of an app's state, as the watch API and install progress report it. */
export interface AppStateChange {
  appId: string;
  /** The app's name when known (looked up through GetInstalledApps). */
  name?: string;
  /** The state before, when this client knew it. */
  oldState?: AppState;
  newState: AppState;
  /** The device's Status text (the reason, when an error caused the change). */
  status?: string;
  /** ISO-8601 UTC: the event's time, or when polling noticed it. */
  time: string;
  /** The state a new subscription reports (Initialized) rather than a change. */
  initial: boolean;
  /** How it was learned: the tns1:AppMgmt/State event or a GetAppsInfo poll. */
  via: 'event' | 'poll';
}

/** The steps of the app operations; an error names the one that failed (`error.step`). */
export type AppStep =
  | 'capabilities' // GetServiceCapabilities, the upload address
  | 'package' // reading the package source, choosing its Content-Type
  | 'snapshot' // GetAppsInfo before the upload
  | 'subscribe' // subscribing to tns1:AppMgmt/State
  | 'upload' // the HTTP POST
  | 'install' // waiting for Installing and the final state
  | 'verify' // GetAppsInfo after the install
  | 'operation' // the SOAP operation (Activate, InstallLicense, ...)
  | 'confirm' // waiting until the device shows the result
  | 'config'; // configuration backup / restore transfer

/** Progress of a long app operation (for a node status: `text` is short). */
export interface AppProgress {
  phase: 'preparing' | 'uploading' | 'installing' | 'waiting' | 'done';
  text: string;
  /** uploading: 0-100. */
  percent?: number;
  bytes?: number;
  total?: number;
  appId?: string;
  /** installing / waiting / done: the app's state. */
  state?: AppState;
}

/** An error of an app operation: an OnvifError (same `kind`s) that also names the step that failed. */
export class AppError extends OnvifError {
  step: AppStep;
  appId?: string;
  /** InstallationFailed: the device's Status (why). */
  appStatus?: string;

  constructor(kind: OnvifErrorKind, message: string, step: AppStep, details: OnvifErrorDetails & { appId?: string; appStatus?: string } = {}) {
    super(kind, message, details);
    // Assigned here: class fields would reset what OnvifError's constructor copied from details.
    this.step = step;
    this.appId = details.appId;
    this.appStatus = details.appStatus;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), step: this.step, appId: this.appId, appStatus: this.appStatus };
  }
}

/** Name the failed step on any error (an OnvifError keeps its kind and details; others become bad-response). */
export function atStep(e: unknown, step: AppStep, appId?: string): AppError {
  if (e instanceof AppError) return e;
  if (e instanceof OnvifError) {
    const out = new AppError(e.kind, e.message, step, { ...e, appId });
    out.stack = e.stack;
    return out;
  }
  return new AppError('bad-response', `Unexpected failure (${step}): ${(e as Error)?.message ?? String(e)}`, step, { cause: e, appId });
}
