/**
 * The simulator's WS-Discovery responder, by unicast on 127.0.0.1 with a test-chosen port (root network
 * namespace: no multicast here; see discovery-multicast.spec.ts for Hello/Bye and group probes).
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from '../../lib/simulator/cli';
import { SimulatedDevice, startSimulators, type SimulatorOptions } from '../../lib/simulator';
import { OUTPUT, skipWith, validateFiles, validationUnavailable } from '../support/shared';
import { allTexts, envelope, parse, post } from './client';
import { attr, descendant } from '../../lib/xml/query';
import { ANONYMOUS, DN, freeUdpPort, newMessageId, probeXml, resolveXml, RFC3986, STRCMP0, summarize, TDS, UdpProber, WSD } from './discovery-client';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('simulator: WS-Discovery responder (unicast, 127.0.0.1)', function () {
  this.timeout(30_000);
  let port: number;
  let prober: UdpProber;
  const running: SimulatedDevice[] = [];

  async function device(options: SimulatorOptions = {}): Promise<SimulatedDevice> {
    const d = new SimulatedDevice({ discovery: { port }, discoveryDelayMs: [0, 0], ...options });
    await d.start();
    running.push(d);
    return d;
  }

  const scopesOf = async (d: SimulatedDevice) => allTexts(await post(d.xaddr, envelope('GetScopes')), 'ScopeItem');
  const matches = async (spec: Parameters<typeof probeXml>[0]) => (await prober.ask(probeXml(spec), port)).length > 0;

  beforeEach(async () => {
    port = await freeUdpPort();
    prober = await UdpProber.open();
  });

  afterEach(async () => {
    prober.close();
    await Promise.all(running.splice(0).map((d) => d.stop()));
  });

  it('answers a Probe by unicast with one ProbeMatches shaped like a real camera’s', async () => {
    const d = await device();
    assert.equal(d.discoveryAddress, `udp://127.0.0.1:${port}`);
    const messageId = newMessageId();
    prober.send(probeXml({ messageId, types: 'dn:NetworkVideoTransmitter' }), port);
    const replies = await prober.repliesTo(messageId, 400);
    assert.equal(replies.length, 1);
    const r = replies[0]!;
    assert.deepEqual(r.from, { address: '127.0.0.1', port }, 'the reply comes from the discovery port');
    const s = summarize(r.xml);
    assert.equal(s.action, `${WSD}/ProbeMatches`);
    assert.equal(s.relatesTo, messageId);
    assert.equal(s.to, ANONYMOUS);
    assert.match(s.messageId ?? '', /^urn:uuid:[0-9a-f-]{36}$/);
    assert.ok(s.appSequence && s.appSequence.instanceId > 0 && s.appSequence.messageNumber > 0, 'AppSequence header');
    assert.equal(s.matches.length, 1);
    const m = s.matches[0]!;
    assert.equal(m.endpoint, d.endpoint);
    assert.match(m.endpoint!, /^urn:uuid:[0-9a-f-]{36}$/);
    assert.deepEqual(m.types, [{ ns: DN, local: 'NetworkVideoTransmitter' }, { ns: TDS, local: 'Device' }]);
    assert.deepEqual(m.scopes, await scopesOf(d), 'Scopes are what GetScopes lists');
    assert.ok(m.scopes.includes('onvif://www.onvif.org/Profile/Q/FactoryDefault'));
    assert.deepEqual(m.xaddrs, [d.xaddr]);
    assert.equal(m.metadataVersion, 1);
  });

  it('matches Types by namespace URI and local name, whatever the prefix; a Probe without Types matches', async () => {
    await device();
    const other = ' xmlns:x="http://www.onvif.org/ver10/device/wsdl" xmlns:y="http://example.com/not-onvif"';
    assert.equal(await matches({}), true, 'no Types');
    assert.equal(await matches({ types: '' }), true, 'empty Types');
    assert.equal(await matches({ types: 'tds:Device' }), true);
    assert.equal(await matches({ types: 'dn:NetworkVideoTransmitter tds:Device' }), true);
    assert.equal(await matches({ types: 'x:Device', extraNs: other }), true, 'another prefix for the tds namespace');
    assert.equal(await matches({ types: 'y:Device', extraNs: other }), false, 'Device in another namespace');
    assert.equal(await matches({ types: 'tds:NetworkVideoTransmitter' }), false, 'NVT in the wrong namespace');
    assert.equal(await matches({ types: 'tds:Device dn:NetworkVideoDisplay' }), false, 'every type asked for must be offered');
  });

  it('matches Scopes by the rfc3986 rule: whole path segments, scheme and host in any case', async () => {
    const d = await device({ deviceInformation: { Model: 'D1-566' } });
    await post(d.xaddr, envelope('AddScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/country/china</tds:ScopeItem>'));
    const probe = (scopes: string[], matchBy?: string) => matches({ scopes, matchBy });
    assert.equal(await probe(['onvif://www.onvif.org/hardware/D1-566']), true);
    assert.equal(await probe(['onvif://www.onvif.org/hardware/D1']), false, '…/hardware/D1 must not match …/hardware/D1-566');
    assert.equal(await probe(['onvif://www.onvif.org']), true, 'the bare authority matches every onvif scope');
    assert.equal(await probe(['onvif://www.onvif.org/location/country']), true);
    assert.equal(await probe(['onvif://www.onvif.org/location/country/']), true, 'a trailing slash adds no segment');
    assert.equal(await probe(['onvif://www.onvif.org/location/country/chin']), false);
    assert.equal(await probe(['onvif://www.onvif.org/location/country/china/beijing']), false, 'longer than the device scope');
    assert.equal(await probe(['ONVIF://WWW.ONVIF.ORG/hardware/D1-566']), true, 'scheme and authority ignore case');
    assert.equal(await probe(['onvif://www.onvif.org/HARDWARE/D1-566']), false, 'the path is case-sensitive');
    assert.equal(await probe(['onvif://www.onvif.org/hardware/D1-566', 'onvif://www.onvif.org/location/country/china']), true, 'all scopes must match');
    assert.equal(await probe(['onvif://www.onvif.org/hardware/D1-566', 'onvif://www.onvif.org/location/country/japan']), false);
    assert.equal(await probe(['onvif://www.onvif.org/%68ardware/D1-566']), true, 'percent-encoded unreserved characters are normalised');
    assert.equal(await probe(['onvif://www.onvif.org/hardware/./D1-566']), false, 'dot segments never match');
    assert.equal(await probe(['onvif://www.onvif.org/hardware/D1-566'], RFC3986), true, 'explicit rfc3986');
    assert.equal(await probe(['onvif://www.onvif.org/hardware'], STRCMP0), false, 'strcmp0 wants the whole string');
    assert.equal(await probe(['onvif://www.onvif.org/hardware/D1-566'], STRCMP0), true);
  });

  it('answers a unicast Probe with an unknown MatchBy rule with the MatchingRuleNotSupported fault of Core §7.3.6', async () => {
    await device();
    const messageId = newMessageId();
    prober.send(probeXml({ messageId, scopes: ['onvif://www.onvif.org'], matchBy: 'http://example.com/fuzzy' }), port);
    const replies = await prober.repliesTo(messageId, 400);
    assert.equal(replies.length, 1);
    const s = summarize(replies[0]!.xml);
    assert.equal(s.action, `${WSD}/fault`);
    assert.equal(s.body, 'Fault');
    assert.match(s.fault?.code ?? '', /:Sender$/);
    assert.deepEqual(s.fault?.subcode && { ns: s.fault.subcode.ns, local: s.fault.subcode.local }, { ns: WSD, local: 'MatchingRuleNotSupported' });
    assert.ok(s.fault?.supportedRules.includes(RFC3986), 'lists rfc3986 among SupportedMatchingRules');
  });

  it('answers Resolve for its own endpoint (urn:uuid: or uuid:, any case) and ignores other endpoints', async () => {
    const d = await device();
    const messageId = newMessageId();
    prober.send(resolveXml(d.endpoint, messageId), port);
    const replies = await prober.repliesTo(messageId, 400);
    assert.equal(replies.length, 1);
    const s = summarize(replies[0]!.xml);
    assert.equal(s.action, `${WSD}/ResolveMatches`);
    assert.equal(s.body, 'ResolveMatches');
    assert.equal(s.matches[0]?.endpoint, d.endpoint);
    assert.deepEqual(s.matches[0]?.xaddrs, [d.xaddr]);
    const short = d.endpoint.replace(/^urn:/, '').toUpperCase().replace('UUID:', 'uuid:');
    assert.equal((await prober.ask(resolveXml(short), port)).length, 1, `Resolve ${short}`);
    assert.equal((await prober.ask(resolveXml('urn:uuid:00000000-0000-4000-8000-000000000000'), port)).length, 0);
  });

  it('NonDiscoverable answers no Probe and no Resolve; Discoverable again answers', async () => {
    const d = await device();
    const setMode = (mode: string) => post(d.xaddr, envelope('SetDiscoveryMode', `<tds:DiscoveryMode>${mode}</tds:DiscoveryMode>`));
    assert.equal((await setMode('NonDiscoverable')).status, 200);
    assert.deepEqual(allTexts(await post(d.xaddr, envelope('GetDiscoveryMode')), 'DiscoveryMode'), ['NonDiscoverable']);
    assert.equal(await matches({}), false, 'Probe while NonDiscoverable');
    assert.equal((await prober.ask(resolveXml(d.endpoint), port)).length, 0, 'Resolve while NonDiscoverable');
    assert.equal(await matches({ scopes: ['onvif://www.onvif.org'], matchBy: 'http://example.com/fuzzy' }), false, 'not even a fault');
    assert.equal((await setMode('Discoverable')).status, 200);
    assert.equal(await matches({}), true);
  });

  it('a reply pending while the device turns NonDiscoverable is not sent', async () => {
    // Two devices share the unicast socket, so both wait before answering, as they would on multicast.
    const d = await device({ discoveryDelayMs: [300, 300] });
    const other = await device({ discoveryDelayMs: [300, 300] });
    const messageId = newMessageId();
    prober.send(probeXml({ messageId }), port);
    await post(d.xaddr, envelope('SetDiscoveryMode', '<tds:DiscoveryMode>NonDiscoverable</tds:DiscoveryMode>'));
    const replies = await prober.repliesTo(messageId, 600);
    assert.deepEqual(replies.map((r) => summarize(r.xml).matches[0]?.endpoint), [other.endpoint]);
  });

  it('a scope change raises MetadataVersion and shows in the next ProbeMatches; a refused change does not', async () => {
    const d = await device();
    const probeOnce = async () => (await prober.ask(probeXml({}), port))[0]!.matches[0]!;
    const before = await probeOnce();
    const added = 'onvif://www.onvif.org/location/floor/R5';
    await post(d.xaddr, envelope('AddScopes', `<tds:ScopeItem>${added}</tds:ScopeItem>`));
    const after = await probeOnce();
    assert.ok(after.scopes.includes(added));
    assert.equal(after.metadataVersion, before.metadataVersion! + 1);
    const refused = await post(d.xaddr, envelope('AddScopes', '<tds:ScopeItem>not a uri</tds:ScopeItem>'));
    assert.equal(refused.status, 400);
    assert.equal((await probeOnce()).metadataVersion, after.metadataVersion, 'a faulted AddScopes changes nothing');
    await post(d.xaddr, envelope('SetScopes', '<tds:Scopes>onvif://www.onvif.org/location/city/lyon</tds:Scopes>'));
    const set = await probeOnce();
    assert.ok(set.scopes.includes('onvif://www.onvif.org/location/city/lyon') && !set.scopes.includes(added));
    assert.equal(set.metadataVersion, after.metadataVersion! + 1);
  });

  it('MetadataVersion only grows: it survives a restart from the state file and a hard factory default', async () => {
    const dir = join(OUTPUT, 'simulator-discovery');
    mkdirSync(dir, { recursive: true });
    const stateFile = join(dir, `metadata-version-${process.pid}.json`);
    rmSync(stateFile, { force: true });
    const probeOnce = async () => (await prober.ask(probeXml({}), port))[0]!.matches[0]!;
    const first = await device({ stateFile, rebootDowntimeMs: 100 });
    await post(first.xaddr, envelope('AddScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/floor/R5</tds:ScopeItem>'));
    await post(first.xaddr, envelope('AddScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/floor/R6</tds:ScopeItem>'));
    await sleep(50);
    assert.equal((await probeOnce()).metadataVersion, 3);
    await first.stop();
    running.splice(running.indexOf(first), 1);

    const again = await device({ stateFile, rebootDowntimeMs: 100 });
    assert.equal((await probeOnce()).metadataVersion, 3, 'the same device after a restart');
    await post(again.xaddr, envelope('SetSystemFactoryDefault', '<tds:FactoryDefault>Hard</tds:FactoryDefault>'));
    await once(again, 'ready');
    await post(again.xaddr, envelope('AddScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/floor/R7</tds:ScopeItem>'));
    await sleep(50);
    assert.ok((await probeOnce()).metadataVersion! > 3, 'a factory default does not start MetadataVersion again');
  });

  it('the Profile Q state scope follows commissioning and factory reset', async () => {
    const d = await device({ auth: 'none' });
    const FD = 'onvif://www.onvif.org/Profile/Q/FactoryDefault';
    const OP = 'onvif://www.onvif.org/Profile/Q/Operational';
    assert.equal(await matches({ scopes: [FD] }), true);
    assert.equal(await matches({ scopes: [OP] }), false);
    const created = await post(d.xaddr, envelope('CreateUsers', '<tds:User><tt:Username>admin</tt:Username><tt:Password>Disc-Pass-1</tt:Password><tt:UserLevel>Administrator</tt:UserLevel></tds:User>'));
    assert.equal(created.status, 200);
    assert.equal(await matches({ scopes: [OP] }), true, 'Operational once an Administrator has a password');
    assert.equal(await matches({ scopes: [FD] }), false);
    const restarted = once(d, 'ready');
    assert.equal((await post(d.xaddr, envelope('SetSystemFactoryDefault', '<tds:FactoryDefault>Hard</tds:FactoryDefault>'))).status, 200);
    // A factory default restarts the device; it answers probes again once it is back.
    await restarted;
    assert.equal(await matches({ scopes: [FD] }), true, 'FactoryDefault again after a hard reset');
    assert.equal(await matches({ scopes: [OP] }), false);
  });

  // WS-Discovery asks for the random wait on multicast, where many devices hear one probe. Devices of one
  // process sharing a unicast socket all hear a unicast probe too, so they wait as well; a lone one does not.
  it('answers a unicast Probe at once when it is the only device on its port, whatever discoveryDelayMs says', async () => {
    await device({ discoveryDelayMs: [1500, 1500] });
    const messageId = newMessageId();
    const sent = prober.send(probeXml({ messageId }), port);
    const [reply] = await prober.waitForReplies(messageId, 1, 5000);
    assert.ok(reply, 'answered');
    assert.ok(reply.at - sent < 1500, `answered after ${(reply.at - sent).toFixed(0)} ms, not after the 1500 ms wait`);
  });

  it('devices sharing the unicast port wait a random time within discoveryDelayMs before answering', async () => {
    await device({ discoveryDelayMs: [120, 220] });
    await device({ discoveryDelayMs: [120, 220] });
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const messageId = newMessageId();
      const sent = prober.send(probeXml({ messageId }), port);
      const replies = await prober.waitForReplies(messageId, 2, 3000);
      assert.equal(replies.length, 2, `probe ${i} answered by both`);
      waits.push(...replies.map((r) => r.at - sent));
    }
    // Timers never fire early; late is what a busy machine does, so the upper bound is generous.
    for (const w of waits) assert.ok(w >= 119 && w < 220 + 500, `reply after ${w.toFixed(1)} ms, expected 120-220 (+ scheduling)`);
    assert.ok(Math.max(...waits) - Math.min(...waits) > 10, `delays vary: ${waits.map((w) => w.toFixed(0)).join(', ')}`);
  });

  it('answers a Probe repeated with the same MessageID (SOAP-over-UDP retransmission) once', async () => {
    await device();
    const xml = probeXml();
    const id = summarize(xml).messageId!;
    for (let i = 0; i < 3; i++) prober.send(xml, port);
    assert.equal((await prober.repliesTo(id, 400)).length, 1);
  });

  it('is silent during a reboot and answers afterwards with a new AppSequence instance', async () => {
    const d = await device({ rebootDowntimeMs: 400 });
    const before = (await prober.ask(probeXml({}), port))[0]!;
    await post(d.xaddr, envelope('SystemReboot'));
    await sleep(50);
    assert.equal(await matches({}), false, 'no answer while rebooting');
    await sleep(400);
    const after = (await prober.ask(probeXml({}), port))[0]!;
    assert.ok(after.appSequence!.instanceId > before.appSequence!.instanceId, 'InstanceId grows with the restart');
    assert.equal(after.matches[0]!.endpoint, before.matches[0]!.endpoint);
  });

  it('shares the port with another reuseAddr listener, and lets go of it on stop', async () => {
    const bystander = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((r) => bystander.bind(port, () => r()));
    try {
      const d = await device();
      assert.equal(await matches({}), true);
      await d.stop();
      running.splice(running.indexOf(d), 1);
      assert.equal(await matches({}), false, 'no answer after stop');
    } finally {
      bystander.close();
    }
    // Nobody holds the port any more: a socket without reuseAddr can take both addresses the responder used.
    for (const address of ['127.0.0.1', '239.255.255.250']) {
      const s = createSocket({ type: 'udp4' });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(port, address, () => resolve());
      });
      s.close();
    }
  });

  it('a discovery port taken by an exclusive socket fails the start with a plain message', async () => {
    const holder = createSocket({ type: 'udp4' });
    await new Promise<void>((r) => holder.bind(port, '127.0.0.1', () => r()));
    try {
      const d = new SimulatedDevice({ discovery: { port } });
      await assert.rejects(d.start(), (e: Error) => e.message.includes(`UDP port ${port}`) && /another discovery port or turn discovery off/.test(e.message));
      assert.equal(d.discoveryAddress, undefined);
    } finally {
      holder.close();
    }
  });

  it('a discoveryDelayMs with max below min fails the start and leaves no server behind', async () => {
    const d = new SimulatedDevice({ port: 0, discovery: { port }, discoveryDelayMs: [300, 100] });
    await assert.rejects(d.start(), /discoveryDelayMs must be \[min, max\]/);
    await assert.rejects(post(d.xaddr, envelope('GetScopes')), /ECONNREFUSED/);
  });

  it('discovery: false answers nothing; capabilities announce DiscoveryResolve and DiscoveryBye', async () => {
    const d = await device({ discovery: false });
    assert.equal(d.discoveryAddress, undefined);
    assert.equal(await matches({}), false);
    const system = descendant(parse(await post(d.xaddr, envelope('GetServiceCapabilities'))).body, 'System', TDS);
    assert.ok(system, 'System capabilities present');
    assert.equal(attr(system, 'DiscoveryResolve'), 'true');
    assert.equal(attr(system, 'DiscoveryBye'), 'true');
    const legacy = await post(d.xaddr, envelope('GetCapabilities', '<tds:Category>Device</tds:Category>'));
    assert.deepEqual(allTexts(legacy, 'DiscoveryResolve'), ['true']);
    assert.deepEqual(allTexts(legacy, 'DiscoveryBye'), ['true']);
  });

  it('250 devices started in one process all answer one probe', async function () {
    this.timeout(120_000);
    const devices = await startSimulators(250, { discovery: { port }, discoveryDelayMs: [0, 300], processorUsageIntervalMs: 0 });
    running.push(...devices);
    const messageId = newMessageId();
    prober.send(probeXml({ messageId, types: 'tds:Device' }), port);
    const replies = (await prober.repliesTo(messageId, 1500)).map((r) => summarize(r.xml));
    const endpoints = new Set(replies.map((s) => s.matches[0]?.endpoint));
    assert.equal(replies.length, 250);
    assert.deepEqual([...endpoints].sort(), devices.map((d) => d.endpoint).sort());
    const xaddrs = new Set(replies.map((s) => s.matches[0]?.xaddrs[0]));
    assert.equal(xaddrs.size, 250, 'each answer names its own device service');
  });

  it('ProbeMatches, ResolveMatches and the matching-rule fault validate against the WS-Discovery and SOAP schemas', async function () {
    const why = validationUnavailable();
    if (why) skipWith(this, why);
    const d = await device({ deviceInformation: { Model: 'Q <&> "1"' } });
    await post(d.xaddr, envelope('AddScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/city/K%C3%B6ln</tds:ScopeItem>'));
    const samples: Record<string, string> = {};
    for (const [name, xml] of [
      ['ProbeMatches', probeXml({ types: 'tds:Device', scopes: ['onvif://www.onvif.org/location'] })],
      ['ResolveMatches', resolveXml(d.endpoint)],
      ['Fault', probeXml({ scopes: ['onvif://www.onvif.org'], matchBy: 'http://example.com/fuzzy' })],
    ] as const) {
      const id = summarize(xml).messageId!;
      prober.send(xml, port);
      const [reply] = await prober.repliesTo(id, 300);
      assert.ok(reply, `${name} received`);
      assert.equal(summarize(reply.xml).body, name);
      samples[name] = reply.xml;
    }
    const dir = join(OUTPUT, 'simulator-discovery');
    mkdirSync(dir, { recursive: true });
    const files = Object.entries(samples).map(([name, xml]) => {
      const f = join(dir, `${name}.xml`);
      writeFileSync(f, xml);
      return f;
    });
    const { code, output } = validateFiles(files);
    assert.equal(code, 0, output);
  });
});

describe('simulator: onvifq-sim discovery options', () => {
  it('--discovery-port N and --no-discovery set the discovery option; together they are refused', () => {
    const a = parseArgs(['--discovery-port', '4702']);
    assert.ok(!a.help && a.options.discovery && a.options.discovery.port === 4702);
    const b = parseArgs(['--no-discovery']);
    assert.ok(!b.help && b.options.discovery === false);
    assert.throws(() => parseArgs(['--no-discovery', '--discovery-port', '4702']), /contradict/);
    assert.throws(() => parseArgs(['--discovery-port', '70000']), /between 1 and 65535/);
  });

  async function runCli(args: string[], count: number): Promise<{ lines: Array<Record<string, string>>; stop: () => Promise<number | null> }> {
    const root = join(__dirname, '..', '..');
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'lib', 'simulator', 'cli.ts'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: Array<Record<string, string>> = [];
    const rl = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      rl.on('line', (l) => {
        lines.push(JSON.parse(l) as Record<string, string>);
        if (lines.length === count) resolve();
      });
      child.once('exit', (code) => reject(new Error(`onvifq-sim exited with ${code}`)));
    });
    return {
      lines,
      stop: async () => {
        child.kill('SIGTERM');
        return ((await once(child, 'exit')) as [number | null])[0];
      },
    };
  }

  it('onvifq-sim --discovery-port N answers probes there and prints the discovery address per device', async function () {
    this.timeout(30_000);
    const port = await freeUdpPort();
    const cli = await runCli(['--devices', '2', '--discovery-port', String(port)], 2);
    const prober = await UdpProber.open();
    try {
      for (const l of cli.lines) assert.equal(l.discovery, `udp://127.0.0.1:${port}`);
      const replies = await prober.ask(probeXml({}), port, 600);
      assert.deepEqual(replies.map((r) => r.matches[0]!.endpoint).sort(), cli.lines.map((l) => l.endpoint).sort());
    } finally {
      prober.close();
      assert.equal(await cli.stop(), 0);
    }
  });

  it('onvifq-sim --no-discovery prints no discovery address', async function () {
    this.timeout(30_000);
    const cli = await runCli(['--no-discovery'], 1);
    assert.equal(cli.lines[0]!.discovery, undefined);
    assert.match(cli.lines[0]!.xaddr!, /^http:/);
    assert.equal(await cli.stop(), 0);
  });
});

