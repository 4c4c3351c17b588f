/**
 * Two demo upstreams for `npm start`, on 127.0.0.1:9001 and :9002 (the targets of
 * native-config/hyperway.yaml): each
 * answers JSON saying which instance served and what request it received, so a newcomer sees
 * the gateway route, rewrite headers and balance. Runs in its own process, never in the gateway's.
 */
import http from 'node:http';

export const DEMO_PORTS = [9001, 9002];

export function serveDemo(ports: number[]): Promise<http.Server[]> {
  return Promise.all(ports.map((port, i) => new Promise<http.Server>((resolve, reject) => {
    const name = `demo-upstream-${i + 1}`;
    const server = http.createServer((req, res) => {
      let size = 0;
      req.on('data', (c: Buffer) => { size += c.length; });
      req.on('end', () => {
        const body = JSON.stringify({ upstream: name, port, method: req.method, url: req.url, headers: req.headers, body_bytes: size }, null, 2);
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  })));
}

if (require.main === module) {
  serveDemo(DEMO_PORTS).then(
    () => process.send?.('ready'),
    (e: Error) => {
      process.stderr.write(`demo upstreams: ${e.message}\n`);
      process.exit(1);
    },
  );
  process.on('disconnect', () => process.exit(0));
  process.on('SIGINT', () => undefined);
}
