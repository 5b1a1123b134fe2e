/**
 * Installing the release tarball the ways the README gives: `npm install <tarball>` in a user directory, and
 * the palette manager's *Upload module* (the admin API's POST /nodes with the tarball, as the editor sends it)
 * on a fresh Node-RED 4.1 and 5. The runtime dependencies come from a registry on 127.0.0.1
 * (local-registry.ts); nothing of the package itself is fetched.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describeOnEachNodeRed, NodeRedProcess, PACKAGE_NAME, REPO_ROOT, type HttpAnswer } from '../e2e/node-red-process';
import { LocalRegistry } from './local-registry';
import { runNpmAsync } from './npm';
import { packTarball } from './tarball';

const NODE_TYPES = Object.keys(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'))['node-red'].nodes).sort();

interface NodeSet {
  id: string;
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

/** Every node set of the package is loaded, without error, and together they register every node type. */
async function assertEveryNodeLoaded(red: NodeRedProcess): Promise<void> {
  const res = await red.request('GET', '/nodes');
  assert.equal(res.status, 200, res.body);
  const sets = res.json<NodeSet[]>().filter((s) => s.module === PACKAGE_NAME);
  const broken = sets.filter((s) => !s.enabled || s.err || s.types.length === 0);
  assert.deepEqual(broken, [], `node sets not loaded:\n${JSON.stringify(broken, null, 1)}\n${red.output.slice(-2000)}`);
  assert.deepEqual(sets.flatMap((s) => s.types).sort(), NODE_TYPES, `types registered by ${PACKAGE_NAME}`);
  // The editor's side of each node (its HTML) is served too.
  for (const s of sets) {
    const html = await red.request('GET', `/nodes/${s.id}`, undefined, { Accept: 'text/html' });
    assert.equal(html.status, 200, `GET /nodes/${s.id}`);
    assert.match(html.body, new RegExp(`registerType\\(['"]${s.types[0]}['"]`), `the editor HTML of ${s.id}`);
  }
}

/** The editor's *Upload module*: multipart/form-data with the file in the field `tarball`. */
function uploadModule(port: number, tarball: string): Promise<HttpAnswer> {
  const boundary = `----onvifq${crypto.randomBytes(8).toString('hex')}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="tarball"; filename="${path.basename(tarball)}"\r\n` +
      'Content-Type: application/gzip\r\n\r\n'),
    fs.readFileSync(tarball),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path: '/nodes',
      headers: {
        Accept: 'application/json',
        'Node-RED-API-Version': 'v2',
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': String(body.length),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    // npm runs inside the request: generous on a busy machine.
    req.setTimeout(240000, () => req.destroy(new Error('POST /nodes (upload) timed out')));
    req.end(body);
  });
}

/** What npm asked the registry for: only the dependencies, never the package itself. */
function assertOnlyDependenciesFetched(registry: LocalRegistry): void {
  const asked = [...new Set(registry.requests.map((p) => p.replace(/^\//, '').replace(/\/-\/.*$/, '')))].sort();
  assert.ok(asked.length > 0, 'npm fetched no dependency: did it use another registry or cache?');
  const unexpected = asked.filter((name) => !registry.names.includes(name));
  assert.deepEqual(unexpected, [], `npm asked the registry for more than the dependencies (${registry.names.join(', ')})`);
}

describe('npm install <tarball> into a fresh user directory', function () {
  this.timeout(240000);
  const registry = new LocalRegistry();
  let userDir = '';
  let red: NodeRedProcess | undefined;

  before(async function () {
    packTarball();
    await registry.start();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-userdir-'));
  });
  after(async function () {
    await red?.stop();
    await registry.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('installs from the tarball with only the dependencies from a registry, and Node-RED then loads every node', async function () {
    const tarball = packTarball().file;
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-user', private: true }));
    await runNpmAsync(['install', '--no-audit', '--no-fund', tarball], { cwd: userDir, env: { ...process.env, ...registry.npmEnv } });
    assertOnlyDependenciesFetched(registry);
    const installed = path.join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
    assert.equal(JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')).name, PACKAGE_NAME);
    const help = execFileSync(path.join(userDir, 'node_modules', '.bin', 'onvifq'), ['--help'], { cwd: userDir, encoding: 'utf8' });
    assert.match(help, /^Usage:\n {2}onvifq info /, 'the onvifq CLI is linked and runs');
    // The library loads from the install, with its dependencies from there (not the repo's).
    const lib = execFileSync(process.execPath, ['-e',
      `const m=require(${JSON.stringify(PACKAGE_NAME)});console.log(typeof m.OnvifDevice, require.resolve('rxjs').startsWith(${JSON.stringify(userDir)}))`],
    { cwd: userDir, encoding: 'utf8' });
    assert.equal(lib.trim(), 'function true');

    // Node-RED with this user directory (no nodesDir) finds the package in its node_modules.
    red = new NodeRedProcess([], undefined, { loadRepo: false, userDir });
    await red.start();
    await assertEveryNodeLoaded(red);
  });
});

describeOnEachNodeRed('Palette manager: Upload module of the tarball', (runtime) => {
  const registry = new LocalRegistry();
  let red: NodeRedProcess | undefined;

  before(async function () {
    this.timeout(240000);
    packTarball();
    await registry.start();
    // A fresh Node-RED: an empty user directory, the package not loaded from the repo.
    red = new NodeRedProcess([], runtime, { loadRepo: false, env: registry.npmEnv });
    await red.start();
  });
  after(async function () {
    await red?.stop();
    await registry.stop();
  });

  it('installs the uploaded tarball (POST /nodes, field "tarball") and loads every node', async function () {
    this.timeout(240000);
    const before = await red!.request('GET', '/nodes');
    assert.ok(!before.body.includes(PACKAGE_NAME), 'the fresh Node-RED does not have the package yet');
    const res = await uploadModule(red!.port, packTarball().file);
    assert.equal(res.status, 200, `upload answered ${res.status} ${res.body}\n${red!.output.slice(-3000)}`);
    const info = res.json<{ name: string; nodes: NodeSet[] }>();
    assert.equal(info.name, PACKAGE_NAME);
    assert.deepEqual(info.nodes.flatMap((n) => n.types).sort(), NODE_TYPES);
    assertOnlyDependenciesFetched(registry);
    await assertEveryNodeLoaded(red!);
    // Its example flows are offered under Import > Examples, as the README says.
    const examples = await red!.request('GET', `/library/examples/flows/${PACKAGE_NAME}/`);
    assert.equal(examples.status, 200, examples.body);
    const offered = examples.json<unknown[]>().filter((e): e is { fn: string } => typeof e === 'object' && e !== null && 'fn' in e).map((e) => e.fn);
    const shipped = fs.readdirSync(path.join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
    assert.deepEqual(offered.sort(), shipped.sort());
    // Installed the way the palette manager records it: in the user directory's package.json.
    const userPkg = JSON.parse(fs.readFileSync(path.join(red!.userDir, 'package.json'), 'utf8'));
    assert.ok(userPkg.dependencies?.[PACKAGE_NAME], `package.json of the user directory: ${JSON.stringify(userPkg)}`);
  });
});
