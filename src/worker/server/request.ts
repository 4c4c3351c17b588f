/**
 * Copies what the gateway needs out of the uWS request — which is stack-allocated and dead once
 * the handler returns — and judges the framing that uWS lets through (it forwards duplicate
 * Content-Length, duplicate Host, `Transfer-Encoding: gzip, chunked` and odd method tokens).
 */
import type { HttpRequest } from './uws';
import type { RequestContext } from './context';

/** RFC 9110 token characters. */
const METHOD_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// forEach's callback writes into the context being filled: one shared function, no closure.
let target: RequestContext;
let contentLengths = 0;
let hosts = 0;
let transferEncodings = 0;
let transferEncoding = '';
let contentLength = '';
function collect(name: string, value: string): void {
  // Consumer identity headers are the gateway's to set (auth plugins): a client never claims one.
  if (name.charCodeAt(0) === 120 /* x */ && isConsumerHeader(name)) return;
  target.headers.push(name, value);
  switch (name) {
    case 'content-length': contentLengths++; contentLength = value; break;
    case 'host': hosts++; target.host = value; break;
    case 'transfer-encoding': transferEncodings++; transferEncoding = value; break;
    case 'connection': target.connection = target.connection === null ? value : `${target.connection}, ${value}`; break;
  }
}

function isConsumerHeader(name: string): boolean {
  return name.startsWith('x-consumer-') || name === 'x-credential-identifier' || name === 'x-anonymous-consumer';
}

/**
 * Fills ctx from req. Returns the request body length (0 = none, -2 = chunked) or -1 when the
 * request is malformed and MUST be answered 400 with the connection closed.
 */
export function copyRequest(ctx: RequestContext, req: HttpRequest): number {
  ctx.method = req.getCaseSensitiveMethod();
  ctx.url = req.getUrl();
  // uWS returns undefined without a `?`, and '' for a bare trailing `?`, which Kong preserves.
  const q = req.getQuery() as string | undefined;
  ctx.search = q === undefined ? '' : `?${q}`;
  target = ctx;
  contentLengths = hosts = transferEncodings = 0;
  req.forEach(collect);
  if (!METHOD_TOKEN.test(ctx.method) || contentLengths > 1 || hosts > 1 || transferEncodings > 1) return -1;
  if (transferEncodings === 1) {
    // Only a single, exact `chunked` is framing both sides agree on (request smuggling otherwise).
    if (contentLengths !== 0 || transferEncoding.trim().toLowerCase() !== 'chunked') return -1;
    return -2;
  }
  if (contentLengths === 1) {
    if (!/^\d{1,15}$/.test(contentLength)) return -1;
    return Number(contentLength);
  }
  return 0;
}
