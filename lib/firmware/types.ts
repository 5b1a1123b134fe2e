import { OnvifError, type OnvifErrorDetails, type OnvifErrorKind } from '../errors';
import type { BackupResult } from '../configure/backup';
import type { ProfileQState } from '../device/types';

/** Where an upgrade is: a node shows `text` as its status, a CLI prints it. */
export type FirmwarePhase = 'checking' | 'backup' | 'starting' | 'waiting' | 'uploading' | 'flashing' | 'rebooting' | 'verifying' | 'done';

export interface FirmwareProgress {
  phase: FirmwarePhase;
  /** Short (under 20 characters, for a node status): "waiting 5 s", "uploading 42 %", "flashing…", "v2.1.0". */
  text: string;
  /** uploading: percent of the image sent; backup: percent of the backup read. */
  percent?: number;
  /** uploading: the percent the device says it has received (its UploadStatus event), when it sends one. */
  devicePercent?: number;
  /** uploading: bytes sent and the image size. */
  bytes?: number;
  total?: number;
  /** waiting (UploadDelay), rebooting: how long the device said it would take, ms left. */
  remainingMs?: number;
}

/** What is recorded before and after an upgrade (Core: network settings and users survive an upgrade). */
export interface FirmwareState {
  firmwareVersion: string;
  model: string;
  hardwareId: string;
  manufacturer: string;
  serialNumber: string;
  profileQState: ProfileQState;
  /** Hostname, interfaces and default gateway as the device reports them (absent when it refused to say). */
  network?: { hostname?: unknown; interfaces?: unknown; gateway?: unknown };
  /** How the device offers upgrades: HttpFirmwareUpgrade (http), only the old FirmwareUpgrade (mtom), neither. */
  upgradeMethod: 'http' | 'mtom' | 'none';
}

/** One thing the upgrade did, for the record (and for Catch: what happened before a failure). */
export interface FirmwareStep {
  phase: FirmwarePhase;
  /** What happened, in a sentence. */
  text: string;
  /** ISO time it ended. */
  at: string;
  ms: number;
  ok: boolean;
}

export interface FirmwareResult {
  /** host:port of the device. */
  address: string;
  /** StartFirmwareUpgrade + HTTP POST, or the legacy MTOM UpgradeSystemFirmware. */
  method: 'http' | 'mtom';
  before: FirmwareState;
  after: FirmwareState;
  /** Image bytes sent. */
  uploadBytes: number;
  /** From the first image byte to the device's answer (or the end of the connection). */
  uploadMs: number;
  /** How long the device did not answer while it restarted (0 when it never went away). */
  downtimeMs: number;
  /** Model or hardware changed, network settings changed, outcome only known by verification... */
  warnings: string[];
  steps: FirmwareStep[];
  /** Event topics the new firmware offers (GetEventProperties again; running subscriptions should re-read them). */
  eventTopics?: number;
  /** backupFirst: the backup taken before the upgrade. */
  backup?: BackupResult;
}

/**
 * Why an upgrade failed, for code that branches on it (`kind` stays the library-wide OnvifErrorKind):
 * - unsupported: the device offers no firmware upgrade (or not the way asked);
 * - already-current: the device already runs expectVersion (nothing was sent);
 * - image: the image could not be read (file missing, URL without a size...);
 * - backup: backupFirst failed, nothing was sent;
 * - upload-delay: the device asked to wait longer than allowed before the upload;
 * - rejected: 415 / ter:InvalidFirmware, the image is not valid for this model;
 * - device-failed: 500 / ter:FirmwareUpgradeFailed, outcome unknown: re-read the version before any retry;
 * - auth: 401/403, or the device refused the credentials after the upgrade;
 * - expired: the upload URI expired twice (404);
 * - refused: 408, 411, 413, 503 or another status: the device did not take the image;
 * - interrupted: the connection broke or stalled before the whole image was sent (the device keeps its firmware);
 *   (the whole image sent and then no answer, or a closed connection, is not a failure: verification decides);
 * - not-back: the device did not come back after the restart;
 * - not-applied: it came back with the old version;
 * - wrong-version: it came back with another version than expectVersion;
 * - factory-default: it came back in Factory Default State: commission it again;
 * - aborted: cancelled (signal): the message says whether the device may still be flashing.
 */
export type FirmwareFailure =
  | 'unsupported' | 'already-current' | 'image' | 'backup' | 'upload-delay' | 'rejected' | 'device-failed' | 'auth' | 'expired'
  | 'refused' | 'interrupted' | 'not-back' | 'not-applied' | 'wrong-version' | 'factory-default' | 'aborted';

/** What the device runs after the failure, as far as we know. */
export type DeviceFirmwareOutcome = 'unchanged' | 'unknown' | 'upgraded';

export class FirmwareError extends OnvifError {
  readonly failure: FirmwareFailure;
  readonly phase: FirmwarePhase;
  readonly outcome: DeviceFirmwareOutcome;
  /** May the same upgrade simply be tried again (after reading the advice)? */
  readonly retryable: boolean;
  steps: FirmwareStep[] = [];
  before?: FirmwareState;
  /** What the device reported after the failure, when it could be read (500: re-read the version). */
  after?: FirmwareState;

  constructor(
    kind: OnvifErrorKind,
    failure: FirmwareFailure,
    phase: FirmwarePhase,
    outcome: DeviceFirmwareOutcome,
    message: string,
    details: OnvifErrorDetails & { retryable?: boolean } = {},
  ) {
    const { retryable, ...rest } = details;
    super(kind, message, rest);
    this.name = 'FirmwareError';
    this.failure = failure;
    this.phase = phase;
    this.outcome = outcome;
    this.retryable = retryable ?? false;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), failure: this.failure, phase: this.phase, outcome: this.outcome, retryable: this.retryable, steps: this.steps, before: this.before, after: this.after };
  }
}

export function isFirmwareError(e: unknown): e is FirmwareError {
  return e instanceof FirmwareError;
}
