import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { Subscription } from 'rxjs';
import { DeviceLink } from '../../lib/link';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { EventHub, type EventStreamState, type OnvifEvent } from '../../lib/events';
import { SimulatedDevice, TOPICS, type SimulatorOptions, type TopicDescription } from '../../lib/simulator';
import { actionNotSupported, faultElement } from '../../lib/simulator/faults';
import { buildEnvelope } from '../../lib/soap/envelope';
import { ManualClock } from '../support/manual-clock';
import { freeTcpPort } from '../support/ports';
import { skipWith, validateFiles, validationUnavailable } from '../support/shared';

const ADMIN = { username: 'admin', password: 'Adm1n-secret' };

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface DeviceAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A proxy in front of the device, for the answers the simulator never gives. `tamper` sees each request's SOAP
 * operation; it may ask the device (`ask`) and answer itself (return true), or return false to pass the
 * device's answer on unchanged.
 */
async function tamperingProxy(
  devicePort: number,
  tamper: (operation: string | undefined, res: ServerResponse, ask: () => Promise<DeviceAnswer>) => Promise<boolean>,
): Promise<{ address: string; close(): void }> {
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = /<(?:[\w.-]+:)?Body\b[^>]*>\s*<(?:[\w.-]+:)?([\w.-]+)/.exec(body.toString('utf8'))?.[1];
      let asked: Promise<DeviceAnswer> | undefined;
      const ask = () =>
        (asked ??= new Promise<DeviceAnswer>((resolve, reject) => {
          const up = httpRequest({ host: '127.0.0.1', port: devicePort, path: req.url, method: req.method, headers: req.headers }, (r) => {
            const parts: Buffer[] = [];
            r.on('data', (c: Buffer) => parts.push(c));
            r.on('end', () => resolve({ status: r.statusCode ?? 502, headers: r.headers, body: Buffer.concat(parts) }));
            r.on('error', reject);
          });
          up.on('error', reject);
          up.end(body);
        }));
      tamper(operation, res, ask)
        .then(async (answered) => {
          if (answered) return;
          const a = await ask();
          res.writeHead(a.status, a.headers);
          res.end(a.body);
        })
        .catch(() => req.socket.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    address: `http://127.0.0.1:${port}/onvif/device_service`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('EventHub against the simulated device', function () {
  this.timeout(30_000);
  let sim: SimulatedDevice | undefined;
  let link: DeviceLink | undefined;
  let hub: EventHub | undefined;
  const subs: Subscription[] = [];

  async function startSim(options: SimulatorOptions = {}): Promise<SimulatedDevice> {
    sim = new SimulatedDevice({ ...ADMIN, processorUsageIntervalMs: 0, ...options });
    await sim.start();
    return sim;
  }
  const ops = (name: string) => sim!.requests.filter((r) => r.operation === name && r.status !== 401);

  function listen(h: EventHub, filter = ''): { events: OnvifEvent[]; sub: Subscription } {
    const events: OnvifEvent[] = [];
    const sub = h.events(filter).subscribe((e) => events.push(e));
    subs.push(sub);
    return { events, sub };
  }

  function states(h: EventHub): EventStreamState[] {
    const seen: EventStreamState[] = [];
    subs.push(h.state$.subscribe((s) => seen.push(s)));
    return seen;
  }

  afterEach(async () => {
    for (const s of subs.splice(0)) s.unsubscribe();
    await hub?.close();
    await link?.close();
    await sim?.stop();
    hub = link = sim = undefined;
  });

  it('the first subscriber creates exactly one pull point, the second shares it, the last one away sends Unsubscribe', async () => {
    await startSim();
    link = new DeviceLink({ address: sim!.xaddr, ...ADMIN });
    hub = link.eventHub();
    assert.equal(hub, link.eventHub(), 'one hub per device link');
    const a = listen(hub, 'tns1:RuleEngine//.');
    await waitFor('active', () => hub!.state.status === 'active');
    assert.equal(sim!.pullPoints.length, 1);
    const b = listen(hub, 'tns1:Monitoring//.');
    assert.equal(hub.state.subscribers, 2);
    // The late subscriber still learns the current monitoring states, from the hub, not from a second pull point.
    await waitFor('monitoring states for b', () => b.events.some((e) => e.topic === 'tns1:Monitoring/OperatingTime/LastReboot'));
    assert.equal(ops('CreatePullPointSubscription').length, 1);
    assert.equal(sim!.pullPoints.length, 1);
    assert.ok(b.events.every((e) => e.topic.startsWith('tns1:Monitoring/')), 'each subscriber filters locally');
    assert.ok(a.events.every((e) => e.topic.startsWith('tns1:RuleEngine/')));

    a.sub.unsubscribe();
    // The remaining subscriber still gets events from the same pull point.
    sim!.raiseEvent('tns1:Monitoring/ProcessorUsage', { data: { Value: '42' } });
    await waitFor('an event for b after a left', () => b.events.some((e) => e.topic === 'tns1:Monitoring/ProcessorUsage' && e.operation === 'Changed'));
    assert.equal(sim!.pullPoints.length, 1, 'still one subscriber');
    assert.equal(ops('Unsubscribe').length, 0);
    b.sub.unsubscribe();
    await waitFor('Unsubscribe', () => ops('Unsubscribe').length === 1);
    await waitFor('pull point gone', () => sim!.pullPoints.length === 0);
    assert.equal(hub.state.status, 'idle');
    assert.equal(hub.state.subscribers, 0);
  });

  it('current property states arrive as Initialized, once each, then raised events arrive typed', async () => {
    await startSim();
    link = new DeviceLink({ address: sim!.xaddr, ...ADMIN });
    hub = link.eventHub();
    const { events } = listen(hub);
    await waitFor('SetSynchronizationPoint answered', () => ops('SetSynchronizationPoint').some((r) => r.status === 200));
    // Events arrive in order: once this one is here, every state sent on create and on SetSynchronizationPoint is too.
    sim!.raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } });
    const motion = await waitFor('motion', () => events.find((e) => e.topic === 'tns1:RuleEngine/CellMotionDetector/Motion' && e.operation === 'Changed'));
    assert.deepEqual(motion.data, { IsMotion: true });
    const initialized = events.filter((e) => e.operation === 'Initialized');
    const keys = initialized.map((e) => `${e.topic} ${JSON.stringify(e.source)}`);
    assert.ok(keys.includes('tns1:RuleEngine/CellMotionDetector/Motion {"VideoSourceConfigurationToken":"VideoSourceConfig0","VideoAnalyticsConfigurationToken":"VideoAnalyticsConfig0","Rule":"MotionDetectorRule"}'), keys.join('\n'));
    assert.equal(new Set(keys).size, keys.length, 'create and SetSynchronizationPoint both send the states; each arrives once');
    assert.equal(ops('SetSynchronizationPoint').length, 1);

    // LogicalState is declared xs:boolean by GetEventProperties, so "1" is true (not the number 1).
    sim!.raiseEvent('tns1:Device/Trigger/DigitalInput', { source: { InputToken: 'DI_1' }, data: { LogicalState: '1' } });
    const input = await waitFor('input', () => events.find((e) => e.topic === 'tns1:Device/Trigger/DigitalInput' && e.operation === 'Changed'));
    assert.deepEqual(input.data, { LogicalState: true });
    assert.deepEqual(input.source, { InputToken: 'DI_1' });
    assert.match(input.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.ok(hub.state.eventsDelivered >= events.length);
  });

  it('echoes reference parameters (Axis style) as SOAP headers on every subscription-manager request', async () => {
    await startSim({ referenceParameters: true });
    link = new DeviceLink({ address: sim!.xaddr, ...ADMIN });
    hub = link.eventHub();
    const { events } = listen(hub);
    await waitFor('active', () => hub!.state.status === 'active');
    sim!.raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } });
    await waitFor('motion', () => events.find((e) => e.operation === 'Changed'));
    const pulls = ops('PullMessages');
    assert.ok(pulls.length >= 1);
    for (const r of [...pulls, ...ops('SetSynchronizationPoint')]) {
      assert.equal(r.path, '/onvif/subscription');
      assert.match(r.body, /<(\w+:)?SubscriptionId\b[^>]*>1<\//);
      assert.match(r.body, /<(\w+:)?To>[^<]*\/onvif\/subscription<\//);
      assert.match(r.body, /<(\w+:)?MessageID>urn:uuid:/);
    }
    assert.equal(hub.state.status, 'active');
  });

  it('renews at 80 % of the lease measured in the skewed device clock, and the stream stays alive (mocked clock)', async () => {
    // The device clock is a year behind: comparing its TerminationTime with the local clock would renew in a loop.
    // Pulls extend the lease only to their own Timeout (5 s) here, so each cycle needs one Renew at 80 % (4 s).
    await startSim({ clockSkewMs: -365 * 24 * 3600_000 });
    const clock = new ManualClock();
    link = new DeviceLink({ address: sim!.xaddr, ...ADMIN, clock });
    hub = link.eventHub({ initialTerminationS: 2, pullTimeoutS: 5 });
    const { events } = listen(hub);
    // The current states come with the first pull's answer, which set the lease the renewal is timed by.
    await waitFor('the first pull answered', () => events.find((e) => e.topic === 'tns1:Monitoring/OperatingTime/LastReboot'));
    const [renewIn, ...others] = clock.pending;
    assert.equal(others.length, 0, 'one renewal timer');
    assert.ok(renewIn! >= 3000 && renewIn! <= 5000, `Renew due ${renewIn} ms after the last pull (80 % of the 5 s it left)`);
    assert.equal(ops('Renew').length, 0, 'not before it is due');
    clock.fireNext();
    const renew = await waitFor('Renew answered', () => ops('Renew').find((r) => r.status === 200));
    assert.match(renew.body, /TerminationTime>PT2S</);
    await clock.nextTimer('the next renewal');
    assert.ok(clock.pending[0]! >= 1000, `the next renewal is not a loop: due in ${clock.pending[0]} ms`);
    sim!.raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } });
    await waitFor('motion', () => events.find((e) => e.operation === 'Changed'));
    assert.equal(ops('CreatePullPointSubscription').length, 1, 'never recreated');
    assert.equal(sim!.pullPoints.length, 1);
  });

  it('sends no Renew while pulls already extend the lease', async () => {
    await startSim({ clockSkewMs: 3 * 3600_000 });
    const clock = new ManualClock();
    link = new DeviceLink({ address: sim!.xaddr, ...ADMIN, clock });
    hub = link.eventHub({ initialTerminationS: 3, pullTimeoutS: 1 });
    listen(hub);
    await waitFor('active', () => hub!.state.status === 'active');
    // The hub's clock moves with the pulls (1 s each): a Renew falls due only if pulls stop pushing it back.
    const answered = () => ops('PullMessages').filter((r) => r.status === 200).length;
    for (let n = answered() + 1, end = n + 4; n < end; n++) {
      await waitFor(`pull ${n} answered`, () => answered() >= n);
      clock.advance(1000);
    }
    assert.equal(ops('Renew').length, 0);
    assert.equal(hub.state.status, 'active');
  });

  it('retries with the device limits after a PullMessagesFaultResponse', async () => {
    await startSim({ maxPullTimeoutS: 2 });
    link = new DeviceLink({ address: sim!.xaddr, ...ADMIN });
    hub = link.eventHub({ pullTimeoutS: 45 });
    const { events } = listen(hub);
    await waitFor('Timeout adopted', () => hub!.state.pullTimeoutS === 2);
    sim!.raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } });
    await waitFor('motion', () => events.find((e) => e.operation === 'Changed'));
    assert.ok(ops('PullMessages').slice(1).every((r) => /Timeout>PT2S</.test(r.body)));
    assert.equal(ops('CreatePullPointSubscription').length, 1);
  });

  it('a backlog drains in few round trips: MessageLimit grows while answers come back full, and falls back when the device faults on it', async () => {
    await startSim();
    link = new DeviceLink({ address: sim!.xaddr, ...ADMIN });
    hub = link.eventHub();
    const { events } = listen(hub, 'tns1:Test/Backlog');
    await waitFor('active', () => hub!.state.status === 'active');
    const limits = () => ops('PullMessages').map((r) => Number(/MessageLimit>(\d+)</.exec(r.body)?.[1]));
    const before = limits().length;
    for (let i = 0; i < 3000; i++) sim!.raiseEvent('tns1:Test/Backlog', { data: { Seq: String(i) } });
    await waitFor('the backlog', () => events.length === 3000, 20_000);
    events.forEach((e, i) => assert.equal(e.data.Seq, i));
    // Where the long poll already waiting is logged (before or after the burst) depends on timing: read the whole run.
    const all = limits();
    const grown = all.indexOf(400);
    assert.equal(all[0], 100, 'starts with the configured limit');
    assert.ok(grown > 0 && all[grown - 1] === 100 && all[grown + 1] === 1000, `grows by four while answers are full, up to 1000: ${all.join(', ')}`);
    const draining = all.slice(before);
    assert.ok(draining.length <= 6, `3000 events took ${draining.length} pulls (30 at a fixed 100)`);

    // A device that faults on the grown limit (non-conforming, Core §9.1.2 says it returns fewer): asked with 100 again.
    sim!.injectFault({ kind: 'http500', operation: 'PullMessages', times: 1 });
    for (let i = 3000; i < 6000; i++) sim!.raiseEvent('tns1:Test/Backlog', { data: { Seq: String(i) } });
    await waitFor('the second backlog', () => events.length === 6000, 20_000);
    events.forEach((e, i) => assert.equal(e.data.Seq, i, 'none lost or repeated'));
    const after = ops('PullMessages').slice(before + draining.length);
    const faulted = after.findIndex((r) => r.status === 500);
    assert.ok(faulted >= 0, 'the device faulted once');
    assert.ok(after.slice(faulted + 1).every((r) => /MessageLimit>100</.test(r.body)), 'back to 100 after the fault, and no longer grows');
    assert.equal(hub.state.status, 'active');
  });

  it('a device (or NAT) that closes long polls early is noticed: the Timeout is shortened, the subscription kept', async () => {
    await startSim();
    // In front of the device: a proxy that drops any connection whose answer takes longer than 1.5 s.
    const proxy: HttpServer = createHttpServer((req, res) => {
      const up = httpRequest({ host: '127.0.0.1', port: sim!.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        clearTimeout(cut);
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      const cut = setTimeout(() => {
        up.destroy();
        req.socket.destroy();
      }, 1500);
      up.on('error', () => undefined);
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (proxy.address() as { port: number }).port;
      link = new DeviceLink({ address: `http://127.0.0.1:${port}/onvif/device_service`, ...ADMIN });
      hub = link.eventHub({ pullTimeoutS: 8 });
      const seen = states(hub);
      const { events } = listen(hub);
      await waitFor('shortened Timeout', () => (hub!.state.pullTimeoutS ?? 99) <= 1, 15_000);
      const fitting = () => ops('PullMessages').filter((r) => /Timeout>PT1S</.test(r.body) && r.status === 200).length;
      const before = fitting();
      await waitFor('two pulls that fit inside the window', () => fitting() >= before + 2, 10_000);
      sim!.raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } });
      await waitFor('motion', () => events.find((e) => e.operation === 'Changed'));
      assert.equal(ops('CreatePullPointSubscription').length, 1, 'the subscription was kept');
      assert.ok(!seen.some((s) => s.status === 'retrying'), 'never reported as lost');
      await hub.close();
      await link.close();
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  it('a reboot during a subscription: events resume, Initialized states arrive again, the status told the story', async () => {
    await startSim({ rebootDowntimeMs: 1500 });
    link = new DeviceLink({ address: sim!.xaddr, ...ADMIN, backoff: { initialMs: 200, maxMs: 1000 } });
    hub = link.eventHub({ backoff: { initialMs: 200, maxMs: 1000 } });
    const seen = states(hub);
    const { events } = listen(hub);
    await waitFor('LastReboot', () => events.find((e) => e.topic === 'tns1:Monitoring/OperatingTime/LastReboot'));
    const before = events.length;
    await link.call('SystemReboot');
    await waitFor('active again', () => seen.some((s) => s.status === 'retrying') && hub!.state.status === 'active', 15_000);
    await waitFor('Initialized again', () => events.slice(before).find((e) => e.operation === 'Initialized' && e.topic === 'tns1:Monitoring/OperatingTime/LastReboot'), 5000);
    sim!.raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } });
    await waitFor('motion after reboot', () => events.slice(before).find((e) => e.operation === 'Changed' && e.topic.endsWith('/Motion')));
    const story = seen.map((s) => s.status).filter((s, i, all) => s !== all[i - 1]);
    assert.deepEqual(story.slice(0, 3), ['idle', 'subscribing', 'active']);
    const r = story.indexOf('retrying');
    assert.ok(r > 2 && story.slice(r).includes('subscribing') && story[story.length - 1] === 'active', story.join(' → '));
    assert.ok(seen.find((s) => s.status === 'retrying')?.error, 'retrying says why');
    assert.equal(sim!.pullPoints.length, 1);
  });

  it('a device that stays away is retried with jittered backoff doubling up to maxMs, never more often', async () => {
    // A "device" that accepts connections and resets them at once, counting attempts (the real client, real sockets).
    let connections = 0;
    const sockets = new Set<Socket>();
    const server: TcpServer = createTcpServer((s) => {
      connections++;
      sockets.add(s);
      s.on('error', () => undefined);
      s.resetAndDestroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      // A session whose services were read earlier (the device vanished afterwards).
      await startSim();
      const dev = new OnvifDevice({ address: sim!.xaddr, ...ADMIN });
      await dev.connect();
      for (const s of dev.session!.services) s.xaddr = s.xaddr.replace(`:${sim!.port}/`, `:${port}/`);
      const clock = new ManualClock();
      hub = new EventHub(async () => dev, { backoff: { initialMs: 25, maxMs: 200 }, clock });
      const seen = states(hub);
      const retries = () => seen.filter((s) => s.status === 'retrying');
      listen(hub);
      for (let n = 1; n <= 12; n++) {
        // Each attempt is a real connection, reset by the "device"; then the hub schedules the next one.
        await waitFor(`retry ${n} scheduled`, () => retries().length >= n && clock.pending.length === 1);
        assert.deepEqual(clock.pending, [retries()[n - 1]!.retryInMs], 'waits the delay the state shows');
        assert.equal(connections, n, 'one connection per attempt, none while waiting');
        clock.fireNext();
      }
      const delays = retries().map((s) => s.retryInMs!);
      // 25, 50, 100, 200, 200, ... each up to 20 % longer, never shorter.
      const nominal = delays.map((_, i) => Math.min(200, 25 * 2 ** i));
      delays.forEach((d, i) => assert.ok(d >= nominal[i]! && d <= nominal[i]! * 1.2 + 1, `delay ${i}: ${d} ms, nominal ${nominal[i]}`));
      await hub.close();
      await dev.close();
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it('a device that vanishes for ten minutes is retried at most once a minute with the default backoff (mocked clock, real sockets)', async () => {
    // Ten minutes of the hub's own timers, run on a mocked clock; every attempt is a real connection, reset at once.
    const clock = new ManualClock();
    const attempts: number[] = [];
    const sockets = new Set<Socket>();
    const server: TcpServer = createTcpServer((s) => {
      attempts.push(clock.now());
      sockets.add(s);
      s.on('error', () => undefined);
      s.resetAndDestroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    await startSim();
    const dev = new OnvifDevice({ address: sim!.xaddr, ...ADMIN });
    await dev.connect();
    for (const svc of dev.session!.services) svc.xaddr = svc.xaddr.replace(`:${sim!.port}/`, `:${port}/`);
    const start = clock.now();
    hub = new EventHub(async () => dev, { clock });
    let retries = 0;
    subs.push(hub.state$.subscribe((st) => st.status === 'retrying' && retries++));
    listen(hub);
    for (let n = 1; ; n++) {
      // The attempt fails on a real socket (real time), then the hub schedules its retry on the mocked clock.
      await waitFor(`retry ${n} scheduled`, () => retries >= n && clock.pending.length === 1);
      if (clock.now() + clock.pending[0]! - start > 10 * 60_000) break;
      clock.fireNext();
    }
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // 1, 2, 4, 8, 16, 32 s, then 60 s: each gap at least its nominal value (jitter only lengthens it).
    gaps.forEach((gap, i) => assert.ok(gap >= Math.min(60_000, 1000 * 2 ** i), `gap ${i}: ${gap} ms`));
    const lastMinutes = attempts.filter((t) => t - start >= 63_000);
    console.log(`      ten minutes away: ${attempts.length} attempts, gaps ${gaps.map((g) => (g / 1000).toFixed(0)).join(', ')} s`);
    assert.ok(gaps.slice(6).every((g) => g >= 60_000), `after the ramp, at most once a minute: ${gaps.map((g) => Math.round(g / 1000)).join(', ')} s`);
    assert.ok(attempts.length >= 12 && attempts.length <= 17, `${attempts.length} attempts in ten minutes (${lastMinutes.length} after the first 63 s)`);
    await hub.close();
    await dev.close();
    for (const s of sockets) s.destroy();
    server.close();
  });

  it('a fault with HTTP 500 at create, an HTML page instead of SOAP and dropped long polls are all retried', async () => {
    await startSim();
    sim!.injectFault({ kind: 'http500', operation: 'CreatePullPointSubscription', times: 1 });
    sim!.injectFault({ kind: 'drop', operation: 'PullMessages', times: 2 });
    link = new DeviceLink({ address: sim!.xaddr, ...ADMIN });
    hub = link.eventHub({ backoff: { initialMs: 20, maxMs: 100 } });
    const seen = states(hub);
    const { events } = listen(hub);
    await waitFor('active after retries', () => seen.filter((s) => s.status === 'retrying').length >= 2 && hub!.state.status === 'active', 10_000);
    assert.deepEqual([...new Set(seen.filter((s) => s.status === 'retrying').map((s) => s.error!.kind))].sort(), ['fault', 'unreachable']);
    sim!.raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } });
    await waitFor('motion', () => events.find((e) => e.operation === 'Changed'));
    for (const s of subs.splice(0)) s.unsubscribe();
    await hub.close();

    // A web page where SOAP should be (a login page, or a web server up before the ONVIF service after a boot).
    sim!.injectFault({ kind: 'html', operation: 'CreatePullPointSubscription', times: 2 });
    const other = new EventHub(() => link!.device(), { backoff: { initialMs: 20, maxMs: 100 } });
    const otherSeen = states(other);
    const later: OnvifEvent[] = [];
    subs.push(other.events().subscribe((e) => later.push(e)));
    await waitFor('active after two HTML pages', () => otherSeen.filter((s) => s.status === 'retrying').length >= 2 && other.state.status === 'active');
    const why = otherSeen.find((s) => s.status === 'retrying')!.error!;
    assert.equal(why.kind, 'bad-response');
    assert.match(why.message, /Web login/, 'says what the device sent');
    sim!.raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'false' } });
    await waitFor('motion after the HTML pages', () => later.find((e) => e.operation === 'Changed'));
    await other.close();
  });

  it('a malformed or cut-off answer to CreatePullPointSubscription with HTTP 200 is retried, and events flow once the device answers', async () => {
    await startSim();
    // The first create: a well-framed HTTP 200 whose SOAP breaks off mid-element (the simulator's own fault)...
    sim!.injectFault({ kind: 'malformed', operation: 'CreatePullPointSubscription', times: 1 });
    // ... the second: the device's real answer, cut off mid-body (HTTP 200, the full Content-Length, half the bytes).
    let answeredCreates = 0;
    const proxy = await tamperingProxy(sim!.port, async (operation, res, ask) => {
      if (operation !== 'CreatePullPointSubscription') return false;
      const a = await ask();
      if (a.status !== 200 || ++answeredCreates !== 2) return false;
      res.writeHead(200, a.headers);
      res.write(a.body.subarray(0, a.body.length >> 1), () => res.socket?.destroy());
      return true;
    });
    try {
      link = new DeviceLink({ address: proxy.address, ...ADMIN });
      hub = link.eventHub({ backoff: { initialMs: 20, maxMs: 100 } });
      const seen = states(hub);
      const { events } = listen(hub);
      await waitFor('active after two broken answers', () => hub!.state.status === 'active', 10_000);
      const failures = seen.filter((s) => s.status === 'retrying').map((s) => s.error!);
      assert.equal(failures.length, 2, failures.map((e) => e.message).join('\n'));
      assert.ok(failures.every((e) => e.kind !== 'unsupported'), 'a broken answer is not "no events here"');
      assert.ok(!seen.some((s) => s.status === 'failed'));
      assert.equal(answeredCreates, 3);
      sim!.raiseEvent('tns1:RuleEngine/CellMotionDetector/Motion', { data: { IsMotion: 'true' } });
      const motion = await waitFor('motion', () => events.find((e) => e.operation === 'Changed' && e.topic === 'tns1:RuleEngine/CellMotionDetector/Motion'));
      assert.deepEqual(motion.data, { IsMotion: true });
      await hub.close();
      await link.close();
    } finally {
      proxy.close();
    }
  });

  it("an unexpected answer to PullMessages names the device's element cut short (XML names have no length limit)", async () => {
    await startSim();
    const name = `Odd${'X'.repeat(5000)}`;
    let odd = 0;
    const proxy = await tamperingProxy(sim!.port, async (operation, res) => {
      if (operation !== 'PullMessages' || ++odd > 1) return false;
      res.writeHead(200, { 'Content-Type': 'application/soap+xml; charset=utf-8' });
      res.end(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tev="http://www.onvif.org/ver10/events/wsdl"><s:Body><tev:${name}/></s:Body></s:Envelope>`);
      return true;
    });
    try {
      link = new DeviceLink({ address: proxy.address, ...ADMIN });
      hub = link.eventHub({ backoff: { initialMs: 20, maxMs: 100 } });
      const seen = states(hub);
      listen(hub);
      const retrying = await waitFor('retrying after the odd answer', () => seen.find((st) => st.status === 'retrying'), 10_000);
      const message = retrying.error!.message;
      assert.equal(retrying.error!.kind, 'bad-response');
      assert.match(message, /answered with <tev:OddXXX.*more characters\)> instead of PullMessagesResponse/, message.slice(0, 100));
      assert.ok(message.length < 600, `${message.length} characters`);
      await hub.close();
      await link.close();
    } finally {
      proxy.close();
    }
  });

  it('only a device that says it has no event service ends the subscription for good: ActionNotSupported, or no event address', async () => {
    await startSim();
    // A device that answers CreatePullPointSubscription with ter:ActionNotSupported.
    const refusing = await tamperingProxy(sim!.port, async (operation, res) => {
      if (operation !== 'CreatePullPointSubscription') return false;
      const f = actionNotSupported('Events are not supported by this firmware.');
      res.writeHead(f.httpStatus, { 'Content-Type': 'application/soap+xml; charset=utf-8' });
      res.end(buildEnvelope(faultElement(f)));
      return true;
    });
    // A device whose GetServices lists no event service.
    const withoutEvents = await tamperingProxy(sim!.port, async (operation, res, ask) => {
      if (operation !== 'GetServices') return false;
      const a = await ask();
      const body = a.body.toString('utf8').replace(/(Namespace>\s*)http:\/\/www\.onvif\.org\/ver10\/events\/wsdl/g, '$1urn:example:no-events');
      res.writeHead(a.status, { ...a.headers, 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
      return true;
    });
    try {
      for (const [proxy, says] of [
        [refusing, /does not offer event subscriptions \(CreatePullPointSubscription: .*ActionNotSupported/],
        [withoutEvents, /does not offer the event service/],
      ] as const) {
        const before = ops('CreatePullPointSubscription').length;
        const l = new DeviceLink({ address: proxy.address, ...ADMIN });
        const h = l.eventHub({ backoff: { initialMs: 20, maxMs: 100 } });
        const seen = states(h);
        subs.push(h.events().subscribe());
        await waitFor('failed', () => h.state.status === 'failed');
        assert.equal(h.state.error?.kind, 'unsupported');
        assert.match(h.state.error!.message, says);
        assert.ok(!seen.some((s) => s.status === 'retrying'), 'never retried');
        if (proxy === withoutEvents) assert.equal(ops('CreatePullPointSubscription').length, before, 'nothing sent to a service the device does not have');
        await h.close();
        await l.close();
      }
    } finally {
      refusing.close();
      withoutEvents.close();
    }
  });

  it('after a restart with another firmware, events are typed by the new topic set and states of topics gone are not replayed', async () => {
    // The same device (port, state file) comes back with a topic set that lost the digital input and gained a people detector.
    const peopleDetect: TopicDescription = {
      topic: 'tns1:RuleEngine/MyRuleDetector/PeopleDetect',
      isProperty: true,
      source: [['VideoSourceConfigurationToken', 'tt:ReferenceToken'], ['Rule', 'xs:string']],
      data: [['State', 'xs:boolean']],
    };
    const dir = mkdtempSync(path.join(tmpdir(), 'onvifq-events-'));
    try {
      const options: SimulatorOptions = { port: await freeTcpPort(), stateFile: path.join(dir, 'state.json') };
      const first = await startSim(options);
      link = new DeviceLink({ address: first.xaddr, ...ADMIN, backoff: { initialMs: 50, maxMs: 200 } });
      hub = link.eventHub({ backoff: { initialMs: 50, maxMs: 200 } });
      const { events } = listen(hub);
      await waitFor('digital input state', () => events.find((e) => e.topic === 'tns1:Device/Trigger/DigitalInput'));
      const before = events.length;

      await first.stop();
      sim = undefined;
      await startSim({ ...options, eventTopics: [...TOPICS.filter((t) => t.topic !== 'tns1:Device/Trigger/DigitalInput'), peopleDetect] });
      await waitFor('a pull point on the new firmware', () => sim!.pullPoints.length === 1 && hub!.state.status === 'active', 10_000);
      await waitFor('states again', () => events.slice(before).find((e) => e.operation === 'Initialized' && e.topic === 'tns1:Monitoring/OperatingTime/LastReboot'));

      // State is declared xs:boolean by the new firmware: "1" is true (not the number 1 an untyped guess makes).
      sim!.raiseEvent(peopleDetect.topic, { source: { VideoSourceConfigurationToken: 'VideoSourceConfig0', Rule: 'People' }, data: { State: '1' } });
      const people = await waitFor('people', () => events.find((e) => e.topic === peopleDetect.topic));
      assert.deepEqual(people.data, { State: true });
      assert.ok(ops('GetEventProperties').length >= 1, 'the new topic set was read');

      // A node deployed now learns the current states: none of the digital input the device no longer has.
      const late = listen(hub);
      const replayed = late.events.filter((e) => e.operation === 'Initialized').map((e) => e.topic);
      assert.ok(replayed.includes('tns1:Monitoring/OperatingTime/LastReboot'), replayed.join('\n'));
      assert.ok(!replayed.includes('tns1:Device/Trigger/DigitalInput'), replayed.join('\n'));
    } finally {
      for (const s of subs.splice(0)) s.unsubscribe();
      await hub?.close();
      await link?.close();
      await sim?.stop();
      hub = link = sim = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejected credentials: failed, says why, and stops retrying', async () => {
    await startSim();
    const dev = new OnvifDevice({ address: sim!.xaddr, username: 'admin', password: 'wrong-password' });
    const clock = new ManualClock();
    hub = new EventHub(async () => dev, { backoff: { initialMs: 20, maxMs: 50 }, clock });
    listen(hub);
    await waitFor('failed', () => hub!.state.status === 'failed');
    assert.equal(hub.state.error?.kind, 'auth');
    assert.doesNotMatch(hub.state.error!.message, /wrong-password/);
    assert.deepEqual(clock.pending, [], 'no retry scheduled');
    const count = sim!.stats.httpRequests;
    clock.advance(60_000);
    assert.equal(sim!.stats.httpRequests, count, 'no retries');
    await dev.close();
  });

  it('close() during a long poll finishes in under 2 s and the pull point is gone', async () => {
    await startSim();
    link = new DeviceLink({ address: sim!.xaddr, ...ADMIN });
    hub = link.eventHub({ pullTimeoutS: 30 });
    let completed = false;
    subs.push(hub.events().subscribe({ complete: () => (completed = true) }));
    await waitFor('pulling', () => sim!.pullPoints[0]?.pulling);
    const t0 = Date.now();
    await link.close();
    const took = Date.now() - t0;
    assert.ok(took < 2000, `close took ${took} ms`);
    assert.equal(sim!.pullPoints.length, 0);
    assert.equal(ops('Unsubscribe').length, 1);
    assert.equal(hub.state.status, 'closed');
    assert.ok(completed, 'subscribers are completed');
  });

  it('a burst of 10 000 events reaches the subscriber complete, in order, without duplicates', async () => {
    await startSim();
    link = new DeviceLink({ address: sim!.xaddr, ...ADMIN });
    hub = link.eventHub();
    const { events } = listen(hub, 'tns1:Test/Burst');
    await waitFor('active', () => hub!.state.status === 'active');
    for (let i = 0; i < 10_000; i++) sim!.raiseEvent('tns1:Test/Burst', { data: { Seq: String(i) } });
    // One more after the burst: events arrive in order, so once it is here any duplicate would be too.
    sim!.raiseEvent('tns1:Test/Burst', { data: { Seq: 'end' } });
    await waitFor('the event after the burst', () => events.some((e) => e.data.Seq === 'end'), 20_000);
    assert.equal(events.length, 10_001);
    events.slice(0, 10_000).forEach((e, i) => assert.equal(e.data.Seq, i));
  });
});

describe('EventHub requests against the official schemas', function () {
  this.timeout(60_000);
  it('every event-service request the hub sends validates (validate.sh)', async function () {
    const why = validationUnavailable();
    if (why) skipWith(this, why);
    const sim = new SimulatedDevice({ ...ADMIN, processorUsageIntervalMs: 0, referenceParameters: true });
    await sim.start();
    const link = new DeviceLink({ address: sim.xaddr, ...ADMIN });
    try {
      const hub = link.eventHub({ initialTerminationS: 2, pullTimeoutS: 3 });
      const sub = hub.events().subscribe();
      await waitFor('a Renew', () => sim.requests.some((r) => r.operation === 'Renew' && r.status === 200), 10_000);
      sub.unsubscribe();
      await waitFor('Unsubscribe', () => sim.requests.some((r) => r.operation === 'Unsubscribe' && r.status === 200));
      const dir = mkdtempSync(path.join(tmpdir(), 'onvifq-events-'));
      const wanted = ['GetEventProperties', 'CreatePullPointSubscription', 'SetSynchronizationPoint', 'PullMessages', 'Renew', 'Unsubscribe'];
      const files = wanted.map((op) => {
        const r = sim.requests.find((x) => x.operation === op && x.status === 200);
        assert.ok(r, `${op} was sent`);
        const f = path.join(dir, `${op}.xml`);
        writeFileSync(f, r!.body);
        return f;
      });
      const { code, output } = validateFiles(files);
      assert.equal(code, 0, output);
      rmSync(dir, { recursive: true, force: true });
    } finally {
      await link.close();
      await sim.stop();
    }
  });
});
