/**
 * Issue 14: the keystore client against the simulated `tas` service: both capability name sets, key generation
 * waited for by event and by polling, a corrupt key, every fault with a message that says what to do, the
 * access classes, and every request the TLS tasks send validated against the official schemas.
 */
import { strict as assert } from 'node:assert';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { SimulatedDevice, type SimulatorOptions } from '../../lib/simulator';
import { certificateReport, enableHttps, explainKeystoreError, Keystore, renewCertificate, signCsr } from '../../lib/tls';
import { skipWith, validateRequests, validationUnavailable } from '../support/shared';
import { derOf, makeCa, makeServerCertificate, pkcs12Of, type TestCa } from './pki';
import { ADMIN, QUICK, rejects } from './support';

describe('tls: keystore client and the simulated tas service', function () {
  this.timeout(120_000);
  let sim: SimulatedDevice;
  let device: OnvifDevice;
  let ks: Keystore;
  let ca: TestCa;

  before(() => {
    ca = makeCa();
  });

  async function start(options: SimulatorOptions = {}): Promise<void> {
    sim = new SimulatedDevice({ ...QUICK, ...options, security: { ...QUICK.security, ...options.security } });
    await sim.start();
    device = new OnvifDevice({ address: sim.xaddr, ...ADMIN });
    ks = new Keystore(device);
  }
  afterEach(async () => {
    await device?.close();
    await sim?.stop();
  });

  it('reads the capabilities in the current names, the deprecated names, and both', async () => {
    const seen: Record<string, unknown> = {};
    for (const capabilityNames of ['current', 'deprecated', 'both'] as const) {
      await start({ security: { capabilityNames } });
      const raw = sim.requests.length;
      const caps = await ks.capabilities();
      seen[capabilityNames] = caps;
      assert.ok(sim.requests.length > raw);
      await device.close();
      await sim.stop();
    }
    assert.deepEqual(seen.current, seen.deprecated, 'the same capabilities whichever names the device uses');
    assert.deepEqual(seen.both, seen.current);
    const caps = seen.current as Awaited<ReturnType<Keystore['capabilities']>>;
    assert.deepEqual([caps.keyPairGeneration, caps.pkcs10, caps.selfSignedCertificates, caps.pkcs12, caps.rsaKeyLengths, caps.tlsServerSupported], [['RSA'], true, true, true, [2048, 3072], ['1.2', '1.3']]);
  });

  it('waits for a key by the KeyStatus event, and by polling GetKeyStatus', async () => {
    await start({ security: { keyGenerationDelayMs: 1500 } });
    const byEvent = await ks.createRsaKey({ length: 2048, waitBy: 'event' });
    const eventPolls = sim.requests.filter((r) => r.operation === 'GetKeyStatus').length;
    assert.ok(sim.requests.some((r) => r.operation === 'CreatePullPointSubscription'), 'a pull point was opened before the request');
    assert.ok(eventPolls <= 2, `the event ended the wait (GetKeyStatus ${eventPolls} times)`);
    sim.clearRequests();
    const byPolling = await ks.createRsaKey({ length: 2048, waitBy: 'poll' });
    assert.ok(!sim.requests.some((r) => r.operation === 'CreatePullPointSubscription'));
    assert.ok(sim.requests.filter((r) => r.operation === 'GetKeyStatus').length >= 3, 'polled until ok');
    assert.deepEqual((await ks.inventory()).keys.map((k) => [k.keyId, k.status, k.hasPrivateKey]), [[byEvent, 'ok', true], [byPolling, 'ok', true]]);
  });

  it('a key that ends corrupt is reported (event and GetKeyStatus) and deleted', async () => {
    await start();
    for (const waitBy of ['event', 'poll'] as const) {
      sim.injectCorruptKey();
      const e = await rejects(ks.createRsaKey({ length: 2048, waitBy }));
      assert.match(e.message, /failed to generate key .* \(status corrupt\); it was deleted/);
    }
    assert.deepEqual((await ks.inventory()).keys, []);
  });

  it('every keystore fault says what to do', async () => {
    await start({ security: { maxKeys: 2, maxPassphrases: 1, maxTlsCertificationPaths: 1 } });
    const advice = async (p: Promise<unknown>, code: string, words: RegExp) => {
      const e = await rejects(p);
      assert.equal(e.kind, 'fault');
      assert.ok(e.subcodes?.includes(`ter:${code}`), `${code} in ${e.subcodes?.join(' ')}`);
      assert.match(e.message, words, e.message);
    };
    await advice(ks.createRsaKey({ length: 1000 }), 'KeyLength', /pick one of the RSA key lengths/);
    const key = await ks.createRsaKey({ length: 2048 });
    await advice(ks.uploadCertificate(Buffer.from('not a certificate at all')), 'BadCertificate', /convert PEM to DER/);
    const own = makeServerCertificate(ca, ['127.0.0.1']);
    await advice(ks.uploadCertificate(derOf(own.certificate), { privateKeyRequired: true }), 'NoMatchingPrivateKey', /sign a CSR the device created|PKCS#12/);
    const caCert = await ks.uploadCertificate(derOf(ca.certificate));
    const leafDer = signCsr({ csr: await ks.createCsr(key, { CommonName: 'x' }), caCertificate: ca.certificate, caKey: ca.key, names: ['127.0.0.1'], validDays: 10 });
    const leaf = await ks.uploadCertificate(leafDer, { privateKeyRequired: true });
    assert.equal(leaf.keyId, key, 'the certificate is linked to the key that made the CSR');
    await advice(ks.createCertificationPath([caCert.certificateId, leaf.certificateId]), 'InvalidCertificationPath', /leaf first/);
    const caPath = await ks.createCertificationPath([caCert.certificateId]);
    await advice(ks.addServerAssignment(caPath), 'NoPrivateKey', /has no private key on the device/);
    const pathId = await ks.createCertificationPath([leaf.certificateId, caCert.certificateId]);
    await advice(ks.deleteKey(key), 'ReferenceExists', /certificates before their keys/);
    await advice(ks.deleteCertificate(leaf.certificateId), 'ReferenceExists', /delete paths before their certificates/);
    const enable = (enabled: boolean) => device.call('SetNetworkProtocols', { NetworkProtocols: [{ Name: 'HTTPS', Enabled: enabled, Port: [sim.state.protocols.find((p) => p.name === 'HTTPS')!.ports[0]!] }] } as never);
    const noTls = await rejects(enable(true));
    assert.match(String(explainKeystoreError(noTls, 'SetNetworkProtocols')), /EnablingTlsFailed.*assign a certification path/);
    await ks.addServerAssignment(pathId);
    const second = await ks.createCertificationPath([await ks.createSelfSignedCertificate(key, { CommonName: 'second' })]);
    await advice(ks.addServerAssignment(second), 'MaximumNumberOfTLSCertificationPathsReached', /replace the assigned one/);
    await enable(true);
    await advice(ks.removeServerAssignment(pathId), 'ReferenceExists', /ReplaceServerCertificateAssignment/);
    await advice(ks.deleteCertificationPath(pathId), 'ReferenceExists', /in use/);
    await advice(ks.replaceServerAssignment('Path-404', pathId), 'OldCertificationPathID', /inventory/);
    await enable(false);
    await ks.removeServerAssignment(pathId);
    await advice(ks.createRsaKey({ length: 2048 }), 'MaximumNumberOfKeysReached', /delete the ones no certificate uses/);
    await advice(ks.uploadPkcs12(Buffer.from('garbage'), { passphrase: 'x' }), 'BadPKCS12File', /one certificate with its private key/);
    const p12 = pkcs12Of(own.privateKey, [own.certificate], 'right passphrase');
    await advice(ks.uploadPkcs12(p12, { passphrase: 'wrong passphrase' }), 'DecryptionFailed', /passphrase is wrong/);
    await advice(ks.uploadPkcs12(p12, { passphraseId: 'Pass-404' }), 'PassphraseID', /upload the passphrase first/);
    const other = makeServerCertificate(ca, ['127.0.0.1']);
    await advice(ks.uploadPkcs12(pkcs12Of(own.privateKey, [other.certificate], 'p'), { passphrase: 'p' }), 'PublicPrivateKeyMismatch', /does not belong/);
    await ks.uploadPassphrase('p1');
    await advice(ks.uploadPassphrase('p2'), 'MaximumNumberOfPassphrasesReached', /delete unused ones/);
  });

  it('PKCS#12 with the passphrase stored on the device (PassphraseID), and a key that is still generating', async () => {
    await start({ security: { keyGenerationDelayMs: 2000 } });
    const own = makeServerCertificate(ca, ['127.0.0.1']);
    const id = await ks.uploadPassphrase('stored secret', 'install');
    const r = await ks.uploadPkcs12(pkcs12Of(own.privateKey, [own.certificate, ca.certificate], 'stored secret'), { passphraseId: id });
    const p = await ks.certificationPath(r.pathId);
    assert.equal(p.certificateIds.length, 2);
    const generating = (await device.call('tas:CreateRSAKeyPair', { KeyLength: 2048 } as never)) as { KeyID: string };
    const e = await rejects(ks.createCsr(generating.KeyID, { CommonName: 'x' }));
    assert.ok(e.subcodes?.includes('ter:InvalidKeyStatus'));
    assert.match(e.message, /wait for KeyStatus ok/);
  });

  it('an Operator may not touch the keystore (access classes); GetServiceCapabilities needs no credentials', async () => {
    await start();
    await device.call('CreateUsers', { User: [{ Username: 'op', Password: 'Op3rator-pass', UserLevel: 'Operator' }] });
    const operator = new OnvifDevice({ address: sim.xaddr, username: 'op', password: 'Op3rator-pass' });
    const anonymous = new OnvifDevice({ address: sim.xaddr });
    try {
      for (const op of ['CreateRSAKeyPair', 'GetAllKeys', 'AddServerCertificateAssignment']) {
        const e = await rejects(operator.call(`tas:${op}`, (op === 'CreateRSAKeyPair' ? { KeyLength: 2048 } : op === 'AddServerCertificateAssignment' ? { CertificationPathID: 'x' } : {}) as never));
        assert.ok(e.isNotAuthorized, `${op} refused to an Operator: ${e.message}`);
      }
      assert.equal((await new Keystore(anonymous).capabilities()).pkcs12, true);
    } finally {
      await operator.close();
      await anonymous.close();
    }
  });

  it('every request of the TLS tasks validates against the official schemas', async function () {
    const why = validationUnavailable();
    if (why) skipWith(this, why);
    await start();
    const own = makeServerCertificate(ca, ['127.0.0.1']);
    await enableHttps(device, { source: 'self-signed' });
    await renewCertificate(device, { source: 'ca', caCertificate: ca.certificate, caKey: ca.key });
    await renewCertificate(device, { source: 'certificate', certificate: own.certificate, privateKey: own.privateKey, chain: ca.certificate, waitForKey: 'poll' });
    await certificateReport(device);
    const id = await ks.uploadPassphrase('x', 'a');
    await ks.deletePassphrase(id);
    await ks.inventory();
    await device.call('tas:GetPrivateKeyStatus', { KeyID: 'Key-1' } as never).catch(() => undefined);
    const sent = sim.requests.filter((r) => r.method === 'POST' && r.body.includes('Envelope'));
    const operations = new Set(sent.map((r) => r.operation));
    for (const op of ['CreateRSAKeyPair', 'GetKeyStatus', 'CreatePKCS10CSR', 'CreateSelfSignedCertificate', 'UploadCertificate', 'UploadCertificateWithPrivateKeyInPKCS12',
      'CreateCertificationPath', 'AddServerCertificateAssignment', 'ReplaceServerCertificateAssignment', 'GetAssignedServerCertificates', 'SetNetworkProtocols',
      'DeleteCertificationPath', 'DeleteCertificate', 'DeleteKey', 'UploadPassphrase', 'DeletePassphrase', 'GetAllKeys', 'GetAllCertificates', 'GetCertificationPath']) {
      assert.ok(operations.has(op), `${op} was sent`);
    }
    const result = validateRequests('tls-requests', sent);
    console.log(`      ${result.files.length} requests, ${operations.size} operations`);
    assert.equal(result.code, 0, result.output.slice(0, 4000));
  });
});
