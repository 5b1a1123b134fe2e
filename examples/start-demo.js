#!/usr/bin/env node
/*
 * `npm start`: a simulated ONVIF Profile Q device plus Node-RED with this package loaded and the
 * read-operations example deployed against the simulator. Ctrl-C stops both.
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
    if (node.type === 'tab') node.label = 'ONVIF motion (demo)';
  }
  return flow;
}

const MOTION_INTERVAL_MS = 8000;

async function main() {
  const { SimulatedDevice } = loadSimulator();
  fs.mkdirSync(userDir, { recursive: true });

  // A fresh random password each run: the demo deploys it, nobody has to type it.
  const password = crypto.randomBytes(12).toString('base64url');
  const discoveryPort = await ephemeralUdpPort();
  const sim = new SimulatedDevice({ username: DEMO_USER, password, discovery: { port: discoveryPort }, motionIntervalMs: MOTION_INTERVAL_MS });
  await sim.start();

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

  try {
    await waitForNodeRed(port, child);
    const readFlow = demoFlow(sim.xaddr, password);
    const res = await request(port, 'POST', '/flows', [...readFlow, ...eventsTab(readFlow), ...discoveryTab(`127.0.0.1:${discoveryPort}`)], { 'Node-RED-Deployment-Type': 'full' });
    if (res.status !== 204 && res.status !== 200) throw new Error(`deploying the demo flow failed: HTTP ${res.status} ${res.body.slice(0, 200)}`);
  } catch (err) {
    console.error(`start-demo: ${err.message}`);
    await stop(1);
    return;
  }

  console.log('');
  console.log(`  Simulated Profile Q device: ${sim.xaddr} (user "${DEMO_USER}", password stored in the config node)`);
  console.log(`  WS-Discovery (unicast):     127.0.0.1:${discoveryPort} (tab "ONVIF discovery (demo)")`);
  console.log(`  Motion events:              every ${MOTION_INTERVAL_MS / 1000} s (tab "ONVIF motion (demo)")`);
  console.log(`  Node-RED editor:            http://127.0.0.1:${port}/`);
  console.log('  Click the inject buttons and watch the debug sidebar. Ctrl-C stops both.');
  console.log('');
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
