import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from '../../lib/simulator/cli';
import { faultOf, parse } from './client';
import { EventsClient, find, notifications, pullUntil, WSNT } from './events-client';
import { SimulatedDevice } from '../../lib/simulator';

const ROOT = join(__dirname, '..', '..');

describe('simulator: event options of onvifq-sim and remaining event faults', function () {
  this.timeout(30_000);

  it('--motion-every and --max-pull-points are read and checked', () => {
    const parsed = parseArgs(['--motion-every', '3', '--max-pull-points', '5', '--reference-parameters', '--expose-state']);
    assert.ok(!parsed.help);
    if (!parsed.help) {
      assert.equal(parsed.options.motionIntervalMs, 3000);
      assert.equal(parsed.options.maxPullPoints, 5);
      assert.equal(parsed.options.referenceParameters, true);
      assert.equal(parsed.options.exposeState, true);
    }
    assert.throws(() => parseArgs(['--motion-every', 'often']), /--motion-every needs a whole number/);
    assert.throws(() => parseArgs(['--max-pull-points']), /needs a value/);
  });

  it('onvifq-sim --motion-every 1 --max-pull-points 1: motion arrives, a second pull point is refused', async () => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'lib', 'simulator', 'cli.ts'), '--motion-every', '1', '--max-pull-points', '1'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`onvifq-sim exited with ${code}`)));
      });
      const { xaddr } = JSON.parse(line) as { xaddr: string };
      const events = xaddr.replace('/onvif/device_service', '/onvif/events_service');
      const c = new EventsClient();
      const { address } = await c.create(events, '<tev:Filter><wsnt:TopicExpression Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:RuleEngine//.</wsnt:TopicExpression></tev:Filter>');
      const refused = await c.create(events);
      assert.deepEqual(faultOf(refused.res)?.subcodes, ['wsnt:SubscribeCreationFailedFault']);
      const got = await pullUntil(c, address, (all) => all.some((n) => n.operation === 'Changed' && n.data.IsMotion === 'true'), 5);
      assert.ok(got.some((n) => n.operation === 'Changed' && n.data.IsMotion === 'true'));
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('unsupported event operations, bad PullMessages arguments, and the last factory reset', async () => {
    const dev = new SimulatedDevice({ processorUsageIntervalMs: 0, rebootDowntimeMs: 200 });
    await dev.start();
    try {
      const events = `http://127.0.0.1:${dev.port}/onvif/events_service`;
      const c = new EventsClient();
      const subscribe = await c.call(events, 'Subscribe', '<wsnt:ConsumerReference><wsa:Address>http://127.0.0.1:9/</wsa:Address></wsnt:ConsumerReference>', { ns: WSNT });
      assert.deepEqual(faultOf(subscribe)?.subcodes, ['ter:ActionNotSupported']);
      const { address } = await c.create(events, '<tev:Filter><wsnt:TopicExpression Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:Monitoring/OperatingTime/LastReset</wsnt:TopicExpression></tev:Filter>');
      const seek = await c.call(address, 'Seek', '<tev:UtcTime>2026-01-01T00:00:00Z</tev:UtcTime>');
      assert.deepEqual(faultOf(seek)?.subcodes, ['ter:ActionNotSupported'], 'no persistent notification storage');
      for (const inner of ['<tev:MessageLimit>10</tev:MessageLimit>', '<tev:Timeout>soon</tev:Timeout><tev:MessageLimit>10</tev:MessageLimit>', '<tev:Timeout>PT1S</tev:Timeout><tev:MessageLimit>many</tev:MessageLimit>']) {
        const r = await c.call(address, 'PullMessages', inner);
        assert.equal(r.status, 400, inner);
        assert.deepEqual(faultOf(r), { code: 'env:Sender', subcodes: ['ter:InvalidArgVal'] }, inner);
      }
      assert.equal(notifications(await c.pull(address, 'PT0S'))[0]!.data.Status, '1970-01-01T00:00:00Z');
      const restarted = once(dev, 'ready');
      const reset = await c.call(dev.xaddr, 'SetSystemFactoryDefault', '<tds:FactoryDefault xmlns:tds="http://www.onvif.org/ver10/device/wsdl">Soft</tds:FactoryDefault>', { ns: 'http://www.onvif.org/ver10/device/wsdl' });
      assert.equal(reset.status, 200);
      assert.ok(find(parse(reset).body, 'SetSystemFactoryDefaultResponse'));
      // A factory default restarts the device, so pull points are gone; a new one starts with the reset time.
      await restarted;
      const again = await c.create(events, '<tev:Filter><wsnt:TopicExpression Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:Monitoring/OperatingTime/LastReset</wsnt:TopicExpression></tev:Filter>');
      const [initialized] = notifications(await c.pull(again.address, 'PT2S'));
      assert.equal(initialized!.operation, 'Initialized');
      assert.ok(Math.abs(Date.parse(initialized!.data.Status!) - dev.deviceNow()) < 5000);
    } finally {
      await dev.stop();
    }
  });
});
