/**
 * Headers across the gateway, as Kong sends them (kong/templates/nginx_kong.lua, runloop/handler.lua):
 * hop-by-hop headers dropped (and every name the Connection header lists), X-Forwarded-* computed
 * unless the client is trusted, X-Real-IP, Via appended, Host per preserve_host.
 */
import type { RequestContext } from '../server/context';
import type { HttpResponse } from '../server/uws';
import { headerKind, scanHead, KIND, SKIP_BITS, type HeadScan } from './raw-headers';

import { SERVER_HEADER } from '../../shared/version';

/** Server and Via tokens: Kong's product token (clients and dashboards key on it) plus ours as a comment. */
export const SERVER_TOKEN = SERVER_HEADER;
export const VIA_TOKEN = `1.1 ${SERVER_TOKEN}`;

/**
 * What a client header name is to the gateway. Kinds from HOP on are never sent upstream as
 * they came: hop-by-hop headers, Host, and the X-Forwarded-* / X-Real-IP / Via the gateway
 * computes itself. CONSUMER names are the auth plugins' to set.
 */
export const REQUEST_HEADER = {
  PASS: 0, CONTENT_LENGTH: 1, CONSUMER: 2,
  HOP: 3, HOST: 3, CONNECTION: 4, TRANSFER_ENCODING: 5, X_FORWARDED_FOR: 6, VIA: 7, TE: 8, X_FORWARDED_PROTO: 9,
  X_FORWARDED_HOST: 10, X_FORWARDED_PORT: 11, X_FORWARDED_PATH: 12, X_FORWARDED_PREFIX: 13, DROP: 14,
} as const;
const K = REQUEST_HEADER;

/**
 * Classifies a lowercase header name: a switch on its length, then at most four string compares
 * (no hashing: uWS hands over fresh strings, whose hash a Set lookup would compute each time).
 */
export function requestHeaderKind(name: string): number {
  switch (name.length) {
    case 2: return name === 'te' ? K.TE : K.PASS;
    case 3: return name === 'via' ? K.VIA : K.PASS;
    case 4: return name === 'host' ? K.HOST : K.PASS;
    case 5: return name === 'proxy' ? K.DROP : K.PASS;
    case 6: return name === 'expect' ? K.DROP : K.PASS;
    case 7: return name === 'upgrade' || name === 'trailer' ? K.DROP : K.PASS;
    case 9: return name === 'x-real-ip' ? K.DROP : K.PASS;
    case 10: return name === 'connection' ? K.CONNECTION : name === 'keep-alive' ? K.DROP : K.PASS;
    case 14: return name === 'content-length' ? K.CONTENT_LENGTH : consumer(name);
    case 15: return name === 'x-forwarded-for' ? K.X_FORWARDED_FOR : consumer(name);
    case 16:
      if (name === 'proxy-connection') return K.DROP;
      if (name === 'x-forwarded-host') return K.X_FORWARDED_HOST;
      if (name === 'x-forwarded-port') return K.X_FORWARDED_PORT;
      return name === 'x-forwarded-path' ? K.X_FORWARDED_PATH : consumer(name);
    case 17: return name === 'transfer-encoding' ? K.TRANSFER_ENCODING : name === 'x-forwarded-proto' ? K.X_FORWARDED_PROTO : consumer(name);
    case 18: return name === 'x-forwarded-prefix' ? K.X_FORWARDED_PREFIX : consumer(name);
    default: return name.length >= 11 ? consumer(name) : K.PASS;
  }
}

function consumer(name: string): number {
  if (name.charCodeAt(0) !== 120 /* x */ || (name.charCodeAt(2) !== 99 /* c */ && name.charCodeAt(2) !== 97 /* a */)) return K.PASS;
  return name.startsWith('x-consumer-') || name === 'x-credential-identifier' || name === 'x-anonymous-consumer' ? K.CONSUMER : K.PASS;
}

/** Bits of RequestContext.hopPairs: pairs past these are classified again (upstreamHeaders). */
export const HOP_BITS = 32;

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

/** Entries upstreamHeaders may add after the client's: twelve name/value pairs at most. */
const ADDED = 24;

/**
 * Flat [name, value, …] list for undici's dispatch. The client's headers are not classified again
 * when nothing changed them since the copy: copyRequest marked the pairs that are not passed on
 * (RequestContext.hopPairs); a route with plugins may have edited the list, so then every name is.
 */
export function upstreamHeaders(ctx: RequestContext, hostHeader: string): string[] {
  const h = ctx.headers;
  const out = new Array<string>(h.length + ADDED);
  let w = 0;
  const drop = connectionTokens(ctx.connection);
  const marked = ctx.pipeline === null ? ctx.hopPairs : -1;
  const trusted = ctx.trusted;
  let xff: string | null = null;
  let via: string | null = null;
  let te = false;
  let proto: string | null = null;
  let fwdHost: string | null = null;
  let port: string | null = null;
  let path: string | null = null;
  let prefix: string | null = null;
  for (let i = 0, pair = 0; i < h.length; i += 2, pair++) {
    const name = h[i];
    if (pair >= HOP_BITS || (marked & (1 << pair)) !== 0) {
      const kind = requestHeaderKind(name);
      if (kind >= K.HOP) {
        const value = h[i + 1];
        switch (kind) {
          case K.X_FORWARDED_FOR: xff = xff === null ? value : `${xff}, ${value}`; break;
          case K.VIA: via = via === null ? value : `${via}, ${value}`; break;
          case K.TE: te ||= /(^|[\s,])trailers($|[\s,;])/i.test(value); break;
          // A trusted client's X-Forwarded-* are believed: the first of each name.
          case K.X_FORWARDED_PROTO: proto ??= value; break;
          case K.X_FORWARDED_HOST: fwdHost ??= value; break;
          case K.X_FORWARDED_PORT: port ??= value; break;
          case K.X_FORWARDED_PATH: path ??= value; break;
          case K.X_FORWARDED_PREFIX: prefix ??= value; break;
        }
        continue;
      }
    }
    if (drop !== null && drop.has(name)) continue;
    out[w++] = name;
    out[w++] = h[i + 1];
  }
  // A plugin's Host (request-transformer) wins over preserve_host and the peer's.
  out[w++] = 'host';
  out[w++] = ctx.upstreamHost ?? (ctx.route !== null && ctx.route.snap.preserveHost && ctx.host !== '' ? ctx.host : hostHeader);
  if (te) {
    out[w++] = 'te';
    out[w++] = 'trailers';
  }
  // A held chunked upload in a spill file goes out with its length (undici frames a Buffer body itself).
  if (ctx.body !== null && ctx.body.heldLength >= 0 && ctx.bodyBuffer === null) {
    out[w++] = 'content-length';
    out[w++] = String(ctx.body.heldLength);
  }
  // nginx $proxy_add_x_forwarded_for: $remote_addr after real-IP processing.
  out[w++] = 'x-forwarded-for';
  out[w++] = xff === null ? ctx.realIp : `${xff}, ${ctx.realIp}`;
  out[w++] = 'x-forwarded-proto';
  out[w++] = (trusted && proto) || (ctx.tls ? 'https' : 'http');
  out[w++] = 'x-forwarded-host';
  out[w++] = (trusted && fwdHost) || ctx.hostName();
  out[w++] = 'x-forwarded-port';
  out[w++] = (trusted && port) || ctx.listenerPortText;
  out[w++] = 'x-forwarded-path';
  out[w++] = (trusted && path) || ctx.url;
  const forwardedPrefix = (trusted && prefix) || ctx.forwardedPrefix();
  if (forwardedPrefix !== null) {
    out[w++] = 'x-forwarded-prefix';
    out[w++] = forwardedPrefix;
  }
  out[w++] = 'x-real-ip';
  out[w++] = ctx.realIp;
  out[w++] = 'via';
  out[w++] = via === null ? VIA_TOKEN : `${via}, ${VIA_TOKEN}`;
  if (ctx.runtime.headers.upstreamRequestId) {
    out[w++] = 'x-kong-request-id';
    out[w++] = ctx.requestId;
  }
  out.length = w;
  return out;
}

/**
 * The proxied response's headers: the upstream's, raw, minus hop-by-hop ones (and `drop`, the
 * names its Connection headers list), then Kong's: Server (the upstream's, else ours), Via appended,
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
  scanHead(raw, SCRATCH);
  writeScannedHeaders(res, ctx, raw, SCRATCH, drop, status, upstreamLatency, proxyLatency);
}
// writeProxiedHeaders' scan: used and done with within one synchronous call.
const SCRATCH: HeadScan = { headSkip: 0, headServer: null, headVia: null, headLength: -1, headHasLength: false, headConnection: null };

/** writeProxiedHeaders over a head already scanned (stream-response.ts scans it once, on arrival). */
export function writeScannedHeaders(
  res: HttpResponse,
  ctx: RequestContext,
  raw: readonly Buffer[],
  scan: HeadScan,
  drop: ReadonlySet<string> | null,
  status: number,
  upstreamLatency: number,
  proxyLatency: number,
): void {
  const skip = scan.headSkip;
  for (let i = 0, pair = 0; i < raw.length; i += 2, pair++) {
    if (pair < SKIP_BITS ? (skip & (1 << pair)) !== 0 : headerKind(raw[i]) !== KIND.PASS) continue;
    const name = raw[i];
    if (drop === null || !drop.has(name.toString('latin1').toLowerCase())) res.writeHeader(name, raw[i + 1]);
  }
  const server = scan.headServer;
  const via = scan.headVia;
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
