import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from '../../lib/simulator/cli';
import { challenges, envelope, post, textOf } from './client';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'lib', 'simulator', 'cli.ts');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function run(args: string[]): ChildProcess {
  return spawn(TSX, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

function lines(child: ChildProcess, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const out: string[] = [];
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (l) => {
      out.push(l);
      if (out.length === count) {
        rl.close();
        resolve(out);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} after ${out.length} lines`)));
  });
}

async function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('simulator: onvifq-sim command', function () {
  this.timeout(30_000);

  it('starts several devices, prints one JSON line each, and stops with exit 0 on SIGTERM', async () => {
    const child = run(['--devices', '2', '--username', 'admin', '--password', 'Cli-Pass-1', '--auth', 'digest']);
    const exited = exitOf(child);
    const out = (await lines(child, 2)).map((l) => JSON.parse(l) as { xaddr: string; endpoint: string });
    assert.equal(out.length, 2);
    assert.notEqual(out[0]!.xaddr, out[1]!.xaddr);
    assert.notEqual(out[0]!.endpoint, out[1]!.endpoint);
    for (const d of out) {
      assert.match(d.xaddr, /^http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service$/);
      assert.match(d.endpoint, /^urn:uuid:/);
      assert.equal(textOf(await post(d.xaddr, envelope('GetEndpointReference')), 'GUID'), d.endpoint);
      const r = await post(d.xaddr, envelope('GetDeviceInformation'));
      assert.equal(r.status, 401, 'Operational with the admin from the command line');
      assert.equal(challenges(r).length, 2);
    }
    child.kill('SIGTERM');
    const { code, stderr } = await exited;
    assert.equal(code, 0);
    assert.ok(!stderr.includes('Cli-Pass-1'));
    await assert.rejects(post(out[0]!.xaddr, envelope('GetHostname')), /ECONNREFUSED/);
  });

  it('--port gives consecutive ports; SIGINT also stops it cleanly', async () => {
    // --port needs a fixed port by design; a random high base keeps clashes with other runs unlikely.
    const base = 20000 + Math.floor(Math.random() * 20000);
    const child = run(['--port', String(base), '--devices', '2', '--skew', '60000', '--latency', '10']);
    const exited = exitOf(child);
    const out = (await lines(child, 2)).map((l) => JSON.parse(l) as { xaddr: string });
    assert.deepEqual(out.map((o) => new URL(o.xaddr).port), [String(base), String(base + 1)]);
    child.kill('SIGINT');
    assert.equal((await exited).code, 0);
  });

  it('--help prints usage and exits 0', async () => {
    const child = run(['--help']);
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    const { code } = await exitOf(child);
    assert.equal(code, 0);
    assert.match(stdout, /Usage: onvifq-sim/);
    assert.match(stdout, /--default-admin U/);
    assert.match(stdout, /--reboot-on-commission/);
  });

  it('--default-admin and --reboot-on-commission reach the simulator options', () => {
    const parsed = parseArgs(['--default-admin', 'root', '--reboot-on-commission']);
    assert.deepEqual(parsed, { help: false, count: 1, options: { defaultAdmin: 'root', rebootOnCommission: true } });
  });

  for (const args of [['--bogus'], ['--port', 'abc'], ['--auth', 'kerberos'], ['--username', 'admin'], ['--devices'], ['--default-admin']]) {
    it(`bad flags (${args.join(' ')}) → one line on stderr, exit 2`, async () => {
      const { code, stderr } = await exitOf(run(args));
      assert.equal(code, 2);
      assert.equal(stderr.trim().split('\n').filter((l) => !l.startsWith('npm warn')).length, 1, stderr);
      assert.match(stderr, /^onvifq-sim: /m);
    });
  }
});
