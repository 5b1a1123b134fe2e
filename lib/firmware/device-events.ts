import { Subscription } from 'rxjs';
import type { EventHub } from '../events/hub';
import type { OnvifEvent } from '../events/notifications';
import type { FirmwarePhase, FirmwareProgress } from './types';

/** The events a device may send during an upgrade (Core §8.9.3, §8.9.8, NOTES.md section d). */
const UPLOAD_STATUS = 'tns1:Monitoring/UploadStatus';
const UPLOAD_INITIATED = 'tns1:Device/OperationMode/UploadInitiated';
const SHUTDOWN_INITIATED = 'tns1:Device/OperationMode/ShutdownInitiated';
const LAST_REBOOT = 'tns1:Monitoring/OperatingTime/LastReboot';
const FILTER = `${UPLOAD_STATUS}|${UPLOAD_INITIATED}|${SHUTDOWN_INITIATED}|${LAST_REBOOT}`;

/**
 * Whether a step of an upgrade's result came from the device's own events: the follower's steps, and only they, say
 * "the device reports …" or "the device announced …" (the upgrade's own say what the client saw: "went away", "is back").
 */
export function isDeviceReport(step: { text: string }): boolean {
  return /^the device (reports|announced) /.test(step.text);
}

/** What the follower writes to: the upgrade's steps and progress. */
export interface UpgradeLog {
  readonly phase: FirmwarePhase;
  step(text: string): void;
  progress(p: Omit<FirmwareProgress, 'phase'> & { phase?: FirmwarePhase }): void;
}

/**
 * Follows the device's own account of an upgrade, when it sends one: UploadInitiated, UploadStatus (percent
 * received), ShutdownInitiated and a new LastReboot become steps, and UploadStatus shows as `devicePercent` in
 * the upload progress. Nothing waits for these events: devices that send none upgrade the same way.
 */
export class UpgradeEventFollower {
  private readonly subscription: Subscription;
  private firstReboot?: string;
  private rebootSeen = false;
  private wholeImageSeen = false;
  private lastUpload?: Omit<FirmwareProgress, 'phase'>;

  constructor(
    private readonly hub: EventHub,
    private readonly log: UpgradeLog,
  ) {
    this.subscription = hub.events(FILTER).subscribe({ next: (e) => this.seen(e), error: () => undefined });
  }

  /** The client's own latest upload progress, which a device percentage is shown with. */
  noteUploadProgress(p: Omit<FirmwareProgress, 'phase'>): void {
    this.lastUpload = p;
  }

  /**
   * Resolves once the subscription is up (or failed), at most after `maxMs`: events raised before the device
   * has a pull point for us are never delivered, so the upload waits a moment for it.
   */
  whenListening(maxMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      // The state comes at once on subscribing; a closed Subscription ends what is added to it straight away.
      const watching = new Subscription();
      const done = () => {
        if (watching.closed) return;
        watching.unsubscribe();
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      signal?.addEventListener('abort', done, { once: true });
      watching.add(
        this.hub.state$.subscribe((s) => {
          if (s.status !== 'idle' && s.status !== 'subscribing') done();
        }),
      );
    });
  }

  stop(): void {
    this.subscription.unsubscribe();
  }

  private seen(e: OnvifEvent): void {
    switch (e.topic) {
      case UPLOAD_INITIATED:
        if (e.operation !== 'Initialized') this.log.step('the device reports that the upload began (UploadInitiated event)');
        return;
      case UPLOAD_STATUS: {
        // The value a new subscription reports may be left from an earlier upload.
        if (e.operation === 'Initialized') return;
        const percent = Number(e.data.Status);
        if (!Number.isFinite(percent)) return;
        if (this.log.phase === 'uploading' && this.lastUpload) this.log.progress({ ...this.lastUpload, devicePercent: percent });
        if (percent >= 100 && !this.wholeImageSeen) {
          this.wholeImageSeen = true;
          this.log.step('the device reports that it received the whole image (UploadStatus 100 %)');
        }
        return;
      }
      case SHUTDOWN_INITIATED:
        if (e.operation === 'Initialized') return;
        this.log.step('the device announced its restart (ShutdownInitiated event)');
        if (this.log.phase === 'flashing') this.log.progress({ text: 'restarting…' });
        return;
      case LAST_REBOOT: {
        const at = typeof e.data.Status === 'string' ? e.data.Status : undefined;
        if (!at) return;
        if (this.firstReboot === undefined) this.firstReboot = at;
        else if (at !== this.firstReboot && !this.rebootSeen) {
          this.rebootSeen = true;
          this.log.step(`the device reports that it restarted at ${at} (LastReboot)`);
        }
        return;
      }
    }
  }
}
