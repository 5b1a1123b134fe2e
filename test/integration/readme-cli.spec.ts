/**
 * The README's "Terminal client and simulator" section, run as written: each `sh` block, in order. A block that
 * starts `npx onvifq-sim` starts that simulator; every other line runs in a shell against the simulators started
 * so far. What a user's `npx` finds after installing the package is the built CLI, so `npx onvifq` and
 * `npx onvifq-sim` become `node dist/...`; the README's ports become free ones (the same offsets), and the
 * simulators and `discover` get a free WS-Discovery port instead of 3702. Nothing else is changed, so the test
 * fails when the README and the CLI drift apart.
 */
import { strict as assert } from 'node:assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SimulatedDevice } from '../../lib/simulator';
import { assertBuilt } from '../e2e/node-red-process';
import { freeTcpPort, freeUdpPort } from '../support/ports';
import { readmeShellBlocks } from '../support/readme';
import { REPO } from '../support/shared';

const ONVIFQ = path.join(REPO, 'dist', 'lib', 'cli', 'onvifq.js');
const ONVIFQ_SIM = path.join(REPO, 'dist', 'lib', 'simulator', 'cli.js');

/** The CLI's environment without whatever the test runner had set. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('ONVIFQ_')) delete env[k];
  return env;
}

function sh(script: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', script], { cwd, env: cleanEnv(), timeout: 60000, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A base port with the next 20 free, so the README's 8080 and 8090-8092 keep their offsets. */
async function freePortRange(): Promise<number> {
  for (;;) {
    const base = await freeTcpPort();
    if (base > 65000) continue;
    const free = await Promise.all(Array.from({ length: 20 }, (_, i) => new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(base + i, '127.0.0.1', () => s.close(() => resolve(true)));
    })));
    if (free.every(Boolean)) return base;
  }
}

interface Ran {
  line: string;
  code: number;
  stdout: string;
  stderr: string;
}

describe('README: the terminal client and simulator examples, as written', function () {
  this.timeout(180000);
  const blocks = readmeShellBlocks('Terminal client and simulator');
  const sims: ChildProcess[] = [];
  let dir = '';
  const ran: Ran[] = [];

  before(async function () {
    assertBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-readme-cli-'));
  });
  after(async function () {
    await Promise.all(sims.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null) return resolve();
      c.once('close', () => resolve());
      c.kill('SIGINT');
    })));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts every simulator and runs every command without an error', async function () {
    assert.ok(blocks.length >= 2, 'the section has a simulator block and a command block');
    const base = await freePortRange();
    const port = (text: string) => text.replace(/\b80(\d\d)\b/g, (_, n: string) => String(base + Number(n) - 80));
    let discoveryPort = 0;
    let exports = '';
    for (const block of blocks) {
      for (const line of block) {
        const simulator = /^npx onvifq-sim\b/.test(line);
        let command = port(line).replace(/\bnpx onvifq-sim\b/g, `node '${ONVIFQ_SIM}'`).replace(/\bnpx onvifq\b/g, `node '${ONVIFQ}'`);
        if (simulator) {
          discoveryPort = await freeUdpPort();
          command = command.replace(/(\s*#.*)?$/, ` --discovery-port ${discoveryPort}`);
          const devices = Number(/--devices (\d+)/.exec(line)?.[1] ?? 1);
          const child = spawn('sh', ['-c', `exec ${command}`], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
          sims.push(child);
          let out = '';
          child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
          await new Promise<void>((resolve, reject) => {
            child.stdout!.on('data', (d: Buffer) => {
              out += d.toString();
              if ((out.match(/"xaddr"/g) ?? []).length >= devices) resolve();
            });
            child.once('exit', (code) => reject(new Error(`"${line}" exited (${code}): ${out}`)));
          });
          continue;
        }
        if (/^export /.test(line)) {
          exports += `${command.replace(/\s*#.*$/, '')}; `;
          continue;
        }
        if (/\bdiscover\b/.test(line)) command = command.replace(/(\s*#.*)?$/, ` --port ${discoveryPort}`);
        const r = await sh(exports + command, dir);
        ran.push({ line, ...r });
        assert.equal(r.code, 0, `README command failed: ${line}\nexit ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(0, 500)}`);
        // Every command answers in JSON: one document, or one per line.
        const out = r.stdout.trim();
        assert.ok(out, `"${line}" printed nothing`);
        try {
          JSON.parse(out);
        } catch {
          for (const l of out.split('\n')) assert.doesNotThrow(() => JSON.parse(l), `"${line}" printed a line that is not JSON: ${l}`);
        }
      }
    }
    assert.ok(ran.length >= 8, `ran ${ran.length} commands`);
  });

  it('info prints what its README comment lists', function () {
    const r = ran.find((x) => /onvifq info .*--password/.test(x.line));
    assert.ok(r, 'the README shows info with credentials');
    const comment = /#\s*(?:as JSON:)?(.*)$/.exec(r.line)![1]!;
    const printed = JSON.parse(r.stdout);
    const keys = Object.keys(printed).map((k) => k.toLowerCase());
    // Each thing the comment names is a key of the printed JSON (whatever its case).
    const words: Record<string, RegExp> = {
      manufacturer: /^manufacturer$/, model: /^model$/, firmware: /^firmware/, serial: /^serial/, 'profile q state': /^profileqstate$/,
      authentication: /^auth/, 'clock offset': /^clockoffset/, scopes: /^scopes$/, services: /^services$/, capabilities: /^capabilities$/,
    };
    const named = comment.split(',').map((w) => w.trim().toLowerCase()).filter(Boolean);
    assert.ok(named.length >= 5, `the comment lists what info prints: "${comment}"`);
    for (const w of named) {
      const pattern = words[w];
      assert.ok(pattern, `the README says info prints "${w}": the test does not know that field (add it here)`);
      assert.ok(keys.some((k) => pattern.test(k)), `the README says info prints "${w}" but the JSON has only ${Object.keys(printed).join(', ')}`);
    }
  });

  it('the backup example wrote its file, and the commission example made the device Operational', function () {
    assert.ok(fs.statSync(path.join(dir, 'lobby-cam.bin')).size > 0, 'lobby-cam.bin written by the backup example');
    const commission = ran.find((x) => /\bcommission\b/.test(x.line));
    assert.ok(commission, 'the README shows commission');
    assert.match(commission.stdout, /Operational|"ok": true/);
  });
});

describe('onvifq: a user without a password', function () {
  this.timeout(60000);
  let sim: SimulatedDevice;
  before(async function () {
    assertBuilt();
    sim = new SimulatedDevice({ username: 'admin', password: 'Adm1n-secret', discovery: false });
    await sim.start();
  });
  after(() => sim?.stop());

  it('task backup -u admin without a password says "no password given" and sends nothing', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-nopw-'));
    try {
      sim.clearRequests();
      const r = await sh(`node '${ONVIFQ}' task ${sim.xaddr} backup '{"file": "cam.bin"}' -u admin`, dir);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^onvifq: no password given for user 'admin': add --password P, or set ONVIFQ_PASSWORD/);
      assert.deepEqual(sim.requests, [], 'nothing reached the device');
      assert.ok(!fs.existsSync(path.join(dir, 'cam.bin')));
      // An account without a password is still possible, said explicitly.
      const empty = await sh(`node '${ONVIFQ}' info ${sim.xaddr} -u admin --password ''`, dir);
      assert.doesNotMatch(empty.stderr, /no password given/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
