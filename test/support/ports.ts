/** Loopback ports taken from the OS and released at once, so each test gets its own (never a fixed one). */
import { createSocket } from 'node:dgram';
import net from 'node:net';

/** A TCP port on 127.0.0.1 that nothing listens on until the caller binds it. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A UDP port on 127.0.0.1 that nothing listens on, e.g. a simulator's own discovery port (never 3702). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
