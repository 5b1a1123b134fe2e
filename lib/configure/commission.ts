import { OnvifError, deviceText, isOnvifError } from '../errors';
import { OnvifDevice } from '../device/onvif-device';
import type { ProfileQState, SessionInfo } from '../device/types';
import type { OperationRequest } from '../schema/onvif-types';
import { el } from '../xml/build';
import { NS } from '../xml/namespaces';
import type { TaskOptions } from './types';
import { checkUsers } from './user-checks';
import { asArray } from '../util/as-array';
import { checkAborted, invalid, isIPv4, networkHost } from './util';
import { posixTimeZone } from '../util/time-zone';

export type UserLevelName = 'Administrator' | 'Operator' | 'User';

export interface CommissionParams {
  /** The new administrator's password (required). */
  password: string;
  /**
   * The administrator whose password is set. Default: the administrator the device already has (many ship
   * with one, e.g. 'root', and an empty password), else 'admin', which is then created. When the device has
   * an administrator and another name is given, nothing is done: naming the existing one is the fix.
   */
  username?: string;
  hostname?: string;
  /** NTP servers (addresses or names), or 'dhcp' to take them from DHCP; the clock then follows NTP. */
  ntp?: string[] | 'dhcp';
  /** IANA (Europe/Berlin) or POSIX (CET-1CEST,M3.5.0,M10.5.0/3) time zone; the device gets POSIX. */
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
  if (p.timeZone !== undefined && (typeof p.timeZone !== 'string' || !p.timeZone.trim())) {
    throw invalid('commission: timeZone must be an IANA time zone such as Europe/Berlin or a POSIX one such as CET-1CEST,M3.5.0,M10.5.0/3.');
  }
  // Before any step: a time zone that cannot be used must not leave the device half commissioned.
  if (p.timeZone !== undefined) posixTimeZone(p.timeZone);
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

interface AdminPlan {
  username: string;
  /** SetUser for an existing account (Profile Q §9: "modifies the password of an existing admin user"), else CreateUsers. */
  operation: 'SetUser' | 'CreateUsers';
}

/** User names as the device listed them (GetUsers), safe to show. */
const quoted = (names: string[]) => names.map((n) => `'${deviceText(n, 64)}'`).join(', ');

/**
 * Which administrator to give the password (Profile Q §9): the existing one when there is one, so that a
 * device shipped with 'root' and no password does not keep that open account next to a new one.
 */
async function planAdmin(device: OnvifDevice, requested: string | undefined): Promise<AdminPlan> {
  let users: Array<{ Username?: string; UserLevel?: string }> | undefined;
  try {
    users = asArray((await device.call('GetUsers')).User);
  } catch (e) {
    // Unreadable users (a device that protects GetUsers even now): create the administrator; the check afterwards still runs.
    if (!isOnvifError(e) || e.kind !== 'fault') throw e;
  }
  const admins = (users ?? []).filter((u) => u.UserLevel === 'Administrator' && typeof u.Username === 'string').map((u) => u.Username!);
  if (!admins.length) {
    const username = requested ?? 'admin';
    return { username, operation: users?.some((u) => u.Username === username) ? 'SetUser' : 'CreateUsers' };
  }
  if (requested === undefined && admins.length === 1) return { username: admins[0]!, operation: 'SetUser' };
  if (requested !== undefined && admins.includes(requested)) return { username: requested, operation: 'SetUser' };
  const has = `${device.displayAddress} has the administrator${admins.length > 1 ? 's' : ''} ${quoted(admins)}`;
  if (requested === undefined) {
    throw invalid(`${has}; say which one gets the password, e.g. username: ${quoted(admins.slice(0, 1))}. Nothing was changed.`);
  }
  throw invalid(
    `${has}, and commissioning sets the password of an existing administrator (Profile Q §9) rather than adding '${requested}' next to ` +
      `${admins.length > 1 ? 'them' : 'it'}. Nothing was changed. Use username: ${quoted(admins.slice(0, 1))}, and add '${requested}' with ` +
      `users: [{ username: '${requested}', password, level: 'Administrator' }] if you want it too.`,
  );
}

/** The device went away (it may restart after leaving Factory Default State, Profile Q §9). */
function isAway(e: unknown): boolean {
  return isOnvifError(e) && (e.kind === 'unreachable' || e.kind === 'timeout');
}

/** Reconnect with the new credentials; when the device is restarting, wait until it is back. */
async function reconnect(device: OnvifDevice, options: TaskOptions): Promise<SessionInfo> {
  device.reset();
  try {
    return await device.connect();
  } catch (e) {
    if (!isAway(e)) throw e;
    options.onProgress?.({ task: 'commission', step: 'admin', text: 'commission: waiting for restart' });
    return device.waitForRestart({ kind: 'reboot', signal: options.signal });
  }
}

/**
 * Whether `username` signs in with an empty password. A client cannot read passwords, so it tries: one
 * GetUsers with an empty password on a separate session. On a real device that is one failed login per
 * other administrator (well under any lock-out threshold; it may raise an AuthFailed event).
 */
async function signsInWithoutPassword(device: OnvifDevice, username: string): Promise<boolean> {
  const probe = new OnvifDevice({ ...device.options, address: device.url.toString(), username, password: '' });
  try {
    await probe.send(device.serviceAddress(NS.tds) ?? device.url.toString(), el(NS.tds, 'GetUsers'), { operation: 'GetUsers', action: `${NS.tds}/GetUsers` });
    return true;
  } catch (e) {
    if (isOnvifError(e) && (e.kind === 'auth' || (e.kind === 'fault' && e.isNotAuthorized))) return false;
    // Any other fault means the credentials got through.
    if (isOnvifError(e) && e.kind === 'fault') return true;
    throw e;
  } finally {
    await probe.close();
  }
}

/** Read the users back: `username` must be an Administrator, and no other Administrator may be left without a password. */
async function verifyAdmins(device: OnvifDevice, username: string): Promise<string[]> {
  const users = asArray<{ Username?: string; UserLevel?: string }>((await device.call('GetUsers')).User);
  const admins = users.filter((u) => u.UserLevel === 'Administrator' && typeof u.Username === 'string').map((u) => u.Username!);
  if (!admins.includes(username)) {
    throw new OnvifError('bad-response', `After commissioning, ${quoted([username])} is not an Administrator on ${device.displayAddress} (GetUsers lists ${admins.length ? quoted(admins) : 'none'}).`);
  }
  const open: string[] = [];
  for (const other of admins) if (other !== username && (await signsInWithoutPassword(device, other))) open.push(other);
  if (open.length) {
    throw new OnvifError(
      'bad-response',
      `The administrator${open.length > 1 ? 's' : ''} ${quoted(open)} on ${device.displayAddress} still sign${open.length > 1 ? '' : 's'} in without a password, so anyone can administer the device. ` +
        `Give ${open.length > 1 ? 'them' : 'it'} a password (SetUser) or delete ${open.length > 1 ? 'them' : 'it'} (DeleteUsers).`,
      { address: device.displayAddress },
    );
  }
  return admins;
}

/**
 * Bring a device from Factory Default State to service: set the administrator's password (which makes
 * it Operational; the existing administrator's when there is one), switch the session to it, wait when the
 * device restarts, read the users back (no administrator may be left without a password), then hostname,
 * time zone / NTP, extra users and network. Users and passwords are checked against the device's limits and
 * password rules before anything changes. Stops at the first failure with an error that says what was done.
 */
export async function commission(device: OnvifDevice, params: CommissionParams, options: TaskOptions = {}): Promise<CommissionResult> {
  validate(params);
  const session = await device.connect();
  if (session.profileQState !== 'FactoryDefault' && !params.force) {
    throw new OnvifError(
      'invalid-input',
      `${device.displayAddress} is already commissioned (Profile Q state ${session.profileQState}); nothing was changed. Set force to apply the other settings with the stored credentials, or reset it to factory defaults first.`,
      { address: device.displayAddress },
    );
  }

  const admin = session.profileQState === 'FactoryDefault' ? await planAdmin(device, params.username?.trim()) : undefined;
  // Refuse what the device would refuse before the first change, not half way through.
  if (admin) await checkUsers(device, admin.operation, [{ username: admin.username, password: params.password }]);
  if (params.users?.length) await checkUsers(device, 'CreateUsers', params.users);
  const username = admin?.username ?? (params.username ?? 'admin').trim();

  const plan: Array<{ step: string; run: () => Promise<string | undefined> }> = [];
  let rebootNeeded = false;
  if (admin) {
    plan.push({
      step: 'admin',
      run: async () => {
        const user = { Username: username, Password: params.password, UserLevel: 'Administrator' as const };
        await device.call(admin.operation, { User: [user] });
        const done = admin.operation === 'SetUser' ? 'set the password of' : 'created';
        device.setCredentials(username, params.password, `Commissioning ${done} the administrator ${quoted([username])} on ${device.displayAddress}; the session signs in with it now. Store these credentials.`);
        const after = await reconnect(device, options);
        if (after.profileQState !== 'Operational') {
          throw new OnvifError('bad-response', `The device still reports Profile Q state ${after.profileQState} after the administrator password was set.`);
        }
        const admins = await verifyAdmins(device, username);
        const others = admins.filter((a) => a !== username);
        return `administrator ${quoted([username])} ${done === 'created' ? 'created' : 'given its password'}; the device is Operational${others.length ? `; ${quoted(others)} do${others.length > 1 ? '' : 'es'} not sign in without a password` : ''}`;
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
        const request: OperationRequest<'SetSystemDateAndTime'> = { DateTimeType: byNtp ? 'NTP' : 'Manual', DaylightSavings: now.DaylightSavings ?? false };
        const zone = params.timeZone === undefined ? undefined : posixTimeZone(params.timeZone);
        if (zone !== undefined) request.TimeZone = { TZ: zone };
        if (!byNtp) request.UTCDateTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        await device.call('SetSystemDateAndTime', request);
        return `${byNtp ? 'clock follows NTP' : 'clock set from this computer'}${zone ? `, time zone ${zone}` : ''}`;
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
        rebootNeeded = r?.RebootNeeded === true;
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
