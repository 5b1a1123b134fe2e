#!/usr/bin/env node
/*
 * `npm start` builds first, but only when a source changed since the last build: a fingerprint of every file the
 * build reads (content, not times, so a checkout or a touch does not count) is kept in dist/.source-fingerprint.
 * Plain Node, no dependencies. `--check` prints whether a build is needed and exits 0 (fresh) or 1 (stale).
 */
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
/** What `npm run build` reads: the TypeScript sources, the node editor files, the icons, the build tools and settings. */
const INPUTS = ['lib', 'nodes', 'icons', 'tools', 'tsconfig.json', 'package.json'];
const STAMP = path.join(root, 'dist', '.source-fingerprint');

function files(entry) {
  const full = path.join(root, entry);
  if (!fs.existsSync(full)) return [];
  if (fs.statSync(full).isFile()) return [entry];
  return fs.readdirSync(full, { withFileTypes: true }).flatMap((d) => files(path.join(entry, d.name)));
}

function fingerprint() {
  const hash = crypto.createHash('sha256');
  for (const file of INPUTS.flatMap(files).sort()) {
    hash.update(`${file}\0`);
    hash.update(fs.readFileSync(path.join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

const current = fingerprint();
const built = fs.existsSync(STAMP) ? fs.readFileSync(STAMP, 'utf8').trim() : '';
const fresh = built === current && fs.existsSync(path.join(root, 'dist', 'lib', 'simulator', 'index.js'));
if (process.argv.includes('--check')) {
  console.log(fresh ? 'build is up to date' : 'build needed');
  process.exit(fresh ? 0 : 1);
}
if (fresh) {
  console.log('onvifq: the build is up to date (no source changed), starting.');
  process.exit(0);
}
console.log(built ? 'onvifq: sources changed since the last build, building.' : 'onvifq: building.');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const result = spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
fs.writeFileSync(STAMP, `${current}\n`);
