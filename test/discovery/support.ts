/**
 * Test helpers for discovery: a replay responder that answers probes with captured bytes, and network
 * namespaces for the tests that need real multicast (the contract's network rule: multicast only
 * inside a namespace the test creates).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createSocket, Socket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseXml } from '../../lib/xml/parse';
import { child, text } from '../../lib/xml/query';
import { REPO, SHARED } from '../support/shared';

export const REAL = path.join(SHARED, 'fixtures/real');
export const PEERS = path.join(SHARED, 'fixtures/peers');
export const TSX = path.join(REPO, 'node_modules/.bin/tsx');

/** Every captured file in fixtures/real/<dir>, as [name, bytes]. */
export function realCaptures(dir: 'ProbeMatches' | 'Hello'): [string, Buffer][] {
  const d = path.join(REAL, dir);
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .map((f) => [f, readFileSync(path.join(d, f))]);
}

/** The MessageID of a probe, or undefined when the datagram is not one we can read. */
export function probeMessageId(datagram: Buffer): string | undefined {
  try {
    const root = parseXml(datagram);
    return text(child(root, 'Header'), 'MessageID') || undefined;
  } catch {
    return undefined;
  }
}

/** A captured reply with its RelatesTo rewritten to the probe's MessageID (captures without one stay as they are). */
export function answerTo(capture: Buffer, messageId: string): Buffer {
  const s = capture.toString('utf8');
  return Buffer.from(s.replace(/(<([A-Za-z0-9_-]+:)?RelatesTo(\s[^>]*)?>)[^<]*(<\/)/, (_m, open: string, _p, _a, close: string) => `${open}${messageId}${close}`));
}

export interface ReplayResponder {
  address: string;
  port: number;
  /** Probe datagrams received. */
  probes: Buffer[];
  close(): Promise<void>;
}

export interface ReplayOptions {
  /** What to answer each probe with: captured bytes (RelatesTo rewritten), or raw datagrams as given when `raw`. */
  replies: Buffer[];
  raw?: boolean;
  address?: string;
  port?: number;
  /** Join 239.255.255.250 on this interface address and listen on `port` with address reuse (namespace tests only). */
  multicastInterface?: string;
  /** Answer only the first probe of each MessageID, as a device that drops SOAP-over-UDP repeats. */
  once?: boolean;
  /** Wait a random time in this range (ms) before answering, as devices do (default: answer at once). */
  delayMs?: [number, number];
  /** What to write into RelatesTo, from the probe's MessageID (default: the MessageID as sent). */
  relatesTo?: (messageId: string) => string;
}

/** A UDP responder that answers every probe with the given replies, unicast to the prober. */
export async function startReplayResponder(o: ReplayOptions): Promise<ReplayResponder> {
  const socket: Socket = createSocket({ type: 'udp4', reuseAddr: !!o.multicastInterface });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port: o.port ?? 0, address: o.multicastInterface ? undefined : o.address ?? '127.0.0.1' }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  if (o.multicastInterface) socket.addMembership('239.255.255.250', o.multicastInterface);
  const probes: Buffer[] = [];
  const answered = new Set<string>();
  socket.on('message', (msg, rinfo) => {
    const id = probeMessageId(msg);
    if (!id || !/\/Probe\s*</.test(msg.toString('utf8'))) return;
    probes.push(msg);
    if (o.once && answered.has(id)) return;
    answered.add(id);
    const relatesTo = o.relatesTo?.(id) ?? id;
    const answer = () => {
      for (const r of o.replies) socket.send(o.raw ? r : answerTo(r, relatesTo), rinfo.port, rinfo.address, () => undefined);
    };
    if (o.delayMs) setTimeout(answer, o.delayMs[0] + Math.random() * (o.delayMs[1] - o.delayMs[0]));
    else answer();
  });
  const bound = socket.address();
  return {
    address: bound.address,
    port: bound.port,
    probes,
    close: () => new Promise((resolve) => {
      socket.removeAllListeners('message');
      setTimeout(() => socket.close(() => resolve()), o.delayMs ? o.delayMs[1] + 10 : 0);
    }),
  };
}

/** Why network namespaces cannot be used here, or undefined when they can. */
export function namespaceUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'skipped: network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'skipped: creating a network namespace needs root (CI runs as root)';
  const probeNs = `onvifq-check-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probeNs], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probeNs], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `skipped: "ip netns add" is not permitted here (${((e as { stderr?: Buffer }).stderr ?? '').toString().trim() || (e as Error).message})`;
  }
}

/** Create a namespace whose loopback carries multicast (PEERS.md); returns its name. */
export function createNamespace(tag: string): string {
  const ns = `onvifq-${tag}-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns], { stdio: 'pipe' });
  // `src 127.0.0.1`: without it a prober whose socket is not bound (libonvif's onvif-util) sends its multicast
  // from 0.0.0.0, and a responder that answers loopback senders only (the simulator) rightly ignores it.
  execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', 'ip link set lo up; ip link set lo multicast on; ip route add 239.0.0.0/8 dev lo src 127.0.0.1'], { stdio: 'pipe' });
  return ns;
}

export function deleteNamespace(ns: string): void {
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
  } catch {
    /* already gone */
  }
}

/** Run a command inside the namespace; resolves with stdout/stderr and the exit code. */
export function runInNamespace(ns: string, argv: string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...argv], { cwd: REPO, env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60000);
    if (opts.input !== undefined) p.stdin.end(opts.input);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A made-up device built from a real capture (Dahua's ProbeMatch or Hello): same bytes, with its own
 * endpoint, name and XAddr, so many of them can answer one probe.
 */
export function cloneCapture(capture: Buffer, n: number, xaddr: string): Buffer {
  const uuid = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return Buffer.from(capture.toString('utf8')
    .replace(/uuid:503b687a-b9d7-474f-a2d0-a18c8b25a464/g, `uuid:${uuid}`)
    .replace('onvif://www.onvif.org/name/Dahua', `onvif://www.onvif.org/name/Replay-${n}`)
    .replace('http://192.168.1.45/onvif/device_service', xaddr));
}

/** The last line of a scenario's stdout that is JSON. */
export function lastJson<T>(stdout: string): T {
  const line = stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) throw new Error(`scenario printed no JSON:\n${stdout}`);
  return JSON.parse(line) as T;
}

/**
 * Keep `count` cores busy (child processes that spin), as on a loaded CI box. Stop them with stop(), in a
 * finally or after hook: they are killed by their PID.
 */
export function startCpuHogs(count = 2): { pids: number[]; stop(): void } {
  const hogs = Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return {
    pids: hogs.map((h) => h.pid!),
    stop: () => {
      for (const h of hogs) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL');
    },
  };
}

/**
 * Datagrams the kernel dropped because a UDP socket's receive buffer was full (Udp RcvbufErrors in
 * /proc/net/snmp; counted per network namespace). Undefined where that file does not exist.
 */
export function udpReceiveBufferDrops(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const [names, values] = lines.map((l) => l.split(/\s+/).slice(1));
    const i = names!.indexOf('RcvbufErrors');
    return i >= 0 ? Number(values![i]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Behave as a kernel whose net.core.rmem_max is `bytes` (Linux's stock value is 212992): a socket asking
 * for a larger receive buffer gets that much (the kernel then reports double). The scenarios use it so the
 * test means the same on a tuned machine as on a stock CI box; only the kernel limit is emulated, the
 * sockets and everything reading them are real.
 */
export function emulateRmemMax(bytes: number): void {
  const set = Socket.prototype.setRecvBufferSize;
  Socket.prototype.setRecvBufferSize = function (this: Socket, size: number) {
    set.call(this, Math.min(size, bytes));
  };
}
