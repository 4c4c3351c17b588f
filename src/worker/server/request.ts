/**
 * Copies what the gateway needs out of the uWS request — which is stack-allocated and dead once
 * the handler returns — and judges it in the same walk over the headers: the framing uWS lets
 * through (duplicate Content-Length, duplicate Host, `Transfer-Encoding: gzip, chunked`, odd
 * method tokens), control bytes in header values, the header size limits of nginx's
 * `large_client_header_buffers`, the Host value, `Connection: close`, TRACE and CONNECT.
 */
import type { HttpRequest } from './uws';
import type { RequestContext } from './context';
import { DEFAULT_SETTINGS } from '../../shared/settings';
import { requestHeaderKind, REQUEST_HEADER, HOP_BITS } from '../proxy/headers';
// A method must be a token; no header value may hold a control other than HTAB, or DEL (RFC 9110 §5.5).
import { hasControlChar, isToken } from '../../lib/http-chars';

/** copyRequest's verdicts, below the body lengths (0 = none, >0 = Content-Length). */
export const REQUEST = {
  CHUNKED: -2,
  /** Malformed: 400, connection closed. */
  BAD: -1,
  /** A header line over `size` or a head over `count * size`: Kong's 400 `Request header or cookie too large`. */
  HEADER_TOO_LARGE: -3,
  /** A request line over `size`: 414. */
  URI_TOO_LONG: -4,
  /** TRACE and CONNECT: nginx answers 405 and never proxies them. */
  NOT_ALLOWED: -5,
} as const;

/** `HTTP/1.1\r\n` and the two spaces of a request line. */
const REQUEST_LINE_EXTRA = 12;
/** `: ` and CRLF around a header line. */
const HEADER_LINE_EXTRA = 4;

// forEach's callback writes into the context being filled: one shared function, no closure.
let target: RequestContext;
let contentLengths = 0;
let hosts = 0;
let transferEncodings = 0;
let transferEncoding = '';
let contentLength = '';
let control = false;
let headBytes = 0;
let longestLine = 0;
let uwsCloses = false;
function collect(name: string, value: string): void {
  const line = name.length + value.length + HEADER_LINE_EXTRA;
  headBytes += line;
  if (line > longestLine) longestLine = line;
  if (hasControlChar(value)) control = true;
  const kind = requestHeaderKind(name);
  const headers = target.headers;
  if (kind === REQUEST_HEADER.PASS) {
    headers.push(name, value);
    return;
  }
  // Consumer identity headers are the gateway's to set (auth plugins): a client never claims one.
  if (kind === REQUEST_HEADER.CONSUMER) return;
  // upstreamHeaders skips classifying the pairs not marked here.
  const pair = headers.length >> 1;
  if (kind >= REQUEST_HEADER.HOP && pair < HOP_BITS) target.hopPairs |= 1 << pair;
  headers.push(name, value);
  switch (kind) {
    case REQUEST_HEADER.CONTENT_LENGTH: contentLengths++; contentLength = value; break;
    case REQUEST_HEADER.HOST: hosts++; target.host = value; break;
    case REQUEST_HEADER.TRANSFER_ENCODING: transferEncodings++; transferEncoding = value; break;
    case REQUEST_HEADER.CONNECTION:
      // uWS closes by itself when the first Connection value has 5 bytes (`close`); any other
      // list naming `close` is the gateway's to honour.
      if (target.connection === null) {
        target.connection = value;
        uwsCloses = value.length === 5;
      } else {
        target.connection = `${target.connection}, ${value}`;
      }
      if (!uwsCloses && !target.closeAfter && hasCloseToken(value)) target.closeAfter = true;
      break;
  }
}

/** `close` as one element of a Connection list, any case (RFC 9112 §9.6). */
function hasCloseToken(v: string): boolean {
  const n = v.length;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && v.charCodeAt(i) !== 44 /* , */) continue;
    let a = start;
    let b = i;
    while (a < b && (v.charCodeAt(a) === 32 || v.charCodeAt(a) === 9)) a++;
    while (b > a && (v.charCodeAt(b - 1) === 32 || v.charCodeAt(b - 1) === 9)) b--;
    if (b - a === 5 && (v.charCodeAt(a) | 32) === 99 && (v.charCodeAt(a + 1) | 32) === 108 && (v.charCodeAt(a + 2) | 32) === 111 &&
      (v.charCodeAt(a + 3) | 32) === 115 && (v.charCodeAt(a + 4) | 32) === 101) return true;
    start = i + 1;
  }
  return false;
}

/**
 * Host as nginx validates it (ngx_http_validate_host): not empty, no `/`, no `..`, no control
 * bytes or spaces; stricter than nginx, the other bytes RFC 3986 never puts in a host (`,` among
 * them: `a, b` is two Host lines joined by a proxy). Bytes >= 0x80 pass, as with nginx.
 */
const HOST_BYTE = new Uint8Array(128);
for (let c = 0x21; c < 0x7f; c++) HOST_BYTE[c] = 1;
for (const ch of '/\\,"<>@?#^`{|}') HOST_BYTE[ch.charCodeAt(0)] = 0;
export function isValidHost(h: string): boolean {
  const n = h.length;
  if (n === 0) return false;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const c = h.charCodeAt(i);
    if (c < 128 && HOST_BYTE[c] === 0) return false;
    if (c === 46 && prev === 46) return false;
    prev = c;
  }
  return true;
}

/**
 * Fills ctx from req. Returns the request body length (0 = none, REQUEST.CHUNKED) or one of the
 * REQUEST verdicts: the request MUST then be answered that way and never forwarded.
 */
export function copyRequest(ctx: RequestContext, req: HttpRequest, limits = DEFAULT_SETTINGS.largeClientHeaderBuffers): number {
  const method = req.getCaseSensitiveMethod();
  ctx.method = method;
  ctx.url = req.getUrl();
  // uWS returns undefined without a `?`, and '' for a bare trailing `?`, which Kong preserves.
  const q = req.getQuery() as string | undefined;
  ctx.search = q === undefined ? '' : `?${q}`;
  target = ctx;
  contentLengths = hosts = transferEncodings = 0;
  control = false;
  uwsCloses = false;
  const requestLine = method.length + ctx.url.length + ctx.search.length + REQUEST_LINE_EXTRA;
  headBytes = requestLine;
  longestLine = 0;
  req.forEach(collect);
  // nginx's order: the request line, then the header buffers, then what the headers say.
  if (requestLine > limits.size) return REQUEST.URI_TOO_LONG;
  if (longestLine > limits.size || headBytes > limits.count * limits.size) return REQUEST.HEADER_TOO_LARGE;
  if (control || !isToken(method) || contentLengths > 1 || hosts > 1 || transferEncodings > 1) return REQUEST.BAD;
  if (hosts === 1 && !isValidHost(ctx.host)) return REQUEST.BAD;
  let length = 0;
  if (transferEncodings === 1) {
    // Only a single, exact `chunked` is framing both sides agree on (request smuggling otherwise).
    if (contentLengths !== 0 || transferEncoding.trim().toLowerCase() !== 'chunked') return REQUEST.BAD;
    length = REQUEST.CHUNKED;
  } else if (contentLengths === 1) {
    if (!/^\d{1,15}$/.test(contentLength)) return REQUEST.BAD;
    length = Number(contentLength);
  }
  if (method === 'TRACE' || method === 'CONNECT') {
    // The body is never read: the connection cannot carry another request after the answer.
    if (length !== 0) ctx.closeAfter = true;
    return REQUEST.NOT_ALLOWED;
  }
  return length;
}
