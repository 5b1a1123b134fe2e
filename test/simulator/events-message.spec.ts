import { strict as assert } from 'node:assert';
import { makeEvent } from '../../lib/simulator/events/notification';
import { CONCRETE_SET_DIALECT } from '../../lib/simulator/events/filter';
import { parseTopic } from '../../lib/simulator/events/topics';
import { utcPrecise } from '../../lib/simulator/events/time';
import { el, serializeXml, type XmlNode } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import { parseXml } from '../../lib/xml/parse';

/** The message as the general serializer writes it: what the simulator's direct writing must equal. */
function viaSerializer(topic: string, utcTime: number, operation: string | undefined, groups: Record<'Source' | 'Key' | 'Data', Record<string, string>>): string {
  const path = parseTopic(topic);
  const rootPrefix = path.rootNs === NS.tns1 ? 'tns1' : 'tnsx';
  const group = (local: string, items: Record<string, string>): XmlNode | undefined => {
    const entries = Object.entries(items);
    return entries.length ? el(NS.tt, local, undefined, ...entries.map(([Name, Value]) => el(NS.tt, 'SimpleItem', { Name, Value }))) : undefined;
  };
  return serializeXml(
    el(
      NS.wsnt,
      'NotificationMessage',
      undefined,
      el(NS.wsnt, 'Topic', { Dialect: CONCRETE_SET_DIALECT, [`xmlns:${rootPrefix}`]: path.rootNs }, `${rootPrefix}:${path.segments.join('/')}`),
      el(NS.wsnt, 'Message', undefined, el(NS.tt, 'Message', { UtcTime: utcPrecise(utcTime), PropertyOperation: operation }, group('Source', groups.Source), group('Key', groups.Key), group('Data', groups.Data))),
    ),
    { declaration: false },
  );
}

describe('simulator: event messages', () => {
  it('are written exactly as the XML serializer would write them, escaping included', () => {
    const cases: Array<[string, string | undefined, Record<'Source' | 'Key' | 'Data', Record<string, string>>]> = [
      ['tns1:RuleEngine/CellMotionDetector/Motion', 'Changed', { Source: { VideoSourceConfigurationToken: 'vsc0', Rule: 'MyMotion' }, Key: {}, Data: { IsMotion: 'true' } }],
      ['tns1:Bench/Load', undefined, { Source: {}, Key: {}, Data: { Seq: '1', T: '123.456' } }],
      ['{http://www.example.com/vendor/topics}Vendor/Thing', 'Initialized', { Source: { 'a&b': 'x<y"z' }, Key: { K: 'line\nbreak\ttab\r' }, Data: {} }],
      ['tns1:Device/Trigger/DigitalInput', 'Deleted', { Source: {}, Key: {}, Data: {} }],
    ];
    for (const [topic, operation, groups] of cases) {
      const t = Date.UTC(2026, 11, 3, 1, 2, 3, 456);
      const e = makeEvent(topic, parseTopic(topic), t, operation as 'Changed' | undefined, groups.Source, groups.Key, groups.Data);
      assert.equal(e.xml, viaSerializer(topic, t, operation, groups), topic);
      assert.equal(parseXml(e.xml).local, 'NotificationMessage');
      assert.deepEqual(
        e.items.map((i) => [i.name, i.value]),
        [...Object.entries(groups.Source), ...Object.entries(groups.Key), ...Object.entries(groups.Data)],
      );
    }
  });
});
