/**
 * The Admin API server (node:http on admin_listen, 127.0.0.1:8001 by default). Control plane
 * only: it never sees proxy traffic. Resources live one per file; this file routes and answers
 * Kong's 404/405 shapes.
 */
import http from 'node:http';
import type { AdminContext } from './context';
import { nodeInfo } from './root';
import { statusBody, readyBody } from './status';

export interface AdminResponse {
  status: number;
  body: unknown;
}

type Handler = (ctx: AdminContext, req: http.IncomingMessage) => AdminResponse;

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  '/': { GET: nodeInfo },
  '/status': { GET: statusBody },
  '/status/ready': { GET: readyBody },
};

export function startAdminServer(ctx: AdminContext): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname.length > 1 && url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
    const route = ROUTES[path];
    let out: AdminResponse;
    if (route === undefined) out = { status: 404, body: { message: 'Not found' } };
    else {
      const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
      const h = route[method];
      out = h === undefined ? { status: 405, body: { message: 'Method not allowed' } } : h(ctx, req);
    }
    const text = JSON.stringify(out.body);
    res.writeHead(out.status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'Access-Control-Allow-Origin': '*',
      'X-Kong-Admin-Latency': '0',
      Server: 'kong/3.10.0 (hyperway)',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  });
  server.keepAliveTimeout = 5000;
  const { host, port } = ctx.settings.adminListen;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
