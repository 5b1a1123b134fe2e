/**
 * A device that is away (issue 16, item 10): every node of it says why and counts down the same number to the
 * same attempt, the config node logs one warning per change of state (not per attempt, not per flow node), and
 * the event subscription retries with the connection instead of trying the device on its own schedule too.
 */
import { strict as assert } from 'node:assert';
import net from 'node:net';
import type { Node, NodeStatus } from 'node-red';
import type { SinonSpy } from 'sinon';
import { SimulatedDevice } from '../../lib/simulator';
import deviceNode from '../../nodes/onvifq-device/onvifq-device';
import configureNode from '../../nodes/onvifq-configure/onvifq-configure';
import eventsNode from '../../nodes/onvifq-events/onvifq-events';
import type { DeviceLink } from '../../lib/link';
import { PASSWORD, USERNAME, type TestFlows, helper, startHelperServer, statuses, stopHelperServer, waitFor } from './support';

const NODES = [deviceNode, configureNode, eventsNode];
const CREDS = { dev: { username: USERNAME, password: PASSWORD } };

function flow(address: string): TestFlows {
  return [
    { id: 'dev', type: 'onvifq-device', name: 'Porch', address, auth: 'auto', timeout: 3 },
    { id: 't', type: 'tab', label: 'test' },
    { id: 'cfgA', type: 'onvifq-configure', z: 't', x: 100, y: 100, device: 'dev', operation: 'GetDeviceInformation', wires: [[]] },
    { id: 'cfgB', type: 'onvifq-configure', z: 't', x: 100, y: 200, device: 'dev', operation: 'GetScopes', wires: [[]] },
    { id: 'ev', type: 'onvifq-events', z: 't', x: 100, y: 300, device: 'dev', filter: '', wires: [[]] },
  ];
}

/** A port where something accepts TCP connections and hangs up at once (a device that is not answering), counting them. */
async function hangingUpServer(): Promise<{ server: net.Server; port: number; connections: () => number }> {
  let n = 0;
  const server = net.createServer((socket) => {
    n++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port, connections: () => n };
}

function lastStatus(node: Node): NodeStatus | undefined {
  return statuses(node).at(-1);
}

function warnings(node: Node): string[] {
  return (node.warn as unknown as SinonSpy).getCalls().filter((c) => c.thisValue === node).map((c) => String(c.args[0]));
}

describe('retry status of a device that is away', function () {
  this.timeout(60000);
  beforeEach(startHelperServer);
  afterEach(stopHelperServer);

  it('says why, counts down the same number on every node, warns once, and tries no more often than the backoff', async () => {
    const away = await hangingUpServer();
    let sim: SimulatedDevice | undefined;
    try {
      await helper.load(NODES, flow(`127.0.0.1:${away.port}`), CREDS);
      const dev = helper.getNode('dev') as Node & { _link?: DeviceLink };
      const nodes = ['cfgA', 'cfgB', 'ev'].map((id) => helper.getNode(id));
      // The third failure schedules a wait of 4 s or more: long enough to watch it count down.
      await waitFor('the third failed attempt', () => dev._link && dev._link.state.status === 'retrying' && dev._link.state.attempt >= 3, 20000);
      const link = dev._link!;
      const retryAt = link.state.retryAt!;
      const sameOnAll = () => {
        const shown = nodes.map((n) => lastStatus(n)?.text);
        return shown.every((t) => t === shown[0]) && /^retrying in \d+s: /.test(shown[0] ?? '') ? shown[0] : undefined;
      };
      const first = await waitFor(`the same countdown on every node (${JSON.stringify(nodes.map((n) => lastStatus(n)?.text))})`, sameOnAll, 3000);
      assert.match(first, /^retrying in \d+s: unreachable$/, 'says why');
      const firstLeft = Number(/in (\d+)s/.exec(first)![1]);
      assert.ok(firstLeft <= Math.ceil((retryAt - Date.now()) / 1000) + 1, `${first}, attempt due in ${retryAt - Date.now()} ms`);
      // One second later every node shows one less, still the same everywhere.
      const next = await waitFor('the countdown to tick on every node', () => {
        const t = sameOnAll();
        return t && t !== first ? t : undefined;
      }, 3000);
      assert.equal(Number(/in (\d+)s/.exec(next)![1]), firstLeft - 1);

      // One warning for the device (not one per attempt, not one per node), saying what and what happens now.
      const attempts = link.state.attempt;
      assert.deepEqual(nodes.flatMap(warnings), [], 'the flow nodes do not warn about the connection');
      const devWarnings = warnings(dev);
      assert.equal(devWarnings.length, 1, `${attempts} attempts, warnings: ${JSON.stringify(devWarnings)}`);
      assert.match(devWarnings[0]!, /^Cannot reach 'Porch': .+ Retrying in the background/);
      // The events node waited for the connection's attempts: the device saw one connection per attempt
      // (a connect makes at most two requests), not extra ones on a schedule of the subscription's own.
      assert.ok(away.connections() <= attempts * 2, `${away.connections()} connections for ${attempts} attempts`);

      // The device comes back on that port: green everywhere, one "again" line, no more warnings.
      await new Promise<void>((resolve) => away.server.close(() => resolve()));
      sim = new SimulatedDevice({ username: USERNAME, password: PASSWORD, port: away.port, processorUsageIntervalMs: 0 });
      await sim.start();
      for (const n of nodes) await waitFor(`${n.id} green again`, () => lastStatus(n)?.fill === 'green', 30000);
      assert.equal(warnings(dev).length, 1);
      const logged = (dev.log as unknown as SinonSpy).getCalls().filter((c) => c.thisValue === dev).map((c) => String(c.args[0]));
      assert.deepEqual(logged.filter((t) => /again/.test(t)), ["Connected to 'Porch' again."]);
    } finally {
      await helper.unload();
      away.server.close();
      await sim?.stop();
    }
  });
});
