export { SimulatedDevice, startSimulators, type SimulatorOptions, type SimulatedRequest, type InjectedFault } from './device';
export type { DeviceState, SimulatedUser, UserLevel } from './state';
export { PROFILE_Q_FACTORY_DEFAULT, PROFILE_Q_OPERATIONAL } from './device-service';

/**
 * WS-Discovery responder (on by default; options `discovery: false | { port?, multicastInterface? }` and
 * `discoveryDelayMs: [min, max]`); `device.discoveryAddress` is 'udp://host:port'.
 * The device side's own scope-matching rule and request parser are exported too.
 */
export {
  scopeMatches, parseDiscoveryRequest, WSD_PORT, WSD_MULTICAST_ADDRESS, MATCH_BY_RFC3986, MATCH_BY_RFC2396, MATCH_BY_STRCMP0,
  SUPPORTED_MATCHING_RULES, type DiscoveryRequest,
} from './discovery';

/**
 * Event service (Core Ch. 9), at EVENT_SERVICE_PATH ('/onvif/events_service'); each pull point's
 * subscription manager at PULL_POINT_PATH_PREFIX + id ('/onvif/pullpoint/1'), or, with the option
 * `referenceParameters`, all at SHARED_SUBSCRIPTION_PATH ('/onvif/subscription') told apart by a
 * SubscriptionId header (SUBSCRIPTION_ID_NS) the client must echo.
 *
 * On SimulatedDevice:
 * - raiseEvent(topic, { source?, data?, key?, operation? }): deliver one notification, e.g.
 *   raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } }). On a property
 *   topic the operation defaults to Changed and the live property follows; Source defaults to the
 *   topic's only live instance.
 * - setProperty(topic, source, data): update a live property and raise Changed.
 * - pullPoints: PullPointInfo[] (id, address, lease, queue length, dropped, pulling, filter).
 * - Options: maxPullPoints (2), processorUsageIntervalMs (5000), motionIntervalMs (0 = off), eventTopics (TOPICS),
 *   referenceParameters (false), maxPullTimeoutS (60), maxQueuedEvents (20000), exposeState (false).
 *
 * Live state as JSON: GET STATE_PATH ('/onvifq/state'): pull points, users (never passwords), scopes,
 * Profile Q state, hostname, time and live event properties. Open without credentials while Factory
 * Default or with exposeState; once Operational it needs HTTP digest as an Administrator.
 */
export { STATE_PATH } from './device';

/**
 * Backup and restore over HTTP (Core §8.3.2, §8.3.5): GetSystemUris gives SystemBackupUri
 * (BACKUP_PATH, HTTP GET, application/octet-stream); StartSystemRestore gives a single-use UploadUri
 * (RESTORE_PATH_PREFIX + token, expires after restoreUploadLifetimeMs) for an HTTP POST of that file as
 * application/octet-stream: 200 then the device applies it and restarts for rebootDowntimeMs; 415 for a
 * file that is not a backup of this model, 404 for an unknown, used or expired URI, 413 above
 * maxRestoreBytes. Both need HTTP digest as an Administrator once Operational. What a backup carries and
 * what stays with the device: see backup.ts; `configuration` in the /onvifq/state JSON shows it (without
 * passwords). The access policy (Get/SetAccessPolicy) is JSON in ACCESS_POLICY_FORMAT and is enforced.
 */
export { BACKUP_PATH, RESTORE_PATH_PREFIX } from './transfers';
export { BACKUP_FORMAT, BACKUP_CONTENT_TYPE, configurationOf } from './backup';
export { ACCESS_POLICY_FORMAT, defaultAccessPolicyFile, type AccessClass } from './access';
export type { PullPointInfo } from './events/pull-point';
export type { EventItem } from './events/service';
export type { PropertyOperation } from './events/notification';
export { EVENT_SERVICE_PATH, PULL_POINT_PATH_PREFIX, SHARED_SUBSCRIPTION_PATH, SUBSCRIPTION_ID_NS, MAX_MESSAGE_LIMIT } from './events/service';
export { TOPICS, type TopicDescription } from './events/topics';

/**
 * Firmware upgrade (Core §8.3.9, Profile Q §8.1; lib/simulator/firmware): option firmwareMode 'http'
 * (default: HttpFirmwareUpgrade, StartFirmwareUpgrade gives a single-use UploadUri under
 * FIRMWARE_PATH_PREFIX, refused with 503 before UploadDelay has passed), 'legacy' (FirmwareUpgrade: only the
 * MTOM UpgradeSystemFirmware) or 'off'. The image format is in firmware/image.ts (makeFirmware, writeFirmware,
 * `onvifq-sim make-firmware`). After an accepted image the device emits 'firmware' ('accepted', 'flashing',
 * 'restarting'), keeps answering for firmwareFlashMs, then is away for firmwareDownTimeMs and comes back with
 * the new FirmwareVersion. injectFirmwareOutcome(...) makes the next upload fail in one of the ways of FirmwareOutcome.
 */
export { FIRMWARE_PATH_PREFIX, type FirmwareOutcome, type FirmwareUpgradeMode } from './firmware/service';
export { makeFirmware, writeFirmware, firmwareSize, FirmwareVerifier, FIRMWARE_MAGIC, type FirmwareHeader, type MakeFirmwareOptions } from './firmware/image';

/**
 * App Management (AppMgmt 22.12), at APPS_SERVICE_PATH ('/onvif/app_management'), listed by GetServices with its
 * capabilities. Packages (format: apps/package.ts; `onvifq-sim make-app`, makeAppPackage, writeAppPackage) are POSTed
 * to APP_UPLOAD_PATH with HTTP digest of an Administrator: 401/403, 411 without Content-Length, 415 outside
 * FormatsSupported, 408 when the body stalls (uploadIdleTimeoutMs), 200 then tns1:AppMgmt/State Installing and,
 * installDelayMs later, Active/Inactive or InstallationFailed with a Status (malformed or incompatible package). An
 * update stops an Active app first (Inactive). Each app's configuration: GET/POST APP_CONFIG_PATH_PREFIX + AppID
 * (521 for a configuration of another version). Licenses (makeLicense) bound to GetDeviceId. Apps persist in the
 * state file (Autostart apps come back Active); a hard factory default removes them. Options: `apps` in
 * SimulatorOptions. On SimulatedDevice: raiseAppEvent(appId, eventName), appStates, appDeviceId.
 */
export { AppService, APPS_SERVICE_PATH, APP_UPLOAD_PATH, APP_CONFIG_PATH_PREFIX, APP_CONFIG_FORMAT, APP_STATE_TOPIC, type AppState, type SimulatedApp, type AppServiceOptions } from './apps/service';
export { APP_PACKAGE_MAGIC, APP_PACKAGE_CONTENT_TYPE, makeAppPackage, writeAppPackage, packageHeader, type AppManifest, type AppEventSpec } from './apps/package';
export { makeLicense, readLicense, LICENSE_PREFIX, type LicenseContent } from './apps/licenses';
