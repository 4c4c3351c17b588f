/**
 * Responses the gateway writes itself, one named function per answer: no route, no service,
 * https required, bad request, a handler's 500, upstream failures, and (for the plugin
 * pipeline) kong.response.exit. All of them go through sendAnswer and writeAnswer, the one place
 * a generated response is written: Kong runs header_filter on its own error and exit responses
 * too (CORS headers on a 401), so the pipeline's filter hooks in there once for all of them.
 */
import { performance } from 'node:perf_hooks';
import type { HttpResponse } from './uws';
import { RESPONSE_STATE, type RequestContext } from './context';
import { endWithoutBody, statusLine, negotiate, errorBody, MIME, NGINX_MESSAGES, ERROR_KIND, type ErrorKind, type Mime } from './respond';
import { SERVER_TOKEN, writeDebugHeaders } from '../proxy/headers';

/** A gateway-generated answer: Kong's message, and who produces it in Kong. */
export interface GatewayAnswer {
  status: number;
  kind: ErrorKind;
  /** NGINX and KONG_ERROR: Kong's message, put in the Accept-negotiated template. KONG_EXIT: the body as sent ('' = none). */
  message: string;
  /** KONG_EXIT only: the body's Content-Type, or null to send none. */
  contentType: string | null;
  /** Close the connection after the answer (framing that cannot be trusted). */
  close: boolean;
  /** Extra headers, flat [name, value, …] (Upgrade for 426, Location for redirects). */
  headers: readonly string[] | null;
}

// res.cork() runs its callback synchronously: one shared answer and trampoline, no closure.
const pending: GatewayAnswer = { status: 0, kind: ERROR_KIND.NGINX, message: '', contentType: null, close: false, headers: null };
let target: RequestContext;
function corkedAnswer(): void {
  target.releaseBody();
  writeAnswer(target.res, target, pending);
  target.finish();
}

/** Writes an answer unless the response has begun (an upstream head already went out). */
function sendAnswer(ctx: RequestContext, status: number, kind: ErrorKind, message: string, contentType: string | null, close: boolean, headers: readonly string[] | null): void {
  if (ctx.state >= RESPONSE_STATE.HEAD_SENT) return;
  ctx.state = RESPONSE_STATE.ENDING;
  ctx.status = status;
  pending.status = status;
  pending.kind = kind;
  pending.message = message;
  pending.contentType = contentType;
  pending.close = close;
  pending.headers = headers;
  target = ctx;
  ctx.res.cork(corkedAnswer);
}

export function answerNoRoute(ctx: RequestContext): void {
  sendAnswer(ctx, 404, ERROR_KIND.KONG_ERROR, 'no Route matched with those values', null, false, null);
}

export function answerNoService(ctx: RequestContext): void {
  sendAnswer(ctx, 503, ERROR_KIND.KONG_ERROR, 'no Service found with those values', null, false, null);
}

export function answerNoPeer(ctx: RequestContext): void {
  sendAnswer(ctx, 503, ERROR_KIND.KONG_ERROR, 'failure to get a peer from the ring-balancer', null, false, null);
}

export function answerDnsFailure(ctx: RequestContext): void {
  sendAnswer(ctx, 503, ERROR_KIND.KONG_ERROR, 'name resolution failed', null, false, null);
}

/** Kong's nginx-level answer for an upstream failure: 502, 503 or 504. */
export function answerUpstreamFailure(ctx: RequestContext, status: number): void {
  sendAnswer(ctx, status, ERROR_KIND.NGINX, NGINX_MESSAGES[status], null, false, null);
}

/** 400 with the connection closed: the request's framing or path cannot be trusted. */
export function answerBadRequest(ctx: RequestContext): void {
  sendAnswer(ctx, 400, ERROR_KIND.NGINX, NGINX_MESSAGES[400], null, true, null);
}

/** Kong's answer to a head over large_client_header_buffers: nginx's 494, sent as 400, connection closed. */
export function answerHeaderTooLarge(ctx: RequestContext): void {
  sendAnswer(ctx, 400, ERROR_KIND.NGINX, NGINX_MESSAGES[494], null, true, null);
}

/** A request line over large_client_header_buffers' size: nginx's 414, connection closed. */
export function answerUriTooLong(ctx: RequestContext): void {
  sendAnswer(ctx, 414, ERROR_KIND.NGINX, NGINX_MESSAGES[414], null, true, null);
}

/** TRACE and CONNECT: nginx's 405 (Kong's `Method not allowed`); the connection stays open unless the request had a body. */
export function answerMethodNotAllowed(ctx: RequestContext): void {
  sendAnswer(ctx, 405, ERROR_KIND.NGINX, NGINX_MESSAGES[405], null, false, null);
}

/** 500 with the connection closed: a bug in request handling costs this request only. */
export function answerInternalError(ctx: RequestContext): void {
  sendAnswer(ctx, 500, ERROR_KIND.NGINX, NGINX_MESSAGES[500], null, true, null);
}

const HTTPS_REQUIRED_BODY = JSON.stringify({ message: 'Please use HTTPS protocol' });
const UPGRADE_HEADERS = ['Connection', 'Upgrade', 'Upgrade', 'TLS/1.2, HTTP/1.1'];

/** A route that only accepts https, hit over plain http: Kong's 426, or the configured redirect. */
export function answerHttpsRequired(ctx: RequestContext, code: number): void {
  if (code === 426) {
    sendAnswer(ctx, 426, ERROR_KIND.KONG_EXIT, HTTPS_REQUIRED_BODY, MIME.json, false, UPGRADE_HEADERS);
    return;
  }
  // Kong's Location has no port (TLS on 443, its own or a balancer's in front): kept without a TLS
  // listener; with one, its port is named (unless 443) so the redirect reaches a listener that exists.
  const port = ctx.runtime.tlsPort;
  const location = `https://${ctx.hostName()}${port === 0 || port === 443 ? '' : `:${port}`}${ctx.url}${ctx.search}`;
  sendAnswer(ctx, code, ERROR_KIND.KONG_EXIT, '', null, false, ['Location', location]);
}

/**
 * kong.response.exit(status, body, headers) for the plugin pipeline: any status, the body as
 * given ('' for none; the caller encodes JSON and names its type), extra headers flat
 * [name, value, …]. Ends the request: nothing is proxied after it.
 */
export function answerExit(ctx: RequestContext, status: number, body: string, contentType: string | null, headers: readonly string[] | null): void {
  sendAnswer(ctx, status, ERROR_KIND.KONG_EXIT, body, contentType, false, headers);
}

/**
 * kong.response.error for plugins: Kong's error template (`message` and `request_id`, negotiated
 * on Accept) with any status and extra headers.
 */
export function answerError(ctx: RequestContext, status: number, message: string, headers: readonly string[] | null): void {
  sendAnswer(ctx, status, ERROR_KIND.KONG_ERROR, message, null, false, headers);
}

/** A plugin threw or rejected: Kong's 500, through kong.response.error; the worker lives on. */
export function answerPluginFailure(ctx: RequestContext): void {
  sendAnswer(ctx, 500, ERROR_KIND.KONG_ERROR, NGINX_MESSAGES[500], null, false, null);
}

/**
 * Writes a gateway answer. MUST run inside res.cork(). The body type follows Kong: the Accept
 * header decides; for nginx-level errors without Accept, the request's Content-Type, then
 * error_default_type; unknown types give JSON. A HEAD request gets the head only.
 */
function writeAnswer(res: HttpResponse, ctx: RequestContext, answer: GatewayAnswer): void {
  const runtime = ctx.runtime;
  let mime: string | null;
  let body: string;
  if (answer.kind === ERROR_KIND.KONG_EXIT) {
    mime = answer.contentType;
    body = answer.message;
  } else {
    let accept = ctx.header('accept');
    if (accept === null && answer.kind === ERROR_KIND.NGINX) accept = ctx.header('content-type') ?? runtime.settings.errorDefaultType;
    mime = negotiate(accept ?? '', MIME.json);
    body = errorBody(mime as Mime, answer.message, ctx.requestId);
  }
  res.writeStatus(statusLine(answer.status));
  if (runtime.headers.serverTokens) res.writeHeader('Server', SERVER_TOKEN);
  if (runtime.headers.responseLatency) res.writeHeader('X-Kong-Response-Latency', String(Math.round(performance.now() - ctx.t0)));
  if (runtime.headers.requestId) res.writeHeader('X-Kong-Request-Id', ctx.requestId);
  if (ctx.debug) writeDebugHeaders(res, ctx);
  const pipeline = ctx.pipeline;
  if (pipeline !== null && pipeline.filtersHead) {
    // Kong runs header_filter on its own answers too (CORS headers on a 401): the filters see
    // the answer's own headers, Content-Type included, and may change them.
    const headers: string[] = mime === null ? [] : ['Content-Type', mime];
    if (answer.headers !== null) for (let i = 0; i < answer.headers.length; i++) headers.push(answer.headers[i]);
    const out = pipeline.filterAnswerHead(headers);
    for (let i = 0; i < out.length; i += 2) res.writeHeader(out[i], out[i + 1]);
  } else {
    if (mime !== null) res.writeHeader('Content-Type', mime);
    const extra = answer.headers;
    if (extra !== null) for (let i = 0; i < extra.length; i += 2) res.writeHeader(extra[i], extra[i + 1]);
  }
  const close = answer.close || ctx.closeAfter;
  if (ctx.method === 'HEAD') endWithoutBody(res, Buffer.byteLength(body), close);
  else res.end(body, close);
}
