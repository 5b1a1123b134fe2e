import { maxHeaderSize } from 'node:http';
import { OnvifError, deviceText } from '../errors';
import { formatBytes } from '../util/format';

/**
 * The errors of one HTTP exchange in plain words, shared by both ways a request goes out (node:http for https and
 * file transfers, the connection pool for SOAP over plain http): the same failure reads the same either way.
 */

const UNREACHABLE_CODES: Record<string, string> = {
  ECONNREFUSED: 'refused the connection (nothing listens on that port)',
  ECONNRESET: 'closed the connection unexpectedly',
  EHOSTUNREACH: 'cannot be reached (no route to host)',
  ENETUNREACH: 'cannot be reached (network unreachable)',
  EHOSTDOWN: 'is down',
  ETIMEDOUT: 'did not accept the connection in time',
  ENOTFOUND: 'has a host name that does not resolve',
  EAI_AGAIN: 'has a host name that could not be resolved right now',
  EPIPE: 'closed the connection while the request was being sent',
  EADDRNOTAVAIL: 'cannot be reached from this machine (address not available)',
};

// What Node's HTTP parser (llhttp) refused in an answer, in plain words. The device did answer: this is not "unreachable".
const BROKEN_HTTP_CODES: Record<string, string> = {
  HPE_INVALID_CONSTANT: 'its first line is not an HTTP status line',
  HPE_INVALID_VERSION: 'an HTTP version that does not exist',
  HPE_INVALID_STATUS: 'a status code that is not a three-digit number',
  HPE_HEADER_OVERFLOW: `headers larger than the ${maxHeaderSize / 1024} kB Node.js accepts`,
  HPE_INVALID_HEADER_TOKEN: 'a header with a forbidden character (such as NUL, or a space in its name)',
  HPE_INVALID_CONTENT_LENGTH: 'a Content-Length that is not a plain number (negative, or with other characters)',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'a Content-Length given twice, or together with chunked encoding',
  HPE_INVALID_TRANSFER_ENCODING: 'a Transfer-Encoding that contradicts the Content-Length',
  HPE_INVALID_CHUNK_SIZE: 'a chunk size that is not a hexadecimal number (garbled chunked encoding)',
  HPE_CR_EXPECTED: 'line ends that are not CR LF',
  HPE_LF_EXPECTED: 'line ends that are not CR LF',
  HPE_UNEXPECTED_SPACE: 'a stray space in the status line or a header',
  HPE_CLOSED_CONNECTION: 'more data after it said it would close the connection',
  HPE_STRICT: 'chunk data not followed by its line end (garbled chunked encoding)',
};

export function brokenHttpError(err: NodeJS.ErrnoException & { reason?: string }, where: string, operation?: string): OnvifError {
  const what = BROKEN_HTTP_CODES[err.code ?? ''] ?? deviceText(err.reason ?? err.message);
  return new OnvifError(
    'broken-http',
    `The device at ${where} answered with broken HTTP (${what}), which cannot be read safely. ` +
      'Check that the address points at the ONVIF service (not another program on that port), and look for a firmware update.',
    { address: where, operation, cause: err },
  );
}

const TLS_CODE = /CERT|SSL|TLS|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_SSL|HANDSHAKE/;

export function networkError(err: NodeJS.ErrnoException, where: string, operation?: string): OnvifError {
  if (err instanceof OnvifError) return err;
  const code = err.code ?? '';
  if (code.startsWith('HPE_')) return brokenHttpError(err, where, operation);
  const details = { address: where, operation, cause: err };
  if (TLS_CODE.test(code) || /ssl|tls|certificate|wrong version number/i.test(err.message)) {
    return new OnvifError(
      'tls',
      `The secure connection to ${where} failed (${deviceText(err.message)}). Check that the port speaks https and the device's TLS settings.`,
      details,
    );
  }
  const what = UNREACHABLE_CODES[code] ?? `could not be reached (${deviceText(code || err.message)})`;
  return new OnvifError('unreachable', `The device at ${where} ${what}. Check the address, the port and that the device is powered and on the network.`, details);
}

/** An answer larger than the caller's limit. */
export function tooLargeError(where: string, operation: string | undefined, status: number | undefined, maxBytes: number): OnvifError {
  return new OnvifError(
    'too-large',
    `The answer from ${where} is larger than the ${formatBytes(maxBytes)} limit; it was not read. Raise maxResponseBytes if this is expected.`,
    { address: where, operation, httpStatus: status },
  );
}

/** The connection ended in the middle of an answer. */
export function cutOffError(where: string, operation: string | undefined, status: number | undefined): OnvifError {
  return new OnvifError('bad-response', `The answer from ${where} was cut off before it was complete (HTTP ${status}).`, {
    address: where,
    operation,
    httpStatus: status,
  });
}

/** No complete answer within the request's overall time limit. */
export function timeoutError(where: string, operation: string | undefined, timeoutMs: number): OnvifError {
  return new OnvifError(
    'timeout',
    `No complete answer from ${where} within ${timeoutMs / 1000} s${operation ? ` (${operation})` : ''}. ` +
      'Check that the device is on and the address is right; raise the timeout for slow operations.',
    { address: where, operation },
  );
}

/** The caller's AbortSignal ended the request. */
export function cancelledError(where: string, operation: string | undefined): OnvifError {
  return new OnvifError('closed', `The request to ${where} was cancelled.`, { address: where, operation });
}
