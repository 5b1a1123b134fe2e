import { strict as assert } from 'node:assert';
import { SimulatedDevice, startSimulators } from '../../lib/simulator';
import { CONCRETE_SET, EventsClient, notifications } from './events-client';

const BURST_TOPIC = 'tns1:Device/Trigger/DigitalInput';
const filter = `<tev:Filter><wsnt:TopicExpression Dialect="${CONCRETE_SET}">${BURST_TOPIC}</wsnt:TopicExpression></tev:Filter><tev:SubscriptionPolicy><tev:ChangedOnly/></tev:SubscriptionPolicy>`;

/** Pull until `count` messages came, returning their sequence numbers in arrival order. */
async function drain(c: EventsClient, address: string, limit: number, count: number): Promise<{ seq: number[]; pulls: number }> {
  const seq: number[] = [];
  let pulls = 0;
  while (seq.length < count) {
    const r = await c.pull(address, 'PT2S', limit);
    assert.equal(r.status, 200, r.body);
    const got = notifications(r);
    assert.ok(got.length > 0, `stalled after ${seq.length} of ${count}`);
    assert.ok(got.length <= limit, `MessageLimit ${limit} exceeded: ${got.length}`);
    seq.push(...got.map((n) => Number(n.source.InputToken!.slice(3))));
    pulls++;
  }
  return { seq, pulls };
}

describe('simulator: event throughput', function () {
  this.timeout(120_000);

  it('a burst of 10 000 events arrives complete, in order, without duplicates (MessageLimit 100 and 1000)', async () => {
    const dev = new SimulatedDevice({ processorUsageIntervalMs: 0, maxPullPoints: 2 });
    await dev.start();
    try {
      const events = `http://127.0.0.1:${dev.port}/onvif/events_service`;
      const c = new EventsClient();
      const small = await c.create(events, filter);
      const large = await c.create(events, filter);
      const N = 10_000;
      for (let i = 0; i < N; i++) dev.raiseEvent(BURST_TOPIC, { source: { InputToken: `in-${i}` }, data: { LogicalState: i % 2 ? 'true' : 'false' }, operation: 'Changed' });
      assert.ok(dev.pullPoints.every((p) => p.queueLength === N && p.dropped === 0), 'the default queue holds the whole burst');
      const expected = Array.from({ length: N }, (_, i) => i);
      const [a, b] = await Promise.all([drain(c, small.address, 100, N), drain(c, large.address, 1000, N)]);
      assert.deepEqual(a.seq, expected);
      assert.deepEqual(b.seq, expected);
      assert.equal(a.pulls, 100);
      assert.equal(b.pulls, 10);
      assert.ok(dev.pullPoints.every((p) => p.queueLength === 0 && p.delivered === N));
    } finally {
      await dev.stop();
    }
  });

  it('200 devices with one pull point each deliver their events', async () => {
    const devices = await startSimulators(200, { processorUsageIntervalMs: 0 });
    try {
      const c = new EventsClient();
      const addresses = await Promise.all(devices.map(async (d) => (await c.create(`http://127.0.0.1:${d.port}/onvif/events_service`, filter)).address));
      assert.ok(devices.every((d) => d.pullPoints.length === 1));
      devices.forEach((d, i) => {
        for (let k = 0; k < 50; k++) d.raiseEvent(BURST_TOPIC, { source: { InputToken: `in-${i * 1000 + k}` }, data: { LogicalState: 'true' } });
      });
      const results = await Promise.all(addresses.map((a) => drain(c, a, 1000, 50)));
      results.forEach((r, i) => assert.deepEqual(r.seq, Array.from({ length: 50 }, (_, k) => i * 1000 + k)));
    } finally {
      await Promise.all(devices.map((d) => d.stop()));
    }
  });
});
