/** A device that answers with bytes no HTTP server library would write (broken status lines, headers, chunking). */
import * as net from 'node:net';

export interface RawHttpServer {
  /** The device service address on it. */
  url: string;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 that reads one whole HTTP request (head and Content-Length body), then writes `answer` as is and closes. */
export async function rawHttpServer(answer: string): Promise<RawHttpServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const headEnd = seen.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(seen.subarray(0, headEnd).toString('latin1'))?.[1] ?? 0);
      if (seen.length < headEnd + 4 + length) return;
      socket.off('data', onData);
      socket.end(Buffer.from(answer, 'latin1'));
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/onvif/device_service`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
