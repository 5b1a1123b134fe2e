/**
 * Every operation of the modelled services, encoded from schema-derived sample values and from
 * hand-written Profile Q values, validated against the official schemas by validate.sh.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { encodeElement, findOperation, listOperations, type OperationInfo } from '../../lib/schema';
import { buildEnvelope } from '../../lib/soap/envelope';
import { serializeXml } from '../../lib/xml/build';
import { parseXml } from '../../lib/xml/parse';
import { OUTPUT, skipWith, validateFiles, validationUnavailable } from '../support/shared';
import { BODY_NS, PROFILE_Q_REQUESTS } from './profile-q-values';
import { sampleElement } from './sample';

const OUT_DIR = path.join(OUTPUT, 'schema-requests');

describe('schema: requests for every operation validate against the official schemas', function () {
  this.timeout(180000);

  it('the model covers the device, event, appmgmt and advanced security services', () => {
    const count = (s: OperationInfo['service']) => listOperations(s).length;
    // Counts from the WSDL bindings: a drop means the generator lost operations.
    assert.ok(count('device') >= 100, `device operations: ${count('device')}`);
    for (const name of ['GetServiceCapabilities', 'CreatePullPointSubscription', 'GetEventProperties']) assert.ok(findOperation(`tev:${name}`), name);
    for (const name of ['PullMessages', 'Seek', 'SetSynchronizationPoint', 'Unsubscribe']) assert.equal(findOperation(`pullpoint.${name}`)?.service, 'pullpoint');
    for (const name of ['Renew', 'Unsubscribe']) assert.equal(findOperation(`subscription.${name}`)?.input.ns, 'http://docs.oasis-open.org/wsn/b-2');
    assert.ok(count('appmgmt') >= 8, `appmgmt operations: ${count('appmgmt')}`);
    assert.ok(count('advancedsecurity') >= 50, `advancedsecurity operations: ${count('advancedsecurity')}`);
  });

  it('request and response elements of all operations, plus hand-written Profile Q requests, are schema-valid', function () {
    const why = validationUnavailable();
    if (why) skipWith(this, why);
    // Files are overwritten, not cleared first: another test run may be reading this folder.
    mkdirSync(OUT_DIR, { recursive: true });
    const files: string[] = [];
    const write = (name: string, body: ReturnType<typeof encodeElement>) => {
      const file = path.join(OUT_DIR, `${name}.xml`);
      writeFileSync(file, buildEnvelope(body));
      files.push(file);
    };
    const ops = listOperations();
    for (const op of ops) {
      const base = `${op.service}-${op.name}`;
      write(`${base}-request-minimal`, encodeElement(op.input.ns, op.input.local, sampleElement(op.input.ns, op.input.local, 'required')));
      write(`${base}-request-full`, encodeElement(op.input.ns, op.input.local, sampleElement(op.input.ns, op.input.local, 'full')));
      write(`${base}-response-full`, encodeElement(op.output.ns, op.output.local, sampleElement(op.output.ns, op.output.local, 'full')));
    }
    for (const [name, value] of Object.entries(PROFILE_Q_REQUESTS)) {
      const op = findOperation(name);
      assert.ok(op, `operation ${name}`);
      const body = encodeElement(op.input.ns, op.input.local, value);
      assert.equal(body.ns, BODY_NS[op.service], `${name} body namespace`);
      write(`profile-q-${op.service}-${op.name}`, body);
    }
    const { code, output } = validateFiles(files);
    assert.equal(code, 0, `validate.sh reported problems:\n${output.slice(0, 4000)}`);
    console.log(`      validated ${files.length} messages: ${ops.length} operations (minimal + full request, full response) and ${Object.keys(PROFILE_Q_REQUESTS).length} Profile Q requests`);
  });

  it('writes children in schema order and the right namespaces whatever the key order', () => {
    const op = findOperation('SetDNS')!;
    const xml = serializeXml(encodeElement(op.input.ns, op.input.local, PROFILE_Q_REQUESTS['device.SetDNS']), { declaration: false });
    const root = parseXml(xml);
    assert.deepEqual(root.children.map((c) => c.local), ['FromDHCP', 'SearchDomain', 'SearchDomain', 'DNSManual', 'DNSManual']);
    assert.deepEqual(root.children[3].children.map((c) => `${c.ns === 'http://www.onvif.org/ver10/schema' ? 'tt' : c.ns}:${c.local}`), ['tt:Type', 'tt:IPv4Address']);
    assert.equal(root.children[0].text, 'false');
  });

  it('appmgmt children are unqualified, as the appmgmt schema says', () => {
    const op = findOperation('appmgmt.GetAppsInfo')!;
    const xml = serializeXml(encodeElement(op.input.ns, op.input.local, { AppID: 'com.example.app1' }), { declaration: false });
    assert.equal(xml, '<ans:GetAppsInfo xmlns:ans="http://www.onvif.org/ver10/appmgmt/wsdl"><AppID>com.example.app1</AppID></ans:GetAppsInfo>');
  });

  it('topic filters carry the prefixes they use', () => {
    const op = findOperation('CreatePullPointSubscription')!;
    const root = parseXml(serializeXml(encodeElement(op.input.ns, op.input.local, PROFILE_Q_REQUESTS['events.CreatePullPointSubscription'])));
    const topic = root.children[0].children[0];
    assert.equal(topic.local, 'TopicExpression');
    assert.equal(topic.ns, 'http://docs.oasis-open.org/wsn/b-2');
    assert.equal(topic.namespaces.tns1, 'http://www.onvif.org/ver10/topics');
    assert.equal(topic.text, 'tns1:Device/Trigger//.|tns1:Monitoring//.');
    assert.equal(root.children[1].local, 'InitialTerminationTime');
  });
});
