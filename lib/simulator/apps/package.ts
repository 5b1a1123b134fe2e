import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { ItemDescription } from '../events/topics';

/**
 * The simulated app package (AppMgmt §1 leaves the container format to the vendor). A package is:
 *
 *   ONVIFQ-SIM-APP/1\n
 *   <manifest: one line of JSON>\n
 *   <payload: exactly manifest.payloadBytes bytes, any content (stands in for the app's binaries)>
 *
 * Content-Type: APP_PACKAGE_CONTENT_TYPE. The device reads the manifest, counts the payload and installs:
 * a package whose first line, manifest or payload length is wrong is *malformed*; one whose `requires` does not
 * match the device is *incompatible*; both are accepted with 200 and end in InstallationFailed with a Status
 * saying why (AppMgmt §6.2.1). `failInstall` makes an otherwise good package fail with that Status.
 * `onvifq-sim make-app` builds packages; makeAppPackage / writeAppPackage do the same in code.
 */
export const APP_PACKAGE_MAGIC = 'ONVIFQ-SIM-APP/1';
export const APP_PACKAGE_CONTENT_TYPE = 'application/vnd.onvifq.sim-app';
/** The manifest line may not be longer than this. */
export const MAX_MANIFEST_BYTES = 64 * 1024;

/** One event the app raises while Active. */
export interface AppEventSpec {
  /** EventName: the topic is tns1:{EventTopicPrefix}/{AppID}/{name} unless `topic` names a standard one. */
  name: string;
  /** A standard topic instead (e.g. 'tns1:RuleEngine/LineDetector/Crossed'). */
  topic?: string;
  isProperty?: boolean;
  source?: ItemDescription[];
  /** Items and their XML Schema types, e.g. [['Count', 'xs:int']]. */
  data: ItemDescription[];
  /** Values raised (as on the wire); default: '1' for numbers, 'true' for booleans, the item name otherwise. */
  values?: Record<string, string>;
  /** Raise every this many ms while Active (0/absent: never by itself). */
  everyMs?: number;
}

export interface AppManifest {
  /** AppID: letters, digits, '_', '-', '.'; starts with a letter or '_' (it is a topic segment). */
  id: string;
  name: string;
  version: string;
  /** Starts after install and at boot (default true). */
  autostart?: boolean;
  privileges?: string[];
  website?: string;
  events?: AppEventSpec[];
  /** The app's settings: what its Configuration URI backs up and restores. */
  config?: Record<string, unknown>;
  /** Compatibility: a package for another model, or for newer firmware, fails to install. */
  requires?: { model?: string; minFirmware?: string };
  /** Install fails with this Status (for tests of InstallationFailed with a good package). */
  failInstall?: string;
  payloadBytes: number;
}

const ID_PATTERN = /^[A-Za-z_][\w.-]{0,63}$/;

/** The first bytes of a package: magic line and manifest line. */
export function packageHeader(manifest: AppManifest): Buffer {
  return Buffer.from(`${APP_PACKAGE_MAGIC}\n${JSON.stringify(manifest)}\n`, 'utf8');
}

/** A package in memory; the payload is `payload` or manifest.payloadBytes bytes of filler. */
export function makeAppPackage(manifest: Omit<AppManifest, 'payloadBytes'> & { payloadBytes?: number }, payload?: Buffer): Buffer {
  const body = payload ?? Buffer.alloc(manifest.payloadBytes ?? 1024, 0x5a);
  return Buffer.concat([packageHeader({ ...manifest, payloadBytes: body.length }), body]);
}

/** Write a package to `file` without holding the payload in memory (large packages for benchmarks). */
export async function writeAppPackage(file: string, manifest: Omit<AppManifest, 'payloadBytes'>, payloadBytes: number): Promise<number> {
  const out = createWriteStream(file);
  const header = packageHeader({ ...manifest, payloadBytes });
  out.write(header);
  const chunk = Buffer.alloc(Math.min(1024 * 1024, Math.max(1, payloadBytes)), 0x5a);
  let left = payloadBytes;
  while (left > 0) {
    const n = Math.min(left, chunk.length);
    if (!out.write(n === chunk.length ? chunk : chunk.subarray(0, n))) await once(out, 'drain');
    left -= n;
  }
  out.end();
  await once(out, 'finish');
  return header.length + payloadBytes;
}

/** Check a manifest as the device reads it; a string says why it is malformed. */
export function checkManifest(m: unknown): AppManifest | string {
  if (!m || typeof m !== 'object' || Array.isArray(m)) return 'the manifest is not a JSON object';
  const o = m as Record<string, unknown>;
  if (typeof o.id !== 'string' || !ID_PATTERN.test(o.id)) return 'the manifest id is missing or not a valid AppID (letters, digits, _ - .)';
  if (typeof o.name !== 'string' || !o.name.trim()) return 'the manifest has no name';
  if (typeof o.version !== 'string' || !o.version.trim()) return 'the manifest has no version';
  if (typeof o.payloadBytes !== 'number' || !Number.isInteger(o.payloadBytes) || o.payloadBytes < 0) return 'the manifest has no payloadBytes';
  if (o.autostart !== undefined && typeof o.autostart !== 'boolean') return 'autostart must be true or false';
  if (o.privileges !== undefined && (!Array.isArray(o.privileges) || !o.privileges.every((p) => typeof p === 'string'))) return 'privileges must be a list of texts';
  if (o.config !== undefined && (!o.config || typeof o.config !== 'object' || Array.isArray(o.config))) return 'config must be an object';
  if (o.events !== undefined) {
    if (!Array.isArray(o.events)) return 'events must be a list';
    for (const e of o.events as AppEventSpec[]) {
      if (!e || typeof e.name !== 'string' || !ID_PATTERN.test(e.name)) return 'an event has no valid name';
      if (!Array.isArray(e.data) || !e.data.every((d) => Array.isArray(d) && d.length === 2 && d.every((x) => typeof x === 'string'))) return `event ${e.name}: data must be [name, type] pairs`;
      if (e.topic !== undefined && (typeof e.topic !== 'string' || !/^tns1:[A-Za-z_][\w.-]*(\/[A-Za-z_][\w.-]*)*$/.test(e.topic))) return `event ${e.name}: topic must be tns1:A/B/C`;
    }
  }
  return o as unknown as AppManifest;
}

/** Compare dotted versions numerically: <0, 0, >0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/**
 * Reads a package as it streams in: the header lines are kept (bounded), the payload only counted.
 * `result()` says what arrived: the manifest, or why the package is malformed.
 */
export class PackageReader {
  private head: Buffer[] = [];
  private headBytes = 0;
  private manifest?: AppManifest;
  private problem?: string;
  private payload = 0;

  push(chunk: Buffer): void {
    if (this.problem) return;
    if (this.manifest) {
      this.payload += chunk.length;
      return;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    const all = Buffer.concat(this.head);
    const first = all.indexOf(0x0a);
    if (first < 0) {
      if (all.length > APP_PACKAGE_MAGIC.length + 1) this.problem = 'the file is not an app package of this device (no package header)';
      return;
    }
    if (all.subarray(0, first).toString('latin1').replace(/\r$/, '') !== APP_PACKAGE_MAGIC) {
      this.problem = 'the file is not an app package of this device (wrong package header)';
      return;
    }
    const second = all.indexOf(0x0a, first + 1);
    if (second < 0) {
      if (all.length > MAX_MANIFEST_BYTES) this.problem = 'the package manifest is too long';
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(all.subarray(first + 1, second).toString('utf8'));
    } catch {
      this.problem = 'the package manifest is not valid JSON';
      return;
    }
    const m = checkManifest(parsed);
    if (typeof m === 'string') {
      this.problem = `the package is damaged: ${m}`;
      return;
    }
    this.manifest = m;
    this.payload = all.length - second - 1;
    this.head = [];
  }

  result(): { manifest: AppManifest } | { problem: string; appId?: string } {
    if (this.problem) return { problem: this.problem };
    if (!this.manifest) return { problem: this.headBytes === 0 ? 'the upload was empty' : 'the package ends inside its header' };
    if (this.payload !== this.manifest.payloadBytes) {
      return { problem: `the package is truncated or damaged: ${this.payload} payload bytes, the manifest says ${this.manifest.payloadBytes}`, appId: this.manifest.id };
    }
    return { manifest: this.manifest };
  }
}
