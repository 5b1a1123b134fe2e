import type { NodeStatus } from 'node-red';
import { isOnvifError } from '../../lib/errors';
import type { FirmwareFailure } from '../../lib/firmware';
import { callFailedStatus } from '../shared/status';
import type { Texts } from '../shared/i18n';

// Texts (onvifq-firmware.status.* in the node's catalogue) stay under 20 characters so they fit under a node (a
// fleet adds its "2/3 "); colours as everywhere (DESIGN.md): blue = work in progress, yellow = the device is away
// for a while, green = done, red = failed.

/** One step as the library reports it: the phase with its figures (the library's own `text` is English only). */
export interface PhaseView {
  phase: string;
  text: string;
  percent?: number;
  remainingMs?: number;
}

/** The words for one step, from the catalogue; `done` shows the version the library reports ("v2.1.0"). */
function phaseText(t: Texts, p: PhaseView): string {
  switch (p.phase) {
    case 'backup':
      return p.percent !== undefined ? t('onvifq-firmware.status.backupPercent', { percent: p.percent }) : t('onvifq-firmware.status.backup');
    case 'uploading':
      return t('onvifq-firmware.status.uploading', { percent: p.percent ?? 0 });
    case 'waiting':
      return t('onvifq-firmware.status.waiting', { seconds: Math.ceil((p.remainingMs ?? 0) / 1000) });
    case 'checking':
    case 'starting':
    case 'flashing':
    case 'rebooting':
    case 'verifying':
      return t(`onvifq-firmware.status.phase.${p.phase}`);
    default:
      return p.text;
  }
}

/** The status for one step; `place` is "2/3 " for a fleet, "" for one device. */
export function phaseStatus(t: Texts, p: PhaseView, place = ''): NodeStatus {
  const text = `${place}${phaseText(t, p)}`;
  switch (p.phase) {
    case 'uploading':
    case 'flashing':
      return { fill: 'blue', shape: 'dot', text };
    case 'rebooting':
      return { fill: 'yellow', shape: 'ring', text };
    case 'done':
      return { fill: 'green', shape: 'dot', text };
    default:
      // checking, backup, starting, waiting, verifying: nothing on the device changes yet (or any more).
      return { fill: 'blue', shape: 'ring', text };
  }
}

/** The failures the library names (FirmwareError.failure), each with a short text in the catalogue. */
const FAILURES: readonly FirmwareFailure[] = [
  'unsupported',
  'already-current',
  'image',
  'backup',
  'upload-delay',
  'rejected',
  'device-failed',
  'auth',
  'expired',
  'refused',
  'interrupted',
  'not-back',
  'not-applied',
  'wrong-version',
  'factory-default',
  'aborted',
];

/** Short words for a failure, by what the library says went wrong. */
export function failureWords(t: Texts, err: unknown): string {
  const failure = (err as { failure?: unknown } | undefined)?.failure;
  if (typeof failure === 'string' && FAILURES.includes(failure as FirmwareFailure)) return t(`onvifq-firmware.status.failure.${failure}`);
  return String(callFailedStatus(t, isOnvifError(err) ? err : undefined).text);
}

/** What a failure shows: red with the reason. */
export function failedStatus(reason: string, place = ''): NodeStatus {
  return { fill: 'red', shape: 'dot', text: `${place}${reason}` };
}

/** The fleet's end: green when nothing failed. */
export function summaryStatus(t: Texts, s: { upgraded: number; skipped: number; failed: number; dryRun: number; refused?: number }): NodeStatus {
  if (s.failed > 0) return { fill: 'red', shape: 'dot', text: t('onvifq-firmware.status.summary.failed', { failed: s.failed, upgraded: s.upgraded }) };
  if (s.refused) return { fill: 'yellow', shape: 'ring', text: t('onvifq-firmware.status.summary.dryRunRefused', { refused: s.refused }) };
  if (s.dryRun > 0) return { fill: 'green', shape: 'ring', text: t('onvifq-firmware.status.summary.dryRunOk', { count: s.dryRun }) };
  if (s.upgraded === 0 && s.skipped > 0) return { fill: 'green', shape: 'ring', text: t('onvifq-firmware.status.summary.upToDate', { count: s.skipped }) };
  return {
    fill: 'green',
    shape: 'dot',
    text: s.skipped
      ? t('onvifq-firmware.status.summary.upgradedSkipped', { upgraded: s.upgraded, skipped: s.skipped })
      : t('onvifq-firmware.status.summary.upgraded', { upgraded: s.upgraded }),
  };
}
