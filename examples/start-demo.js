#!/usr/bin/env node
/*
 * `npm start`: a simulated ONVIF Profile Q device plus Node-RED with this package loaded and the
 * read-operations example deployed against the simulator. Ctrl-C stops both. A later start keeps the
 * user's flows: only the demo's own device address, password and discovery target are brought up to date.
 * Plain Node (no TypeScript): it uses the built package in dist/.
 */
'use strict';
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
// ONVIFQ_DEMO_DIR and ONVIFQ_DEMO_PORT let a test (or a second demo) run beside yours without touching it.
const demoDir = path.resolve(process.env.ONVIFQ_DEMO_DIR || path.join(root, '.demo'));
const userDir = path.join(demoDir, 'node-red');
const exampleFlow = path.join(__dirname, 'configure-read-operations.json');
const DEMO_USER = 'admin';

function fail(message) {
  console.error(`start-demo: ${message}`);
  process.exit(1);
}

function loadSimulator() {
  const entry = path.join(root, 'dist', 'lib', 'simulator', 'index.js');
  if (!fs.existsSync(entry)) fail(`${path.relative(root, entry)} is missing. Run "npm run build" first (npm start does).`);
  return require(entry);
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function ephemeralPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A free UDP port on 127.0.0.1 for the simulator's WS-Discovery responder. */
function ephemeralUdpPort() {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

function request(port, method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      { host: '127.0.0.1', port, method, path: urlPath, headers: { Accept: 'application/json', ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}), ...headers } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    if (data) req.write(data);
    req.end();
  });
}

async function waitForNodeRed(port, child) {
  const until = Date.now() + 60000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited with code ${child.exitCode} while starting`);
    try {
      const res = await request(port, 'GET', '/settings');
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('Node-RED did not answer within 60 s');
}

/** A credential secret that survives restarts, so the stored flows stay readable. */
function credentialSecret() {
  const file = path.join(demoDir, 'credential-secret');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const secret = crypto.randomBytes(24).toString('hex');
  fs.writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** The example flow pointed at the simulator, with the credentials inline (Node-RED stores them encrypted). */
function demoFlow(xaddr, password) {
  const flow = JSON.parse(fs.readFileSync(exampleFlow, 'utf8'));
  for (const node of flow) {
    if (node.type === 'onvifq-device') {
      node.name = 'Simulated device';
      node.address = xaddr;
      node.credentials = { username: DEMO_USER, password };
    }
  }
  return flow;
}

/**
 * A discovery tab: the simulator found by a UNICAST probe to 127.0.0.1 on its discovery port. The demo never
 * multicasts (that would leave the machine); the examples/discover-devices.json flow shows multicast use.
 */
function discoveryTab(target) {
  const z = 'd15c0000000000a0';
  const discover = { type: 'onvifq-discover', z, iface: '', targets: target, timeout: 2, missLimit: 3 };
  return [
    { id: z, type: 'tab', label: 'ONVIF discovery (demo)', info: `onvifq-discover finds the simulated device by a unicast probe to ${target} (its Targets setting).` },
    { id: 'd15c0000000000a1', type: 'inject', z, name: 'Search', props: [{ p: 'payload' }], payload: '', payloadType: 'date', repeat: '', once: false, x: 130, y: 60, wires: [['d15c0000000000a2']] },
    { id: 'd15c0000000000a2', name: 'find (unicast)', mode: 'probe', output: 'each', probeAtDeploy: false, interval: 0, x: 320, y: 60, wires: [['d15c0000000000a3']], ...discover },
    { id: 'd15c0000000000a3', type: 'debug', z, name: 'found', active: true, tosidebar: true, complete: 'payload', targetType: 'msg', x: 510, y: 60, wires: [] },
    { id: 'd15c0000000000a4', name: 'watch (unicast, 10 s)', mode: 'watch', output: 'each', probeAtDeploy: true, interval: 10, x: 160, y: 120, wires: [['d15c0000000000a5']], ...discover },
    { id: 'd15c0000000000a5', type: 'debug', z, name: 'online / offline', active: true, tosidebar: true, complete: 'true', targetType: 'full', x: 380, y: 120, wires: [] },
  ];
}

/**
 * The motion example (examples/events-motion.json) on the read flow's config node, so the demo keeps one
 * connection to the simulator. The simulator raises motion every MOTION_INTERVAL_MS.
 */
function eventsTab(readFlow) {
  const device = readFlow.find((n) => n.type === 'onvifq-device');
  const flow = JSON.parse(fs.readFileSync(path.join(__dirname, 'events-motion.json'), 'utf8')).filter((n) => n.type !== 'onvifq-device');
  for (const node of flow) {
    if (node.type === 'onvifq-events') node.device = device.id;
    if (node.type === 'tab') {
      node.label = 'ONVIF motion (demo)';
      node.info = `${node.info}\n\nIn the demo the *notification* debug node shows each text under itself instead of in the debug sidebar, which stays free for the results of your clicks (motion comes every ${MOTION_INTERVAL_MS / 1000} s). Tick its *debug window* option to see them there too.`;
    }
    // Motion every few seconds would bury the read results in the sidebar: the debug node's status shows it.
    if (node.type === 'debug') Object.assign(node, { tosidebar: false, tostatus: true, statusType: 'auto', statusVal: 'payload' });
  }
  return flow;
}

const MOTION_INTERVAL_MS = 8000;

/**
 * What the demo keeps between runs (demo-state.json, readable by the user only): the simulator's password and
 * ports, so a restart finds the same device where the flows expect it and the user's flows need no change.
 */
function loadDemoState() {
  const file = path.join(demoDir, 'demo-state.json');
  let state = {};
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    // first run, or a file the user removed: start afresh
  }
  return {
    password: typeof state.password === 'string' && state.password ? state.password : crypto.randomBytes(12).toString('base64url'),
    /** A new password: the flows of an earlier run hold the old one. */
    passwordIsNew: !(typeof state.password === 'string' && state.password),
    simulatorPort: Number.isInteger(state.simulatorPort) ? state.simulatorPort : 0,
    discoveryPort: Number.isInteger(state.discoveryPort) ? state.discoveryPort : 0,
    save(values) {
      fs.writeFileSync(file, JSON.stringify({ password: this.password, ...values }, null, 2), { mode: 0o600 });
    },
  };
}

function udpPortIsFree(port) {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/**
 * Put the demo into Node-RED without losing anything the user built. An empty Node-RED gets the demo tabs.
 * Flows from an earlier run are kept as they are; only the demo's own settings that point at the simulator
 * (the device address and password, the discovery target) are brought up to date, after a backup of the
 * flow file. Returns a line for the console.
 */
function pointsAtThisMachine(node) {
  const where = String(node.address ?? node.targets ?? '');
  return /^(https?:\/\/)?127\./.test(where);
}

async function deployDemo(port, demoNodes, passwordIsNew) {
  const res = await request(port, 'GET', '/flows', undefined, { 'Node-RED-API-Version': 'v2' });
  if (res.status !== 200) throw new Error(`reading the flows failed: HTTP ${res.status} ${res.body.slice(0, 200)}`);
  const current = JSON.parse(res.body);
  const existing = Array.isArray(current.flows) ? current.flows : [];
  let flows;
  let summary;
  if (existing.length === 0) {
    flows = demoNodes;
    summary = 'Deployed the demo flows into an empty Node-RED.';
  } else {
    const byId = new Map(demoNodes.map((n) => [n.id, n]));
    const refreshed = [];
    flows = existing.map((node) => {
      const demo = byId.get(node.id);
      // A demo node the user pointed somewhere else is theirs now: leave it.
      if (!demo || !pointsAtThisMachine(node)) return node;
      const next = { ...node };
      for (const key of ['address', 'targets']) if (key in demo && node[key] !== demo[key]) next[key] = demo[key];
      // Node-RED keeps a node's stored credentials when a deploy leaves them out: send them only when they changed.
      if (demo.credentials && passwordIsNew) next.credentials = demo.credentials;
      if (next.address !== node.address || next.targets !== node.targets || next.credentials) refreshed.push(node.name || node.id);
      return next;
    });
    const tabs = existing.filter((n) => n.type === 'tab').length;
    if (refreshed.length === 0) {
      const demoPresent = existing.some((n) => byId.has(n.id));
      return demoPresent
        ? `Kept your flows (${tabs} tabs); the demo's settings were already up to date.`
        : `Kept your flows (${tabs} tabs); the demo tabs are not among them (start with an empty ONVIFQ_DEMO_DIR to get them back).`;
    }
    const flowFile = path.join(userDir, 'flows.json');
    let backup = '';
    if (fs.existsSync(flowFile)) {
      backup = path.join(userDir, `flows-backup-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
      fs.copyFileSync(flowFile, backup);
    }
    summary = `Kept your flows (${tabs} tabs); pointed ${refreshed.join(', ')} at the simulator.${backup ? ` Backup of the flow file: ${backup}` : ''}`;
  }
  const deployed = await request(port, 'POST', '/flows', { rev: current.rev, flows }, { 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v2' });
  if (deployed.status !== 204 && deployed.status !== 200) throw new Error(`deploying the demo flow failed: HTTP ${deployed.status} ${deployed.body.slice(0, 200)}`);
  return summary;
}

/**
 * The editor opens the first tab of the sidebar: make that the debug tab, where the demo's results appear. Node-RED
 * keeps the tab order in the user settings; one the user arranged is left alone.
 */
async function openDebugSidebarFirst(port) {
  const res = await request(port, 'GET', '/settings/user');
  const current = res.status === 200 ? JSON.parse(res.body || '{}') : {};
  if (current.editor && current.editor.sidebar && Array.isArray(current.editor.sidebar.order)) return;
  const saved = await request(port, 'POST', '/settings/user', { editor: { sidebar: { order: ['debug', 'info', 'help', 'config', 'context'] } } });
  if (saved.status !== 204 && saved.status !== 200) console.error(`start-demo: could not put the debug tab first (HTTP ${saved.status}); it is in the sidebar's tab list.`);
}

async function main() {
  const { SimulatedDevice } = loadSimulator();
  fs.mkdirSync(userDir, { recursive: true });

  // The password is random on the first run and kept in demo-state.json: the demo deploys it, nobody types it.
  const state = loadDemoState();
  const password = state.password;
  const discoveryPort = state.discoveryPort && (await udpPortIsFree(state.discoveryPort)) ? state.discoveryPort : await ephemeralUdpPort();
  const simulatorPort = state.simulatorPort && (await portIsFree(state.simulatorPort)) ? state.simulatorPort : 0;
  const sim = new SimulatedDevice({ username: DEMO_USER, password, port: simulatorPort, discovery: { port: discoveryPort }, motionIntervalMs: MOTION_INTERVAL_MS });
  await sim.start();
  state.save({ simulatorPort: Number(new URL(sim.xaddr).port), discoveryPort });

  const wanted = Number(process.env.ONVIFQ_DEMO_PORT || 1880);
  const port = Number.isInteger(wanted) && wanted > 0 && (await portIsFree(wanted)) ? wanted : await ephemeralPort();
  const redJs = path.join(path.dirname(require.resolve('node-red/package.json')), 'red.js');
  const child = spawn(
    process.execPath,
    [
      redJs,
      '-u', userDir,
      '-p', String(port),
      '-D', 'uiHost=127.0.0.1',
      '-D', `nodesDir=${root}`,
      '-D', `credentialSecret=${credentialSecret()}`,
      '-D', 'telemetry.enabled=false',
      // No outbound requests from the demo: no welcome tour, no palette catalogue (Manage palette > Install).
      '-D', 'editorTheme.tours=false',
      '-D', 'editorTheme.palette.catalogues=[]',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );

  let stopping = false;
  async function stop(code) {
    if (stopping) return;
    stopping = true;
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await sim.stop().catch(() => undefined);
    process.exit(code);
  }
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`start-demo: Node-RED stopped (exit code ${code}).`);
      void stop(code || 1);
    }
  });

  let deploySummary = '';
  try {
    await waitForNodeRed(port, child);
    await openDebugSidebarFirst(port);
    const readFlow = demoFlow(sim.xaddr, password);
    deploySummary = await deployDemo(port, [...readFlow, ...eventsTab(readFlow), ...discoveryTab(`127.0.0.1:${discoveryPort}`)], state.passwordIsNew);
  } catch (err) {
    console.error(`start-demo: ${err.message}`);
    await stop(1);
    return;
  }

  console.log('');
  console.log(`  ${deploySummary}`);
  console.log(`  Simulated Profile Q device: ${sim.xaddr} (user "${DEMO_USER}", password stored in the config node)`);
  console.log(`  WS-Discovery (unicast):     127.0.0.1:${discoveryPort} (tab "ONVIF discovery (demo)")`);
  console.log(`  Motion events:              every ${MOTION_INTERVAL_MS / 1000} s (tab "ONVIF motion (demo)")`);
  console.log(`  Node-RED editor:            http://127.0.0.1:${port}/`);
  console.log('  Click the inject buttons and watch the debug sidebar. Ctrl-C stops both.');
  console.log('');
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
