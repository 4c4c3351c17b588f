import { connect, createServer } from 'node:net';

/**
 * A port that was free a moment ago: bind :0 on 127.0.0.1, read the port, close.
 * Racy by nature (another process may take it before we do), good enough for tests on one host.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host }, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('listen(0) gave no port'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

/** `n` distinct free ports (all bound at once, so they differ). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<import('node:net').Server>((resolve, reject) => {
        const srv = createServer();
        srv.once('error', reject);
        srv.listen({ port: 0, host }, () => resolve(srv));
      }),
    ),
  );
  const ports = servers.map((s) => {
    const addr = s.address();
    if (addr === null || typeof addr === 'string') throw new Error('listen(0) gave no port');
    return addr.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/** A port nobody listens on: connecting to it is refused (ECONNREFUSED). */
export const closedPort = freePort;

/** Listens on 127.0.0.1:0 and resolves with the port the kernel chose. */
export function listenLocal(server: import('node:net').Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const addr = server.address();
      if (addr === null || typeof addr === 'string') reject(new Error('no port'));
      else resolve(addr.port);
    });
  });
}

/** Resolves true when a TCP connect to 127.0.0.1:port is refused, false when it is accepted. */
export function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}
