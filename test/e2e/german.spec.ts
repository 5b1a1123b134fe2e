/**
 * The second language at run time (issue 16, item 17): a real Node-RED set to German (`lang: "de"` in its
 * settings) shows the nodes' statuses in German through RED._ and its catalogues, and serves the German editor
 * catalogue.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeFirmware } from '../../lib/simulator';
import { freeTcpPort } from '../support/ports';
import { PACKAGE_NAME, pressInject, simulatorDeviceNode, useSimulatorAndNodeRed } from './node-red-process';

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

  it('onvifq-firmware speaks German too: a dry run, a node with a bad setting', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-de-fw-'));
    try {
      // An image the simulator (model SimQ-1, firmware 1.0.0) accepts: the dry run says it would upgrade.
      const image = path.join(dir, 'camera-2.0.0.bin');
      fs.writeFileSync(image, makeFirmware({ model: 'SimQ-1', version: '2.0.0' }));
      const comms = await env.red.comms();
      await env.red.deploy([
        { id: 'de-fw-tab', type: 'tab', label: 'Firmware' },
        simulatorDeviceNode('de-fw-dev', 'Eingang', env.sim, { username: USERNAME, password: PASSWORD }),
        { id: 'de-fw-go', type: 'inject', z: 'de-fw-tab', props: [{ p: 'payload' }], payload: '', payloadType: 'date', repeat: '', once: false, x: 100, y: 100, wires: [['de-fw']] },
        { id: 'de-fw', type: 'onvifq-firmware', z: 'de-fw-tab', device: 'de-fw-dev', source: 'file', file: image, expectVersion: '2.0.0', dryRun: true, concurrency: 1, x: 300, y: 100, wires: [[], []] },
        { id: 'de-fw-bad', type: 'onvifq-firmware', z: 'de-fw-tab', device: 'de-fw-dev', source: 'url', url: 'kein-link', x: 300, y: 200, wires: [[], []] },
      ]);
      const bad = await comms.waitFor('the firmware node with a bad URL setting', (e) => e.topic === 'status/de-fw-bad' && e.data?.fill === 'red', 30000);
      assert.equal(bad.data.text, 'falsche Einstellung');
      await pressInject(env.red.port, 'de-fw-go');
      const planned = await comms.waitFor('the dry run', (e) => e.topic === 'status/de-fw' && e.data?.shape === 'ring' && /würde/.test(String(e.data?.text)), 30000);
      assert.equal(planned.data.text, 'würde aktualisieren');
      comms.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves the German editor catalogue next to the English one', async () => {
    const de = await env.red.request('GET', `/locales/${PACKAGE_NAME}/onvifq-device?lng=de`);
    assert.equal(de.status, 200);
    assert.equal(de.json()['onvifq-device'].test.button, 'Verbindung testen');
    const en = await env.red.request('GET', `/locales/${PACKAGE_NAME}/onvifq-device?lng=en-US`);
    assert.equal(en.json()['onvifq-device'].test.button, 'Test connection');
  });
});
