import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedDevice, startSimulators } from '../../lib/simulator';
import { allTexts, digestCall, envelope, faultOf, post, textOf } from './client';

describe('simulator: options, persistence, fault injection, reboot', function () {
  let dir: string;
  const started: SimulatedDevice[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'onvifq-sim-'));
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((d) => d.stop()));
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async (o: ConstructorParameters<typeof SimulatedDevice>[0] = {}) => {
    const d = new SimulatedDevice(o);
    await d.start();
    started.push(d);
    return d;
  };

  it('several devices in one process, each with its own port, urn:uuid and state', async () => {
    const devices = await startSimulators(3);
    started.push(...devices);
    assert.equal(new Set(devices.map((d) => d.port)).size, 3);
    assert.equal(new Set(devices.map((d) => d.endpoint)).size, 3);
    await post(devices[0]!.xaddr, envelope('SetHostname', '<tds:Name>first</tds:Name>'));
    const names = await Promise.all(devices.map(async (d) => textOf(await post(d.xaddr, envelope('GetHostname')), 'Name')));
    assert.equal(names[0], 'first');
    assert.notEqual(names[1], 'first');
    for (const d of devices) assert.equal(textOf(await post(d.xaddr, envelope('GetEndpointReference')), 'GUID'), d.endpoint);
  });

  it('state file: users, hostname, scopes and uuid survive a restart', async () => {
    const stateFile = join(dir, 'device.json');
    const a = await start({ stateFile });
    await post(a.xaddr, envelope('SetHostname', '<tds:Name>persisted</tds:Name>'));
    await post(a.xaddr, envelope('AddScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/shed</tds:ScopeItem>'));
    await post(a.xaddr, envelope('CreateUsers', '<tds:User><tt:Username>root</tt:Username><tt:Password>Root-Pass-1</tt:Password><tt:UserLevel>Administrator</tt:UserLevel></tds:User>'));
    const endpoint = a.endpoint;
    await a.stop();
    assert.equal(JSON.parse(readFileSync(stateFile, 'utf8')).hostname.name, 'persisted');
    const b = await start({ stateFile });
    assert.equal(b.endpoint, endpoint);
    assert.equal(b.profileQState, 'Operational');
    assert.equal(textOf(await post(b.xaddr, envelope('GetHostname')), 'Name'), 'persisted');
    const scopes = await digestCall(b.xaddr, envelope('GetScopes'), 'root', 'Root-Pass-1');
    assert.ok(allTexts(scopes, 'ScopeItem').includes('onvif://www.onvif.org/location/shed'));
    assert.deepEqual(allTexts(await digestCall(b.xaddr, envelope('GetUsers'), 'root', 'Root-Pass-1'), 'Username'), ['root']);
  });

  it('an unreadable state file stops the start with a plain message', async () => {
    const stateFile = join(dir, 'broken.json');
    require('node:fs').writeFileSync(stateFile, '{not json');
    assert.throws(() => new SimulatedDevice({ stateFile }), /not valid JSON/);
  });

  it('fault injection: drop, http500, malformed, html — for the chosen operation and count only', async () => {
    const d = await start();
    d.injectFault({ kind: 'drop', operation: 'GetHostname' });
    assert.equal((await post(d.xaddr, envelope('GetDeviceInformation'))).status, 200, 'other operations unaffected');
    await assert.rejects(post(d.xaddr, envelope('GetHostname')), /socket hang up|ECONNRESET/);
    assert.equal((await post(d.xaddr, envelope('GetHostname'))).status, 200, 'only once by default');

    d.injectFault({ kind: 'http500', times: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await post(d.xaddr, envelope('GetNTP'));
      assert.equal(r.status, 500);
      assert.equal(faultOf(r)?.code, 'env:Receiver');
    }
    assert.equal((await post(d.xaddr, envelope('GetNTP'))).status, 200);

    d.injectFault({ kind: 'malformed' });
    const m = await post(d.xaddr, envelope('GetDNS'));
    assert.equal(m.status, 200);
    assert.throws(() => faultOf(m));

    d.injectFault({ kind: 'html' });
    const h = await post(d.xaddr, envelope('GetDNS'));
    assert.equal(h.status, 200);
    assert.match(String(h.headers['content-type']), /^text\/html/);
    assert.match(h.body, /<html>/);
  });

  it('fault injection: delay, and added latency on every answer', async () => {
    const d = await start({ latencyMs: 150 });
    let t = Date.now();
    await post(d.xaddr, envelope('GetHostname'));
    assert.ok(Date.now() - t >= 140, 'latency applied');
    d.injectFault({ kind: 'delay', delayMs: 400 });
    t = Date.now();
    const r = await post(d.xaddr, envelope('GetHostname'));
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t >= 540, 'delay added on top of latency');
  });

  it('records requests and counts them', async () => {
    const d = await start();
    await post(d.xaddr, envelope('GetHostname'));
    await post(d.xaddr, envelope('GetHostname'));
    await post(d.xaddr, envelope('GetDNS'));
    assert.equal(d.stats.httpRequests, 3);
    assert.deepEqual(d.stats.byOperation, { GetHostname: 2, GetDNS: 1 });
    assert.equal(d.requests.length, 3);
    assert.deepEqual(d.requests.map((r) => [r.operation, r.status, r.method, r.path]), [
      ['GetHostname', 200, 'POST', '/onvif/device_service'],
      ['GetHostname', 200, 'POST', '/onvif/device_service'],
      ['GetDNS', 200, 'POST', '/onvif/device_service'],
    ]);
    d.clearRequests();
    assert.equal(d.requests.length, 0);
  });

  it('SystemReboot answers, goes away for the downtime, then comes back on the same port', async () => {
    const d = await start({ rebootDowntimeMs: 600 });
    const ready = once(d, 'ready');
    const rebooting = once(d, 'reboot');
    const t0 = Date.now();
    const r = await post(d.xaddr, envelope('SystemReboot'));
    assert.equal(r.status, 200);
    assert.ok(textOf(r, 'Message'));
    await rebooting;
    await assert.rejects(post(d.xaddr, envelope('GetHostname')), /ECONNREFUSED|ECONNRESET|socket hang up/);
    await ready;
    assert.ok(Date.now() - t0 >= 550);
    assert.equal((await post(d.xaddr, envelope('GetHostname'))).status, 200);
  });

  it('the default reboot downtime is about 2 s', async function () {
    this.timeout(10_000);
    const d = await start();
    const t0 = Date.now();
    await post(d.xaddr, envelope('SystemReboot'));
    await new Promise<void>((r) => d.once('ready', () => r()));
    const down = Date.now() - t0;
    assert.ok(down >= 1900 && down < 4000, `down for ${down} ms`);
  });

  it('stop() closes every socket, also kept-alive ones', async () => {
    const d = await start();
    const http = await import('node:http');
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      const req = http.request(d.xaddr, { method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end(envelope('GetHostname'));
    });
    const t = Date.now();
    await d.stop();
    assert.ok(Date.now() - t < 1000);
    await assert.rejects(post(d.xaddr, envelope('GetHostname')), /ECONNREFUSED/);
    agent.destroy();
  });
});
