/**
 * Multicast WS-Discovery scenario for discovery-multicast.spec.ts. Runs INSIDE a network namespace the
 * test created (only there does 239.255.255.250 stay on loopback), never in the root namespace.
 *
 * Usage: tsx discovery-netns-scenario.ts <port>
 * Prints one JSON object: { steps: { [step]: string[] (datagrams received, as text) } }.
 */
import { createSocket, type Socket } from 'node:dgram';
import { startSimulators } from '../../lib/simulator';
import { envelope, post } from './client';
import { probeXml } from './discovery-client';

const GROUP = '239.255.255.250';
const port = Number(process.argv[2]);
if (!port) throw new Error('usage: discovery-netns-scenario.ts <port>');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bind(s: Socket, p: number, address?: string): Promise<void> {
  return new Promise((resolve) => s.bind({ port: p, address }, () => resolve()));
}

async function main(): Promise<void> {
  const steps: Record<string, string[]> = {};
  let step = 'start';
  const record = (m: Buffer) => (steps[step] ??= []).push(m.toString('utf8'));

  // A passive listener on the group, as a client's DiscoveryListener would be (shares the port: reuseAddr).
  const listener = createSocket({ type: 'udp4', reuseAddr: true });
  listener.on('message', (m) => {
    const s = m.toString('utf8');
    if (/discovery\/(Hello|Bye)</.test(s)) record(m);
  });
  await bind(listener, port);
  listener.addMembership(GROUP, '127.0.0.1');

  // The prober: an ephemeral port, multicast on loopback; replies come back to it by unicast.
  const prober = createSocket({ type: 'udp4' });
  prober.on('message', (m) => record(m));
  await bind(prober, 0, '127.0.0.1');
  prober.setMulticastInterface('127.0.0.1');
  const probe = async (name: string, xml: string, waitMs = 600) => {
    step = name;
    steps[name] ??= [];
    prober.send(xml, port, GROUP);
    await sleep(waitMs);
  };
  const settle = async (name: string, action: () => Promise<unknown>, waitMs = 400) => {
    step = name;
    steps[name] ??= [];
    await action();
    await sleep(waitMs);
  };

  const [a, b] = await startSimulators(2, { discovery: { port }, discoveryDelayMs: [0, 100], rebootDowntimeMs: 300 });
  await sleep(300);
  const call = (op: string, inner = '') => post(a!.xaddr, envelope(op, inner));

  await probe('probe-all', probeXml({ types: 'tds:Device' }));
  await probe('probe-scope-a', probeXml({ types: 'tds:Device', scopes: ['onvif://www.onvif.org/location/unknown'] }));
  await settle('add-scope', () => call('AddScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/floor/R5</tds:ScopeItem>'));
  await settle('non-discoverable', () => call('SetDiscoveryMode', '<tds:DiscoveryMode>NonDiscoverable</tds:DiscoveryMode>'));
  await probe('probe-while-non-discoverable', probeXml({ types: 'tds:Device', scopes: ['onvif://www.onvif.org/location/floor/R5'] }));
  await settle('scope-change-while-non-discoverable', () => call('RemoveScopes', '<tds:ScopeItem>onvif://www.onvif.org/location/floor/R5</tds:ScopeItem>'));
  await settle('discoverable-again', () => call('SetDiscoveryMode', '<tds:DiscoveryMode>Discoverable</tds:DiscoveryMode>'));
  await probe('probe-unsupported-rule', probeXml({ types: 'tds:Device', scopes: ['onvif://www.onvif.org'], matchBy: 'http://example.com/no-such-rule' }));
  await settle('reboot', () => call('SystemReboot'), 1200);
  await settle('commission', () => call('CreateUsers', '<tds:User><tt:Username>admin</tt:Username><tt:Password>Netns-Pass-1</tt:Password><tt:UserLevel>Administrator</tt:UserLevel></tds:User>'));
  await probe('probe-operational', probeXml({ types: 'tds:Device', scopes: ['onvif://www.onvif.org/Profile/Q/Operational'] }));
  await settle('stop', () => Promise.all([a!.stop(), b!.stop()]));

  listener.close();
  prober.close();
  process.stdout.write(`${JSON.stringify({ endpoints: [a!.endpoint, b!.endpoint], xaddrs: [a!.xaddr, b!.xaddr], steps })}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
