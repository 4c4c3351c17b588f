/**
 * The worker's uWS app: one catch-all handler that copies the request, judges its framing,
 * routes it, and hands it to the proxy (through the access seam). Everything the handler needs per snapshot sits in the
 * current Runtime; swapping that one reference applies a new config between two requests.
 */
import { randomFillSync } from 'node:crypto';
import { isIP } from 'node:net';
import type { HttpRequest, HttpResponse, TemplatedApp, UwsModule } from './uws';
import type { WorkerSlot } from '../../shared/counter-slab';
import type { Runtime } from '../runtime';
import { Exchange } from '../proxy/forward';
import { clientAddress, type RequestContext } from './context';
import { RequestBody } from '../proxy/stream-request';
import { TimedRequestBody } from '../proxy/client-body-deadline';
import { RunContext } from '../pipeline/run-context';
import { copyRequest, REQUEST } from './request';
import { normalizePath, escapeUpstreamPath, joinUpstreamPath } from '../router';
import {
  answerNoRoute, answerNoService, answerHttpsRequired, answerBadRequest, answerInternalError, answerHeaderTooLarge, answerUriTooLong,
  answerMethodNotAllowed,
} from './answers';
import { log, isLogEnabled } from '../../lib/log';
import type { UpgradeContext, UpgradeRequest, UpgradeResponse, WebSocketApp } from './websocket-uws';
import { webSocketBehavior, yieldedNonHandshake } from './websocket';
import { webSocketRouting, type WebSocketRouting } from './websocket-routing';
import { WebSocketExchange } from '../proxy/websocket-handshake';
import { limitConnections } from './connection-limit';

/** A path that cannot be normalized safely: 400, as REQUEST.BAD. */
const BAD_PATH = -100;

export interface ProxyState {
  runtime: Runtime | null;
  slot: WorkerSlot;
}

let proxy: ProxyState;
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

export function createProxyApp(uws: UwsModule, proxyState: ProxyState): TemplatedApp {
  proxy = proxyState;
  const app = uws.App();
  attachProxyHandlers(app, false);
  return app;
}

/**
 * The handlers of a plain app, of a TLS app (tls-listeners.ts) and of each of its SNI names (uWS
 * routes a connection whose name was added with addServerName to that name's own router): the
 * same code, with an entry point per transport so a request knows how it arrived at no cost.
 * `sni` is the exact name registered for that router ('' for the default router and wildcard
 * names): uWS 20.30 does not hand the connection's server name to JS, so every name a route's
 * `snis` lists is registered on its own, and '' then means "none of them".
 */
export function attachProxyHandlers(app: TemplatedApp, tls: boolean, sni = ''): void {
  // WebSocket handshakes (server/websocket.ts) take the same pipeline, with their own routing.
  const wsApp = app as WebSocketApp;
  if (sni === '') limitConnections(app, proxy.runtime?.settings.workerConnections ?? 0);
  if (!tls) {
    wsApp.ws('/*', webSocketBehavior(onUpgrade));
    app.any('/*', onRequest);
  } else if (sni === '') {
    wsApp.ws('/*', webSocketBehavior(onTlsUpgrade));
    app.any('/*', onTlsRequest);
  } else {
    // One closure per registered name and TLS generation, never per request.
    wsApp.ws('/*', webSocketBehavior((res, req, context) => upgrade(res, req, context, true, sni)));
    app.any('/*', (res, req) => request(res, req, true, sni));
  }
}

function onRequest(res: HttpResponse, req: HttpRequest): void {
  request(res, req, false, '');
}

function onTlsRequest(res: HttpResponse, req: HttpRequest): void {
  request(res, req, true, '');
}

function onUpgrade(res: UpgradeResponse, req: UpgradeRequest, context: UpgradeContext): void {
  upgrade(res, req, context, false, '');
}

function onTlsUpgrade(res: UpgradeResponse, req: UpgradeRequest, context: UpgradeContext): void {
  upgrade(res, req, context, true, '');
}

function request(res: HttpResponse, req: HttpRequest, tls: boolean, sni: string): void {
  const runtime = proxy.runtime as Runtime;
  const ctx = new Exchange(res, runtime, proxy.slot);
  ctx.tls = tls;
  ctx.sni = sni;
  serve(ctx, runtime, res, req, null);
}

/** A WebSocket handshake: a GET that is not one goes back to the plain handler (uWS's yield). */
function upgrade(res: UpgradeResponse, req: UpgradeRequest, context: UpgradeContext, tls: boolean, sni: string): void {
  if (yieldedNonHandshake(req)) return;
  const runtime = proxy.runtime as Runtime;
  const ctx = new WebSocketExchange(res, runtime, proxy.slot, context);
  ctx.tls = tls;
  ctx.sni = sni;
  serve(ctx, runtime, res, req, webSocketRouting(runtime));
}

function serve(ctx: Exchange, runtime: Runtime, res: HttpResponse, req: HttpRequest, ws: WebSocketRouting | null): void {
  try {
    handle(ctx, runtime, res, req, ws);
  } catch (e) {
    // A bug must cost one request, never the worker.
    log('error', 'request handler failed', { err: (e as Error).stack });
    answerInternalError(ctx);
  }
}

function handle(ctx: Exchange, runtime: Runtime, res: HttpResponse, req: HttpRequest, ws: WebSocketRouting | null): void {
  ctx.requestId = nextRequestId();
  const settings = runtime.settings;
  const bodyLength = copyRequest(ctx, req, settings.largeClientHeaderBuffers);
  res.onAborted(ctx.onAborted.bind(ctx));
  // keepalive_timeout 0 (nginx): no keep-alive at all.
  if (settings.keepaliveTimeout === 0) ctx.closeAfter = true;
  ctx.remote = clientAddress(res);
  if (bodyLength < 0 && bodyLength !== REQUEST.CHUNKED) {
    refuse(ctx, bodyLength);
    return;
  }
  ctx.trusted = runtime.trusted(ctx.remote);
  ctx.realIp = ctx.trusted ? realIp(ctx, runtime) : ctx.remote;
  ctx.debug = settings.allowDebugHeader && ctx.header('kong-debug') === '1';
  const path = normalizePath(ctx.url);
  // A fragment is never part of a request target (RFC 9112 §3.2): whoever sent one, the client or
  // a proxy in front, reads the URI differently from the gateway. nginx answers 400 too.
  if (path === null || (ctx.search !== '' && ctx.search.indexOf('#') !== -1)) {
    refuse(ctx, BAD_PATH);
    return;
  }
  // Route `snis` constrain TLS requests only (Kong): plain http passes no SNI.
  const router = ws === null ? runtime.router : ws.router;
  const match = ctx.tls
    ? router.match(ctx.method, ctx.host, path, ctx.headers, runtime.tlsPort, ctx.sni)
    : router.match(ctx.method, ctx.host, path, ctx.headers, runtime.listenerPort);
  if (match === null) {
    answerNoRoute(ctx);
    return;
  }
  const route = runtime.routes[match.routeIndex];
  ctx.match = match;
  ctx.route = route;
  if (route.service === null) {
    answerNoService(ctx);
    return;
  }
  // A route without `http` (`ws` for handshakes) only takes requests that arrived over TLS, or
  // that a trusted proxy says did.
  const acceptsHttp = ws === null ? route.acceptsHttp : ws.acceptsHttp[match.routeIndex] === 1;
  if (!ctx.tls && !acceptsHttp && !(ctx.trusted && ctx.header('x-forwarded-proto')?.toLowerCase() === 'https')) {
    answerHttpsRequired(ctx, route.snap.httpsRedirectStatusCode);
    return;
  }
  const service = route.service.snap;
  const joined = joinUpstreamPath(service.path, route.snap.stripPath, path, match.prefix);
  const upstreamPath = escapeUpstreamPath(joined);
  ctx.upstreamPath = ctx.search === '' ? upstreamPath : upstreamPath + escapeQuery(ctx.search);
  // uWS drops body bytes that arrive while no onData handler is attached: the reader MUST be
  // in place before anything can wait (the access phase below may).
  if (bodyLength !== 0) {
    const body = settings.clientBodyTimeout > 0
      ? new TimedRequestBody(res, service.writeTimeout, ctx, settings.clientBodyTimeout)
      : new RequestBody(res, service.writeTimeout, ctx);
    ctx.body = body;
    res.onData(body.onData.bind(body));
  }
  const chain = route.plugins;
  if (chain === null) {
    ctx.dispatch();
    return;
  }
  // The access phase may answer (the request never dispatches) or wait and resume; a throw or
  // rejection in a plugin ends in a 500 there (onRequest's try/catch covers only this turn).
  const run = new RunContext(ctx, chain, runtime.pluginEnv, path, joined, bodyLength);
  ctx.pipeline = run;
  run.start();
}

const VERDICT_LOG: Record<number, string> = {
  [REQUEST.BAD]: 'bad request head',
  [REQUEST.HEADER_TOO_LARGE]: 'request header too large',
  [REQUEST.URI_TOO_LONG]: 'request line too long',
  [REQUEST.NOT_ALLOWED]: 'method not allowed',
  [BAD_PATH]: 'bad request path',
};

/**
 * copyRequest's verdicts other than a body length, and bad paths: never forwarded, answered on
 * the next turn of the event loop. Answered at once, the connection would still be parsed: uWS
 * (20.30 at least) goes on to the next request in the same read after end(…, true), so the body
 * of a request refused for its framing (`Content-Length: 0` then `Content-Length: 37`) would be
 * served as a request of its own — request smuggling past a proxy that reads the other length.
 * While the refusal is pending, uWS closes a connection on which another request arrives
 * (its pipelining rule): that request is never seen, and the refused one goes unanswered.
 */
function refuse(ctx: RequestContext, verdict: number): void {
  if (isLogEnabled('info')) log('info', VERDICT_LOG[verdict] ?? 'bad request', { code: 'HW_ERR_REQUEST_BAD', method: ctx.method, url: ctx.url, requestId: ctx.requestId });
  setImmediate(answerRefusal, ctx, verdict);
}

function answerRefusal(ctx: RequestContext, verdict: number): void {
  // The answers write nothing once the client went away (state ABORTED).
  switch (verdict) {
    case REQUEST.HEADER_TOO_LARGE: answerHeaderTooLarge(ctx); return;
    case REQUEST.URI_TOO_LONG: answerUriTooLong(ctx); return;
    case REQUEST.NOT_ALLOWED: answerMethodNotAllowed(ctx); return;
    default: answerBadRequest(ctx);
  }
}

/**
 * nginx realip: the address in real_ip_header, believed only from a trusted peer. Without
 * real_ip_recursive the last address counts; with it, the rightmost address that is not itself
 * trusted (the leftmost ones are whatever the client wrote).
 */
function realIp(ctx: RequestContext, runtime: Runtime): string {
  const real = ctx.header(runtime.settings.realIpHeader);
  if (real === null || real === '') return ctx.remote;
  const parts = real.split(',');
  // A value that is not an address is ignored (nginx realip): the last good one, else the peer.
  if (!runtime.settings.realIpRecursive) {
    const ip = parts[parts.length - 1].trim();
    return isIP(ip) === 0 ? ctx.remote : ip;
  }
  let last = ctx.remote;
  for (let i = parts.length - 1; i >= 0; i--) {
    const ip = parts[i].trim();
    if (isIP(ip) === 0) return last;
    if (i === 0 || !runtime.trusted(ip)) return ip;
    last = ip;
  }
  return ctx.remote;
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
