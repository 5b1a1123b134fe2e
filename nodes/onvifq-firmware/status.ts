import type { NodeStatus } from 'node-red';

// Texts stay under 20 characters so they fit under a node; colours as everywhere (DESIGN.md): blue = work in
// progress, yellow = the device is away for a while, green = done, red = failed.

/** One step of an upgrade as the status shows it. */
export interface PhaseView {
  phase: string;
  /** uploading: 0..100. */
  percent?: number;
  /** waiting: seconds left before the upload may start. */
  secondsLeft?: number;
  /** done: the version the device reports now. */
  version?: string;
}

/** The status for one step; `place` is "2/3 " for a fleet, "" for one device. */
export function phaseStatus(p: PhaseView, place = ''): NodeStatus {
  const blue = (text: string, shape: 'dot' | 'ring' = 'dot'): NodeStatus => ({ fill: 'blue', shape, text: `${place}${text}` });
  switch (p.phase) {
    case 'backup':
      return blue(p.percent === undefined ? 'backing up…' : `backup ${Math.floor(p.percent)} %`, 'ring');
    case 'checking':
      return blue('checking…', 'ring');
    case 'waiting':
      return blue(p.secondsLeft === undefined ? 'waiting…' : `waiting ${Math.max(0, Math.ceil(p.secondsLeft))} s`, 'ring');
    case 'uploading':
      return blue(p.percent === undefined ? 'uploading…' : `uploading ${Math.floor(p.percent)} %`);
    case 'flashing':
      return blue('flashing…');
    case 'rebooting':
      return { fill: 'yellow', shape: 'ring', text: `${place}rebooting…` };
    case 'verifying':
      return blue('verifying', 'ring');
    case 'done':
      return { fill: 'green', shape: 'dot', text: `${place}${p.version ? versionText(p.version) : 'done'}` };
    default:
      return blue(p.phase.slice(0, 16), 'ring');
  }
}

/** "v2.1.0" (a version that already starts with v or V is shown as it is). */
export function versionText(version: string): string {
  return /^v/i.test(version) ? version.slice(0, 19) : `v${version}`.slice(0, 19);
}

/** What a failure shows: short words for the reason. */
export function failedStatus(reason: string, place = ''): NodeStatus {
  return { fill: 'red', shape: 'dot', text: `${place}${reason}`.slice(0, 24) };
}

/** The fleet's end: green when nothing failed. */
export function summaryStatus(s: { upgraded: number; skipped: number; failed: number; dryRun: number; notStarted: number }): NodeStatus {
  if (s.failed > 0) return { fill: 'red', shape: 'dot', text: `${s.failed} failed, ${s.upgraded} ok` };
  if (s.dryRun > 0) return { fill: 'green', shape: 'ring', text: `dry run: ${s.dryRun} ok` };
  if (s.upgraded === 0 && s.skipped > 0) return { fill: 'green', shape: 'ring', text: `${s.skipped} up to date` };
  return { fill: 'green', shape: 'dot', text: s.skipped ? `${s.upgraded} upgraded, ${s.skipped} skip` : `${s.upgraded} upgraded` };
}
