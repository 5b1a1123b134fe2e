/**
 * Probing over real UDP sockets on loopback (unicast, custom ports: no multicast in the root namespace),
 * against responders that answer with the bytes real devices sent.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { probe, probe$, resolve, type DiscoveredDevice } from '../../lib/discovery';
import { parseXml } from '../../lib/xml/parse';
import { child, text } from '../../lib/xml/query';
import { skipWith } from '../support/shared';
import { PEERS, REAL, probeMessageId, realCaptures, startReplayResponder, type ReplayResponder } from './support';

/** Names, hardware and XAddrs as the captures state them (XAddrs compared as sets: their order depends on this host's networks). */
const BY_ENDPOINT: Record<string, { name?: string; hardware: string; xaddrs: string[] }> = {
  'urn:uuid:2a46daf1-86f6-91ad-5458-3d184eb186f6': { name: 'Amcrest', hardware: 'IP5M-B1186E', xaddrs: ['http://192.168.0.205/onvif/device_service'] },
  'urn:uuid:3ea96f68-b845-4c0b-87cf-eee904c4be65': {
    name: 'AXIS M2025-LE', hardware: 'M2025-LE',
    xaddrs: ['http://169.254.251.249/onvif/device_service', 'http://192.168.0.209/onvif/device_service', 'https://169.254.251.249/onvif/device_service', 'https://192.168.0.209/onvif/device_service'],
  },
  'urn:uuid:503b687a-b9d7-474f-a2d0-a18c8b25a464': { name: 'Dahua', hardware: 'IPC-HFW2228M-I1-V2', xaddrs: ['http://192.168.1.45/onvif/device_service'] },
  'urn:uuid:18ec6401-3aa0-11b5-83f6-b4a3820fd92d': {
    name: 'HIKVISION DS-2CD3955FWD-IWS', hardware: 'DS-2CD3955FWD-IWS',
    xaddrs: ['http://192.168.0.218/onvif/device_service', 'http://[fe80::b6a3:82ff:fe0f:d92d]/onvif/device_service'],
  },
  'urn:uuid:cea94000-fb96-11b3-8260-686dbc5cb15d': { hardware: 'DFI6256TE', xaddrs: ['http://192.168.12.123/onvif/device_service'] },
  'urn:uuid:3fa1fe68-b915-4053-a3e1-c006c3afec0e': { name: 'TP-IPC', hardware: 'MODEL', xaddrs: ['http://192.168.12.128:2020/onvif/device_service'] },
};

function assertIsCapturedDevice(d: DiscoveredDevice): void {
  const want = BY_ENDPOINT[d.endpoint];
  assert.ok(want, `unexpected endpoint ${d.endpoint}`);
  assert.equal(d.name, want.name, d.endpoint);
  assert.equal(d.hardware, want.hardware, d.endpoint);
  assert.deepEqual([...d.xaddrs].sort(), want.xaddrs, d.endpoint);
}

const WINDOWS_WSD = path.join(PEERS, 'wsdd-debian/probe-wsdp-Device.reply1.xml');

describe('discovery: probing real-capture responders on 127.0.0.1 (unicast)', function () {
  const responders: ReplayResponder[] = [];
  let captures: [string, Buffer][] = [];

  before(function () {
    if (!existsSync(REAL)) skipWith(this, `skipped: ${REAL} not found (the team's shared real-device captures)`);
    captures = realCaptures('ProbeMatches');
  });
  afterEach(async () => {
    await Promise.all(responders.splice(0).map((r) => r.close()));
  });

  async function oneResponderPerCapture(): Promise<ReplayResponder[]> {
    const out: ReplayResponder[] = [];
    for (const [, bytes] of captures) out.push(await startReplayResponder({ replies: [bytes] }));
    responders.push(...out);
    return out;
  }

  it('finds every device whose replies are the real ProbeMatches captures, with the right name, hardware and XAddrs', async function () {
    const rs = await oneResponderPerCapture();
    const found = await probe({ targets: rs.map((r) => `127.0.0.1:${r.port}`), timeoutMs: 1200 });
    assert.equal(found.length, captures.length);
    assert.equal(new Set(found.map((d) => d.endpoint)).size, found.length, 'each device once');
    for (const d of found) assertIsCapturedDevice(d);
    // `from` is the responder that answered.
    assert.deepEqual(found.map((d) => Number(d.from.split(':')[1])).sort(), rs.map((r) => r.port).sort());
  });

  it('sends two conservative probes (NetworkVideoTransmitter and Device), each repeated, with uuid: MessageIDs', async function () {
    const [r] = await oneResponderPerCapture();
    await probe({ targets: [`127.0.0.1:${r.port}`], timeoutMs: 1200, repeats: 3 });
    assert.equal(r.probes.length, 6);
    const ids = r.probes.map((p) => probeMessageId(p)!);
    assert.equal(new Set(ids).size, 2, 'repeats of one probe share its MessageID');
    for (const id of ids) assert.match(id, /^uuid:[0-9a-f-]{36}$/);
    const types = r.probes.map((p) => text(child(child(parseXml(p), 'Body'), 'Probe'), 'Types')).sort();
    assert.deepEqual([...new Set(types)], ['dn:NetworkVideoTransmitter', 'tds:Device']);
  });

  it('a junk responder (malformed XML, a Windows WSD reply, an empty datagram, HTML) next to real devices does not hide them', async function () {
    const junk = [
      Buffer.alloc(0),
      Buffer.from('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><d:ProbeMatches'),
      Buffer.from('<html><body>It works!</body></html>'),
      ...(existsSync(WINDOWS_WSD) ? [readFileSync(WINDOWS_WSD)] : []),
    ];
    const bad = await startReplayResponder({ replies: junk });
    responders.push(bad);
    // Windows WSD reply again, with RelatesTo rewritten to our probe, so only its type keeps it out.
    if (existsSync(WINDOWS_WSD)) responders.push(await startReplayResponder({ replies: [readFileSync(WINDOWS_WSD)] }));
    const rs = await oneResponderPerCapture();
    const targets = [bad, ...responders.filter((r) => r !== bad)].map((r) => `127.0.0.1:${r.port}`);
    const found = await probe({ targets, timeoutMs: 1200 });
    assert.ok(bad.probes.length > 0, 'the junk responder was probed');
    assert.equal(found.length, rs.length);
    for (const d of found) assertIsCapturedDevice(d);
  });

  it('uuid: and urn:uuid: replies of one device are one device, with the addresses of both', async function () {
    const dahua = captures.find(([f]) => f.startsWith('dahua'))![1].toString();
    const urnForm = dahua
      .replace('uuid:503b687a-b9d7-474f-a2d0-a18c8b25a464', 'urn:uuid:503B687A-B9D7-474F-A2D0-A18C8B25A464')
      .replace('http://192.168.1.45/onvif/device_service', 'http://10.45.0.2/onvif/device_service');
    const a = await startReplayResponder({ replies: [Buffer.from(dahua)] });
    const b = await startReplayResponder({ replies: [Buffer.from(urnForm)] });
    responders.push(a, b);
    const found = await probe({ targets: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], timeoutMs: 1000 });
    assert.equal(found.length, 1);
    assert.equal(found[0].endpoint, 'urn:uuid:503b687a-b9d7-474f-a2d0-a18c8b25a464');
    assert.deepEqual([...found[0].xaddrs].sort(), ['http://10.45.0.2/onvif/device_service', 'http://192.168.1.45/onvif/device_service']);
  });

  it('RelatesTo matches with and without urn:; a reply to someone else\'s probe is ignored', async function () {
    const [, amcrest] = captures.find(([f]) => f.startsWith('amcrest'))!;
    const [, axis] = captures.find(([f]) => f.startsWith('axis'))!;
    // Axis answers quoting our MessageID with urn: added; Amcrest replays its capture untouched (RelatesTo of a probe we never sent).
    const withUrn = await startReplayResponder({ replies: [axis], relatesTo: (id) => `urn:${id}` });
    const stale = await startReplayResponder({ replies: [amcrest], raw: true });
    responders.push(withUrn, stale);
    const found = await probe({ targets: [`127.0.0.1:${withUrn.port}`, `127.0.0.1:${stale.port}`], timeoutMs: 1000 });
    assert.deepEqual(found.map((d) => d.name), ['AXIS M2025-LE']);
    assert.ok(stale.probes.length > 0);
  });

  it('a last-octet range target reaches responders on 127.0.0.1-3 (same port)', async function () {
    const first = await startReplayResponder({ replies: [captures[0][1]], address: '127.0.0.1' });
    responders.push(first);
    responders.push(await startReplayResponder({ replies: [captures[1][1]], address: '127.0.0.2', port: first.port }));
    responders.push(await startReplayResponder({ replies: [captures[2][1]], address: '127.0.0.3', port: first.port }));
    const found = await probe({ targets: ['127.0.0.1-3'], port: first.port, timeoutMs: 1000 });
    assert.equal(found.length, 3);
    assert.deepEqual(found.map((d) => d.from.split(':')[0]).sort(), ['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    for (const d of found) assertIsCapturedDevice(d);
  });

  it('a list of targets, with an unreachable one (127.0.0.2, closed port), still finds the rest', async function () {
    const rs = await oneResponderPerCapture();
    const found = await probe({ targets: ['127.0.0.2:9', ...rs.slice(0, 2).map((r) => `127.0.0.1:${r.port}`)], timeoutMs: 800 });
    assert.equal(found.length, 2);
  });

  it('scopes narrow the search (sent in the Probe, and checked on replies from devices that ignore them)', async function () {
    const rs = await oneResponderPerCapture();
    const found = await probe({ targets: rs.map((r) => `127.0.0.1:${r.port}`), timeoutMs: 1000, scopes: ['onvif://www.onvif.org/Profile/G'] });
    assert.deepEqual(found.map((d) => d.name).sort(), ['AXIS M2025-LE', 'HIKVISION DS-2CD3955FWD-IWS']);
    assert.match(rs[0].probes[0].toString(), /<d:Scopes MatchBy="[^"]*rfc3986">onvif:\/\/www\.onvif\.org\/Profile\/G<\/d:Scopes>/);
  });

  it('probe$ emits each device once as it is found and completes at the end of the window', async function () {
    const rs = await oneResponderPerCapture();
    const t0 = Date.now();
    const seen = await lastValueFrom(probe$({ targets: rs.map((r) => `127.0.0.1:${r.port}`), timeoutMs: 900 }).pipe(toArray()));
    const took = Date.now() - t0;
    assert.equal(seen.length, captures.length);
    assert.equal(new Set(seen.map((d) => d.endpoint)).size, seen.length);
    assert.ok(took >= 850 && took < 2500, `window of 900 ms took ${took} ms`);
  });

  it('an abort ends the search early with what was found', async function () {
    const rs = await oneResponderPerCapture();
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 400);
    const t0 = Date.now();
    const found = await probe({ targets: rs.map((r) => `127.0.0.1:${r.port}`), timeoutMs: 10000, signal: abort.signal });
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(found.length, captures.length);
  });

  it('resolve() finds a known endpoint (given as uuid:) as soon as it answers; an unknown one gives undefined', async function () {
    const rs = await oneResponderPerCapture();
    const targets = rs.map((r) => `127.0.0.1:${r.port}`);
    const t0 = Date.now();
    const d = await resolve('uuid:3EA96F68-B845-4C0B-87CF-EEE904C4BE65', { targets, timeoutMs: 5000 });
    assert.ok(Date.now() - t0 < 2000, 'resolved before the window ended');
    assert.equal(d?.name, 'AXIS M2025-LE');
    assert.equal(await resolve('urn:uuid:00000000-0000-0000-0000-000000000000', { targets, timeoutMs: 500 }), undefined);
  });

  it('bad input fails with an OnvifError that says what to fix, before anything is sent', async function () {
    await assert.rejects(probe({ targets: ['10.0.0.0/16'] }), (e: Error & { kind?: string }) => e.kind === 'invalid-input' && /larger than \/22/.test(e.message));
    await assert.rejects(probe({ targets: ['127.0.0.1'], multicast: true, interfaces: ['no-such-if0'] }), (e: Error & { kind?: string }) => e.kind === 'invalid-input' && /no-such-if0/.test(e.message));
    await assert.rejects(probe({ targets: [], multicast: false }), (e: Error & { kind?: string }) => e.kind === 'invalid-input');
  });
});
