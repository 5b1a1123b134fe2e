/**
 * The release artifact (`npm pack`): what it holds, what it leaves out, its size; and the package.json
 * promises around it (the lock file npm would write, the Node-RED version claimed).
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NODE_RED_DEV, REPO_ROOT } from '../e2e/node-red-process';
import { runNpm } from './npm';
import { packTarball } from './tarball';

/** Budgets with room for the firmware and apps nodes; raise them knowingly, never to hide a stray folder. */
// Firmware, App Management and TLS (issues 12-14) took it from about 330 to 510 KB packed; the budget leaves room
// for the apps node, and a jump past it means something that should not ship got in.
const MAX_TARBALL_BYTES = 600 * 1024;
const MAX_UNPACKED_BYTES = 2400 * 1024;

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));

describe('npm pack: the release tarball', function () {
  this.timeout(60000);

  it('holds LICENSE, README, package.json, every example flow, the icons and every node of node-red.nodes', function () {
    const files = new Set(packTarball().files.map((f) => f.path));
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/simulator/index.js']) {
      assert.ok(files.has(f), `${f} is missing from the tarball`);
    }
    for (const f of fs.readdirSync(path.join(REPO_ROOT, 'examples')).filter((n) => n.endsWith('.json'))) {
      assert.ok(files.has(`examples/${f}`), `examples/${f} is missing from the tarball`);
    }
    for (const f of fs.readdirSync(path.join(REPO_ROOT, 'icons'))) assert.ok(files.has(`icons/${f}`), `icons/${f} is missing`);
    for (const [type, js] of Object.entries<string>(pkg['node-red'].nodes)) {
      const html = js.replace(/\.js$/, '.html');
      const locale = path.posix.join(path.posix.dirname(js), 'locales', 'en-US', `${type}.json`);
      for (const f of [js, html, locale]) assert.ok(files.has(f), `${f} (node ${type}) is missing from the tarball`);
    }
    for (const bin of Object.values<string>(pkg.bin)) assert.ok(files.has(bin), `the CLI ${bin} is missing`);
  });

  it('leaves out tests, fixtures, TypeScript sources, source maps and maintainer tools', function () {
    const stray = packTarball().files.map((f) => f.path).filter((f) =>
      /^(test|tools|lib|nodes|\.ci|\.demo|node_modules)\//.test(f) ||
      /(^|\/)(fixtures?|captures?)\//.test(f) ||
      /\.spec\.[jt]s$/.test(f) ||
      (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) ||
      /\.map$/.test(f));
    assert.deepEqual(stray, [], `files that should not ship:\n${stray.join('\n')}`);
  });

  it(`stays within its size budget (${MAX_TARBALL_BYTES / 1024} KB packed, ${MAX_UNPACKED_BYTES / 1024} KB unpacked)`, function () {
    const t = packTarball();
    const biggest = [...t.files].sort((a, b) => b.size - a.size).slice(0, 5).map((f) => `${f.path} ${f.size}`).join(', ');
    assert.ok(t.size <= MAX_TARBALL_BYTES, `the tarball is ${t.size} bytes, over the budget of ${MAX_TARBALL_BYTES} (biggest: ${biggest})`);
    assert.ok(t.unpackedSize <= MAX_UNPACKED_BYTES, `unpacked ${t.unpackedSize} bytes, over the budget of ${MAX_UNPACKED_BYTES} (biggest: ${biggest})`);
  });
});

describe('package.json promises', function () {
  this.timeout(60000);

  it('npm install writes the committed package-lock.json unchanged (package.json and the lock agree)', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-lock-'));
    try {
      for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(REPO_ROOT, f), path.join(dir, f));
      // --offline: a lock that agrees with package.json needs nothing from the registry; one that does not
      // fails here (ENOTCACHED) or is rewritten, and either way the test says so.
      try {
        runNpm(['install', '--package-lock-only', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir });
      } catch (e) {
        assert.fail(`npm could not confirm the lock file offline: package.json and package-lock.json disagree. Run "npm install" and commit the lock.\n${(e as { stderr?: string }).stderr ?? e}`);
      }
      const committed = fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8');
      const written = fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8');
      if (written !== committed) {
        const a = committed.split('\n');
        const b = written.split('\n');
        const first = a.findIndex((line, i) => line !== b[i]);
        assert.fail(`npm install changes package-lock.json from line ${first + 1}:\n- ${a.slice(first, first + 5).join('\n- ')}\n+ ${b.slice(first, first + 5).join('\n+ ')}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('claims the Node-RED version the tests run on (node-red.version starts at the devDependency Node-RED)', function () {
    const claimed = /^>=(\d+)\.(\d+)\.\d+$/.exec(pkg['node-red'].version);
    assert.ok(claimed, `node-red.version is "${pkg['node-red'].version}", expected ">=X.Y.Z"`);
    const tested = /Node-RED (\d+)\.(\d+)\./.exec(NODE_RED_DEV.label)!;
    assert.deepEqual([claimed[1], claimed[2]], [tested[1], tested[2]],
      `node-red.version claims ${pkg['node-red'].version} but the oldest Node-RED the tests run is ${NODE_RED_DEV.label}`);
  });

  it('ships the license package.json names', function () {
    assert.equal(pkg.license, 'Apache-2.0');
    assert.match(fs.readFileSync(path.join(REPO_ROOT, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
  });
});
