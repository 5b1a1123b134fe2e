/**
 * ONVIF Application Management (AppMgmt 22.12, `ans` = http://www.onvif.org/ver10/appmgmt/wsdl).
 *
 *   const apps = new AppManager(device, { events: link.eventHub() });   // or { events: false } to poll only
 *   const r = await apps.install({ file: 'counter.pkg' }, { onProgress: (p) => status(p.text) });
 *   // r: { appId, name, version, state: 'Active' | 'Inactive', updated, previousVersion?, lastUpdate, verified, via, ... }
 *
 * AppManager(device, options?)
 *   options.events       the device's shared EventHub (DeviceLink.eventHub(): one pull point shared with events nodes);
 *                        default: a hub of the manager's own (close() ends it); false: poll GetAppsInfo only.
 *   options.pollIntervalMs (1000), subscribeTimeoutMs (15000), eventGraceMs (20000: no Installing event after the
 *                        upload for this long → poll instead).
 * Reading
 *   capabilities(refresh?) → { uploadUrl, formats, licensing, eventTopicPrefix, naming: 'schema' | '22.12' }
 *                        (UploadPath/FormatsSupported, or the 22.12 text's UploadUri/SupportedFormat)
 *   list() → [{ appId, name }]                              GetInstalledApps
 *   info(appId?) → [AppInfo]                                GetAppsInfo (appId, name, version, licenses, privileges,
 *                        installationDate, lastUpdate, state, status, autostart, website, configuration, ...)
 *   deviceId() → string                                     GetDeviceId (what licenses are bound to)
 * Changing (each returns once the device shows the result)
 *   install(pkg, { contentType?, timeoutMs? (10 min), signal?, onProgress? }) → InstallResult
 *   update(pkg, { appId?, ... }) → InstallResult             (an Active app goes Inactive → Installing → final)
 *       pkg: a Buffer, { file } or { url } (streamed, never held in memory). Order: GetServiceCapabilities, choose the
 *       Content-Type from FormatsSupported (refused here when none fits), snapshot GetAppsInfo, subscribe to
 *       tns1:AppMgmt/State, POST with Content-Length and HTTP digest, wait for Installing and Active/Inactive
 *       (InstallationFailed → AppError with appStatus = the device's Status), GetAppsInfo to verify Version/LastUpdate.
 *   activate(appId) / deactivate(appId) / uninstall(appId) → { appId, state, via }
 *   installLicense(appId | undefined, license: text | Buffer | { file }) → { appId, licenses, added }
 *   licenseReport({ warnDays? (30), now? }) → { deviceId, rows: [{ appId, appName, license, validUntil, daysLeft,
 *                        status: valid | expiring | expired | not-yet-valid | unlimited | unlicensed }], attention, text }
 *   backupConfig(appId, { file? }) → { appId, version, bytes, file? | buffer? }      HTTP GET of the Configuration URI
 *   restoreConfig(appId, Buffer | { file } | { url }) → { appId, bytes }             POST; 521 = other app version
 * Watching
 *   watch() → Observable<AppStateChange>: { appId, name, oldState, newState, status, time, initial, via }, from the
 *                        tns1:AppMgmt/State events (first the current states, initial: true), else by polling.
 * Progress (onProgress): { phase: 'preparing' | 'uploading' | 'installing' | 'waiting' | 'done', text ('uploading 63 %',
 *                        'installing…', 'Active'), percent?, bytes?, total?, appId?, state? }
 * Errors: AppError, an OnvifError (same `kind`s: fault, auth, timeout, invalid-input, unsupported, ...) with `step`
 *   (capabilities | package | snapshot | subscribe | upload | install | verify | operation | confirm | config),
 *   `appId` and, for InstallationFailed, `appStatus`. Upload refusals are explained: 401/403 (credentials, an
 *   Administrator is needed), 408 (too slow), 411, 413, 415 (type not in FormatsSupported).
 * By name, for nodes and the CLI: runAppAction(manager, action, params) with APP_ACTIONS; fleets: AppFleet.run(addresses, ...).
 * The events hub re-reads GetEventProperties after every AppMgmt/State change, so a new app's events are typed.
 */
export { AppManager, type AppManagerOptions, type WaitOptions, type InstallOptions, type UpdateOptions, type InstallResult, type StateResult, type LicenseResult, type LicenseReport, type LicenseReportRow, type ConfigBackupResult, type ConfigRestoreResult } from './manager';
export { AppError, type AppState, type AppCapabilities, type AppInfo, type AppLicense, type InstalledApp, type AppStateChange, type AppStep, type AppProgress } from './types';
export { APP_ACTIONS, isAppAction, runAppAction, type AppAction, type AppActionParams } from './actions';
export { AppFleet, type FleetAppOutcome, type FleetAppResult, type FleetRunOptions } from './fleet';
export { chooseContentType } from './content-type';
export { APP_STATE_TOPIC } from './tracker';
