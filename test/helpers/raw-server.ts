import { createServer, type Socket } from 'node:net';
import { listenLocal } from './ports';

export interface RawServer {
  port: number;
  /** Destroys every open socket, then closes the listener. */
  close(): Promise<void>;
}

/**
 * A TCP server on 127.0.0.1 for upstreams that write raw HTTP (what node's HTTP server refuses or
 * rewrites). Sockets are tracked so `close()` ends kept-alive connections too; a socket error
 * only destroys that socket.
 */
export async function startRawServer(onSocket: (sock: Socket) => void): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    onSocket(sock);
  });
  const port = await listenLocal(server);
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
