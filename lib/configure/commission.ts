import { OnvifError, isOnvifError } from '../errors';
import type { OnvifDevice } from '../device/onvif-device';
import type { ProfileQState } from '../device/types';
import type { TaskOptions } from './types';
import { asArray, checkAborted, invalid, isIPv4, networkHost } from './util';

export type UserLevelName = 'Administrator' | 'Operator' | 'User';

export interface CommissionParams {
  /** The new administrator's password (required). */
  password: string;
  /** The administrator's user name (default 'admin'). */
  username?: string;
  hostname?: string;
  /** NTP servers (addresses or names), or 'dhcp' to take them from DHCP; the clock then follows NTP. */
  ntp?: string[] | 'dhcp';
  /** POSIX time zone, e.g. CET-1CEST,M3.5.0,M10.5.0/3. */
  timeZone?: string;
  /** Done last, because it may take the device away from this address. */
  network?: 'dhcp' | { address: string; prefixLength: number; gateway?: string };
  users?: Array<{ username: string; password: string; level: UserLevelName }>;
  /** Configure a device that is already Operational (the admin step is skipped; the session's credentials are used). */
  force?: boolean;
}

export interface CommissionStep {
  step: string;
  ok: boolean;
  detail?: string;
}

export interface CommissionResult {
  steps: CommissionStep[];
  state: ProfileQState;
  /** The administrator the session now signs in as. */
  username: string;
  /** Where the device is now (a network step may have moved it). */
  address: string;
  /** A network change needs a reboot before it applies. */
  rebootNeeded?: boolean;
}

/** An OnvifError from commissioning, with the steps as far as they got. */
export type CommissionError = OnvifError & { steps: CommissionStep[] };

const LEVELS = ['Administrator', 'Operator', 'User'];

function validate(p: CommissionParams): void {
  if (!p || typeof p !== 'object') throw invalid('commission needs parameters: { password, username?, hostname?, ntp?, timeZone?, network?, users? }.');
  if (!p.force && (typeof p.password !== 'string' || p.password === '')) throw invalid('commission needs the new administrator password (password).');
  if (p.username !== undefined && (typeof p.username !== 'string' || !p.username.trim())) throw invalid('commission: username must be a non-empty text.');
  if (p.hostname !== undefined && (typeof p.hostname !== 'string' || !p.hostname.trim())) throw invalid('commission: hostname must be a non-empty text.');
  if (p.ntp !== undefined && p.ntp !== 'dhcp' && !(Array.isArray(p.ntp) && p.ntp.length > 0 && p.ntp.every((s) => typeof s === 'string' && s.trim()))) {
    throw invalid("commission: ntp must be 'dhcp' or a list of NTP server addresses or names.");
  }
  if (p.timeZone !== undefined && (typeof p.timeZone !== 'string' || !p.timeZone.trim())) throw invalid('commission: timeZone must be a POSIX time zone such as CET-1CEST,M3.5.0,M10.5.0/3.');
  if (p.network !== undefined && p.network !== 'dhcp') {
    const n = p.network as { address?: unknown; prefixLength?: unknown; gateway?: unknown };
    if (!n || typeof n !== 'object' || typeof n.address !== 'string' || !isIPv4(n.address)) {
      throw invalid("commission: network must be 'dhcp' or { address: '192.0.2.10', prefixLength: 24, gateway?: '192.0.2.1' }.");
    }
    if (!Number.isInteger(Number(n.prefixLength)) || Number(n.prefixLength) < 1 || Number(n.prefixLength) > 32) throw invalid('commission: network.prefixLength must be 1..32.');
    if (n.gateway !== undefined && (typeof n.gateway !== 'string' || !isIPv4(n.gateway))) throw invalid('commission: network.gateway must be an IPv4 address.');
  }
  for (const u of p.users ?? []) {
    if (!u || typeof u.username !== 'string' || !u.username || typeof u.password !== 'string' || !LEVELS.includes(u.level)) {
      throw invalid(`commission: each of users needs username, password and level (${LEVELS.join(', ')}).`);
    }
  }
}

/**
 * Bring a device from Factory Default State to service: set the administrator's password (which makes
 * it Operational), switch the session to it, then hostname, time zone / NTP, extra users and network.
 * Stops at the first failure with an error that says what was done.
 */
export async function commission(device: OnvifDevice, params: CommissionParams, options: TaskOptions = {}): Promise<CommissionResult> {
  validate(params);
  const username = (params.username ?? 'admin').trim();
  const session = await device.connect();
  if (session.profileQState !== 'FactoryDefault' && !params.force) {
    throw new OnvifError(
      'invalid-input',
      `${device.displayAddress} is already commissioned (Profile Q state ${session.profileQState}); nothing was changed. Set force to apply the other settings with the stored credentials, or reset it to factory defaults first.`,
      { address: device.displayAddress },
    );
  }

  const plan: Array<{ step: string; run: () => Promise<string | undefined> }> = [];
  let rebootNeeded = false;
  if (session.profileQState === 'FactoryDefault') {
    plan.push({
      step: 'admin',
      run: async () => {
        const users = asArray<{ Username: string }>((await device.call('GetUsers')).User);
        const user = { Username: username, Password: params.password, UserLevel: 'Administrator' };
        if (users.some((u) => u.Username === username)) await device.call('SetUser', { User: [user] });
        else await device.call('CreateUsers', { User: [user] });
        device.setCredentials(username, params.password, `Commissioning created the administrator '${username}' on ${device.displayAddress}; the session signs in with it now. Store these credentials.`);
        device.reset();
        const after = await device.connect();
        if (after.profileQState !== 'Operational') {
          throw new OnvifError('bad-response', `The device still reports Profile Q state ${after.profileQState} after the administrator password was set.`);
        }
        return `administrator '${username}' set; the device is Operational`;
      },
    });
  }
  if (params.hostname !== undefined) {
    plan.push({ step: 'hostname', run: async () => (await device.call('SetHostname', { Name: params.hostname!.trim() }), `hostname ${params.hostname!.trim()}`) });
  }
  if (params.ntp !== undefined) {
    const ntp = params.ntp;
    plan.push({
      step: 'ntp',
      run: async () => {
        if (ntp === 'dhcp') await device.call('SetNTP', { FromDHCP: true });
        else await device.call('SetNTP', { FromDHCP: false, NTPManual: ntp.map((s) => networkHost(s.trim())) });
        return ntp === 'dhcp' ? 'NTP servers from DHCP' : `NTP servers ${ntp.join(', ')}`;
      },
    });
  }
  if (params.ntp !== undefined || params.timeZone !== undefined) {
    plan.push({
      step: 'time',
      run: async () => {
        const now = (await device.call('GetSystemDateAndTime')).SystemDateAndTime ?? {};
        const byNtp = params.ntp !== undefined;
        const request: Record<string, unknown> = { DateTimeType: byNtp ? 'NTP' : 'Manual', DaylightSavings: now.DaylightSavings ?? false };
        if (params.timeZone !== undefined) request.TimeZone = { TZ: params.timeZone.trim() };
        if (!byNtp) request.UTCDateTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        await device.call('SetSystemDateAndTime', request);
        return `${byNtp ? 'clock follows NTP' : 'clock set from this computer'}${params.timeZone ? `, time zone ${params.timeZone.trim()}` : ''}`;
      },
    });
  }
  if (params.users?.length) {
    plan.push({
      step: 'users',
      run: async () => {
        await device.call('CreateUsers', { User: params.users!.map((u) => ({ Username: u.username, Password: u.password, UserLevel: u.level })) });
        return `users ${params.users!.map((u) => `${u.username} (${u.level})`).join(', ')}`;
      },
    });
  }
  if (params.network !== undefined) {
    const net = params.network;
    plan.push({
      step: 'network',
      run: async () => {
        const interfaces = asArray<{ token?: string }>((await device.call('GetNetworkInterfaces')).NetworkInterfaces);
        const token = interfaces[0]?.token;
        if (!token) throw new OnvifError('bad-response', 'The device lists no network interface to configure.');
        const IPv4 = net === 'dhcp' ? { Enabled: true, DHCP: true } : { Enabled: true, DHCP: false, Manual: [{ Address: net.address, PrefixLength: Number(net.prefixLength) }] };
        if (net !== 'dhcp' && net.gateway) await device.call('SetNetworkDefaultGateway', { IPv4Address: [net.gateway] });
        const r = await device.call('SetNetworkInterfaces', { InterfaceToken: token, NetworkInterface: { Enabled: true, IPv4 } });
        rebootNeeded = r?.RebootNeeded === true || r?.RebootNeeded === 'true';
        const what = net === 'dhcp' ? 'address from DHCP' : `address ${net.address}/${net.prefixLength}${net.gateway ? ` via ${net.gateway}` : ''}`;
        return `${what}${rebootNeeded ? ' (applies after a reboot)' : ''}`;
      },
    });
  }

  const steps: CommissionStep[] = [];
  for (let i = 0; i < plan.length; i++) {
    const { step, run } = plan[i]!;
    checkAborted(options.signal, 'Commissioning');
    options.onProgress?.({ task: 'commission', step, text: `commission: ${step} (${i + 1}/${plan.length})`, percent: Math.round((i / plan.length) * 100) });
    try {
      steps.push({ step, ok: true, detail: await run() });
    } catch (e) {
      steps.push({ step, ok: false, detail: (e as Error)?.message ?? String(e) });
      throw stepFailure(device, e, steps, plan.slice(i + 1).map((p) => p.step));
    }
  }
  options.onProgress?.({ task: 'commission', step: 'done', text: 'commission: done', percent: 100 });
  return { steps, state: device.session?.profileQState ?? 'Unknown', username: device.user ?? username, address: device.url.toString(), ...(rebootNeeded ? { rebootNeeded } : {}) };
}

function stepFailure(device: OnvifDevice, e: unknown, steps: CommissionStep[], notTried: string[]): CommissionError {
  const failed = steps[steps.length - 1]!;
  const done = steps.filter((s) => s.ok).map((s) => s.step);
  const message =
    `Commissioning ${device.displayAddress} stopped at step '${failed.step}': ${failed.detail} ` +
    `Done: ${done.length ? done.join(', ') : 'nothing'}.${notTried.length ? ` Not tried: ${notTried.join(', ')}.` : ''}`;
  const base = isOnvifError(e) ? e : undefined;
  const err = new OnvifError(base?.kind ?? 'bad-response', message, {
    code: base?.code,
    subcodes: base?.subcodes,
    reason: base?.reason,
    httpStatus: base?.httpStatus,
    address: base?.address ?? device.displayAddress,
    operation: base?.operation,
    cause: e,
  }) as CommissionError;
  err.steps = steps;
  return err;
}
