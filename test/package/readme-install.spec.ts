/**
 * The README's "Install" section, followed as written in fresh directories: its first `sh` block in a checkout
 * (a `git archive` of HEAD), its second in a fresh home directory's `~/.node-red`, then Node-RED started on that
 * user directory. What differs from a user's machine, and only that: the checkout's `npm install` (it fetches the
 * devDependencies from the public registry, which tests may not reach) is replaced by linking the repo's installed
 * node_modules; `/path/to/` is the checkout; npm reaches a registry on 127.0.0.1 through its environment
 * (npm_config_registry), never through a changed command. The file name and the size the README gives are
 * checked against what `npm pack` wrote.
 */
import { strict as assert } from 'node:assert';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeRedProcess, PACKAGE_NAME, REPO_ROOT, assertBuilt } from '../e2e/node-red-process';
import { readmeShellBlocks } from '../support/readme';
import { LocalRegistry } from './local-registry';
import { userNpmCli } from './npm';

const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const NODE_TYPES = Object.keys(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'))['node-red'].nodes).sort();

/** Run lines as one shell script (a `cd` holds for the lines after it); rejects with the output on failure. */
function shell(lines: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-ec', lines.join('\n')], { cwd, env, timeout: 540000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${lines.join('; ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('README: the Install section, as written', function () {
  this.timeout(600000);
  const registry = new LocalRegistry();
  let work = '';
  let checkout = '';
  let home = '';
  let env: NodeJS.ProcessEnv = {};
  let red: NodeRedProcess | undefined;
  const blocks = readmeShellBlocks('Install');
  // `onvifq-node-red-onvif-0.1.0.tgz` (about 330 KB: ...
  const claim = /`([^`\s]+\.tgz)` \(about (\d+) KB/.exec(README.slice(README.indexOf('## Install\n')));

  before(async function () {
    assertBuilt();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-readme-install-'));
    checkout = path.join(work, 'node-red-onvif');
    home = path.join(work, 'home');
    fs.mkdirSync(checkout);
    fs.mkdirSync(home);
    execFileSync('sh', ['-c', `git archive HEAD | tar -x -C '${checkout}'`], { cwd: REPO_ROOT });
    // The user's npm first on PATH (under npx the repo's node_modules/.bin holds Node-RED's older npm).
    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\nexec '${process.execPath}' '${userNpmCli()}' "$@"\n`, { mode: 0o755 });
    await registry.start();
    env = { ...process.env, HOME: home, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, ...registry.npmEnv };
    for (const k of Object.keys(env)) if (k.startsWith('npm_') && !(k in registry.npmEnv)) delete env[k];
  });
  after(async function () {
    await red?.stop();
    await registry.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('has the two command blocks the test follows, and names the tarball with its size', function () {
    assert.equal(blocks.length, 2, `sh blocks of "## Install": ${JSON.stringify(blocks)}`);
    assert.ok(claim, 'the Install section names the .tgz and its size ("`x.tgz` (about N KB")');
  });

  it('in a checkout, `npm install` then `npm pack` writes the tarball the README names, of about the size it says', async function () {
    const [install, ...pack] = blocks[0]!;
    assert.equal(install, 'npm install', 'the first line installs the checkout\'s dependencies');
    // The checkout's dependencies, as `npm install` would leave them (see the file comment).
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(checkout, 'node_modules'), 'dir');
    assert.ok(!fs.existsSync(path.join(checkout, 'dist')), 'a checkout has no build: npm pack must make it');
    await shell(pack, checkout, env);
    const [file, kb] = [claim![1]!, Number(claim![2])];
    const tarball = path.join(checkout, file);
    assert.ok(fs.existsSync(tarball), `npm pack wrote ${fs.readdirSync(checkout).filter((f) => f.endsWith('.tgz')).join(', ') || 'no .tgz'}, the README says ${file}`);
    const size = fs.statSync(tarball).size / 1024;
    assert.ok(Math.abs(size - kb) <= kb * 0.15, `the tarball is ${size.toFixed(0)} KB, the README says about ${kb} KB`);
    // What the README says is in it.
    const listed = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    for (const part of ['package/dist/lib/', 'package/dist/nodes/', 'package/examples/', 'package/icons/', 'package/README.md', 'package/LICENSE']) {
      assert.ok(listed.some((f) => f.startsWith(part)), `the tarball has ${part}`);
    }
  });

  it('in ~/.node-red, `npm install /path/to/<tarball>`; restarted, Node-RED lists every node and the examples', async function () {
    const [file] = [claim![1]!];
    assert.ok(fs.existsSync(path.join(checkout, file)), 'the previous step made the tarball');
    // A Node-RED user directory as Node-RED leaves it after its first start.
    const userDir = path.join(home, '.node-red');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'package.json'),
      JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true }, null, 4));
    const lines = blocks[1]!.map((l) => l.replace('/path/to/', `${checkout}/`));
    assert.ok(lines.some((l) => l.includes(`${checkout}/${file}`)), `the block installs ${file} from /path/to/: ${JSON.stringify(blocks[1])}`);
    await shell(lines, home, env);
    // Offline apart from the dependencies: npm fetched from the registry only what the package depends on.
    const asked = [...new Set(registry.requests.map((p) => p.replace(/^\//, '').replace(/\/-\/.*$/, '')))];
    assert.ok(asked.length > 0, 'npm fetched no dependency from the registry on 127.0.0.1 (another registry or cache?)');
    assert.deepEqual(asked.filter((n) => !registry.names.includes(n)), [], 'npm asked the registry for more than the dependencies');
    const installed = path.join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'), 'package.json');
    assert.equal(JSON.parse(fs.readFileSync(installed, 'utf8')).name, PACKAGE_NAME, `installed under ${userDir}`);

    red = new NodeRedProcess([], undefined, { loadRepo: false, userDir });
    await red.start();
    const nodes = await red.request('GET', '/nodes');
    assert.equal(nodes.status, 200, nodes.body);
    const sets = nodes.json<Array<{ module: string; types: string[]; enabled: boolean; err?: string }>>().filter((s) => s.module === PACKAGE_NAME);
    assert.deepEqual(sets.filter((s) => !s.enabled || s.err), [], 'node sets that did not load');
    assert.deepEqual(sets.flatMap((s) => s.types).sort(), NODE_TYPES, `node types of ${PACKAGE_NAME} in the palette\n${red.output.slice(-2000)}`);
    const examples = await red.request('GET', `/library/examples/flows/${PACKAGE_NAME}/`);
    assert.equal(examples.status, 200, examples.body);
    assert.match(examples.body, /"fn":"home-assistant-mqtt"/, 'Import > Examples offers the package\'s flows');
  });
});
