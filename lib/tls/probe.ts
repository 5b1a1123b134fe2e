import { isIP } from 'node:net';
import * as tls from 'node:tls';
import { OnvifError } from '../errors';

/**
 * The certificates a TLS server sends, leaf first, read without trusting them (nothing but the handshake is
 * sent). Used to check that the device serves exactly the certificate just configured, before any
 * credentials go over the new channel.
 */
export function servedCertificates(url: URL, timeoutMs = 10_000): Promise<Buffer[]> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername: isIP(host) ? undefined : host, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new OnvifError('timeout', `No TLS handshake with ${host}:${port} within ${Math.round(timeoutMs / 1000)} s.`, { address: `${host}:${port}` }));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chain: Buffer[] = [];
      let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (cert?.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        chain.push(cert.raw);
        cert = cert.issuerCertificate;
      }
      socket.end();
      resolve(chain);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const kind = e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'EHOSTUNREACH' ? 'unreachable' : 'tls';
      reject(new OnvifError(kind, `The TLS handshake with ${host}:${port} failed (${e.code ?? e.message}).`, { address: `${host}:${port}`, cause: e }));
    });
  });
}
