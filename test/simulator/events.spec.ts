import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { SimulatedDevice, type SimulatorOptions } from '../../lib/simulator';
import { challenges, digestHeader, envelope, faultOf, parse, post, textOf } from './client';
import { once } from 'node:events';
import { clockPast, waitFor } from '../support/wait';
import { eventEnvelope, EventsClient, find, notifications, pullUntil, WSNT, CONCRETE_SET } from './events-client';

const ADMIN = { username: 'admin', password: 'Admin-Pass1' };
const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';
const ALL_PROPERTIES = 11;

async function withDevice(options: SimulatorOptions, run: (dev: SimulatedDevice, events: string) => Promise<void>): Promise<void> {
  const dev = new SimulatedDevice({ processorUsageIntervalMs: 0, ...options });
  await dev.start();
  try {
    await run(dev, `http://127.0.0.1:${dev.port}/onvif/events_service`);
  } finally {
    await dev.stop();
  }
}

const topicFilter = (expr: string, dialect = CONCRETE_SET) =>
  `<tev:Filter><wsnt:TopicExpression Dialect="${dialect}">${expr}</wsnt:TopicExpression></tev:Filter>`;

describe('simulator: event service', function () {
  this.timeout(20_000);

  describe('discovery of the service and access policy', () => {
    it('GetServices and GetCapabilities list the event service; its GetServiceCapabilities reports MaxPullPoints', async () => {
      await withDevice({ ...ADMIN, maxPullPoints: 3 }, async (dev, events) => {
        const services = await post(dev.xaddr, envelope('GetServices', '<tds:IncludeCapability>true</tds:IncludeCapability>'));
        const ev = parse(services).content!.children.find((s) => find(s, 'Namespace')!.text === 'http://www.onvif.org/ver10/events/wsdl');
        assert.ok(ev, 'an event service entry');
        assert.equal(find(ev, 'XAddr')!.text, events);
        assert.equal(find(ev, 'Capabilities')!.children[0]!.attributes.find((a) => a.local === 'MaxPullPoints')!.value, '3');
        assert.equal(find(find(ev, 'Version')!, 'Major')!.text, '2');
        const caps = await post(dev.xaddr, envelope('GetCapabilities', '<tds:Category>Events</tds:Category>'));
        assert.equal(caps.status, 200);
        const evCaps = find(parse(caps).body, 'Events')!;
        assert.equal(find(evCaps, 'XAddr')!.text, events);
        assert.equal(find(evCaps, 'WSPullPointSupport')!.text, 'true');
        // tev:GetServiceCapabilities is PRE_AUTH (Core §9.8), even once Operational.
        const anon = new EventsClient();
        const sc = await anon.call(events, 'GetServiceCapabilities');
        assert.equal(sc.status, 200);
        assert.equal(find(parse(sc).body, 'Capabilities')!.attributes.find((a) => a.local === 'MaxPullPoints')!.value, '3');
      });
    });

    it('every other event operation is READ_MEDIA: no credentials → 401, a User-level account may subscribe', async () => {
      await withDevice({ ...ADMIN }, async (dev, events) => {
        const anon = new EventsClient();
        for (const op of ['CreatePullPointSubscription', 'GetEventProperties']) assert.equal((await anon.call(events, op)).status, 401, op);
        const admin = new EventsClient(ADMIN.username, ADMIN.password);
        const created = await admin.call(dev.xaddr, 'CreateUsers', '<tds:User xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><tt:Username>viewer</tt:Username><tt:Password>Viewer-Pass1</tt:Password><tt:UserLevel>User</tt:UserLevel></tds:User>', { ns: 'http://www.onvif.org/ver10/device/wsdl' });
        assert.equal(created.status, 200, created.body);
        const viewer = new EventsClient('viewer', 'Viewer-Pass1');
        const { res, address } = await viewer.create(events);
        assert.equal(res.status, 200);
        assert.equal((await anon.pull(address)).status, 401, 'the subscription manager needs credentials too');
        assert.equal((await viewer.pull(address, 'PT0S')).status, 200);
      });
    });

    it('faults can be injected by event operation name', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events);
        dev.injectFault({ kind: 'http500', operation: 'PullMessages' });
        assert.equal((await c.pull(address, 'PT0S')).status, 500);
        assert.equal((await c.pull(address, 'PT0S')).status, 200);
      });
    });
  });

  describe('pull point lifecycle', () => {
    it('a new pull point gets every live property as Initialized, then changes', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const { res, address } = await c.create(events, '<tev:InitialTerminationTime>PT60S</tev:InitialTerminationTime>');
        assert.equal(res.status, 200);
        assert.match(address, new RegExp(`^http://127\\.0\\.0\\.1:${dev.port}/onvif/pullpoint/\\d+$`));
        const body = parse(res).content!;
        const current = body.children.find((c) => c.local === 'CurrentTime' && c.ns === WSNT)!.text;
        const termination = body.children.find((c) => c.local === 'TerminationTime' && c.ns === WSNT)!.text;
        assert.match(current, /Z$/);
        assert.ok(Math.abs(Date.parse(termination) - Date.parse(current) - 60_000) <= 1000, `${current} → ${termination}`);

        const first = notifications(await c.pull(address, 'PT1S', 100));
        assert.equal(first.length, ALL_PROPERTIES);
        assert.ok(first.every((n) => n.operation === 'Initialized'));
        const topics = first.map((n) => n.topic);
        for (const t of ['tns1:Monitoring/ProcessorUsage', 'tns1:Monitoring/OperatingTime/LastReset', 'tns1:Monitoring/OperatingTime/LastReboot',
          'tns1:Monitoring/OperatingTime/LastClockSynchronization', 'tns1:Monitoring/Backup/Last', 'tns1:Device/HardwareFailure/FanFailure',
          'tns1:Device/HardwareFailure/PowerSupplyFailure', 'tns1:Device/HardwareFailure/StorageFailure', 'tns1:Device/HardwareFailure/TemperatureCritical',
          MOTION, 'tns1:Device/Trigger/DigitalInput']) assert.ok(topics.includes(t), t);
        assert.ok(first.every((n) => n.topicNs === 'http://www.onvif.org/ver10/topics'));
        assert.equal(first.find((n) => n.topic === 'tns1:Monitoring/OperatingTime/LastReset')!.data.Status, '1970-01-01T00:00:00Z');
        assert.equal(first.find((n) => n.topic === MOTION)!.data.IsMotion, 'false');

        dev.raiseEvent(MOTION, { data: { IsMotion: 'true' } });
        const next = notifications(await c.pull(address, 'PT1S', 100));
        assert.equal(next.length, 1);
        assert.equal(next[0]!.operation, 'Changed');
        assert.equal(next[0]!.data.IsMotion, 'true');
        assert.equal(next[0]!.source.VideoSourceConfigurationToken, 'VideoSourceConfig0', 'the live source by default');
        // A later subscriber sees the new state as Initialized.
        const late = await c.create(events);
        const again = notifications(await c.pull(late.address, 'PT1S', 100));
        assert.equal(again.find((n) => n.topic === MOTION)!.data.IsMotion, 'true');
      });
    });

    it('InitialTerminationTime may be absolute; a past or unreadable one is refused', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const at = new Date(dev.deviceNow() + 120_000).toISOString().replace(/\.\d+Z$/, 'Z');
        const ok = await c.create(events, `<tev:InitialTerminationTime>${at}</tev:InitialTerminationTime>`);
        assert.equal(textOf(ok.res, 'TerminationTime'), at);
        for (const bad of ['2001-01-01T00:00:00Z', 'soon']) {
          const r = await c.call(events, 'CreatePullPointSubscription', `<tev:InitialTerminationTime>${bad}</tev:InitialTerminationTime>`);
          assert.equal(r.status, 500);
          assert.deepEqual(faultOf(r), { code: 'env:Receiver', subcodes: ['wsnt:UnacceptableInitialTerminationTimeFault'] });
        }
      });
    });

    it('SubscriptionPolicy ChangedOnly suppresses the Initialized burst', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events, '<tev:SubscriptionPolicy><tev:ChangedOnly>true</tev:ChangedOnly></tev:SubscriptionPolicy>');
        dev.raiseEvent(MOTION, { data: { IsMotion: 'true' } });
        const got = notifications(await c.pull(address, 'PT1S'));
        assert.deepEqual(got.map((n) => [n.topic, n.operation]), [[MOTION, 'Changed']]);
      });
    });

    it('lease expiry removes the pull point; pulling keeps it alive', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const short = await c.create(events, '<tev:InitialTerminationTime>PT1S</tev:InitialTerminationTime>');
        const kept = await c.create(events, '<tev:InitialTerminationTime>PT1S</tev:InitialTerminationTime>');
        assert.equal(dev.pullPoints.length, 2);
        for (let i = 0; i < 4; i++) assert.equal((await c.pull(kept.address, 'PT0.5S')).status, 200);
        assert.equal(dev.pullPoints.length, 1, 'the unpulled one expired');
        const r = await c.pull(short.address, 'PT0S');
        assert.equal(r.status, 500);
        assert.deepEqual(faultOf(r)?.subcodes, ['wsrf-r:ResourceUnknownFault']);
        assert.equal((await c.pull(kept.address, 'PT0S')).status, 200);
      });
    });

    it('Renew sets a new termination time (relative or absolute); a past one is refused', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events, '<tev:InitialTerminationTime>PT10S</tev:InitialTerminationTime>');
        const r = await c.call(address, 'Renew', '<wsnt:TerminationTime>PT300S</wsnt:TerminationTime>', { ns: WSNT });
        assert.equal(r.status, 200);
        const body = parse(r).content!;
        assert.equal(body.local, 'RenewResponse');
        const term = Date.parse(find(body, 'TerminationTime')!.text);
        const now = Date.parse(find(body, 'CurrentTime')!.text);
        assert.ok(Math.abs(term - now - 300_000) <= 1000);
        assert.ok(Math.abs(Date.parse(dev.pullPoints[0]!.terminationTime) - dev.deviceNow() - 300_000) < 2000);
        const bad = await c.call(address, 'Renew', '<wsnt:TerminationTime>2000-01-01T00:00:00Z</wsnt:TerminationTime>', { ns: WSNT });
        assert.deepEqual(faultOf(bad), { code: 'env:Receiver', subcodes: ['wsnt:UnacceptableTerminationTimeFault'] });
      });
    });

    it('Unsubscribe ends the pull point; stale and unknown addresses get ResourceUnknownFault (HTTP 500)', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events);
        const u = await c.call(address, 'Unsubscribe', '', { ns: WSNT });
        assert.equal(u.status, 200);
        assert.equal(parse(u).content!.local, 'UnsubscribeResponse');
        assert.equal(dev.pullPoints.length, 0);
        for (const url of [address, `http://127.0.0.1:${dev.port}/onvif/pullpoint/999`]) {
          for (const [op, ns] of [['PullMessages', undefined], ['Renew', WSNT], ['Unsubscribe', WSNT], ['SetSynchronizationPoint', undefined]] as const) {
            const r = op === 'PullMessages' ? await c.pull(url, 'PT0S') : await c.call(url, op, op === 'Renew' ? '<wsnt:TerminationTime>PT60S</wsnt:TerminationTime>' : '', { ns });
            assert.equal(r.status, 500, `${op} ${url}`);
            assert.deepEqual(faultOf(r), { code: 'env:Receiver', subcodes: ['wsrf-r:ResourceUnknownFault'] });
            assert.ok(find(parse(r).body, 'Timestamp'), 'the wsrf fault carries its Timestamp');
          }
        }
      });
    });

    it('MaxPullPoints: one more subscription is refused until one is freed', async () => {
      await withDevice({ maxPullPoints: 2 }, async (_dev, events) => {
        const c = new EventsClient();
        const a = await c.create(events);
        await c.create(events);
        const third = await c.create(events);
        assert.equal(third.res.status, 500);
        assert.deepEqual(faultOf(third.res), { code: 'env:Receiver', subcodes: ['wsnt:SubscribeCreationFailedFault'] });
        assert.match(parse(third.res).fault!.reason, /2 pull points/);
        await c.call(a.address, 'Unsubscribe', '', { ns: WSNT });
        assert.equal((await c.create(events)).res.status, 200);
      });
    });

    it('a reboot drops every pull point: refused during the downtime, ResourceUnknown after', async () => {
      await withDevice({ ...ADMIN, rebootDowntimeMs: 400 }, async (dev, events) => {
        const c = new EventsClient(ADMIN.username, ADMIN.password);
        const { address } = await c.create(events);
        const before = notifications(await c.pull(address, 'PT0S')).find((n) => n.topic === 'tns1:Monitoring/OperatingTime/LastReboot')!.data.Status;
        const ready = once(dev, 'ready');
        const rebooting = once(dev, 'reboot');
        // LastReboot has one-second resolution: reboot in a later second than the start.
        await clockPast(Date.parse(before) + 1000);
        assert.equal((await c.call(dev.xaddr, 'SystemReboot', '', { ns: 'http://www.onvif.org/ver10/device/wsdl' })).status, 200);
        await rebooting;
        await assert.rejects(c.pull(address, 'PT0S'), /ECONNREFUSED|ECONNRESET/);
        await ready;
        assert.equal(dev.pullPoints.length, 0);
        const r = await c.pull(address, 'PT0S');
        assert.deepEqual(faultOf(r)?.subcodes, ['wsrf-r:ResourceUnknownFault']);
        const fresh = await c.create(events);
        const after = notifications(await c.pull(fresh.address, 'PT0S')).find((n) => n.topic === 'tns1:Monitoring/OperatingTime/LastReboot')!.data.Status;
        assert.ok(Date.parse(after) > Date.parse(before), `LastReboot ${before} → ${after}`);
      });
    });
  });

  describe('PullMessages', () => {
    it('long poll: queued messages at once, else as soon as one arrives, else zero messages exactly at Timeout', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events);
        let t = Date.now();
        assert.equal(notifications(await c.pull(address, 'PT5S')).length, ALL_PROPERTIES);
        assert.ok(Date.now() - t < 500, 'queued messages return at once');

        t = Date.now();
        setTimeout(() => dev.raiseEvent(MOTION, { data: { IsMotion: 'true' } }), 300);
        const arrived = notifications(await c.pull(address, 'PT5S'));
        const waited = Date.now() - t;
        assert.equal(arrived.length, 1);
        assert.ok(waited >= 250 && waited < 1500, `answered ${waited} ms after the request, when the event came`);

        t = Date.now();
        const idle = await c.pull(address, 'PT1.2S');
        const idleMs = Date.now() - t;
        assert.equal(idle.status, 200);
        assert.equal(notifications(idle).length, 0);
        assert.ok(idleMs >= 1190 && idleMs < 1700, `an empty answer after ${idleMs} ms, not before the 1.2 s Timeout`);
        assert.ok(find(parse(idle).body, 'CurrentTime') && find(parse(idle).body, 'TerminationTime'));
      });
    });

    it('a caller that hangs up frees the pull point for the next PullMessages', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events, '<tev:Filter><wsnt:TopicExpression Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:Device/Trigger/DigitalInput</wsnt:TopicExpression></tev:Filter>');
        await c.pull(address, 'PT0S');
        const body = eventEnvelope('PullMessages', '<tev:Timeout>PT30S</tev:Timeout><tev:MessageLimit>10</tev:MessageLimit>');
        const u = new URL(address);
        const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'Content-Type': 'application/soap+xml' } });
        req.on('error', () => undefined);
        req.end(body);
        await waitFor('the long poll waiting', () => dev.pullPoints[0]!.pulling);
        req.destroy();
        await waitFor('the pull point free again', () => !dev.pullPoints[0]!.pulling);
        assert.equal((await c.pull(address, 'PT0S')).status, 200);
      });
    });

    it('a Timeout above the maximum gets PullMessagesFaultResponse with MaxTimeout and MaxMessageLimit', async () => {
      await withDevice({ maxPullTimeoutS: 30 }, async (_dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events);
        const r = await c.pull(address, 'PT1M');
        assert.equal(r.status, 400);
        assert.equal(parse(r).fault!.code, 'env:Sender');
        const detail = find(parse(r).body, 'PullMessagesFaultResponse')!;
        assert.equal(detail.ns, 'http://www.onvif.org/ver10/events/wsdl');
        assert.equal(find(detail, 'MaxTimeout')!.text, 'PT30S');
        assert.ok(Number(find(detail, 'MaxMessageLimit')!.text) >= 100);
        assert.equal((await c.pull(address, 'PT30S', 100)).status, 200, 'the limit itself is fine');
      });
    });

    it('the default maximum is PT60S, so PT1M is accepted', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events);
        assert.equal((await c.pull(address, 'PT1M')).status, 200);
        assert.equal((await c.pull(address, 'PT61S')).status, 400);
        assert.equal(dev.pullPoints.length, 1);
      });
    });

    it('a second concurrent PullMessages gets UnableToGetMessagesFault', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events);
        await c.pull(address, 'PT0S');
        const first = c.pull(address, 'PT2S');
        await waitFor('the first long poll waiting', () => dev.pullPoints[0]!.pulling);
        const second = await c.pull(address, 'PT2S');
        assert.equal(second.status, 500);
        assert.deepEqual(faultOf(second), { code: 'env:Receiver', subcodes: ['wsnt:UnableToGetMessagesFault'] });
        dev.raiseEvent(MOTION, { data: { IsMotion: 'true' } });
        assert.equal(notifications(await first).length, 1, 'the first one still gets the event');
      });
    });

    it('MessageLimit is respected; the rest waits for the next pull, in order', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events, '<tev:Filter><wsnt:TopicExpression Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:Device/Trigger/DigitalInput</wsnt:TopicExpression></tev:Filter>');
        await c.pull(address, 'PT0S');
        for (let i = 0; i < 25; i++) dev.raiseEvent('tns1:Device/Trigger/DigitalInput', { data: { LogicalState: i % 2 ? 'true' : 'false' } });
        const sizes = [];
        const states = [];
        for (let i = 0; i < 3; i++) {
          const n = notifications(await c.pull(address, 'PT0S', 10));
          sizes.push(n.length);
          states.push(...n.map((x) => x.data.LogicalState));
        }
        assert.deepEqual(sizes, [10, 10, 5]);
        assert.deepEqual(states, Array.from({ length: 25 }, (_, i) => (i % 2 ? 'true' : 'false')));
      });
    });

    it('the queue has a cap: the oldest messages are dropped and counted', async () => {
      await withDevice({ maxQueuedEvents: 5 }, async (dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events, `<tev:Filter><wsnt:TopicExpression Dialect="${CONCRETE_SET}">tns1:Device/Trigger/DigitalInput</wsnt:TopicExpression></tev:Filter>`);
        await c.pull(address, 'PT0S');
        for (let i = 0; i < 8; i++) dev.raiseEvent('tns1:Device/Trigger/DigitalInput', { source: { InputToken: `in${i}` }, data: { LogicalState: 'true' } });
        assert.equal(dev.pullPoints[0]!.queueLength, 5);
        assert.equal(dev.pullPoints[0]!.dropped, 3);
        const got = notifications(await c.pull(address, 'PT0S', 100));
        assert.deepEqual(got.map((n) => n.source.InputToken), ['in3', 'in4', 'in5', 'in6', 'in7']);
      });
    });
  });

  describe('properties', () => {
    it('SetSynchronizationPoint re-sends the subscribed properties as Initialized with their current values', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events, topicFilter('tns1:Device/HardwareFailure//.'));
        assert.equal(notifications(await c.pull(address, 'PT0S')).length, 4);
        dev.setProperty('tns1:Device/HardwareFailure/FanFailure', { Token: 'fan0' }, { Failed: 'true' });
        const changed = notifications(await c.pull(address, 'PT0S'));
        assert.deepEqual(changed.map((n) => [n.operation, n.data.Failed]), [['Changed', 'true']]);
        const sync = await c.call(address, 'SetSynchronizationPoint');
        assert.equal(sync.status, 200);
        assert.equal(parse(sync).content!.local, 'SetSynchronizationPointResponse');
        const again = notifications(await c.pull(address, 'PT0S'));
        assert.equal(again.length, 4);
        assert.ok(again.every((n) => n.operation === 'Initialized'));
        assert.equal(again.find((n) => n.topic.endsWith('FanFailure'))!.data.Failed, 'true');
      });
    });

    it('SetSystemDateAndTime updates LastClockSynchronization', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events, topicFilter('tns1:Monitoring/OperatingTime/LastClockSynchronization', 'http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete'));
        const [initial] = notifications(await c.pull(address, 'PT0S'));
        assert.equal(initial!.data.Status, '1970-01-01T00:00:00Z');
        await post(dev.xaddr, envelope('SetSystemDateAndTime', '<tds:DateTimeType>Manual</tds:DateTimeType><tds:DaylightSavings>false</tds:DaylightSavings>'));
        const [changed] = notifications(await c.pull(address, 'PT1S'));
        assert.equal(changed!.operation, 'Changed');
        assert.ok(Math.abs(Date.parse(changed!.data.Status!) - dev.deviceNow()) < 3000);
      });
    });

    it('ProcessorUsage changes every processorUsageIntervalMs; motionIntervalMs raises motion on and off', async () => {
      await withDevice({ processorUsageIntervalMs: 150, motionIntervalMs: 300 }, async (_dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events, topicFilter('tns1:Monitoring/ProcessorUsage|tns1:RuleEngine//.'));
        const got = await pullUntil(c, address, (all) => all.filter((n) => n.operation === 'Changed' && n.topic === MOTION).length >= 2);
        const cpu = got.filter((n) => n.topic === 'tns1:Monitoring/ProcessorUsage' && n.operation === 'Changed');
        assert.ok(cpu.length >= 2, 'several ProcessorUsage changes');
        assert.ok(cpu.every((n) => n.source.Token === 'cpu0' && Number.isFinite(Number(n.data.Value))));
        const motion = got.filter((n) => n.topic === MOTION && n.operation === 'Changed').map((n) => n.data.IsMotion);
        assert.deepEqual(motion.slice(0, 2), ['true', 'false']);
      });
    });

    it('raiseEvent: explicit operations and a topic outside the property set', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        const { address } = await c.create(events, topicFilter('tns1:Device/Trigger//.|tns1:UserAlarm//.'));
        await c.pull(address, 'PT0S');
        dev.raiseEvent('tns1:Device/Trigger/DigitalInput', { source: { InputToken: 'in9' }, data: { LogicalState: 'true' }, operation: 'Initialized' });
        dev.raiseEvent('tns1:Device/Trigger/DigitalInput', { source: { InputToken: 'in9' }, operation: 'Deleted' });
        dev.raiseEvent('tns1:UserAlarm/Tamper', { data: { Reason: 'cover opened' }, key: { Zone: '1' } });
        const got = notifications(await c.pull(address, 'PT0S'));
        assert.deepEqual(got.map((n) => n.operation), ['Initialized', 'Deleted', undefined]);
        assert.deepEqual(got[2]!.key, { Zone: '1' });
        assert.throws(() => dev.raiseEvent('RuleEngine/Motion'), /tns1:/);
      });
    });
  });

  describe('reference parameters (Axis style)', () => {
    it('pull points share one address; the SubscriptionId header must be echoed', async () => {
      await withDevice({ referenceParameters: true }, async (dev, events) => {
        const c = new EventsClient();
        const { res, address, referenceHeader } = await c.create(events);
        assert.equal(address, `http://127.0.0.1:${dev.port}/onvif/subscription`);
        assert.ok(find(parse(res).body, 'ReferenceParameters'));
        assert.ok(referenceHeader);
        const missing = await c.pull(address, 'PT0S');
        assert.equal(missing.status, 400);
        assert.deepEqual(faultOf(missing), { code: 'env:Sender', subcodes: ['ter:InvalidArgs'] });
        const ok = await c.pull(address, 'PT0S', 100, referenceHeader);
        assert.equal(ok.status, 200);
        assert.equal(notifications(ok).length, ALL_PROPERTIES);
        const wrong = await c.pull(address, 'PT0S', 100, referenceHeader!.replace(/>\d+</, '>77<'));
        assert.deepEqual(faultOf(wrong)?.subcodes, ['wsrf-r:ResourceUnknownFault']);
        const u = await c.call(address, 'Unsubscribe', '', { ns: WSNT, header: referenceHeader });
        assert.equal(u.status, 200);
        assert.equal(dev.pullPoints.length, 0);
      });
    });
  });

  describe('state JSON at /onvifq/state', () => {
    const get = (url: string, headers: Record<string, string> = {}) => post(url, '', headers, 'GET');

    it('is open in Factory Default and shows pull points, scopes and users without passwords', async () => {
      await withDevice({}, async (dev, events) => {
        const c = new EventsClient();
        await c.create(events);
        const r = await get(`http://127.0.0.1:${dev.port}/onvifq/state`);
        assert.equal(r.status, 200);
        const s = JSON.parse(r.body);
        assert.equal(s.profileQState, 'FactoryDefault');
        assert.equal(s.pullPoints.length, 1);
        assert.equal(s.pullPoints[0].queueLength, ALL_PROPERTIES);
        assert.ok(Date.parse(s.pullPoints[0].terminationTime) > Date.now());
        assert.ok(s.scopes.includes('onvif://www.onvif.org/Profile/Q/FactoryDefault'));
        assert.ok(typeof s.hostname === 'string' && typeof s.time.device === 'string');
      });
    });

    it('once Operational it needs an Administrator (digest); never shows passwords; exposeState opens it', async () => {
      await withDevice({ ...ADMIN }, async (dev) => {
        const url = `http://127.0.0.1:${dev.port}/onvifq/state`;
        const first = await get(url);
        assert.equal(first.status, 401);
        const session = { challenge: challenges(first)[0]!, nc: 0 };
        const r = await get(url, { Authorization: digestHeader(session, ADMIN.username, ADMIN.password, '/onvifq/state', 'GET') });
        assert.equal(r.status, 200);
        assert.ok(!r.body.includes(ADMIN.password));
        assert.deepEqual(JSON.parse(r.body).users, [{ username: 'admin', level: 'Administrator' }]);
        const wrong = await get(url, { Authorization: digestHeader(session, ADMIN.username, 'nope', '/onvifq/state', 'GET') });
        assert.equal(wrong.status, 401);
      });
      await withDevice({ ...ADMIN, exposeState: true }, async (dev) => {
        const r = await get(`http://127.0.0.1:${dev.port}/onvifq/state`);
        assert.equal(r.status, 200);
        assert.equal(JSON.parse(r.body).profileQState, 'Operational');
      });
    });
  });
});
