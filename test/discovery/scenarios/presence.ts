/**
 * Scenario, run INSIDE a network namespace (it joins and sends to the multicast group):
 *   ip netns exec <ns> tsx test/discovery/scenarios/presence.ts --source sim|replay
 * A DiscoveryListener watches the group while devices come and go:
 *   replay: the real Dahua Hello capture (sent twice with one MessageID, as SOAP-over-UDP repeats it), a Windows
 *           WSD Hello that must be ignored, then a real Bye from another ONVIF server (roleoroleo);
 *   sim:    a SimulatedDevice started (Hello) and stopped (Bye).
 * Prints one JSON line: the events seen and what was expected.
 */
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { DiscoveryListener, type PresenceEvent } from '../../../lib/discovery';
import { SimulatedDevice } from '../../../lib/simulator';
import { PEERS, realCaptures } from '../support';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sendToGroup(datagrams: Buffer[]): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  s.setMulticastInterface('127.0.0.1');
  for (const d of datagrams) {
    await new Promise<void>((r) => s.send(d, 3702, '239.255.255.250', () => r()));
    await sleep(20);
  }
  s.close();
}

const WINDOWS_HELLO = '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:wsdp="http://schemas.xmlsoap.org/ws/2006/02/devprof" xmlns:pub="http://schemas.microsoft.com/windows/pub/2005/07"><soap:Header><wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To><wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Hello</wsa:Action><wsa:MessageID>urn:uuid:9a0c1f7e-0000-4000-8000-000000000001</wsa:MessageID></soap:Header><soap:Body><wsd:Hello><wsa:EndpointReference><wsa:Address>urn:uuid:11111111-2222-3333-4444-555555555555</wsa:Address></wsa:EndpointReference><wsd:Types>wsdp:Device pub:Computer</wsd:Types><wsd:MetadataVersion>1</wsd:MetadataVersion></wsd:Hello></soap:Body></soap:Envelope>';

async function main(): Promise<void> {
  const source = arg('source', 'sim');
  const listener = new DiscoveryListener();
  const events: PresenceEvent[] = [];
  listener.events$.subscribe((e) => events.push(e));
  await listener.start();
  let expected: { type: string; endpoint: string }[];
  if (source === 'replay') {
    const hello = realCaptures('Hello').find(([f]) => f.startsWith('dahua'));
    const byeFile = path.join(PEERS, 'wsd-roleoroleo/multicast-1-Bye.xml');
    if (!hello || !existsSync(byeFile)) throw new Error('captures missing (../shared/fixtures)');
    await sendToGroup([hello[1], hello[1], Buffer.from(WINDOWS_HELLO), Buffer.from('<junk'), readFileSync(byeFile)]);
    expected = [
      { type: 'hello', endpoint: 'urn:uuid:503b687a-b9d7-474f-a2d0-a18c8b25a464' },
      { type: 'bye', endpoint: 'urn:uuid:cf42c1e8-5d21-513e-a915-aeb28c4ef818' },
    ];
  } else {
    const device = new SimulatedDevice();
    const endpoint = device.endpoint.toLowerCase();
    // The device waits up to APP_MAX_DELAY (500 ms) before its Hello: stop it only once the Hello is in.
    const said = (type: string) => firstValueFrom(listener.events$.pipe(filter((e) => e.type === type && e.device.endpoint === endpoint), timeout(5000)));
    const hello = said('hello');
    await device.start();
    await hello;
    const bye = said('bye');
    await device.stop();
    await bye;
    expected = [
      { type: 'hello', endpoint: device.endpoint.toLowerCase() },
      { type: 'bye', endpoint: device.endpoint.toLowerCase() },
    ];
  }
  await sleep(500);
  await listener.stop();
  console.log(JSON.stringify({
    source,
    expected,
    events: events.map((e) => ({ type: e.type, endpoint: e.device.endpoint, name: e.device.name, xaddrs: e.device.xaddrs, at: e.at })),
  }));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`scenario failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
