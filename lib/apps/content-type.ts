import type { OpenedSource } from '../transfer/source';
import { AppError } from './types';

/** Formats recognised by their first bytes. */
const MAGIC: ReadonlyArray<[prefix: Buffer, type: string]> = [
  [Buffer.from('ONVIFQ-SIM-APP/'), 'application/vnd.onvifq.sim-app'],
  [Buffer.from([0x50, 0x4b, 0x03, 0x04]), 'application/zip'],
  [Buffer.from([0x1f, 0x8b]), 'application/gzip'],
];

/** Formats recognised by the file name. */
const EXTENSIONS: ReadonlyArray<[suffix: string, types: string[]]> = [
  ['.zip', ['application/zip', 'application/x-zip-compressed']],
  ['.tar.gz', ['application/gzip', 'application/x-gzip', 'application/x-compressed-tar']],
  ['.tgz', ['application/gzip', 'application/x-gzip', 'application/x-compressed-tar']],
  ['.tar', ['application/x-tar']],
  ['.apk', ['application/vnd.android.package-archive']],
];

const ALIASES: Record<string, string[]> = {
  'application/zip': ['application/zip', 'application/x-zip-compressed'],
  'application/gzip': ['application/gzip', 'application/x-gzip', 'application/x-compressed-tar'],
};

/**
 * The Content-Type for an upload (AppMgmt §6.2.1: one of FormatsSupported, or the device answers 415).
 * The caller's choice must be in the list; otherwise what the package looks like (first bytes, file name, the
 * URL's Content-Type) picks one; a device with a single format gets that one for an unrecognised package.
 * Refused here, before anything is sent, when none fits.
 */
export function chooseContentType(formats: readonly string[], wanted: string | undefined, pkg: Pick<OpenedSource, 'head' | 'name' | 'contentType'>): string {
  const listed = formats.map((f) => f.toLowerCase());
  const shown = listed.length ? listed.join(', ') : 'none';
  if (wanted !== undefined) {
    const w = wanted.trim().toLowerCase();
    if (!w) throw new AppError('invalid-input', 'contentType is empty; leave it out to let the package decide.', 'package');
    if (listed.length && !listed.includes(w)) {
      throw new AppError('invalid-input', `The device does not install ${w} packages (FormatsSupported: ${shown}). Nothing was uploaded.`, 'package');
    }
    return w;
  }
  const guesses: string[] = [];
  const head = pkg.head;
  if (head) for (const [prefix, type] of MAGIC) if (head.subarray(0, prefix.length).equals(prefix)) guesses.push(...(ALIASES[type] ?? [type]));
  const name = pkg.name?.toLowerCase();
  if (name) for (const [suffix, types] of EXTENSIONS) if (name.endsWith(suffix)) guesses.push(...types);
  if (pkg.contentType && pkg.contentType !== 'application/octet-stream') guesses.push(pkg.contentType.toLowerCase());
  if (listed.length === 0) return guesses[0] ?? 'application/octet-stream';
  const fit = guesses.find((g) => listed.includes(g));
  if (fit) return fit;
  if (guesses.length === 0 && listed.length === 1) return listed[0]!;
  if (guesses.length === 0 && listed.includes('application/octet-stream')) return 'application/octet-stream';
  throw new AppError(
    'invalid-input',
    guesses.length
      ? `The package looks like ${guesses[0]}, which the device does not install (FormatsSupported: ${shown}). Nothing was uploaded.`
      : `Cannot tell which of the device's formats (${shown}) the package is. Pass contentType. Nothing was uploaded.`,
    'package',
  );
}
