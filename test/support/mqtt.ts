/**
 * MQTT for tests: a real broker (Debian's mosquitto) on 127.0.0.1, and a small MQTT 3.1.1 client that
 * subscribes and publishes the way Home Assistant does. The client is written here (a few packet types over
 * net) so the tests need no MQTT library of their own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freeTcpPort } from './ports';
import { hasCommand } from './shared';

/** Why mosquitto cannot run here, or undefined. */
export function mosquittoUnavailable(): string | undefined {
  return hasCommand('mosquitto') ? undefined : 'skipped: mosquitto missing (apt-get install mosquitto)';
}

export class Mosquitto {
  port = 0;
  output = '';
  private child?: ChildProcess;
  private dir = '';

  async start(): Promise<void> {
    this.port = await freeTcpPort();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-mosquitto-'));
    const conf = path.join(this.dir, 'mosquitto.conf');
    fs.writeFileSync(conf, `listener ${this.port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    const until = Date.now() + 15000;
    // Ready when the port accepts connections.
    for (;;) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}):\n${this.output}`);
      if (await canConnect(this.port)) return;
      if (Date.now() > until) throw new Error(`mosquitto did not listen on ${this.port} within 15 s:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      // 'close', not 'exit': the stdio pipes are closed too, so nothing stays open after the test.
      const closed = new Promise((r) => child.once('close', r));
      child.kill('SIGTERM');
      await closed;
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface MqttMessage {
  topic: string;
  payload: string;
  retain: boolean;
  /** When it arrived (Date.now()). */
  at: number;
}

/** MQTT 3.1.1 Remaining Length: 7 bits per byte, high bit = more. */
function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

function utf8Field(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function packet(typeAndFlags: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([typeAndFlags]), remainingLength(body.length), body]);
}

export class MqttClient {
  readonly messages: MqttMessage[] = [];
  private socket?: net.Socket;
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly acks = new Map<string, () => void>();
  private waiters: Array<() => void> = [];

  constructor(private readonly port: number, private readonly clientId = `onvifq-test-${process.pid}-${Date.now()}`) {}

  async connect(): Promise<void> {
    const socket = net.connect(this.port, '127.0.0.1');
    this.socket = socket;
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const connack = this.expectAck('connack');
    // Protocol "MQTT" level 4, clean session, keep-alive 0 (no pings needed in a test).
    const body = Buffer.concat([utf8Field('MQTT'), Buffer.from([4, 0x02, 0, 0]), utf8Field(this.clientId)]);
    socket.write(packet(0x10, body));
    await connack;
  }

  async subscribe(filter: string): Promise<void> {
    const id = this.nextId++;
    const suback = this.expectAck(`suback ${id}`);
    const idBuf = Buffer.alloc(2);
    idBuf.writeUInt16BE(id);
    this.socket!.write(packet(0x82, Buffer.concat([idBuf, utf8Field(filter), Buffer.from([1])])));
    await suback;
  }

  /** QoS 0 publish, as Home Assistant sends a button press. */
  publish(topic: string, payload: string, retain = false): void {
    this.socket!.write(packet(0x30 | (retain ? 1 : 0), Buffer.concat([utf8Field(topic), Buffer.from(payload, 'utf8')])));
  }

  /** The first message (seen so far or arriving, after index `from`) that `match` accepts. */
  async waitFor(what: string, match: (m: MqttMessage) => boolean, timeoutMs = 30000, from = 0): Promise<MqttMessage> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.messages.slice(from).find(match);
      if (hit) return hit;
      const left = until - Date.now();
      if (left <= 0) {
        const seen = this.messages.slice(-8).map((m) => `${m.topic} ${m.payload.slice(0, 120)}`).join('\n  ');
        throw new Error(`timed out waiting for ${what}; last messages:\n  ${seen}`);
      }
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
    if (this.socket && !this.socket.destroyed) {
      this.socket.write(Buffer.from([0xe0, 0])); // DISCONNECT
      this.socket.end();
      this.socket.destroy();
    }
  }

  private expectAck(key: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`MQTT: no ${key} from the broker`)), 10000);
      this.acks.set(key, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      if (this.buffer.length < 2) return;
      let len = 0;
      let mul = 1;
      let i = 1;
      for (;;) {
        if (i >= this.buffer.length) return;
        const byte = this.buffer[i++]!;
        len += (byte & 0x7f) * mul;
        mul *= 128;
        if (!(byte & 0x80)) break;
      }
      if (this.buffer.length < i + len) return;
      const header = this.buffer[0]!;
      const body = this.buffer.subarray(i, i + len);
      this.buffer = this.buffer.subarray(i + len);
      this.onPacket(header, body);
    }
  }

  private onPacket(header: number, body: Buffer): void {
    const type = header >> 4;
    if (type === 2) this.acks.get('connack')?.();
    else if (type === 9) this.acks.get(`suback ${body.readUInt16BE(0)}`)?.();
    else if (type === 3) {
      const qos = (header >> 1) & 3;
      const topicLen = body.readUInt16BE(0);
      const topic = body.subarray(2, 2 + topicLen).toString('utf8');
      let offset = 2 + topicLen;
      if (qos > 0) {
        const id = body.readUInt16BE(offset);
        offset += 2;
        // PUBACK (QoS 1); QoS 2 is never asked for by this client's subscriptions.
        const ack = Buffer.alloc(2);
        ack.writeUInt16BE(id);
        this.socket!.write(packet(0x40, ack));
      }
      this.messages.push({ topic, payload: body.subarray(offset).toString('utf8'), retain: (header & 1) === 1, at: Date.now() });
      for (const w of this.waiters.splice(0)) w();
    }
  }
}
