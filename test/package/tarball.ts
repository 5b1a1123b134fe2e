/**
 * The release artifact as a user gets it: `npm pack` of the built package, made once per test run in a
 * temporary folder (scripts off: the tests test the dist/ that is there, they never build it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, assertBuilt } from '../e2e/node-red-process';
import { runNpm } from './npm';

export interface PackedFile {
  path: string;
  size: number;
}

export interface Tarball {
  /** Absolute path of the .tgz. */
  file: string;
  /** Compressed size in bytes. */
  size: number;
  unpackedSize: number;
  files: PackedFile[];
}

let packed: Tarball | undefined;

/** The tarball of the built package; packed at the first call, removed when the process exits. */
export function packTarball(): Tarball {
  if (packed && fs.existsSync(packed.file)) return packed;
  assertBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-pack-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const out = runNpm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: REPO_ROOT });
  const [info] = JSON.parse(out) as Array<{ filename: string; size: number; unpackedSize: number; files: PackedFile[] }>;
  packed = { file: path.join(dir, info.filename), size: info.size, unpackedSize: info.unpackedSize, files: info.files };
  return packed;
}
