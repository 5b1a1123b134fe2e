import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { OnvifDevice, listEventTopics, readEventTypes, readTopicSet, topicKey } from '../../lib';
import { SimulatedDevice } from '../../lib/simulator';
import { parseEnvelope } from '../../lib/soap/envelope';
import { child } from '../../lib/xml/query';
import { SHARED } from '../support/shared';

const ADMIN = { username: 'admin', password: 'Adm1n-secret' };
const REAL = path.join(SHARED, 'fixtures/real/GetEventPropertiesResponse');

describe('events: the topics a device offers (GetEventProperties)', () => {
  it('listEventTopics: a library user lists the topics with their items, as the topic picker shows them', async () => {
    const sim = new SimulatedDevice(ADMIN);
    await sim.start();
    const device = new OnvifDevice({ address: sim.xaddr, ...ADMIN });
    try {
      const topics = await listEventTopics(device);
      const motion = topics.find((t) => t.topic === 'tns1:RuleEngine/CellMotionDetector/Motion');
      assert.ok(motion, `motion listed among ${topics.map((t) => t.topic).join(', ')}`);
      assert.deepEqual(motion.data, [{ name: 'IsMotion', type: 'xs:boolean' }]);
      assert.equal(motion.isProperty, true);
      assert.deepEqual(
        topics.map((t) => t.topic),
        [...topics.map((t) => t.topic)].sort((a, b) => a.localeCompare(b)),
        'sorted',
      );
    } finally {
      await device.close();
      await sim.stop();
    }
  });

  it('the picker and the event stream read one TopicSet walk: every described topic listed has its item types', function () {
    if (!existsSync(REAL)) {
      console.log(`    (skipped: ${REAL} not found; the team's real device captures)`);
      this.skip();
    }
    for (const f of ['axis-Q6045-E-1.xml', 'hikvision-DS-2CD2012-I-1.xml', 'pelco-D6230L-1.xml', 'trendnet-TV-IP320PI-1.xml']) {
      const content = parseEnvelope(readFileSync(path.join(REAL, f))).content!;
      const types = readEventTypes(content);
      const listed = readTopicSet(child(content, 'TopicSet')!);
      const described = listed.filter((t) => t.source.length + t.key.length + t.data.length > 0);
      assert.ok(described.length >= 5, `${f}: ${described.length} described topics`);
      for (const t of described) {
        const itemTypes = types.get(topicKey(t.topic));
        assert.ok(itemTypes, `${f}: ${t.topic} has item types`);
        for (const item of [...t.source, ...t.key, ...t.data].filter((i) => i.type)) assert.ok(itemTypes.has(item.name), `${f}: ${t.topic} ${item.name}`);
      }
    }
  });
});
