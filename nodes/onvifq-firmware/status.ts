import type { NodeStatus } from 'node-red';
import { isOnvifError } from '../../lib/errors';
import { callFailedStatus } from '../shared/status';
import { englishTexts } from '../shared/i18n';

// Texts stay under 20 characters so they fit under a node (a fleet adds its "2/3 "); colours as everywhere
// (DESIGN.md): blue = work in progress, yellow = the device is away for a while, green = done, red = failed.

/** One step as the library reports it: `text` is already short ("waiting 5 s", "uploading 42 %", "v2.1.0"). */
export interface PhaseView {
  phase: string;
  text: string;
  percent?: number;
}

/** The status for one step; `place` is "2/3 " for a fleet, "" for one device. */
export function phaseStatus(p: PhaseView, place = ''): NodeStatus {
  const text = `${place}${p.text}`;
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

/** Short words for a failure, by what the library says went wrong. */
const FAILURE_WORDS: Record<string, string> = {
  unsupported: 'not supported',
  'already-current': 'already current',
  image: 'bad image',
  backup: 'backup failed',
  'upload-delay': 'delay too long',
  rejected: 'image rejected',
  'device-failed': 'device failed',
  auth: 'auth failed',
  expired: 'upload URI expired',
  refused: 'upload refused',
  interrupted: 'upload broken',
  'no-answer': 'no answer',
  'not-back': 'not back',
  'not-applied': 'not applied',
  'wrong-version': 'wrong version',
  'factory-default': 'factory default',
  aborted: 'stopped',
};

export function failureWords(err: unknown): string {
  const failure = (err as { failure?: unknown } | undefined)?.failure;
  if (typeof failure === 'string' && FAILURE_WORDS[failure]) return FAILURE_WORDS[failure]!;
  return String(callFailedStatus(englishTexts, isOnvifError(err) ? err : undefined).text);
}

/** What a failure shows: red with the reason. */
export function failedStatus(reason: string, place = ''): NodeStatus {
  return { fill: 'red', shape: 'dot', text: `${place}${reason}` };
}

/** The fleet's end: green when nothing failed. */
export function summaryStatus(s: { upgraded: number; skipped: number; failed: number; dryRun: number; refused?: number }): NodeStatus {
  if (s.failed > 0) return { fill: 'red', shape: 'dot', text: `${s.failed} failed, ${s.upgraded} ok` };
  if (s.refused) return { fill: 'yellow', shape: 'ring', text: `dry run: ${s.refused} refuse` };
  if (s.dryRun > 0) return { fill: 'green', shape: 'ring', text: `dry run: ${s.dryRun} ok` };
  if (s.upgraded === 0 && s.skipped > 0) return { fill: 'green', shape: 'ring', text: `${s.skipped} up to date` };
  return { fill: 'green', shape: 'dot', text: s.skipped ? `${s.upgraded} upgraded, ${s.skipped} skip` : `${s.upgraded} upgraded` };
}
