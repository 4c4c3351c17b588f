/**
 * The Admin API server (node:http on admin_listen, 127.0.0.1:8001 by default). Control plane
 * only: it never sees proxy traffic. Resources live one per file; this file routes and answers
 * Kong's 404/405 shapes. Nothing a client sends may take the primary down: every handler runs
 * inside a try, and server errors are logged, never thrown.
 */
import http from 'node:http';
import https from 'node:https';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AdminContext } from './context';
import { nodeInfo } from './root';
import { statusBody, readyBody } from './status';
import { metricsBody } from '../metrics/endpoint';
import { upstreamsRoute } from './upstreams';
import { log } from '../../lib/log';
import { SERVER_HEADER } from '../../shared/version';
import { routeEntity, type EntityRoute } from './entity-router';
import { SERVICE_ROUTES } from './services';
import { ROUTE_ROUTES } from './routes';
import { UPSTREAM_ROUTES } from './upstreams';
import { TARGET_ROUTES } from './targets';
import { CONSUMER_ROUTES } from './consumers';
import { CREDENTIAL_ROUTES } from './credentials';
import { PLUGIN_ROUTES } from './plugins';
import { getConfig, postConfig } from './config';
import { listTags, pluginSchema } from './meta';
import type { AdminTls } from './tls';

export interface AdminResponse {
  status: number;
  body: unknown;
  /** Set when `body` is text sent as is (the Prometheus exposition format), not JSON. */
  contentType?: string;
}

type Handler = (ctx: AdminContext, req: http.IncomingMessage) => AdminResponse | Promise<AdminResponse>;

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  '/': { GET: nodeInfo },
  '/status': { GET: statusBody },
  '/status/ready': { GET: readyBody },
  '/metrics': { GET: metricsBody },
  '/config': { GET: getConfig, POST: postConfig },
  '/endpoints': { GET: () => endpoints() },
};

/** Kong's Status API (status_listen): health and metrics only, never configuration. */
export const STATUS_ROUTES: typeof ROUTES = {
  '/status': { GET: statusBody },
  '/status/ready': { GET: readyBody },
  '/metrics': { GET: metricsBody },
};

/** The entity endpoints (entity-router.ts): tried when no exact path above matches. */
const ENTITY_ROUTES: readonly EntityRoute[] = [
  ...SERVICE_ROUTES, ...ROUTE_ROUTES, ...UPSTREAM_ROUTES, ...TARGET_ROUTES, ...CONSUMER_ROUTES, ...CREDENTIAL_ROUTES, ...PLUGIN_ROUTES,
  { pattern: ['schemas', 'plugins', ':name'], methods: { GET: pluginSchema } },
  { pattern: ['tags'], methods: { GET: listTags } },
  { pattern: ['tags', ':tag'], methods: { GET: listTags } },
];

/** `GET /endpoints`: every path this Admin API serves, with Kong's `{name}` placeholders. */
function endpoints(): AdminResponse {
  const paths = new Set<string>(Object.keys(ROUTES));
  for (const r of ENTITY_ROUTES) paths.add('/' + r.pattern.map((p) => (p.startsWith(':') ? `{${p.slice(1)}}` : p)).join('/'));
  paths.add('/upstreams/{upstream}/health');
  return { status: 200, body: { data: [...paths].sort() } };
}

/** The request path without query; absolute-form targets give their path; null when unusable. */
export function adminPath(url: string | undefined): string | null {
  if (url === undefined || url === '') return null;
  let path = url;
  if (!url.startsWith('/')) {
    try {
      path = new URL(url).pathname;
    } catch {
      return null;
    }
  }
  const q = path.indexOf('?');
  if (q !== -1) path = path.slice(0, q);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function route(ctx: AdminContext, req: http.IncomingMessage, routes: typeof ROUTES): AdminResponse | Promise<AdminResponse> {
  const path = adminPath(req.url);
  if (path === null) return { status: 400, body: { message: 'Bad request' } };
  // Liveness probes (load balancers, orchestrators) carry no token and learn nothing secret.
  if (routes === ROUTES && !(path === '/status' || path === '/status/ready') && !tokenAccepted(ctx, req)) return UNAUTHORIZED;
  // The status listener serves only its own routes; upstream health belongs to the Admin API.
  if (routes === ROUTES && path.startsWith('/upstreams/')) {
    const health = upstreamsRoute(ctx, req, path);
    if (health !== null) return health;
  }
  const resource = Object.prototype.hasOwnProperty.call(routes, path) ? routes[path] : undefined;
  if (resource === undefined) {
    if (routes !== ROUTES) return { status: 404, body: { message: 'Not found' } };
    return routeEntity(ctx, req, path, ENTITY_ROUTES) ?? { status: 404, body: { message: 'Not found' } };
  }
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  const handler = resource[method];
  if (handler === undefined) return { status: 405, body: { message: 'Method not allowed' } };
  return handler(ctx, req);
}

/** Kong Enterprise's answer (RBAC) to a request without valid credentials. */
const UNAUTHORIZED: AdminResponse = { status: 401, body: { message: 'Invalid credentials. Token or User credentials required' } };

/**
 * `Kong-Admin-Token` against admin_token, in constant time: both sides are hashed first, so
 * neither the content nor the length of the token leaks through timing.
 */
function tokenAccepted(ctx: AdminContext, req: http.IncomingMessage): boolean {
  const expected = ctx.settings.adminToken;
  if (expected === null) return true;
  const given = req.headers['kong-admin-token'];
  if (typeof given !== 'string') return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * One listener of the Admin API (or of the Status API with STATUS_ROUTES). With `tls` it is an
 * `admin_listen … ssl` entry: the same routes and token rule over HTTPS (HTTP/1.1; an `http2`
 * flag is served through ALPN's fallback to HTTP/1.1, as on the proxy), TLS 1.2 and 1.3 only.
 */
export function startAdminServer(ctx: AdminContext, routes = ROUTES, listen = ctx.settings.adminListen, tls: AdminTls | null = null): Promise<http.Server> {
  const handler = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    let out: AdminResponse;
    try {
      out = await route(ctx, req, routes);
    } catch (e) {
      log('error', 'admin API handler failed', { err: (e as Error).stack, url: req.url });
      out = { status: 500, body: { message: 'An unexpected error occurred' } };
    }
    if (res.destroyed) return;
    if (out.status === 204 || out.status === 304) {
      res.writeHead(out.status, { 'Access-Control-Allow-Origin': '*', Server: SERVER_HEADER });
      res.end();
      return;
    }
    const text = out.contentType === undefined ? JSON.stringify(out.body) : String(out.body);
    res.writeHead(out.status, {
      'Content-Type': out.contentType ?? 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'Access-Control-Allow-Origin': '*',
      Server: SERVER_HEADER,
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
  // https.Server has http.Server's request API (closeAllConnections included).
  const server = tls === null
    ? http.createServer(handler)
    : (https.createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, handler) as unknown as http.Server);
  server.keepAliveTimeout = 5000;
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 26\r\nConnection: close\r\n\r\n{"message":"Bad request"}\n');
    else socket.destroy(err);
  });
  const { host, port } = listen;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', (err) => log('error', 'admin API server error', { err: err.message }));
      resolve(server);
    });
  });
}
