/**
 * Attributes older ONVIF releases defined and the current schema dropped, which deployed firmware still
 * sends (generate.ts LEGACY_ATTRIBUTES): typed as those releases defined them, not left as text.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { decodeElement } from '../../lib/schema';
import { generateFiles, LEGACY_ATTRIBUTES, MODEL_FILE, TYPES_FILE } from '../../tools/schema/generate';
import { NS } from '../../lib/xml/namespaces';
import { parseXml } from '../../lib/xml/parse';
import { envelope, sendSoap, TestServer } from '../transport/soap-server';
import { SHARED, skipWith } from '../support/shared';

type Json = Record<string, any>;

const EVENT_CAPTURES = path.join(SHARED, 'fixtures/real/GetServiceCapabilitiesResponse-events');
const WSDL_DIR = path.join(SHARED, 'onvif/wsdl');

describe('schema: attributes older schema versions defined', () => {
  it('tev:Capabilities WSPullPointSupport and tds:SystemCapabilities FirmwareUpgrade decode as booleans', () => {
    const events = decodeElement(
      parseXml(
        `<tev:GetServiceCapabilitiesResponse xmlns:tev="${NS.tev}"><tev:Capabilities WSSubscriptionPolicySupport="true" WSPullPointSupport="true" ` +
          `MaxPullPoints="2"/></tev:GetServiceCapabilitiesResponse>`,
      ),
    ) as Json;
    assert.deepEqual(events.Capabilities, { WSSubscriptionPolicySupport: true, WSPullPointSupport: true, MaxPullPoints: 2 });
    const device = decodeElement(
      parseXml(
        `<tds:GetServiceCapabilitiesResponse xmlns:tds="${NS.tds}"><tds:Capabilities><tds:Network/><tds:Security/>` +
          `<tds:System DiscoveryBye="true" FirmwareUpgrade="0" HttpFirmwareUpgrade="1"/></tds:Capabilities></tds:GetServiceCapabilitiesResponse>`,
      ),
    ) as Json;
    assert.deepEqual(device.Capabilities.System, { DiscoveryBye: true, FirmwareUpgrade: false, HttpFirmwareUpgrade: true });
  });

  describe('through OnvifDevice.call against a device on 127.0.0.1', () => {
    /** Answer one tev:GetServiceCapabilities call with `body`. */
    async function serve(body: string): Promise<Json> {
      const server = await TestServer.start((_req, res) => sendSoap(res, body));
      const device = new OnvifDevice({ address: server.url });
      try {
        return (await device.call('tev:GetServiceCapabilities', {}, { url: server.url })) as Json;
      } finally {
        await device.close();
        await server.stop();
      }
    }

    it('tev:GetServiceCapabilities with WSPullPointSupport="true" gives true', async () => {
      const caps = await serve(
        envelope(`<tev:GetServiceCapabilitiesResponse xmlns:tev="${NS.tev}"><tev:Capabilities WSPullPointSupport="true" MaxPullPoints="10"/></tev:GetServiceCapabilitiesResponse>`),
      );
      assert.deepEqual(caps, { Capabilities: { WSPullPointSupport: true, MaxPullPoints: 10 } });
    });

    it('every real GetServiceCapabilities capture of the events service gives WSPullPointSupport as a boolean', async function () {
      if (!existsSync(EVENT_CAPTURES)) skipWith(this, `skipped: ${EVENT_CAPTURES} not found (the team's shared real captures)`);
      const files = readdirSync(EVENT_CAPTURES).filter((f) => f.endsWith('.xml'));
      let seen = 0;
      for (const f of files) {
        const xml = readFileSync(path.join(EVENT_CAPTURES, f), 'utf8');
        const written = /WSPullPointSupport="([^"]*)"/.exec(xml)?.[1];
        const caps = await serve(xml);
        if (written === undefined) continue;
        seen++;
        assert.equal(caps.Capabilities.WSPullPointSupport, written.trim() === 'true' || written.trim() === '1', f);
      }
      assert.ok(seen > 0, 'no capture carries WSPullPointSupport');
    });
  });

  it('onvif-schema.json and onvif-types.ts are what tools/schema/generate.ts (npm run schema) makes from shared/onvif, legacy attributes included', function () {
    if (!existsSync(WSDL_DIR)) skipWith(this, `skipped: ${WSDL_DIR} not found (the team's shared ONVIF schemas)`);
    this.timeout(60_000);
    const { model, modelText, typesText, warnings } = generateFiles(WSDL_DIR);
    assert.deepEqual(warnings.filter((w) => w.includes('legacy')), []);
    for (const legacy of LEGACY_ATTRIBUTES) {
      const type = Object.entries(model.types).find(([name]) => name.endsWith(`:${legacy.type.local}`) && model.ns[name.split(':')[0]!] === legacy.type.ns)?.[1];
      assert.ok(type && !('k' in type && type.k === 's'), `${legacy.type.local} compiled`);
      assert.deepEqual(type.a?.find(([name]) => name === legacy.name), [legacy.name, `xs:${legacy.xsType}`]);
    }
    assert.ok(modelText === readFileSync(MODEL_FILE, 'utf8'), 'lib/schema/onvif-schema.json is out of date: run npm run schema');
    assert.ok(typesText === readFileSync(TYPES_FILE, 'utf8'), 'lib/schema/onvif-types.ts is out of date: run npm run schema');
  });
});
