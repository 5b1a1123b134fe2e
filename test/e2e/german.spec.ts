/**
 * The second language at run time (issue 16, item 17): a real Node-RED set to German (`lang: "de"` in its
 * settings) shows the nodes' statuses in German through RED._ and its catalogues, and serves the German editor
 * catalogue.
 */
import { strict as assert } from 'node:assert';
import { freeTcpPort } from '../support/ports';
import { PACKAGE_NAME, simulatorDeviceNode, useSimulatorAndNodeRed } from './node-red-process';

const USERNAME = 'admin';
const PASSWORD = 'Deu7sch-pass';

describe('e2e: Node-RED in German', function () {
  this.timeout(90000);
  const env = useSimulatorAndNodeRed({ username: USERNAME, password: PASSWORD, discovery: false }, ['-D', 'lang=de']);

  it('statuses come from the German catalogue: connected events node, a device that is away', async () => {
    const comms = await env.red.comms();
    const closed = await freeTcpPort();
    await env.red.deploy([
      { id: 'de-tab', type: 'tab', label: 'Deutsch' },
      simulatorDeviceNode('de-dev', 'Eingang', env.sim, { username: USERNAME, password: PASSWORD }),
      { id: 'de-away', type: 'onvifq-device', name: 'Garten', address: `127.0.0.1:${closed}`, auth: 'auto', timeout: 2 },
      { id: 'de-ev', type: 'onvifq-events', z: 'de-tab', device: 'de-dev', filter: '', x: 100, y: 100, wires: [[]] },
      { id: 'de-cfg', type: 'onvifq-configure', z: 'de-tab', device: 'de-away', operation: 'GetDeviceInformation', x: 100, y: 200, wires: [[]] },
    ]);
    const events = await comms.waitFor('the events node subscribed', (e) => e.topic === 'status/de-ev' && e.data?.fill === 'green', 30000);
    assert.match(String(events.data.text), /^(verbunden|zuletzt \d\d:\d\d:\d\d)$/);
    const away = await comms.waitFor('the configure node retrying', (e) => e.topic === 'status/de-cfg' && e.data?.fill === 'yellow', 30000);
    assert.match(String(away.data.text), /^neuer Versuch in \d+s: nicht erreichbar$/);
    comms.close();
  });

  it('serves the German editor catalogue next to the English one', async () => {
    const de = await env.red.request('GET', `/locales/${PACKAGE_NAME}/onvifq-device?lng=de`);
    assert.equal(de.status, 200);
    assert.equal(de.json()['onvifq-device'].test.button, 'Verbindung testen');
    const en = await env.red.request('GET', `/locales/${PACKAGE_NAME}/onvifq-device?lng=en-US`);
    assert.equal(en.json()['onvifq-device'].test.button, 'Test connection');
  });
});
