import type { Node, NodeDef } from 'node-red';
import type { AuthMode } from '../../lib/transport/types';
import type { OnvifDeviceOptions } from '../../lib/device/types';
import type { DeviceLink } from '../../lib/link';
import type { EventHub } from '../../lib/events';

/** What the editor stores for an `onvifq-device` config node (flow JSON: never credentials). */
export interface DeviceConfigProps {
  name?: string;
  address?: string;
  auth?: string;
  tlsCa?: string;
  tlsFingerprint?: string;
  tlsInsecure?: boolean | string;
  /** Per-request timeout in seconds (string when typed into the editor). */
  timeout?: number | string;
}

export interface DeviceCredentials {
  username?: string;
  password?: string;
}

export type DeviceConfigDef = NodeDef & DeviceConfigProps;

/** `{ name, xaddr, endpoint }`, attached to every output msg as msg.device. */
export interface MsgDevice {
  name: string;
  xaddr?: string;
  endpoint?: string;
}

/** The runtime face of an `onvifq-device` config node, as flow nodes see it. */
export interface DeviceConfigNode extends Node<DeviceCredentials> {
  /** The name the user gave the config node, or its address. Used in status-free texts and error messages. */
  readonly label: string;
  /** The one DeviceLink of this config node, created on first call. Throws an OnvifError when the settings are unusable. */
  link(): DeviceLink;
  /** The device's shared event subscription (the link's EventHub); its state changes are logged once, here. */
  eventHub(): EventHub;
  /** msg.device for the current session (xaddr falls back to the configured address before the first connect). */
  msgDevice(): MsgDevice;
}

const AUTH_MODES: readonly AuthMode[] = ['auto', 'digest', 'ws-security', 'none'];
export const DEFAULT_TIMEOUT_S = 10;

/** Where a setting in the config node is wrong, in words a user can act on. Empty when all is well. */
export function checkDeviceConfig(props: DeviceConfigProps): string[] {
  const problems: string[] = [];
  if (!props.address || !String(props.address).trim()) problems.push('the address is empty (enter host, host:port or the device service URL)');
  if (props.auth && !AUTH_MODES.includes(props.auth as AuthMode)) problems.push(`the auth mode '${props.auth}' is not one of ${AUTH_MODES.join(', ')}`);
  if (props.timeout !== undefined && props.timeout !== '') {
    const t = Number(props.timeout);
    if (!Number.isFinite(t) || t <= 0 || t > 600) problems.push(`the timeout '${props.timeout}' is not a number of seconds between 1 and 600`);
  }
  if (props.tlsFingerprint && !/^[0-9a-f]{64}$/i.test(String(props.tlsFingerprint).replace(/[\s:]/g, ''))) {
    problems.push('the pinned fingerprint is not a SHA-256 fingerprint (64 hex digits, colons allowed)');
  }
  return problems;
}

/** Library options from the config node's settings and credentials. Call checkDeviceConfig first. */
export function deviceOptionsFrom(props: DeviceConfigProps, creds: DeviceCredentials): OnvifDeviceOptions {
  const options: OnvifDeviceOptions = {
    address: String(props.address ?? '').trim(),
    name: props.name || undefined,
    auth: (props.auth as AuthMode) || 'auto',
    timeoutMs: Math.round((props.timeout === undefined || props.timeout === '' ? DEFAULT_TIMEOUT_S : Number(props.timeout)) * 1000),
  };
  if (creds.username) options.username = creds.username;
  if (creds.password) options.password = creds.password;
  const insecure = props.tlsInsecure === true || props.tlsInsecure === 'true';
  const ca = props.tlsCa?.trim();
  const fingerprint = props.tlsFingerprint?.trim();
  if (ca || fingerprint || insecure) {
    options.tls = {};
    if (ca) options.tls.ca = ca;
    if (fingerprint) options.tls.fingerprint = fingerprint;
    if (insecure) options.tls.rejectUnauthorized = false;
  }
  return options;
}

/** What the editor shows for the password field when a password is stored (Node-RED's placeholder). */
const STORED_PASSWORD_PLACEHOLDER = '__PWRD__';

/**
 * A config node's settings as an editor dialog sends them (Test connection, the events topic picker): the values
 * being edited, deployed or not. A password left empty or as Node-RED's placeholder means "the stored one" of
 * that config node id.
 */
export function settingsFromDialog(
  body: unknown,
  storedCredentials: (id: string) => DeviceCredentials | undefined,
): { props: DeviceConfigProps; creds: DeviceCredentials; problems: string[] } {
  const b = (body && typeof body === 'object' ? body : {}) as DeviceConfigProps & DeviceCredentials & { id?: unknown };
  const stored = (typeof b.id === 'string' && b.id ? storedCredentials(b.id) : undefined) ?? {};
  const creds: DeviceCredentials = {
    username: typeof b.username === 'string' ? b.username : stored.username,
    password: typeof b.password === 'string' && b.password !== '' && b.password !== STORED_PASSWORD_PLACEHOLDER ? b.password : stored.password,
  };
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const props: DeviceConfigProps = {
    name: str(b.name),
    address: str(b.address),
    auth: str(b.auth),
    tlsCa: str(b.tlsCa),
    tlsFingerprint: str(b.tlsFingerprint),
    tlsInsecure: b.tlsInsecure === true || b.tlsInsecure === 'true',
    timeout: typeof b.timeout === 'number' || typeof b.timeout === 'string' ? b.timeout : undefined,
  };
  return { props, creds, problems: checkDeviceConfig(props) };
}
