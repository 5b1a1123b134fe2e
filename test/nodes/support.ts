/** Shared plumbing for the node tests: the test helper, a simulator for a suite, and status polling. */
import helper from 'node-red-node-test-helper';
/** A flow node as the tests write it (the helper's own type allows only NodeDef fields). */
export type FlowNode = { id: string; type: string; wires?: string[][]; [key: string]: unknown };
export type TestFlows = FlowNode[];
import type { Node, NodeStatus } from 'node-red';
import type { SinonSpy } from 'sinon';
import { SimulatedDevice, type SimulatorOptions } from '../../lib/simulator';
import { freeTcpPort } from '../support/ports';

helper.init(process.env.NODE_RED_PATH ?? require.resolve('node-red'));

export { helper };

export const USERNAME = 'admin';
/** Distinctive, so a leak into any text is easy to spot. */
export const PASSWORD = 'Corr3ct-H0rse-pw';

export function startHelperServer(): Promise<void> {
  return new Promise((resolve, reject) => helper.startServer((err?: unknown) => (err ? reject(err) : resolve())));
}

export async function stopHelperServer(): Promise<void> {
  await helper.unload();
  await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
}

/**
 * Hooks for a node suite: one simulator (USERNAME / PASSWORD) shared by its tests, and a fresh helper server for
 * each test. `sim` is set by the before hook.
 */
export function useSimulatorAndHelper(options: SimulatorOptions = {}): { sim: SimulatedDevice } {
  const env = {} as { sim: SimulatedDevice };
  before(async () => {
    env.sim = new SimulatedDevice({ username: USERNAME, password: PASSWORD, ...options });
    await env.sim.start();
  });
  after(async () => {
    await env.sim?.stop();
  });
  beforeEach(startHelperServer);
  afterEach(stopHelperServer);
  return env;
}

/** A port on 127.0.0.1 that nothing listens on. */
export const closedPort = freeTcpPort;

/** Every status a node has shown so far (the helper spies on Node.prototype.status). */
export function statuses(node: Node): NodeStatus[] {
  const spy = node.status as unknown as SinonSpy;
  return spy
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0] as NodeStatus);
}

import { waitFor } from '../support/wait';

export { waitFor };

/** Wait until the node's latest status satisfies `ok`. */
export function waitForStatus(node: Node, ok: (s: NodeStatus) => boolean, what: string, timeoutMs = 10000): Promise<NodeStatus> {
  return waitFor(`status ${what} (saw ${JSON.stringify(statuses(node).slice(-3))})`, () => {
    const all = statuses(node);
    const last = all[all.length - 1];
    return last && ok(last) ? last : undefined;
  }, timeoutMs);
}

/** The next message a node receives, or rejects after timeoutMs. */
export function nextInput(node: Node, timeoutMs = 10000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no message reached ${node.id} within ${timeoutMs} ms`)), timeoutMs);
    node.once('input', (msg: Record<string, unknown>) => {
      clearTimeout(t);
      resolve(msg);
    });
  });
}

/** Resolves true when the node received nothing for `ms`. */
export function nothingWithin(node: Node, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    // on + removeListener with the same function: Node-RED keeps 'input' handlers in its own list and would
    // not find the wrapper that once() registers, leaving it behind.
    const onInput = () => {
      clearTimeout(t);
      node.removeListener('input', onInput);
      resolve(false);
    };
    const t = setTimeout(() => {
      node.removeListener('input', onInput);
      resolve(true);
    }, ms);
    node.on('input', onInput);
  });
}

/** Every text the runtime logged during the test (the helper spies on the log). */
export function loggedTexts(): string[] {
  const h = helper as unknown as { _logSpy?: SinonSpy };
  return (h._logSpy?.getCalls() ?? []).map((c) => JSON.stringify(c.args[0]));
}
