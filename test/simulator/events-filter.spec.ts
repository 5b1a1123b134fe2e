import { strict as assert } from 'node:assert';
import { SimulatedDevice } from '../../lib/simulator';
import { faultOf, parse } from './client';
import { attrOf, CONCRETE, CONCRETE_SET, EventsClient, find, ITEM_FILTER, notifications } from './events-client';

const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';

describe('simulator: event filters and GetEventProperties', function () {
  this.timeout(10_000);
  let dev: SimulatedDevice;
  let events: string;
  const c = new EventsClient();

  beforeEach(async () => {
    dev = new SimulatedDevice({ processorUsageIntervalMs: 0, maxPullPoints: 10 });
    await dev.start();
    events = `http://127.0.0.1:${dev.port}/onvif/events_service`;
  });
  afterEach(() => dev.stop());

  /** Topics of the Initialized burst a filter lets through. */
  async function initialTopics(filter: string, extraNs = ''): Promise<string[]> {
    const r = await c.call(events, 'CreatePullPointSubscription', `<tev:Filter${extraNs}>${filter}</tev:Filter>`);
    assert.equal(r.status, 200, r.body);
    const address = find(parse(r).body, 'Address')!.text;
    return notifications(await c.pull(address, 'PT0S')).map((n) => n.topic);
  }
  const topicExpr = (expr: string, dialect = CONCRETE_SET) => `<wsnt:TopicExpression Dialect="${dialect}">${expr}</wsnt:TopicExpression>`;
  const content = (expr: string, dialect = ITEM_FILTER) => `<wsnt:MessageContent Dialect="${dialect}">${expr}</wsnt:MessageContent>`;

  describe('topic expressions', () => {
    it('Concrete: exactly one topic', async () => {
      assert.deepEqual(await initialTopics(topicExpr(MOTION, CONCRETE)), [MOTION]);
      assert.deepEqual(await initialTopics(topicExpr('tns1:RuleEngine/CellMotionDetector', CONCRETE)), [], 'a parent is not its children');
    });

    it('ConcreteSet: alternatives with | and subtrees with //.', async () => {
      const got = await initialTopics(topicExpr('tns1:Monitoring/OperatingTime//.|tns1:Device/Trigger/DigitalInput'));
      assert.deepEqual(got.sort(), [
        'tns1:Device/Trigger/DigitalInput', 'tns1:Monitoring/OperatingTime/LastClockSynchronization', 'tns1:Monitoring/OperatingTime/LastReboot', 'tns1:Monitoring/OperatingTime/LastReset',
      ]);
      assert.equal((await initialTopics(topicExpr('tns1:Device//.'))).length, 5);
    });

    it('prefixes resolve against the request namespaces, not by spelling', async () => {
      const ns = ' xmlns:ev="http://www.onvif.org/ver10/topics" xmlns:tns1="urn:not-onvif-topics"';
      assert.deepEqual(await initialTopics(topicExpr('ev:RuleEngine//.'), ns), [MOTION]);
      assert.deepEqual(await initialTopics(topicExpr('tns1:RuleEngine//.'), ns), [], 'tns1 bound elsewhere matches nothing');
    });

    it('live changes go through the same filter', async () => {
      const r = await c.call(events, 'CreatePullPointSubscription', `<tev:Filter>${topicExpr('tns1:Device/Trigger/DigitalInput')}</tev:Filter>`);
      const address = find(parse(r).body, 'Address')!.text;
      await c.pull(address, 'PT0S');
      dev.raiseEvent(MOTION, { data: { IsMotion: 'true' } });
      dev.raiseEvent('tns1:Device/Trigger/DigitalInput', { data: { LogicalState: 'true' } });
      assert.deepEqual(notifications(await c.pull(address, 'PT1S')).map((n) => n.topic), ['tns1:Device/Trigger/DigitalInput']);
    });

    it('unknown dialect, bad syntax and unsupported filter parts get the WS-BaseNotification faults', async () => {
      const cases: Array<[string, string]> = [
        [topicExpr(MOTION, 'http://docs.oasis-open.org/wsn/t-1/TopicExpression/Full'), 'wsnt:TopicExpressionDialectUnknownFault'],
        [topicExpr('tns1:RuleEngine/ /Motion'), 'wsnt:InvalidTopicExpressionFault'],
        [topicExpr('tns1:RuleEngine//.', CONCRETE), 'wsnt:InvalidTopicExpressionFault'],
        [content('boolean(//tt:SimpleItem[@Name="IsMotion"]', ITEM_FILTER), 'wsnt:InvalidMessageContentExpressionFault'],
        [content('//tt:SimpleItem', 'http://www.w3.org/TR/1999/REC-xpath-19991116'), 'wsnt:InvalidFilterFault'],
        ['<wsnt:ProducerProperties Dialect="x">y</wsnt:ProducerProperties>', 'wsnt:InvalidFilterFault'],
      ];
      for (const [filter, subcode] of cases) {
        const r = await c.call(events, 'CreatePullPointSubscription', `<tev:Filter>${filter}</tev:Filter>`);
        assert.equal(r.status, 500, filter);
        assert.deepEqual(faultOf(r), { code: 'env:Receiver', subcodes: [subcode] }, filter);
      }
      assert.equal(dev.pullPoints.length, 0, 'a refused filter creates nothing');
    });
  });

  describe('ItemFilter message content', () => {
    async function liveFilter(expr: string): Promise<string[]> {
      const r = await c.call(events, 'CreatePullPointSubscription', `<tev:Filter>${topicExpr('tns1:RuleEngine//.|tns1:Device/Trigger//.')}${content(expr)}</tev:Filter>`);
      assert.equal(r.status, 200, r.body);
      const address = find(parse(r).body, 'Address')!.text;
      await c.pull(address, 'PT0S');
      dev.raiseEvent(MOTION, { data: { IsMotion: 'true' } });
      dev.raiseEvent(MOTION, { data: { IsMotion: 'false' } });
      dev.raiseEvent('tns1:Device/Trigger/DigitalInput', { data: { LogicalState: 'true' } });
      const got = notifications(await c.pull(address, 'PT0.3S'));
      return got.map((n) => `${n.topic.split('/').pop()}=${Object.values(n.data)[0]}`);
    }

    it('boolean(//tt:SimpleItem[@Name and @Value]) keeps only matching messages', async () => {
      assert.deepEqual(await liveFilter('boolean(//tt:SimpleItem[@Name="IsMotion" and @Value="true"])'), ['Motion=true']);
    });

    it('or, not(), parentheses, and items from Source as well as Data', async () => {
      assert.deepEqual(await liveFilter('boolean(//tt:SimpleItem[@Name="IsMotion" and @Value="true"]) or boolean(//tt:SimpleItem[@Name="LogicalState"])'), ['Motion=true', 'DigitalInput=true']);
      assert.deepEqual(await liveFilter('not(boolean(//tt:SimpleItem[@Name="VideoSourceConfigurationToken"]))'), ['DigitalInput=true']);
      assert.deepEqual(await liveFilter('boolean(//tt:SimpleItem[@Name="InputToken" and (@Value="DigitalInput0" or @Value="x")])'), ['DigitalInput=true']);
      assert.deepEqual(await liveFilter("boolean(//tt:SimpleItem[@Value='false'])"), ['Motion=false']);
    });
  });

  describe('GetEventProperties', () => {
    it('describes the topic set, dialects and schema location', async () => {
      const r = await c.call(events, 'GetEventProperties');
      assert.equal(r.status, 200);
      const body = parse(r).content!;
      const texts = (local: string) => body.children.filter((e) => e.local === local).map((e) => e.text.trim());
      assert.deepEqual(texts('TopicNamespaceLocation'), ['http://www.onvif.org/onvif/ver10/topics/topicns.xml']);
      assert.deepEqual(texts('FixedTopicSet'), ['true']);
      assert.deepEqual(texts('TopicExpressionDialect').sort(), [CONCRETE, CONCRETE_SET].sort());
      assert.deepEqual(texts('MessageContentFilterDialect'), [ITEM_FILTER]);
      assert.equal(texts('MessageContentSchemaLocation').length, 1);
      const set = body.children.find((e) => e.local === 'TopicSet')!;
      assert.ok(set.children.every((root) => root.ns === 'http://www.onvif.org/ver10/topics'), 'roots in the ONVIF topic namespace');
      const motion = find(find(find(set, 'RuleEngine')!, 'CellMotionDetector')!, 'Motion')!;
      assert.equal(motion.ns, '', 'children unqualified');
      assert.equal(motion.attributes.find((a) => a.local === 'topic')?.value, 'true');
      const desc = find(motion, 'MessageDescription')!;
      assert.equal(attrOf(desc, 'IsProperty'), 'true');
      const items = (group: string) => Object.fromEntries(find(desc, group)!.children.map((i) => [attrOf(i, 'Name'), attrOf(i, 'Type')]));
      assert.deepEqual(items('Data'), { IsMotion: 'xs:boolean' });
      assert.equal(items('Source').VideoSourceConfigurationToken, 'tt:ReferenceToken');
      // Type QNames resolve where they are written.
      const typeAttr = find(desc, 'Data')!.children[0]!;
      assert.equal(typeAttr.namespaces.xs, 'http://www.w3.org/2001/XMLSchema');
      const cpu = find(find(set, 'Monitoring')!, 'ProcessorUsage')!;
      const cpuItems = Object.fromEntries(find(cpu, 'Data')!.children.map((i) => [attrOf(i, 'Name'), attrOf(i, 'Type')]));
      assert.deepEqual(cpuItems, { Value: 'xs:float' });
      for (const t of ['FanFailure', 'PowerSupplyFailure', 'StorageFailure', 'TemperatureCritical']) assert.ok(find(find(set, 'HardwareFailure')!, t), t);
      assert.ok(find(find(set, 'Trigger')!, 'DigitalInput'));
    });
  });
});
