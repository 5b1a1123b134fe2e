import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** The team's shared reference folder (../shared next to the checkout). Absent on a user's machine. */
export const SHARED = path.resolve(__dirname, '../../../shared');
export const VALIDATE_SH = path.join(SHARED, 'onvif/validate.sh');
export const REPO = path.resolve(__dirname, '../..');
export const OUTPUT = path.join(REPO, 'test/output');

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why schema validation cannot run here, or undefined when it can. */
export function validationUnavailable(): string | undefined {
  if (!existsSync(VALIDATE_SH)) return `skipped: ${VALIDATE_SH} not found (the team's shared ONVIF schemas)`;
  if (!hasCommand('xmllint')) return 'skipped: xmllint missing (apt-get install libxml2-utils)';
  if (!hasCommand('python3')) return 'skipped: python3 missing';
  return undefined;
}

/** Run validate.sh on files; returns exit code and output. */
export function validateFiles(files: string[]): { code: number; output: string } {
  try {
    const output = execFileSync('bash', [VALIDATE_SH, '-q', ...files], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, output };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { code: err.status ?? 1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/**
 * Write the SOAP requests a simulator received to a fresh folder under test/output (one file each, numbered and named
 * by operation, kept for a look after a failure) and validate them all against the schemas.
 */
export function validateRequests(folder: string, requests: ReadonlyArray<{ body: string; operation?: string }>): { code: number; output: string; files: string[] } {
  const dir = path.join(OUTPUT, folder);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = requests.map((r, i) => {
    const f = path.join(dir, `${String(i).padStart(3, '0')}-${r.operation ?? 'request'}.xml`);
    writeFileSync(f, r.body);
    return f;
  });
  return { ...validateFiles(files), files };
}

/**
 * Hooks for a suite that validates the responses it saves: skipped, with the reason, where validation cannot
 * run; otherwise a fresh folder for the files (`dir`, set by the before hook), removed after the suite.
 */
export function useValidationDir(prefix: string): { dir: string } {
  const env = { dir: '' };
  before(function () {
    const why = validationUnavailable();
    if (why) skipWith(this, why);
    env.dir = mkdtempSync(path.join(tmpdir(), prefix));
  });
  after(() => {
    if (env.dir) rmSync(env.dir, { recursive: true, force: true });
  });
  return env;
}

/**
 * The one way a test skips: because something it needs is missing here (a Debian package, the team's ../shared
 * folder, Node-RED 5, root for network namespaces, the build), saying what and how to get it. Locally it skips;
 * with CI=true it fails with the same reason, because CI (.ci/run) installs everything and has ../shared, so a
 * test that cannot run there is a broken install, not a warning. From a before hook it skips (or fails) the suite.
 */
export function skipWith(ctx: Mocha.Context, reason: string): never {
  if (process.env.CI === 'true') {
    throw new Error(`Cannot run on CI: ${reason.replace(/^\(?skipped: /, '')} (with CI=true every test must run; see test/output/*.log of .ci/run)`);
  }
  console.log(`      ${reason}`);
  ctx.skip();
  throw new Error('unreachable');
}
