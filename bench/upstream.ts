/**
 * The bench upstream: answers every request with the same 64-byte body over keep-alive.
 * Usage: node dist/bench/upstream.js <port> [uws|http]. Prints one JSON line
 * {"port", "impl"} on stdout once listening. uWS is the default because the upstream must be
 * much cheaper than anything proxied in front of it; node:http is the fallback.
 */
import { createServer } from 'node:http';
import { loadUws } from './lib/uws-load';

export const BODY = 'hyperway-bench-upstream-'.padEnd(63, '.') + '\n';

function listenUws(port: number): boolean {
  const loaded = loadUws();
  if ('error' in loaded) {
    process.stderr.write(`upstream: uWS unavailable, using node:http (${loaded.error})\n`);
    return false;
  }
  loaded.uws
    .App()
    .any('/*', (res) => {
      // A synchronous response needs no onAborted; cork batches status, headers and body in one write.
      res.cork(() => {
        res.writeStatus('200 OK').writeHeader('Content-Type', 'text/plain').end(BODY);
      });
    })
    .listen('127.0.0.1', port, (token) => {
      if (!token) {
        process.stderr.write(`upstream: uWS could not listen on ${port}\n`);
        process.exit(1);
      }
      ready(port, `uws ${loaded.build}`);
    });
  return true;
}

function listenHttp(port: number): void {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': BODY.length });
    res.end(BODY);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => ready(port, `node:http ${process.version}`));
}

function ready(port: number, impl: string): void {
  process.stdout.write(JSON.stringify({ port, impl }) + '\n');
}

if (require.main === module) {
  const port = Number(process.argv[2]);
  const impl = process.argv[3] ?? process.env.BENCH_UPSTREAM ?? 'uws';
  if (!Number.isInteger(port) || port <= 0) {
    process.stderr.write('usage: node dist/bench/upstream.js <port> [uws|http]\n');
    process.exit(2);
  }
  if (impl !== 'uws' || !listenUws(port)) listenHttp(port);
  process.on('SIGTERM', () => process.exit(0));
}
