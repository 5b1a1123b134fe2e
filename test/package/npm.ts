/**
 * The user's own npm, as the tests must run it. Under `npm test`/`npx`, PATH starts with node_modules/.bin,
 * where Node-RED's dependency npm 10 sits; that npm writes a different lock file (it drops the `libc`
 * fields npm 11 keeps), so `npm` from PATH would test the wrong tool.
 */
import { execFile, execFileSync, type ExecFileOptions, type ExecFileSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../e2e/node-red-process';

let found: string | undefined;

/** Path of the npm-cli.js that launched the tests, or the first npm on PATH outside the repo's node_modules. */
export function userNpmCli(): string {
  if (found) return found;
  const launched = process.env.npm_execpath;
  if (launched && /np[mx]-cli\.js$/.test(launched)) {
    found = path.join(path.dirname(launched), 'npm-cli.js');
    return found;
  }
  const ownBins = path.join(REPO_ROOT, 'node_modules');
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'npm');
    if (!dir || path.resolve(dir).startsWith(ownBins) || !fs.existsSync(candidate)) continue;
    found = fs.realpathSync(candidate);
    return found;
  }
  throw new Error('npm not found on PATH (outside the repo\'s node_modules)');
}

/** Run the user's npm; returns stdout. */
export function runNpm(args: string[], options: ExecFileSyncOptions = {}): string {
  return execFileSync(process.execPath, [userNpmCli(), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options }) as string;
}

/**
 * Run the user's npm without blocking this process: needed whenever npm talks to a server this process runs
 * (the local registry). Resolves with stdout; rejects with npm's stderr.
 */
export function runNpmAsync(args: string[], options: ExecFileOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [userNpmCli(), ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 180000, ...options }, (err, stdout, stderr) => {
      if (err) reject(new Error(`npm ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(String(stdout));
    });
  });
}
