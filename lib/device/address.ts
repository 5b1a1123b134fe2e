import { OnvifError } from '../errors';

export const DEVICE_SERVICE_PATH = '/onvif/device_service';

/**
 * Turn what a user typed (`192.168.1.20`, `cam.local:8080`, `http://[fe80::1]:80`, or a full XAddr)
 * into the device-service URL. Throws an invalid-input error that says what a valid address looks like.
 */
export function deviceServiceUrl(address: string): URL {
  const raw = (address ?? '').trim();
  if (!raw) throw new OnvifError('invalid-input', 'No device address given. Enter the device IP or host name, e.g. 192.168.1.20 or 192.168.1.20:8080.');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new OnvifError('invalid-input', `"${raw}" is not a valid device address. Use host[:port] or a full URL such as http://192.168.1.20/onvif/device_service.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OnvifError('invalid-input', `Unsupported scheme "${url.protocol}" in device address "${raw}": use http:// or https://.`);
  }
  if (url.username || url.password) {
    // Credentials in a URL would end up in logs; they belong in the credential fields.
    throw new OnvifError('invalid-input', 'Put the username and password in their own fields, not in the device address.');
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = DEVICE_SERVICE_PATH;
  url.hash = '';
  return url;
}

/** host:port for messages (never with credentials). */
export function displayAddress(url: URL | string): string {
  const u = typeof url === 'string' ? safeUrl(url) : url;
  if (!u) return String(url);
  return u.host || String(url);
}

function safeUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

/**
 * Make a service XAddr reachable. Devices report addresses the client often cannot use (NAT, link-local
 * 169.254.x.x, a public IP, the wrong interface): keep the XAddr's path and port but use the host the user
 * configured. An XAddr on the same origin the device reports for itself maps to the configured origin
 * (so port forwarding keeps working); a malformed XAddr falls back to the configured device URL.
 */
export function reachableXaddr(reported: string, configured: URL, deviceReportedOrigin?: string): string {
  const u = safeUrl(reported.trim().split(/\s+/)[0] ?? '');
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) return configured.toString();
  if (u.hostname === configured.hostname) return u.toString();
  if (deviceReportedOrigin && u.origin === deviceReportedOrigin) {
    u.protocol = configured.protocol;
    u.host = configured.host;
    return u.toString();
  }
  u.hostname = configured.hostname;
  return u.toString();
}
