/**
 * Issue 14: TLS configuration end to end against the simulator's real HTTPS listener. Each certificate source
 * ends with the library reading the device over verified HTTPS (CA or pin), a client with other trust refused,
 * and `openssl s_client` confirming the chain the device serves.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { SimulatedDevice, type SimulatorOptions } from '../../lib/simulator';
import { certificateReport, enableHttps, fingerprintOf, Keystore, renewCertificate, servedCertificates, type HttpsResult } from '../../lib/tls';
import { freeTcpPort } from '../support/ports';
import { hasCommand, skipWith } from '../support/shared';
import { derOf, makeCa, makeServerCertificate, opensslSClient, type TestCa } from './pki';
import { ADMIN, QUICK, rejects } from './support';

/** GetDeviceInformation over https with this trust, from a fresh session. */
async function readOverHttps(address: string, tls: HttpsResult['tls']): Promise<string> {
  const d = new OnvifDevice({ address, ...ADMIN, tls });
  try {
    return (await d.call('GetDeviceInformation')).Model;
  } finally {
    await d.close();
  }
}

/** Does plain HTTP still answer? */
function httpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const r = request({ host: '127.0.0.1', port, path: '/onvif/device_service', method: 'POST', headers: { 'Content-Length': 0 } }, (res) => {
      res.resume();
      resolve(true);
    });
    r.on('error', () => resolve(false));
    r.end();
  });
}

describe('tls: enableHttps, renewCertificate and certificateReport against a real HTTPS listener', function () {
  this.timeout(120_000);
  let sim: SimulatedDevice;
  let device: OnvifDevice;
  let dir: string;
  let ca: TestCa;

  before(() => {
    ca = makeCa();
    dir = mkdtempSync(path.join(tmpdir(), 'onvifq-tls-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function start(options: SimulatorOptions = {}): Promise<void> {
    sim = new SimulatedDevice({ ...QUICK, ...options, security: { ...QUICK.security, ...options.security } });
    await sim.start();
    device = new OnvifDevice({ address: sim.xaddr, ...ADMIN });
  }
  afterEach(async () => {
    await device?.close();
    await sim?.stop();
  });

  async function openssl(ctx: Mocha.Context, port: number, caPem?: string) {
    if (!hasCommand('openssl')) skipWith(ctx, 'skipped: openssl missing (apt-get install openssl)');
    let caFile: string | undefined;
    if (caPem) {
      caFile = path.join(dir, `ca-${port}.pem`);
      writeFileSync(caFile, caPem);
    }
    return opensslSClient(port, caFile);
  }

  it('C, self-signed: the device makes key and certificate, the library pins its fingerprint; another pin and no trust are refused; openssl sees the same certificate', async function () {
    await start();
    const result = await enableHttps(device, { source: 'self-signed' });
    assert.match(result.address, /^https:\/\/127\.0\.0\.1:\d+\/onvif\/device_service$/);
    assert.equal(result.address, sim.httpsXaddr);
    assert.deepEqual(result.tls, { fingerprint: result.fingerprint });
    assert.ok(result.certificate.subjectAltName.includes('IP Address:127.0.0.1'));
    assert.equal(result.certificate.selfSigned, true);
    assert.equal(await readOverHttps(result.address, result.tls), 'SimQ-1');

    const wrongPin = await rejects(readOverHttps(result.address, { fingerprint: 'AA'.repeat(32) }));
    assert.equal(wrongPin.kind, 'tls');
    assert.match(wrongPin.message, /does not match the pinned fingerprint/);
    const untrusted = await rejects(readOverHttps(result.address, {}));
    assert.equal(untrusted.kind, 'tls');
    assert.ok(untrusted.message.includes(result.fingerprint), 'the refusal names the fingerprint to check');

    const s = await openssl(this, sim.httpsPort);
    assert.equal(s.certificates.length, 1, s.output.slice(0, 2000));
    assert.equal(fingerprintOf(derOf(s.certificates[0]!)), result.fingerprint);
  });

  it('A, CA-signed: the device makes key and CSR, the flow CA signs it with the IP address as subjectAltName; the chain verifies against the CA and not against another', async function () {
    await start();
    const result = await enableHttps(device, { source: 'ca', caCertificate: ca.certificate, caKey: ca.key, waitForKey: 'poll' });
    assert.equal(result.ca, ca.certificate.replace(/\r\n/g, '\n'));
    assert.deepEqual(Object.keys(result.tls), ['ca']);
    assert.match(result.certificate.issuer, /onvifq test CA/);
    assert.ok(result.certificate.subjectAltName.includes('IP Address:127.0.0.1'));
    assert.equal(await readOverHttps(result.address, result.tls), 'SimQ-1');

    const other = makeCa('someone else');
    const refused = await rejects(readOverHttps(result.address, { ca: other.certificate }));
    assert.equal(refused.kind, 'tls');

    const inventory = await new Keystore(device).inventory();
    const assigned = inventory.paths.find((p) => p.pathId === inventory.assignedServerPaths[0])!;
    assert.equal(assigned.certificateIds.length, 2, 'leaf and CA form the path');
    const caEntry = inventory.certificates.find((c) => c.certificateId === assigned.certificateIds[1])!;
    assert.equal(inventory.keys.find((k) => k.keyId === caEntry.keyId)?.hasPrivateKey, false, 'the CA is a public-only key');

    const s = await openssl(this, sim.httpsPort, ca.certificate);
    assert.equal(s.verify, '0 (ok)', s.output.slice(0, 3000));
    assert.equal(s.certificates.length, 2, 'leaf and CA are served');
    assert.equal(fingerprintOf(derOf(s.certificates[0]!)), result.fingerprint);
    assert.equal(fingerprintOf(derOf(s.certificates[1]!)), fingerprintOf(derOf(ca.certificate)));
    const wrong = await openssl(this, sim.httpsPort, other.certificate);
    assert.notEqual(wrong.verify, '0 (ok)');
  });

  it('B, own certificate: packed into PKCS#12 in an encryption the device lists (deprecated capability names only), then verified against its CA', async function () {
    await start({ security: { capabilityNames: 'deprecated', passwordBasedEncryptionAlgorithms: ['pbeWithSHAAnd3-KeyTripleDES-CBC'] } });
    const own = makeServerCertificate(ca, ['127.0.0.1']);
    const caps = await new Keystore(device).capabilities();
    assert.equal(caps.pkcs12, true, 'PKCS12CertificateWithRSAPrivateKeyUpload read');
    assert.deepEqual(caps.keyPairGeneration, ['RSA'], 'RSAKeyPairGeneration read');
    const result = await enableHttps(device, { source: 'certificate', certificate: own.certificate, privateKey: own.privateKey, chain: ca.certificate });
    assert.equal(result.fingerprint, fingerprintOf(derOf(own.certificate)));
    assert.equal(await readOverHttps(result.address, result.tls), 'SimQ-1');
    assert.equal((await rejects(readOverHttps(result.address, { ca: makeCa('other').certificate }))).kind, 'tls');
    // The passphrase went to the device, but never into its request log.
    const upload = sim.requests.find((r) => r.operation === 'UploadCertificateWithPrivateKeyInPKCS12')!;
    assert.match(upload.body, /Passphrase>\*\*\*</);

    const s = await openssl(this, sim.httpsPort, ca.certificate);
    assert.equal(s.verify, '0 (ok)', s.output.slice(0, 3000));
    assert.equal(fingerprintOf(derOf(s.certificates[0]!)), result.fingerprint);
  });

  it('B with a certificate that does not name the device: verification fails and everything is rolled back', async function () {
    await start();
    const own = makeServerCertificate(ca, ['192.0.2.99']);
    const e = await rejects(enableHttps(device, { source: 'certificate', certificate: own.certificate, privateKey: own.privateKey, chain: ca.certificate }));
    assert.match(e.message, /rolled back/);
    assert.equal(sim.httpsPort, 0, 'the HTTPS listener is off again');
    const protocols = (await device.call('GetNetworkProtocols')).NetworkProtocols;
    assert.equal(protocols.find((p) => p.Name === 'HTTPS')?.Enabled, false);
    const inv = await new Keystore(device).inventory();
    assert.deepEqual([inv.assignedServerPaths, inv.paths, inv.certificates.length, inv.keys.length], [[], [], 0, 0]);
  });

  it('rollback: a device that serves another certificate than the configured one gets HTTPS turned off again', async function () {
    await start();
    await sim.serveWrongCertificate(true);
    const e = await rejects(enableHttps(device, { source: 'self-signed' }));
    assert.match(e.message, /other than the one just configured/);
    assert.match(e.message, /rolled back/);
    assert.equal(sim.httpsPort, 0);
    const https = (await device.call('GetNetworkProtocols')).NetworkProtocols.find((p) => p.Name === 'HTTPS');
    assert.equal(https?.Enabled, false);
    assert.deepEqual(await new Keystore(device).assignedServerPaths(), []);
    // The HTTP session still works: the device was never left reachable only over the unverified channel.
    assert.equal((await device.call('GetDeviceInformation')).Model, 'SimQ-1');
  });

  it('every other protocol is unchanged, HTTP goes off only after verification (httpOff), and HTTPS keeps working', async function () {
    await start();
    const before = (await device.call('GetNetworkProtocols')).NetworkProtocols;
    const result = await enableHttps(device, { httpOff: true });
    assert.equal(result.httpDisabled, true);
    const https = new OnvifDevice({ address: result.address, ...ADMIN, tls: result.tls });
    try {
      const after = (await https.call('GetNetworkProtocols')).NetworkProtocols;
      const rtsp = (list: typeof before) => list.find((p) => p.Name === 'RTSP');
      assert.deepEqual(rtsp(after), rtsp(before));
      assert.equal(after.find((p) => p.Name === 'HTTP')?.Enabled, false);
      assert.equal(await httpAnswers(sim.port), false, 'plain HTTP no longer answers');
      const sent = sim.requests.filter((r) => r.operation === 'SetNetworkProtocols');
      assert.equal(sent.length, 2);
      const httpEnabled = (body: string) => /Name>HTTP<\/[\w:]*Name>\s*<[\w:]*Enabled>(\w+)</.exec(body)?.[1];
      assert.equal(httpEnabled(sent[0]!.body), 'true', 'the call that turns HTTPS on leaves HTTP on');
      assert.equal(httpEnabled(sent[1]!.body), 'false', 'a second call, after verification, turns HTTP off');
    } finally {
      await https.close();
    }
  });

  it('renewCertificate replaces the certificate while HTTPS stays on (no failed handshake or call meanwhile), verifies, and deletes the old path, certificate and key', async function () {
    await start();
    const first = await enableHttps(device, { source: 'self-signed' });
    const oldInventory = await new Keystore(device).inventory();
    let stop = false;
    let calls = 0;
    const failures: string[] = [];
    const watcher = new OnvifDevice({ address: first.address, ...ADMIN, tls: { rejectUnauthorized: false } });
    const watch = (async () => {
      while (!stop) {
        try {
          await servedCertificates(new URL(first.address));
          await watcher.call('GetDeviceInformation');
          calls++;
        } catch (e) {
          failures.push(String(e));
        }
      }
    })();
    let renewed: HttpsResult;
    try {
      renewed = await renewCertificate(device, { source: 'ca', caCertificate: ca.certificate, caKey: ca.key });
    } finally {
      stop = true;
      await watch;
      await watcher.close();
    }
    assert.deepEqual(failures, []);
    assert.ok(calls > 0, 'the watcher talked to the device during the renewal');
    assert.notEqual(renewed.fingerprint, first.fingerprint);
    const served = await servedCertificates(new URL(first.address));
    assert.equal(fingerprintOf(served[0]!), renewed.fingerprint);
    assert.equal(await readOverHttps(renewed.address, renewed.tls), 'SimQ-1');
    assert.equal((await rejects(readOverHttps(first.address, first.tls))).kind, 'tls', 'the old pin no longer matches');
    const inv = await new Keystore(device).inventory();
    for (const k of oldInventory.keys) assert.ok(!inv.keys.some((x) => x.keyId === k.keyId), `old key ${k.keyId} deleted`);
    for (const p of oldInventory.paths) assert.ok(!inv.paths.some((x) => x.pathId === p.pathId), `old path ${p.pathId} deleted`);

    const s = await openssl(this, sim.httpsPort, ca.certificate);
    assert.equal(s.verify, '0 (ok)', s.output.slice(0, 3000));
  });

  it('HTTPS listens on the port the device reports (httpsPort), and an explicit httpsPort is used and reported', async () => {
    const port = await freeTcpPort();
    await start({ httpsPort: port });
    const reported = (await device.call('GetNetworkProtocols')).NetworkProtocols.find((p) => p.Name === 'HTTPS');
    assert.deepEqual([reported?.Enabled, reported?.Port], [false, [port]]);
    const result = await enableHttps(device);
    assert.equal(new URL(result.address).port, String(port));
    assert.equal(sim.httpsPort, port);
    await device.close();
    await sim.stop();
    const other = await freeTcpPort();
    await start();
    const moved = await enableHttps(device, { httpsPort: other });
    assert.equal(new URL(moved.address).port, String(other));
    assert.deepEqual((await device.call('GetNetworkProtocols')).NetworkProtocols.find((p) => p.Name === 'HTTPS')?.Port, [other]);
  });

  it('renewCertificate over an HTTPS session pinned to the old certificate: a new certificate that does not verify is undone, the old one served again', async () => {
    await start();
    const first = await enableHttps(device);
    const pinnedSession = new OnvifDevice({ address: first.address, ...ADMIN, tls: first.tls });
    try {
      const before = await new Keystore(pinnedSession).inventory();
      const wrongName = makeServerCertificate(ca, ['192.0.2.99']);
      const e = await rejects(renewCertificate(pinnedSession, { source: 'certificate', certificate: wrongName.certificate, privateKey: wrongName.privateKey, chain: ca.certificate }));
      assert.match(e.message, /the old one is back in place/);
      const served = await servedCertificates(new URL(first.address));
      assert.equal(fingerprintOf(served[0]!), first.fingerprint);
      const after = await new Keystore(pinnedSession).inventory();
      assert.deepEqual(after.paths, before.paths, 'the new path is gone, the old one assigned');
      assert.deepEqual(after.assignedServerPaths, before.assignedServerPaths);
    } finally {
      await pinnedSession.close();
    }
  });

  it('certificateReport gives expiry and days left of the assigned certificate, and flags one close to expiry', async function () {
    await start();
    const none = await certificateReport(device);
    assert.deepEqual([none.https.enabled, none.certificates, none.expiresSoon], [false, [], false]);
    await enableHttps(device, { source: 'ca', caCertificate: ca.certificate, caKey: ca.key, validDays: 20 });
    const report = await certificateReport(device, { warnDays: 30 });
    assert.equal(report.https.enabled, true);
    assert.equal(report.certificates.length, 1);
    assert.ok(report.daysLeft === 19 || report.daysLeft === 20, `days left ${report.daysLeft}`);
    assert.equal(report.expiresSoon, true);
    assert.equal((await certificateReport(device, { warnDays: 10 })).expiresSoon, false);
  });

  it('HTTPS and the keystore persist across a restart; a hard factory default clears them and stops the listener', async function () {
    const stateFile = path.join(dir, 'state.json');
    await start({ stateFile });
    const result = await enableHttps(device);
    await device.close();
    await sim.stop();
    sim = new SimulatedDevice({ ...QUICK, stateFile });
    await sim.start();
    device = new OnvifDevice({ address: sim.xaddr, ...ADMIN });
    assert.equal(await readOverHttps(result.address, result.tls), 'SimQ-1');
    await device.call('SetSystemFactoryDefault', { FactoryDefault: 'Hard' }, { waitForRestart: false });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sim.httpsPort, 0);
    assert.equal(sim.state.keystore, undefined);
  });
});
