/**
 * Firmware upgrade (Core §8.3.9, Profile Q §8.1), usable without Node-RED.
 *
 *   const device = new OnvifDevice({ address: '192.168.1.20', username: 'admin', password: '...' });
 *   const result = await upgradeFirmware(device, 'camera-2.1.0.bin', {
 *     expectVersion: '2.1.0',
 *     onProgress: (p) => console.error(p.text),        // "waiting 5 s", "uploading 42 %", "flashing…", "rebooting…", "verifying", "v2.1.0"
 *     signal: abortController.signal,
 *   });
 *   // result: { address, method, before, after, uploadBytes, uploadMs, downtimeMs, warnings, steps, eventTopics?, backup? }
 *
 * upgradeFirmware(device, image, options) → Promise<FirmwareResult>
 * - image: a Buffer, a file path, an http(s) URL (streamed from the server to the device, never stored;
 *   the server must send a Content-Length) or `{ open: () => Readable, size }` (opened once per attempt).
 * - options: expectVersion, expectModel, backupFirst (file path or true: the backup task runs first and its
 *   result is in `result.backup`), tryAnyway (no upgrade capability listed: try StartFirmwareUpgrade anyway),
 *   method ('auto' | 'http' | 'mtom'), legacyDownTimeMs, timeouts { maxUploadDelayMs, stallMs, answerMs,
 *   goneWithinMs, backMs }, signal, onProgress, events (a shared EventHub: the device's UploadInitiated,
 *   UploadStatus, ShutdownInitiated and LastReboot events then become steps; UploadStatus adds devicePercent).
 * - Progress (FirmwareProgress): `phase` is checking → backup → starting → waiting → uploading → flashing →
 *   rebooting → verifying → done; `text` fits a node status; uploading adds percent/bytes/total, waiting and
 *   rebooting add remainingMs. Calls are throttled (a few per second at most while uploading).
 * - Success means the device came back, on the same address with the same credentials, with a new
 *   FirmwareVersion (exactly expectVersion when given), not in Factory Default State. `warnings` name a
 *   changed model, hardware id or network setting, and an outcome only known by verification.
 * - Every failure is a FirmwareError (an OnvifError): `kind` (the library-wide kind: 'auth', 'timeout',
 *   'unsupported', 'closed' for a cancel...), `failure` (what went wrong for a firmware upgrade: see
 *   FirmwareFailure in types.ts), `phase`, `outcome` ('unchanged' | 'unknown' | 'upgraded': what the device
 *   runs as far as is known), `retryable`, `steps` (what happened up to the failure), `before` (the state
 *   recorded first), `after` (when re-read). `message` says what happened and what to do.
 * - Never sends the image twice on its own: a 404 before the device took anything gets one fresh
 *   StartFirmwareUpgrade; a digest challenge is answered by sending the image again (every source is
 *   replayable); nothing else is retried. A connection closed after the whole image was sent is not a
 *   failure: the device may be flashing, so the upgrade goes on to verification.
 * - Cancelling (signal): before the POST nothing happened; during it the device keeps its firmware; after
 *   the whole image was sent the error says the device may still be flashing (outcome 'unknown').
 *
 * firmwareDryRun(device, image, options) → Promise<FirmwareDryRun>: what an upgrade would do (action
 * 'upgrade' | 'skip' | 'refuse', problems, warnings, text), sending only reads.
 *
 * upgradeFleet(devices, image, options) → Promise<FleetUpgradeResult>: a rolling upgrade, `concurrency` at a
 * time (default 1), skipping devices already on expectVersion, stopping at the first failure unless
 * stopOnFailure is false; onDeviceResult(r) per device as it ends; resolves with `results` (one per device,
 * status 'upgraded' | 'skipped' | 'failed' | 'not-started') and a `summary`.
 */
export { upgradeFirmware, readFirmwareState, upgradeMethodOf, type FirmwareOptions, type FirmwareTimeouts } from './upgrade';
export { firmwareDryRun, type FirmwareDryRun, type FirmwareDryRunOptions } from './dry-run';
export { upgradeFleet, type FleetUpgradeOptions, type FleetDeviceResult, type FleetUpgradeResult } from './fleet';
export { openImage, type FirmwareImage, type FirmwareStreamSource, type OpenedImage } from './source';
export { mtomRequest, upgradeSystemFirmwareEnvelope, type MtomRequest } from './mtom';
export {
  FirmwareError, isFirmwareError, type FirmwareFailure, type FirmwarePhase, type FirmwareProgress, type FirmwareResult, type FirmwareState,
  type FirmwareStep, type DeviceFirmwareOutcome,
} from './types';
