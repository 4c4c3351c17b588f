import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * Ports this test process has handed out (free or closed). A port is never handed out twice, so
 * two calls cannot both give a test the same port. Other processes can still take a free port
 * between our check and its use: startGateway retries a start that fails to listen.
 */
const handedOut = new Set<number>();

function listenAny(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host }, () => resolve(srv));
  });
}

function portOf(srv: Server): number {
  const addr = srv.address();
  if (addr === null || typeof addr === 'string') throw new Error('listen(0) gave no port');
  return addr.port;
}

/**
 * `n` distinct ports that were free a moment ago and that this process has not handed out before:
 * all bound at once on :0 (so they differ), then closed. Racy against other processes by nature.
 */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    // A port handed out before stays bound until the end, so the kernel offers another.
    for (let tries = 0; ports.length < n; tries++) {
      if (tries > n + 1000) throw new Error(`no ${n} fresh ports after ${tries} tries`);
      const srv = await listenAny(host);
      held.push(srv);
      const port = portOf(srv);
      if (!handedOut.has(port)) ports.push(port);
    }
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
  for (const p of ports) handedOut.add(p);
  return ports;
}

/** A port that was free a moment ago and that this process has not handed out before. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, host);
  return port as number;
}

/** Sockets that hold closed ports for the life of the test process. */
const holders: Socket[] = [];

/**
 * A port on 127.0.0.1 that refuses connections (ECONNREFUSED) for the life of the test process.
 *
 * It is the local port of an open, idle TCP connection that this process made to itself: bound and
 * not listening. Nobody can listen on it while the connection stays open (EADDRINUSE, even with
 * SO_REUSEADDR, as the connecting socket has none), the kernel hands it to no other connect as its
 * source port (so no self-connect), and a SYN to it finds no listener (RST). A merely bound socket
 * is weaker: libuv binds with SO_REUSEADDR, and another socket with it may bind and listen there.
 */
export async function closedPort(): Promise<number> {
  const listener = await listenAny('127.0.0.1');
  try {
    const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
    const client = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ port: portOf(listener), host: '127.0.0.1' });
      s.once('error', reject);
      s.once('connect', () => resolve(s));
    });
    const server = await accepted;
    for (const s of [client, server]) {
      s.unref(); // does not keep the test process alive
      s.on('error', () => undefined);
      holders.push(s);
    }
    const port = client.localPort;
    if (port === undefined) throw new Error('connected socket has no local port');
    handedOut.add(port);
    return port;
  } finally {
    listener.close();
  }
}

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
