/**
 * The worker's uWS app: one catch-all handler that copies the request, judges its framing,
 * routes it, and hands it to the proxy. Everything the handler needs per snapshot sits in the
 * current Runtime; swapping that one reference applies a new config between two requests.
 */
import { randomFillSync } from 'node:crypto';
import type { HttpRequest, HttpResponse, TemplatedApp, UwsModule } from './uws';
import type { WorkerSlot } from '../../shared/counter-slab';
import type { Runtime } from '../runtime';
import { Exchange } from '../proxy/forward';
import { RequestBody } from '../proxy/stream-request';
import { copyRequest } from './request';
import { normalizePath, escapeUpstreamPath, joinUpstreamPath } from '../router';
import { NGINX_MESSAGES, ERROR_KIND } from './respond';
import { log, isLogEnabled } from '../../lib/log';

export interface ProxyState {
  runtime: Runtime | null;
  slot: WorkerSlot;
}

let state: ProxyState;
// Request ids are 32 random hex characters like Kong's, cut from a random pool refilled every
// 256 requests: one crypto call per 256 ids instead of one per request.
const ID_POOL = Buffer.alloc(16 * 256);
let idOffset = ID_POOL.length;
function nextRequestId(): string {
  if (idOffset === ID_POOL.length) {
    randomFillSync(ID_POOL);
    idOffset = 0;
  }
  idOffset += 16;
  return ID_POOL.toString('hex', idOffset - 16, idOffset);
}

export function createProxyApp(uws: UwsModule, s: ProxyState): TemplatedApp {
  state = s;
  const app = uws.App();
  app.any('/*', onRequest);
  return app;
}

function onRequest(res: HttpResponse, req: HttpRequest): void {
  const rt = state.runtime as Runtime;
  const x = new Exchange(res, rt, state.slot);
  try {
    handle(x, rt, res, req);
  } catch (e) {
    // A bug must cost one request, never the worker.
    log('error', 'request handler failed', { err: (e as Error).stack });
    x.sendError(500, NGINX_MESSAGES[500], ERROR_KIND.NGINX, true);
  }
}

function handle(x: Exchange, rt: Runtime, res: HttpResponse, req: HttpRequest): void {
  x.requestId = nextRequestId();
  const bodyLength = copyRequest(x, req);
  res.onAborted(x.onAborted.bind(x));
  x.remote = Buffer.from(res.getRemoteAddressAsText()).toString('latin1');
  if (bodyLength === -1) {
    badRequest(x, 'request framing');
    return;
  }
  const settings = rt.settings;
  x.trusted = rt.trusted(x.remote);
  x.realIp = x.trusted ? realIp(x, rt) : x.remote;
  x.debug = settings.allowDebugHeader && x.header('kong-debug') === '1';
  const path = normalizePath(x.url);
  if (path === null) {
    badRequest(x, 'request path');
    return;
  }
  const match = rt.router.match(x.method, x.host, path, x.headers, rt.listenerPort);
  if (match === null) {
    x.sendError(404, 'no Route matched with those values', ERROR_KIND.KONG_ERROR);
    return;
  }
  const route = rt.routes[match.routeIndex];
  x.match = match;
  x.route = route;
  if (route.service === null) {
    x.sendError(503, 'no Service found with those values', ERROR_KIND.KONG_ERROR);
    return;
  }
  // A route without `http` only takes requests a trusted proxy says arrived over https.
  if (!route.acceptsHttp && !(x.trusted && x.header('x-forwarded-proto')?.toLowerCase() === 'https')) {
    httpsOnly(x, route.snap.httpsRedirectStatusCode);
    return;
  }
  const svc = route.service.snap;
  const upstreamPath = escapeUpstreamPath(joinUpstreamPath(svc.path, route.snap.stripPath, path, match.prefix));
  x.upstreamPath = x.search === '' ? upstreamPath : upstreamPath + escapeQuery(x.search);
  if (bodyLength !== 0) {
    const body = new RequestBody(res, svc.writeTimeout, x.onWriteTimeout.bind(x));
    x.body = body;
    res.onData(body.onData.bind(body));
  }
  x.dispatch();
}

/** Kong's 400 with the connection closed: the request's framing or path cannot be trusted. */
function badRequest(x: Exchange, what: string): void {
  if (isLogEnabled('info')) log('info', `bad ${what}`, { code: 'HW_ERR_REQUEST_BAD', method: x.method, url: x.url, requestId: x.requestId });
  x.sendError(400, NGINX_MESSAGES[400], ERROR_KIND.NGINX, true);
}

/**
 * nginx realip: the address in real_ip_header, believed only from a trusted peer. Without
 * real_ip_recursive the last address counts; with it, the rightmost address that is not itself
 * trusted (the leftmost ones are whatever the client wrote).
 */
function realIp(x: Exchange, rt: Runtime): string {
  const real = x.header(rt.settings.realIpHeader);
  if (real === null || real === '') return x.remote;
  const parts = real.split(',');
  if (!rt.settings.realIpRecursive) return parts[parts.length - 1].trim();
  for (let i = parts.length - 1; i >= 0; i--) {
    const ip = parts[i].trim();
    if (i === 0 || !rt.trusted(ip)) return ip;
  }
  return x.remote;
}

const NOT_URI_SAFE = /[^\x21-\x7e]/;

/**
 * uWS hands over the query decoded as UTF-8; undici refuses characters outside visible ASCII.
 * Re-encode only those bytes, leaving the rest exactly as the client sent it (Kong passes $args raw).
 */
function escapeQuery(search: string): string {
  if (!NOT_URI_SAFE.test(search)) return search;
  let out = '';
  for (const ch of search) {
    if (!NOT_URI_SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`;
  }
  return out;
}

/** A route that only accepts https, hit over plain http (Kong: 426, or the configured redirect). */
function httpsOnly(x: Exchange, code: number): void {
  if (code === 426) {
    x.sendError(426, 'Please use HTTPS protocol', ERROR_KIND.KONG_EXIT, false, ['Connection', 'Upgrade', 'Upgrade', 'TLS/1.2, HTTP/1.1']);
    return;
  }
  const location = `https://${x.hostName()}${x.url}${x.search}`;
  x.sendError(code, '', ERROR_KIND.KONG_EXIT, false, ['Location', location]);
}
