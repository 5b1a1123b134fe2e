/**
 * End to end: the three configure example flows, as shipped, in a real Node-RED on the built package, against
 * simulated devices. Only what a user would change is changed: addresses, credentials, the discover targets.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimulatedDevice } from '../../lib/simulator';
import { freeTcpPort, freeUdpPort } from '../support/ports';
import { NodeRedProcess, REPO_ROOT, assertBuilt, pressInject, type CommsClient } from './node-red-process';

const USERNAME = 'admin';
const PASSWORD = 'E2e-Fl33t-pass';
const NEW_ADMIN = 'E2e-N3w-admin-pw';

type FlowNode = Record<string, any> & { id: string; type: string };

function example(name: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', `${name}.json`), 'utf8'));
}

function byName(flow: FlowNode[], type: string, name?: string): FlowNode {
  const n = flow.find((x) => x.type === type && (name === undefined || x.name === name));
  assert.ok(n, `example has no ${type} ${name ?? ''}`);
  return n;
}

describe('e2e: the configure example flows in Node-RED', function () {
  this.timeout(90000);
  const sims: SimulatedDevice[] = [];
  let red: NodeRedProcess;
  let comms: CommsClient;
  let backupDir: string;

  before(async function () {
    assertBuilt();
    backupDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-e2e-backups-'));
    // The backup example reads its folder from the environment, as a user would set it.
    process.env.ONVIF_BACKUP_DIR = backupDir;
    red = new NodeRedProcess();
    await red.start();
    delete process.env.ONVIF_BACKUP_DIR;
    comms = await red.comms();
  });

  after(async function () {
    comms?.close();
    await red?.stop();
    await Promise.all(sims.map((s) => s.stop()));
    fs.rmSync(backupDir, { recursive: true, force: true });
  });

  async function sim(options: ConstructorParameters<typeof SimulatedDevice>[0] = {}): Promise<SimulatedDevice> {
    const s = new SimulatedDevice({ discovery: false, ...options });
    await s.start();
    sims.push(s);
    return s;
  }

  /** Deploy, then wait until the flows run (the configure node shows a status). */
  async function deploy(flow: FlowNode[]): Promise<void> {
    const configure = flow.find((n) => n.type === 'onvifq-configure')!;
    const started = comms.waitFor('the configure node started', (e) => e.topic === `status/${configure.id}`, 20000);
    await red.deploy(flow);
    await started;
  }

  async function debugMessages(debugId: string, count: number, trigger: () => Promise<void>): Promise<any[]> {
    const got: any[] = [];
    const all = (async () => {
      while (got.length < count) {
        const e = await comms.waitFor(`debug message ${got.length + 1}/${count} from ${debugId}`, (ev) => ev.topic === 'debug' && ev.data?.id === debugId && !got.includes(ev), 45000);
        got.push(e);
      }
    })();
    await trigger();
    await all;
    return got.map((e) => JSON.parse(e.data.msg));
  }

  it('inventory-fleet: one table row per device, failed devices as rows with their error', async () => {
    const a = await sim({ username: USERNAME, password: PASSWORD, deviceInformation: { SerialNumber: 'FLEET-A' } });
    const b = await sim({ username: USERNAME, password: PASSWORD, deviceInformation: { SerialNumber: 'FLEET-B' } });
    const away = `127.0.0.1:${await freeTcpPort()}`;
    const flow = example('inventory-fleet');
    const dev = byName(flow, 'onvifq-device');
    dev.address = a.xaddr;
    dev.timeout = 3;
    dev.credentials = { username: USERNAME, password: PASSWORD };
    const inject = byName(flow, 'inject', 'Read inventory');
    inject.payload = JSON.stringify([a.xaddr, b.xaddr, away]);
    await deploy(flow);
    const table = byName(flow, 'debug', 'inventory table');

    const [msg] = await debugMessages(table.id, 1, async () => {
      await pressInject(red.port, inject.id);
    });
    // The debug node shows msg.payload: the joined rows.
    const rows = msg as Array<Record<string, any>>;
    assert.equal(rows.length, 3, JSON.stringify(rows));
    const serials = rows.map((r) => r.serial).sort();
    assert.deepEqual(serials.filter(Boolean), ['FLEET-A', 'FLEET-B']);
    const failed = rows.find((r) => r.address === away);
    assert.ok(failed?.error, `the unreachable device has an error: ${JSON.stringify(failed)}`);
    const ok = rows.find((r) => r.serial === 'FLEET-A')!;
    assert.equal(ok.state, 'Operational');
    assert.match(ok.services, /device \d+\.\d+/);
  });

  it('backup-nightly: one backup file per device in ONVIF_BACKUP_DIR', async () => {
    const a = await sim({ username: USERNAME, password: PASSWORD });
    const b = await sim({ username: USERNAME, password: PASSWORD });
    const flow = example('backup-nightly');
    const dev = byName(flow, 'onvifq-device');
    dev.address = a.xaddr;
    dev.credentials = { username: USERNAME, password: PASSWORD };
    const inject = byName(flow, 'inject', 'Nightly at 02:00');
    assert.equal(inject.crontab, '00 02 * * *', 'runs nightly');
    inject.payload = JSON.stringify([a.xaddr, b.xaddr]);
    await deploy(flow);
    const saved = byName(flow, 'debug', 'saved');

    const msgs = await debugMessages(saved.id, 2, async () => {
      await pressInject(red.port, inject.id);
    });
    const day = new Date().toISOString().slice(0, 10);
    for (const s of [a, b]) {
      const file = path.join(backupDir, `127.0.0.1_${s.port}-${day}.bin`);
      // The debug node shows msg.payload: { bytes, file }.
      const m = msgs.find((x) => x.file === file);
      assert.ok(m, `${file} in ${JSON.stringify(msgs)}`);
      assert.equal(fs.statSync(file).size, m.bytes);
      assert.ok(m.bytes > 100);
    }
  });

  it('commission-factory-default: discovery finds the factory-default device and commissions it; the password stays out of the flow file', async () => {
    const discoveryPort = await freeUdpPort();
    const fresh = await sim({ discovery: { port: discoveryPort } });
    assert.equal(fresh.profileQState, 'FactoryDefault');
    const flow = example('commission-factory-default');
    const dev = byName(flow, 'onvifq-device');
    dev.address = fresh.xaddr;
    const discover = byName(flow, 'onvifq-discover');
    discover.targets = `127.0.0.1:${discoveryPort}`;
    const commission = byName(flow, 'onvifq-configure', 'commission');
    commission.credentials = { password: NEW_ADMIN };
    const inject = byName(flow, 'inject', 'Find and commission');
    await deploy(flow);
    const done = byName(flow, 'debug', 'commissioned');

    const [msg] = await debugMessages(done.id, 1, async () => {
      await pressInject(red.port, inject.id);
    });
    assert.equal(msg.payload.state, 'Operational', JSON.stringify(msg.payload));
    assert.deepEqual(msg.payload.steps.map((s: any) => s.step), ['admin', 'hostname', 'ntp', 'time']);
    assert.equal(fresh.profileQState, 'Operational');
    assert.match(fresh.state.hostname.name, /^cam-[0-9a-f]{6}$/);
    assert.equal(fresh.state.time.timeZone, 'CET-1CEST,M3.5.0,M10.5.0/3');

    const flows = await red.request('GET', '/flows');
    assert.ok(!flows.body.includes(NEW_ADMIN), 'password in GET /flows');
    for (const f of fs.readdirSync(red.userDir).filter((x) => x.endsWith('.json'))) {
      assert.ok(!fs.readFileSync(path.join(red.userDir, f), 'utf8').includes(NEW_ADMIN), `password readable in ${f}`);
    }
    assert.ok(!red.output.includes(NEW_ADMIN), 'password in the Node-RED log');
    const creds = await red.request('GET', `/credentials/onvifq-configure/${commission.id}`);
    assert.deepEqual(creds.json(), { has_password: true });
  });
});
