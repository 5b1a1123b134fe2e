/**
 * The onvifq-discover node's settings and msg overrides, turned into probe options. Pure functions, so the
 * node file stays thin and the rules are readable in one place.
 */
import os from 'node:os';
import type { ProbeOptions } from '../../lib/discovery';
import { inputError, type NodeError } from '../shared/errors';

export type DiscoverMode = 'probe' | 'watch';
export type DiscoverOutput = 'each' | 'list';

/** What the editor stores for an onvifq-discover node. Numbers arrive as strings when typed into the editor. */
export interface DiscoverProps {
  mode?: string;
  output?: string;
  /** '' = every non-internal IPv4 interface; otherwise an interface name or IPv4 address. */
  iface?: string;
  /** Unicast targets, separated by commas, spaces or new lines; '' = multicast. */
  targets?: string;
  /** Collection window, seconds. */
  timeout?: number | string;
  probeAtDeploy?: boolean | string;
  /** Seconds between probes, 0 = off. */
  interval?: number | string;
  /** Watch mode: a device missing from this many probes in a row is reported offline. */
  missLimit?: number | string;
}

export interface DiscoverSettings {
  mode: DiscoverMode;
  output: DiscoverOutput;
  iface: string;
  targets: string[];
  timeoutMs: number;
  probeAtDeploy: boolean;
  intervalMs: number;
  missLimit: number;
}

export const DEFAULT_WINDOW_S = 3;
export const MAX_WINDOW_S = 60;
export const DEFAULT_MISS_LIMIT = 3;

/** The node's settings checked, with what is wrong in words a user can act on. */
export function readSettings(props: DiscoverProps): { settings: DiscoverSettings; problems: string[] } {
  const problems: string[] = [];
  const mode: DiscoverMode = props.mode === 'watch' ? 'watch' : 'probe';
  if (props.mode && props.mode !== 'probe' && props.mode !== 'watch') problems.push(`the mode '${props.mode}' is not probe or watch`);
  const output: DiscoverOutput = props.output === 'list' ? 'list' : 'each';
  const windowS = numberSetting(props.timeout, DEFAULT_WINDOW_S);
  if (!(windowS > 0 && windowS <= MAX_WINDOW_S)) problems.push(`the window '${props.timeout}' is not a number of seconds, more than 0 and at most ${MAX_WINDOW_S}`);
  const intervalS = numberSetting(props.interval, 0);
  if (!(intervalS === 0 || (intervalS >= 1 && intervalS <= 86400))) problems.push(`the repeat interval '${props.interval}' is not 0 (off) or a number of seconds from 1 to 86400`);
  const missLimit = numberSetting(props.missLimit, DEFAULT_MISS_LIMIT);
  if (!(Number.isInteger(missLimit) && missLimit >= 1 && missLimit <= 100)) problems.push(`the missed-probe limit '${props.missLimit}' is not a whole number from 1 to 100`);
  return {
    settings: {
      mode,
      output,
      iface: String(props.iface ?? '').trim(),
      targets: splitTargets(props.targets),
      timeoutMs: Math.round(windowS * 1000),
      probeAtDeploy: props.probeAtDeploy === true || props.probeAtDeploy === 'true',
      intervalMs: Math.round(intervalS * 1000),
      missLimit,
    },
    problems,
  };
}

function numberSetting(v: unknown, fallback: number): number {
  if (v === undefined || v === null || v === '') return fallback;
  return Number(v);
}

/** Targets as typed: separated by commas, semicolons, spaces or new lines. */
export function splitTargets(text: unknown): string[] {
  if (Array.isArray(text)) return text.flatMap((t) => splitTargets(t));
  if (typeof text !== 'string') return [];
  return text.split(/[\s,;]+/).filter((t) => t !== '');
}

export interface RunOverrides {
  targets?: string[];
  timeoutMs?: number;
}

/** msg.targets (string or array of strings) and msg.timeout (seconds); an Error when they are unusable. */
export function readOverrides(msg: { targets?: unknown; timeout?: unknown }): RunOverrides | NodeError {
  const out: RunOverrides = {};
  if (msg.targets !== undefined && msg.targets !== null && msg.targets !== '') {
    const ok = typeof msg.targets === 'string' || (Array.isArray(msg.targets) && msg.targets.every((t) => typeof t === 'string'));
    if (!ok) {
      return inputError(`msg.targets must be a string (e.g. "192.168.1.20, 192.168.1.30-40") or an array of strings; nothing was sent.`);
    }
    const targets = splitTargets(msg.targets);
    if (targets.length) out.targets = targets;
  }
  if (msg.timeout !== undefined && msg.timeout !== null && msg.timeout !== '') {
    const s = Number(msg.timeout);
    if (!(typeof msg.timeout === 'number' || typeof msg.timeout === 'string') || !(s > 0 && s <= MAX_WINDOW_S)) {
      return inputError(`msg.timeout must be the search window in seconds, more than 0 and at most ${MAX_WINDOW_S}; nothing was sent.`);
    }
    out.timeoutMs = Math.round(s * 1000);
  }
  return out;
}

/** Library probe options for one run. With targets the probe is unicast only (multicast is for networks that pass it). */
export function probeOptions(settings: DiscoverSettings, overrides: RunOverrides = {}, signal?: AbortSignal): ProbeOptions {
  const targets = overrides.targets ?? settings.targets;
  const options: ProbeOptions = { timeoutMs: overrides.timeoutMs ?? settings.timeoutMs };
  if (settings.iface) options.interfaces = [settings.iface];
  if (targets.length) {
    options.targets = targets;
    options.multicast = false;
  }
  if (signal) options.signal = signal;
  return options;
}

export interface HostInterface {
  name: string;
  address: string;
  internal: boolean;
}

/** The host's IPv4 interfaces, for the editor's interface choice. */
export function hostIPv4Interfaces(): HostInterface[] {
  const out: HostInterface[] = [];
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      // Node 18.0-18.3 reports family as a number.
      if (a.family === 'IPv4' || (a.family as unknown) === 4) out.push({ name, address: a.address, internal: a.internal });
    }
  }
  return out;
}
