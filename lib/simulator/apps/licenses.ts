/**
 * The simulated license string (AppMgmt §6.4.1 leaves the format out of scope):
 * `ONVIFQ-LICENSE:` + base64url of JSON { app, device, name, validFrom?, validUntil? }. `device` is the
 * DeviceId (GetDeviceId) the license is bound to; a license for another device is refused.
 */
export const LICENSE_PREFIX = 'ONVIFQ-LICENSE:';

export interface LicenseContent {
  /** AppID the license belongs to. */
  app: string;
  /** DeviceId it is bound to. */
  device: string;
  name: string;
  /** ISO-8601 UTC. */
  validFrom?: string;
  validUntil?: string;
}

export function makeLicense(content: LicenseContent): string {
  return LICENSE_PREFIX + Buffer.from(JSON.stringify(content), 'utf8').toString('base64url');
}

/** Read a license string; a string result says why it is not one. */
export function readLicense(text: string): LicenseContent | string {
  const t = text.trim();
  if (!t.startsWith(LICENSE_PREFIX)) return `the license does not start with ${LICENSE_PREFIX}`;
  let c: Partial<LicenseContent>;
  try {
    c = JSON.parse(Buffer.from(t.slice(LICENSE_PREFIX.length), 'base64url').toString('utf8')) as Partial<LicenseContent>;
  } catch {
    return 'the license body is not readable';
  }
  if (!c || typeof c.app !== 'string' || typeof c.device !== 'string' || typeof c.name !== 'string' || !c.name) return 'the license lacks app, device or name';
  for (const k of ['validFrom', 'validUntil'] as const) {
    if (c[k] !== undefined && (typeof c[k] !== 'string' || !Number.isFinite(Date.parse(c[k])))) return `the license ${k} is not a date`;
  }
  return c as LicenseContent;
}
