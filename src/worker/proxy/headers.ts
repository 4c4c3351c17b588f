/**
 * Headers across the gateway, as Kong sends them (kong/templates/nginx_kong.lua, runloop/handler.lua):
 * hop-by-hop headers dropped (and every name the Connection header lists), X-Forwarded-* computed
 * unless the client is trusted, X-Real-IP, Via appended, Host per preserve_host.
 */
import type { RequestContext } from '../server/context';
import type { HttpResponse } from '../server/uws';
import { headerKind, KIND } from './raw-headers';

import { SERVER_HEADER } from '../../shared/version';

/** Server and Via tokens: Kong's product token (clients and dashboards key on it) plus ours as a comment. */
export const SERVER_TOKEN = SERVER_HEADER;
export const VIA_TOKEN = `1.1 ${SERVER_TOKEN}`;

const HOP_BY_HOP_REQUEST = new Set([
  'host', 'connection', 'keep-alive', 'proxy', 'proxy-connection', 'upgrade', 'transfer-encoding', 'te', 'expect',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-path',
  'x-forwarded-prefix', 'x-real-ip', 'via', 'trailer',
]);


/** Names listed in a Connection header, other than the standard tokens; null when none. */
export function connectionTokens(value: string | null): Set<string> | null {
  if (value === null || value === 'keep-alive' || value === 'close' || value === 'Keep-Alive') return null;
  let set: Set<string> | null = null;
  for (const raw of value.split(',')) {
    const t = raw.trim().toLowerCase();
    if (t === '' || t === 'keep-alive' || t === 'close' || t === 'upgrade') continue;
    (set ??= new Set()).add(t);
  }
  return set;
}

/** Flat [name, value, …] list for undici's dispatch. */
export function upstreamHeaders(ctx: RequestContext, hostHeader: string): string[] {
  const h = ctx.headers;
  const out: string[] = [];
  const drop = connectionTokens(ctx.connection);
  let xff: string | null = null;
  let via: string | null = null;
  let te = false;
  const trusted = ctx.trusted;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i];
    if (HOP_BY_HOP_REQUEST.has(name)) {
      if (name === 'x-forwarded-for') xff = xff === null ? h[i + 1] : `${xff}, ${h[i + 1]}`;
      else if (name === 'via') via = via === null ? h[i + 1] : `${via}, ${h[i + 1]}`;
      else if (name === 'te') te ||= /(^|[\s,])trailers($|[\s,;])/i.test(h[i + 1]);
      continue;
    }
    if (drop !== null && drop.has(name)) continue;
    out.push(name, h[i + 1]);
  }
  // A plugin's Host (request-transformer) wins over preserve_host and the peer's.
  out.push('host', ctx.upstreamHost ?? (ctx.route !== null && ctx.route.snap.preserveHost && ctx.host !== '' ? ctx.host : hostHeader));
  if (te) out.push('te', 'trailers');
  // A held chunked upload in a spill file goes out with its length (undici frames a Buffer body itself).
  if (ctx.body !== null && ctx.body.heldLength >= 0 && ctx.bodyBuffer === null) out.push('content-length', String(ctx.body.heldLength));
  // nginx $proxy_add_x_forwarded_for: $remote_addr after real-IP processing.
  out.push('x-forwarded-for', xff === null ? ctx.realIp : `${xff}, ${ctx.realIp}`);
  out.push('x-forwarded-proto', (trusted && ctx.header('x-forwarded-proto')) || (ctx.tls ? 'https' : 'http'));
  out.push('x-forwarded-host', (trusted && ctx.header('x-forwarded-host')) || ctx.hostName());
  out.push('x-forwarded-port', (trusted && ctx.header('x-forwarded-port')) || ctx.listenerPortText);
  out.push('x-forwarded-path', (trusted && ctx.header('x-forwarded-path')) || ctx.url);
  const prefix = (trusted && ctx.header('x-forwarded-prefix')) || ctx.forwardedPrefix();
  if (prefix !== null) out.push('x-forwarded-prefix', prefix);
  out.push('x-real-ip', ctx.realIp);
  out.push('via', via === null ? VIA_TOKEN : `${via}, ${VIA_TOKEN}`);
  if (ctx.runtime.headers.upstreamRequestId) out.push('x-kong-request-id', ctx.requestId);
  return out;
}

/**
 * The proxied response's headers: the upstream's, raw, minus hop-by-hop ones (and `drop`, the
 * names its Connection headers list, gathered while the head was scanned), then Kong's: Server (the upstream's, else ours), Via appended,
 * latencies, request id, upstream status, debug headers. MUST run inside res.cork().
 * Content-Length is not copied: uWS writes its own framing (tryEnd with the total, or chunked).
 */
export function writeProxiedHeaders(
  res: HttpResponse,
  ctx: RequestContext,
  raw: readonly Buffer[],
  drop: ReadonlySet<string> | null,
  status: number,
  upstreamLatency: number,
  proxyLatency: number,
): void {
  let server: Buffer | null = null;
  let via: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    switch (headerKind(name)) {
      case KIND.PASS:
        if (drop === null || !drop.has(name.toString('latin1').toLowerCase())) res.writeHeader(name, raw[i + 1]);
        break;
      case KIND.SERVER:
        server ??= raw[i + 1];
        break;
      case KIND.VIA:
        via = via === null ? raw[i + 1].toString('latin1') : `${via}, ${raw[i + 1].toString('latin1')}`;
        break;
    }
  }
  const switches = ctx.runtime.headers;
  if (server !== null) res.writeHeader('Server', server);
  else if (switches.serverTokens) res.writeHeader('Server', SERVER_TOKEN);
  // Kong appends its Via token only with server_tokens (or `via`); the upstream's own Via passes.
  if (switches.via) res.writeHeader('Via', via === null ? VIA_TOKEN : Buffer.from(`${via}, ${VIA_TOKEN}`, 'latin1'));
  else if (via !== null) res.writeHeader('Via', Buffer.from(via, 'latin1'));
  if (switches.upstreamLatency) res.writeHeader('X-Kong-Upstream-Latency', String(upstreamLatency));
  if (switches.proxyLatency) res.writeHeader('X-Kong-Proxy-Latency', String(proxyLatency));
  if (switches.upstreamStatus) res.writeHeader('X-Kong-Upstream-Status', String(status));
  if (switches.requestId) res.writeHeader('X-Kong-Request-Id', ctx.requestId);
  if (ctx.debug) writeDebugHeaders(res, ctx);
}

/** `Kong-Debug: 1` with allow_debug_header: which route and service handled the request. */
export function writeDebugHeaders(res: HttpResponse, ctx: RequestContext): void {
  const route = ctx.route;
  if (route === null) return;
  res.writeHeader('Kong-Route-Id', route.snap.id);
  if (route.snap.name !== null) res.writeHeader('Kong-Route-Name', route.snap.name);
  const s = route.service;
  if (s !== null) {
    res.writeHeader('Kong-Service-Id', s.snap.id);
    if (s.snap.name !== null) res.writeHeader('Kong-Service-Name', s.snap.name);
  }
}
