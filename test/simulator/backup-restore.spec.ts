import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { request } from 'node:http';
import { SimulatedDevice } from '../../lib/simulator';
import { clockPast } from '../support/wait';
import { challenges, digestCall, digestHeader, envelope, textOf, type DigestSession } from './client';

const ADMIN = { username: 'admin', password: 'Adm1n-secret' };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function http(url: string, method: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method, agent: false, headers: { ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** GET or POST with HTTP digest: the first try draws the challenge, the second answers it. */
async function withDigest(url: string, method: string, user: { username: string; password: string }, headers: Record<string, string> = {}, body?: Buffer): Promise<Answer> {
  const first = await http(url, method, headers, body);
  if (first.status !== 401) return first;
  const challenge = challenges({ status: 401, headers: first.headers, rawHeaders: rawHeadersOf(first), body: '' })[0]!;
  const session: DigestSession = { challenge, nc: 0 };
  return http(url, method, { ...headers, Authorization: digestHeader(session, user.username, user.password, new URL(url).pathname, method) }, body);
}

function rawHeadersOf(a: Answer): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(a.headers)) for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined) out.push(k, x);
  return out;
}

async function soap(dev: SimulatedDevice, op: string, inner = '', user = ADMIN) {
  return digestCall(dev.xaddr, envelope(op, inner), user.username, user.password);
}

async function systemUris(dev: SimulatedDevice): Promise<string> {
  const r = await soap(dev, 'GetSystemUris');
  assert.equal(r.status, 200, r.body);
  return textOf(r, 'SystemBackupUri')!;
}

async function startRestore(dev: SimulatedDevice): Promise<{ uploadUri: string; downTime: string }> {
  const r = await soap(dev, 'StartSystemRestore');
  assert.equal(r.status, 200, r.body);
  return { uploadUri: textOf(r, 'UploadUri')!, downTime: textOf(r, 'ExpectedDownTime')! };
}

const octets = { 'Content-Type': 'application/octet-stream' };

describe('simulator: configuration backup and restore over HTTP', function () {
  this.timeout(30_000);
  const devices: SimulatedDevice[] = [];
  const start = async (o: ConstructorParameters<typeof SimulatedDevice>[0] = {}) => {
    const d = new SimulatedDevice({ ...ADMIN, rebootDowntimeMs: 300, processorUsageIntervalMs: 0, discovery: false, ...o });
    await d.start();
    devices.push(d);
    return d;
  };
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.stop()));
  });

  it('signals HTTP backup in both capability forms and gives the backup URI at the address the caller used', async () => {
    const dev = await start();
    const caps = await soap(dev, 'GetServiceCapabilities');
    assert.match(caps.body, /HttpSystemBackup="true"/);
    assert.match(caps.body, /SystemBackup="false"/, 'no MTOM backup');
    assert.match(caps.body, /AccessPolicyConfig="true"/);
    const legacy = await soap(dev, 'GetCapabilities', '<tds:Category>All</tds:Category>');
    assert.equal(textOf(legacy, 'HttpSystemBackup'), 'true');
    assert.equal(await systemUris(dev), `http://127.0.0.1:${dev.port}/onvifq/backup`);
  });

  it('the backup needs an Administrator with digest, is octet-stream, leaves out identity and updates Monitoring/Backup/Last', async () => {
    const dev = await start();
    const uri = await systemUris(dev);
    assert.equal((await soap(dev, 'CreateUsers', '<tds:User><tt:Username>oper</tt:Username><tt:Password>Oper-pass1</tt:Password><tt:UserLevel>Operator</tt:UserLevel></tds:User>')).status, 200);
    const anonymous = await http(uri, 'GET');
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /Digest realm=/);
    assert.equal((await withDigest(uri, 'GET', { username: 'oper', password: 'Oper-pass1' })).status, 403);
    assert.equal((await withDigest(uri, 'GET', { ...ADMIN, password: 'wrong-password' })).status, 401);
    const lastBefore = dev.stateSnapshot() as { events: { properties: Array<{ topic: string; data: Record<string, string> }> } };
    assert.equal(lastBefore.events.properties.find((p) => p.topic === 'tns1:Monitoring/Backup/Last')!.data.Status, '1970-01-01T00:00:00Z');
    const got = await withDigest(uri, 'GET', ADMIN);
    assert.equal(got.status, 200);
    assert.equal(got.headers['content-type'], 'application/octet-stream');
    const text = got.body.toString('utf8');
    assert.ok(!text.includes(dev.state.uuid), 'no device uuid in the backup');
    assert.ok(!text.includes(dev.state.deviceInformation.SerialNumber), 'no serial number');
    assert.ok(!text.includes(dev.state.networkInterface.hwAddress), 'no MAC address');
    assert.ok(text.includes('oper'), 'users are carried');
    const after = dev.stateSnapshot() as typeof lastBefore;
    const status = after.events.properties.find((p) => p.topic === 'tns1:Monitoring/Backup/Last')!.data.Status!;
    assert.ok(Math.abs(Date.parse(status) - Date.now()) < 5000, `Backup/Last ${status} is now`);
    assert.equal((await http(uri, 'POST', octets, Buffer.from('x'))).status, 405);
  });

  it("a backup of A restored onto B gives B A's configuration, keeps B's identity and address, and restarts B", async () => {
    const a = await start({ deviceInformation: { Model: 'SimQ-1' } });
    const b = await start({ deviceInformation: { Model: 'SimQ-1' } });
    const configure = [
      ['SetHostname', '<tds:Name>garage-a</tds:Name>'],
      ['AddScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/garage</tds:ScopeItem>'],
      ['SetNTP', '<tds:FromDHCP>false</tds:FromDHCP><tds:NTPManual><tt:Type>DNS</tt:Type><tt:DNSname>ntp.example.org</tt:DNSname></tds:NTPManual>'],
      ['SetDiscoveryMode', '<tds:DiscoveryMode>NonDiscoverable</tds:DiscoveryMode>'],
      ['CreateUsers', '<tds:User><tt:Username>viewer</tt:Username><tt:Password>View-pass1</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User>'],
      ['SetSystemDateAndTime', '<tds:DateTimeType>Manual</tds:DateTimeType><tds:DaylightSavings>true</tds:DaylightSavings><tds:TimeZone><tt:TZ>CET-1CEST,M3.5.0,M10.5.0/3</tt:TZ></tds:TimeZone>'],
    ] as const;
    for (const [op, inner] of configure) assert.equal((await soap(a, op, inner)).status, 200, op);
    const backup = await withDigest(await systemUris(a), 'GET', ADMIN);
    assert.equal(backup.status, 200);

    const identity = { uuid: b.state.uuid, serial: b.state.deviceInformation.SerialNumber, mac: b.state.networkInterface.hwAddress, port: b.port, ipv4: structuredClone(b.state.networkInterface.ipv4) };
    const { uploadUri, downTime } = await startRestore(b);
    assert.match(uploadUri, new RegExp(`^http://127\\.0\\.0\\.1:${b.port}/onvifq/restore/[0-9a-f]{32}$`));
    assert.equal(downTime, 'PT1S');
    const rebooting = once(b, 'reboot');
    const back = once(b, 'ready');
    const restored = await withDigest(uploadUri, 'POST', ADMIN, octets, backup.body);
    assert.equal(restored.status, 200, restored.body.toString());
    await rebooting;
    await assert.rejects(http(b.xaddr, 'POST', {}, Buffer.from('')), /ECONNREFUSED/, 'away while it restarts');
    await back;

    const config = (d: SimulatedDevice) => (d.stateSnapshot() as { configuration: unknown }).configuration;
    assert.deepEqual(config(b), config(a));
    assert.equal(textOf(await soap(b, 'GetHostname'), 'Name'), 'garage-a');
    assert.equal(b.state.uuid, identity.uuid);
    assert.equal(b.state.deviceInformation.SerialNumber, identity.serial);
    assert.equal(b.state.networkInterface.hwAddress, identity.mac);
    assert.deepEqual(b.state.networkInterface.ipv4, identity.ipv4);
    assert.equal(b.port, identity.port);
    assert.deepEqual(b.state.protocols.find((p) => p.name === 'HTTP')!.ports, [identity.port]);
    assert.equal((await soap(b, 'GetUsers', '', { username: 'viewer', password: 'View-pass1' })).status, 400, 'the restored viewer exists (and may not list users)');
  });

  it('refuses what is not a backup (415), a used, unknown or expired upload URI (404), the wrong content type and oversized files', async () => {
    const dev = await start({ restoreUploadLifetimeMs: 300, maxRestoreBytes: 64 * 1024 });
    const stateBefore = JSON.stringify(dev.state);
    let { uploadUri } = await startRestore(dev);
    const notBackup = await withDigest(uploadUri, 'POST', ADMIN, octets, Buffer.from('GIF89a not a configuration'));
    assert.equal(notBackup.status, 415);
    assert.match(notBackup.body.toString(), /not a backup/);
    assert.equal((await withDigest(uploadUri, 'POST', ADMIN, octets, Buffer.from('{}'))).status, 404, 'single use');
    assert.equal((await withDigest(uploadUri.replace(/[0-9a-f]{32}$/, '0'.repeat(32)), 'POST', ADMIN, octets, Buffer.from('{}'))).status, 404);

    const otherModel = new SimulatedDevice({ ...ADMIN, deviceInformation: { Model: 'Other-9' }, discovery: false });
    await otherModel.start();
    devices.push(otherModel);
    const foreign = await withDigest(await systemUris(otherModel), 'GET', ADMIN);
    ({ uploadUri } = await startRestore(dev));
    const wrongModel = await withDigest(uploadUri, 'POST', ADMIN, octets, foreign.body);
    assert.equal(wrongModel.status, 415);
    assert.match(wrongModel.body.toString(), /model Other-9/);

    const own = await withDigest(await systemUris(dev), 'GET', ADMIN);
    const damaged = JSON.parse(own.body.toString()) as { configuration: { users: unknown } };
    damaged.configuration.users = 'everyone';
    ({ uploadUri } = await startRestore(dev));
    assert.equal((await withDigest(uploadUri, 'POST', ADMIN, octets, Buffer.from(JSON.stringify(damaged)))).status, 415);

    ({ uploadUri } = await startRestore(dev));
    assert.equal((await withDigest(uploadUri, 'POST', ADMIN, { 'Content-Type': 'application/json' }, own.body)).status, 415);
    ({ uploadUri } = await startRestore(dev));
    assert.equal((await withDigest(uploadUri, 'POST', ADMIN, octets, Buffer.alloc(200 * 1024, 0x20))).status, 413);

    ({ uploadUri } = await startRestore(dev));
    // The upload URI was opened before this moment and lives 300 ms.
    await clockPast(Date.now() + 300);
    assert.equal((await withDigest(uploadUri, 'POST', ADMIN, octets, own.body)).status, 404, 'expired');
    ({ uploadUri } = await startRestore(dev));
    assert.equal((await http(uploadUri, 'POST', octets, own.body)).status, 401, 'needs credentials');
    assert.equal(JSON.stringify(dev.state), stateBefore, 'nothing was applied');
  });

  it('StartSystemRestore is UNRECOVERABLE: an Operator is refused', async () => {
    const dev = await start();
    await soap(dev, 'CreateUsers', '<tds:User><tt:Username>oper</tt:Username><tt:Password>Oper-pass1</tt:Password><tt:UserLevel>Operator</tt:UserLevel></tds:User>');
    const r = await soap(dev, 'StartSystemRestore', '', { username: 'oper', password: 'Oper-pass1' });
    assert.equal(r.status, 400);
    assert.match(r.body, /NotAuthorized/);
  });
});
