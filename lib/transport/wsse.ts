import { createHash, randomBytes } from 'node:crypto';
import { el, type XmlNode } from '../xml/build';
import { NS } from '../xml/namespaces';

const PASSWORD_DIGEST_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const BASE64_ENCODING = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

/** WSS UsernameToken Profile 1.0 PasswordDigest: Base64(SHA-1(nonce ‖ created ‖ password)). */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

/** UTC xsd:dateTime with milliseconds and `Z`, shifted by the device clock offset. */
export function createdTimestamp(clockOffsetMs = 0, now = Date.now()): string {
  return new Date(now + clockOffsetMs).toISOString();
}

/** The `wsse:Security` header block carrying a digest UsernameToken (layout per NOTES.md (a)). */
export function usernameTokenHeader(username: string, password: string, createdIso: string, nonce: Buffer = randomBytes(16)): XmlNode {
  return el(
    NS.wsse,
    'Security',
    { [`{${NS.soap}}mustUnderstand`]: 'true' },
    el(
      NS.wsse,
      'UsernameToken',
      undefined,
      el(NS.wsse, 'Username', undefined, username),
      el(NS.wsse, 'Password', { Type: PASSWORD_DIGEST_TYPE }, passwordDigest(nonce, createdIso, password)),
      el(NS.wsse, 'Nonce', { EncodingType: BASE64_ENCODING }, nonce.toString('base64')),
      el(NS.wsu, 'Created', undefined, createdIso),
    ),
  );
}
