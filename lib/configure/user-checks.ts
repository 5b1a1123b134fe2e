import type { OnvifDevice } from '../device/onvif-device';
import type { SessionInfo } from '../device/types';
import { deviceText } from '../errors';
import { asArray } from '../util/as-array';
import { invalid } from './util';

/**
 * Checks on users and passwords before they go to a device (Core §8.4.4, §8.4.6, §8.5.2): the lengths the
 * device announces (MaxUserNameLength, MaxPasswordLength) and its password complexity configuration, so a
 * caller learns which rule a password breaks instead of a bare ter:Password fault, and so commissioning
 * never stops half way over a password the device was always going to refuse.
 */

/** The device's password rules (Core §8.5.2 PasswordComplexityConfiguration); a rule that is absent is off. */
export interface PasswordRules {
  minLen?: number;
  uppercase?: number;
  number?: number;
  specialChars?: number;
  blockUsernameOccurrence?: boolean;
}

export interface UserToCheck {
  username: string;
  /** Undefined: no password is being set. */
  password?: string;
}

/** One request per session at most: the rules rarely change, and a device without them is asked once. */
const rulesBySession = new WeakMap<SessionInfo, Promise<PasswordRules | undefined>>();

const characters = (s: string) => Array.from(s).length;
const countOf = (s: string, re: RegExp) => (s.match(re) ?? []).length;

/**
 * The device's password rules when it offers GetPasswordComplexityConfiguration (SecurityPolicies lists
 * PasswordComplexity), else undefined. A failing read is not an error: the device still checks on its own.
 */
export async function passwordRules(device: OnvifDevice): Promise<PasswordRules | undefined> {
  const session = await device.connect();
  if (!session.capabilities.security.securityPolicies?.includes('PasswordComplexity')) return undefined;
  let rules = rulesBySession.get(session);
  if (!rules) {
    rules = device.call('GetPasswordComplexityConfiguration').then(
      (r: Record<string, unknown>): PasswordRules => ({
        minLen: count(r.MinLen),
        uppercase: count(r.Uppercase),
        number: count(r.Number),
        specialChars: count(r.SpecialChars),
        blockUsernameOccurrence: r.BlockUsernameOccurrence === true || r.BlockUsernameOccurrence === 'true',
      }),
      () => undefined,
    );
    rulesBySession.set(session, rules);
  }
  return rules;
}

function count(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : undefined;
  return n !== undefined && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The rule a password breaks and what it asks, or undefined. Never mentions the password itself. */
export function brokenPasswordRule(rules: PasswordRules, username: string, password: string): string | undefined {
  if (rules.minLen && characters(password) < rules.minLen) return `MinLen (at least ${rules.minLen} characters)`;
  if (rules.uppercase && countOf(password, /\p{Lu}/gu) < rules.uppercase) return `Uppercase (at least ${rules.uppercase} uppercase letters)`;
  if (rules.number && countOf(password, /\p{Nd}/gu) < rules.number) return `Number (at least ${rules.number} digits)`;
  if (rules.specialChars && countOf(password, /[^\p{L}\p{N}]/gu) < rules.specialChars) {
    return `SpecialChars (at least ${rules.specialChars} characters that are neither letters nor digits)`;
  }
  if (rules.blockUsernameOccurrence && username && password.toLowerCase().includes(username.toLowerCase())) {
    return 'BlockUsernameOccurrence (the password must not contain the user name)';
  }
  return undefined;
}

/**
 * Refuse, before anything is sent, users the device would refuse: a user name longer than MaxUserNameLength
 * (CreateUsers), a password longer than MaxPasswordLength, or one that breaks the password complexity rules.
 */
export async function checkUsers(device: OnvifDevice, operation: 'CreateUsers' | 'SetUser', users: UserToCheck[]): Promise<void> {
  if (!users.length) return;
  const session = await device.connect();
  const { maxUserNameLength, maxPasswordLength } = session.capabilities.security;
  const where = device.displayAddress;
  // The administrator's name may come from the device (commission without a username).
  const named = (u: UserToCheck) => `'${deviceText(u.username, 64)}'`;
  for (const u of users) {
    if (operation === 'CreateUsers' && maxUserNameLength && characters(u.username) > maxUserNameLength) {
      throw invalid(
        `${operation}: the user name '${deviceText(u.username, 80)}' has ${characters(u.username)} characters; ${where} accepts at most ${maxUserNameLength} (MaxUserNameLength). Nothing was sent; choose a shorter name.`,
      );
    }
    if (u.password !== undefined && maxPasswordLength && characters(u.password) > maxPasswordLength) {
      throw invalid(
        `${operation}: the password for ${named(u)} is longer than the ${maxPasswordLength} characters ${where} accepts (MaxPasswordLength). Nothing was sent; choose a shorter password.`,
      );
    }
  }
  const withPassword = users.filter((u) => u.password);
  if (!withPassword.length) return;
  const rules = await passwordRules(device);
  if (!rules) return;
  for (const u of withPassword) {
    const broken = brokenPasswordRule(rules, u.username, u.password!);
    if (broken) {
      throw invalid(`${operation}: the password for ${named(u)} breaks the password rule ${broken} of ${where}. Nothing was sent; choose a password that follows the rule.`);
    }
  }
}

/**
 * The check on CreateUsers and SetUser requests, run by OnvifDevice.call before anything is sent. Returns the
 * parameters to encode. SetUser without a Password makes the device clear the password (Core §8.4.6), so it is
 * refused unless the caller says `clearPassword: true`; then the users go out without Password.
 */
export async function checkUserRequest(
  device: OnvifDevice,
  operation: string,
  params: Record<string, unknown> | undefined,
): Promise<Record<string, unknown> | undefined> {
  if (operation === 'SetPasswordComplexityConfiguration' && device.session) rulesBySession.delete(device.session);
  if (operation !== 'SetUser' && operation !== 'CreateUsers') return params;
  const isSetUser = operation === 'SetUser';
  let request = params ?? {};
  if (isSetUser) {
    const { clearPassword, ...rest } = request;
    if (clearPassword !== undefined && typeof clearPassword !== 'boolean') throw invalid('SetUser: clearPassword must be true or false.');
    const users = asArray<unknown>(rest.User).map((u) => {
      if (!u || typeof u !== 'object') return u;
      const user = u as Record<string, unknown>;
      const noPassword = user.Password === undefined || user.Password === null || user.Password === '';
      if (!noPassword) return user;
      if (!clearPassword) {
        throw invalid(
          `SetUser for '${deviceText(user.Username, 64)}' has no Password, and a device then clears the password (Core §8.4.6). Nothing was sent. ` +
            'Give the Password (the current one to keep it), or set clearPassword: true to clear it on purpose.',
        );
      }
      const { Password: _cleared, ...withoutPassword } = user;
      return withoutPassword;
    });
    request = { ...rest, ...(rest.User !== undefined ? { User: Array.isArray(rest.User) ? users : users[0] } : {}) };
  }
  const toCheck = asArray<unknown>(request.User)
    .filter((u): u is Record<string, unknown> => !!u && typeof u === 'object' && typeof (u as Record<string, unknown>).Username === 'string')
    .map((u) => ({ username: u.Username as string, password: typeof u.Password === 'string' ? u.Password : undefined }));
  await checkUsers(device, operation, toCheck);
  return request;
}

