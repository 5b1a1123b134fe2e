import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedDevice } from '../../lib/simulator';
import { useValidationDir, validateFiles } from '../support/shared';
import { envelope, post, type RawResponse } from './client';
import { EventsClient, WSNT } from './events-client';

describe('simulator: event service responses validate against the ONVIF schemas', function () {
  this.timeout(120_000);
  const validation = useValidationDir('onvifq-sim-events-xsd-');

  it('every event operation, notifications and the event faults', async () => {
    const dev = new SimulatedDevice({ processorUsageIntervalMs: 0, maxPullTimeoutS: 10 });
    await dev.start();
    const saved: Array<[string, RawResponse]> = [];
    try {
      const events = `http://127.0.0.1:${dev.port}/onvif/events_service`;
      const c = new EventsClient();
      saved.push(['GetServices', await post(dev.xaddr, envelope('GetServices', '<tds:IncludeCapability>true</tds:IncludeCapability>'))]);
      saved.push(['GetCapabilities', await post(dev.xaddr, envelope('GetCapabilities', '<tds:Category>All</tds:Category>'))]);
      saved.push(['GetServiceCapabilities', await c.call(events, 'GetServiceCapabilities')]);
      saved.push(['GetEventProperties', await c.call(events, 'GetEventProperties')]);
      const { res, address } = await c.create(events, '<tev:InitialTerminationTime>PT60S</tev:InitialTerminationTime>');
      saved.push(['CreatePullPointSubscription', res]);
      dev.raiseEvent('tns1:UserAlarm/Tamper', { key: { Zone: '1' }, data: { Reason: 'cover' } });
      saved.push(['PullMessages', await c.pull(address, 'PT0S', 100)]);
      saved.push(['PullMessagesEmpty', await c.pull(address, 'PT0S', 100)]);
      saved.push(['Renew', await c.call(address, 'Renew', '<wsnt:TerminationTime>PT60S</wsnt:TerminationTime>', { ns: WSNT })]);
      saved.push(['SetSynchronizationPoint', await c.call(address, 'SetSynchronizationPoint')]);
      saved.push(['PullMessagesFault', await c.pull(address, 'PT1M')]);
      saved.push(['Unsubscribe', await c.call(address, 'Unsubscribe', '', { ns: WSNT })]);
      saved.push(['ResourceUnknownFault', await c.pull(address, 'PT0S')]);
      saved.push(['FilterFault', await c.call(events, 'CreatePullPointSubscription', '<tev:Filter><wsnt:TopicExpression Dialect="urn:x">tns1:A</wsnt:TopicExpression></tev:Filter>')]);
    } finally {
      await dev.stop();
    }
    const files = saved.map(([name, r]) => {
      if (!name.endsWith('Fault')) assert.equal(r.status, 200, `${name}: ${r.body}`);
      const file = join(validation.dir, `${name}.xml`);
      writeFileSync(file, r.body);
      return file;
    });
    const result = validateFiles(files);
    assert.equal(result.code, 0, `validate.sh failed:\n${result.output}`);
  });
});
