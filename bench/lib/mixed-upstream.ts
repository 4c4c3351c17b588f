/**
 * An in-process node:http upstream for the mixed workloads (soak): GET /big/… answers 64 KiB,
 * other GETs a 64-byte body, a POST answers its body length in decimal. Cheap enough at the
 * moderate rates these benches run; the throughput benches use bench/upstream.ts instead.
 */
import { createServer, type Server } from 'node:http';

export const SMALL_BODY = 'hyperway-bench-upstream-'.padEnd(63, '.') + '\n';
export const BIG_BYTES = 64 * 1024;
const BIG = Buffer.alloc(BIG_BYTES, 0x62);

export function startMixedUpstream(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'POST') {
      let n = 0;
      req.on('data', (c: Buffer) => { n += c.length; });
      req.on('end', () => res.end(String(n)));
      return;
    }
    req.resume();
    if (req.url?.startsWith('/big')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG_BYTES });
      res.end(BIG);
    } else {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': SMALL_BODY.length });
      res.end(SMALL_BODY);
    }
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
