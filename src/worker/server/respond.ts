/**
 * What gateway-generated responses say: status lines, Kong's exact bodies (kong/tools/http.lua
 * templates) and content negotiation (Accept, highest q wins). answers.ts writes them.
 */
import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from './uws';

export const MIME = {
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  plain: 'text/plain; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
} as const;
export type Mime = (typeof MIME)[keyof typeof MIME];

/** `HTTP/1.1 <line>` for writeStatus, precomputed: no string building per response. */
export const STATUS_LINES: string[] = [];
for (const [code, text] of Object.entries(STATUS_CODES)) STATUS_LINES[Number(code)] = `${code} ${text}`;
export function statusLine(status: number): string {
  return STATUS_LINES[status] ?? `${status} Unknown`;
}

/**
 * Ends a response that has no body (HEAD, 204, 304), reporting `length` (-1: none). MUST run
 * corked. uWS 20.30's endWithoutBody(length) leaves the response unfinished: the keep-alive
 * connection then answers nothing more. So the length goes out as a header and the response ends
 * with a plain endWithoutBody(); closing after it is only possible through end('', true), which
 * reports a zero length, acceptable for the rare HEAD whose framing was bad.
 */
export function endWithoutBody(res: HttpResponse, length: number, close: boolean): void {
  if (close) {
    res.end('', true);
    return;
  }
  if (length >= 0) res.writeHeader('Content-Length', String(length));
  res.endWithoutBody();
}

/** Kong's fixed messages for nginx-level errors (kong/error_handlers.lua). */
export const NGINX_MESSAGES: Record<number, string> = {
  400: 'Bad request',
  404: 'Not found',
  405: 'Method not allowed',
  408: 'Request timeout',
  411: 'Length required',
  412: 'Precondition failed',
  413: 'Payload too large',
  414: 'URI too long',
  417: 'Expectation failed',
  494: 'Request header or cookie too large',
  500: 'An unexpected error occurred',
  502: 'An invalid response was received from the upstream server',
  503: 'The upstream server is currently unavailable',
  504: 'The upstream server is timing out',
};

const TYPE_BY_MEDIA: Record<string, Mime> = {
  'application/json': MIME.json,
  'text/html': MIME.html,
  'text/plain': MIME.plain,
  'application/xml': MIME.xml,
  'application/*': MIME.json,
  'text/*': MIME.plain,
  '*/*': MIME.json,
};

/** Kong's get_response_type: the Accept entry with the highest q that names a known type. */
export function negotiate(accept: string, fallback: Mime): Mime {
  if (accept === '') return fallback;
  let best: Mime = fallback;
  let bestQ = 0;
  for (const part of accept.split(',')) {
    const semi = part.indexOf(';');
    const media = (semi === -1 ? part : part.slice(0, semi)).trim().toLowerCase();
    let q = 1;
    if (semi !== -1) {
      const m = /;\s*q\s*=\s*([0-9.]+)/.exec(part);
      if (m) q = Number(m[1]);
    }
    const t = TYPE_BY_MEDIA[media];
    if (t !== undefined && q > bestQ) {
      bestQ = q;
      best = t;
    }
  }
  return best;
}

export function errorBody(mime: Mime, message: string, requestId: string): string {
  switch (mime) {
    case MIME.json:
      return `{\n  "message":"${jsonEscape(message)}",\n  "request_id":"${requestId}"\n}`;
    case MIME.html:
      return `<!doctype html>\n<html>\n  <head>\n    <meta charset="utf-8">\n    <title>Error</title>\n  </head>\n  <body>\n    <h1>Error</h1>\n    <p>${htmlEscape(message)}.</p>\n    <p>request_id: ${requestId}</p>\n  </body>\n</html>\n`;
    case MIME.xml:
      return `<?xml version="1.0" encoding="UTF-8"?>\n<error>\n  <message>${htmlEscape(message)}</message>\n  <requestid>${requestId}</requestid>\n</error>\n`;
    default:
      return `${message}\nrequest_id: ${requestId}\n`;
  }
}

function jsonEscape(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}
function htmlEscape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

/**
 * Who produces a gateway answer in Kong, which decides its body:
 *   NGINX       nginx-level errors (kong/error_handlers.lua): 400, 502/503/504 …
 *   KONG_ERROR  kong.response.error: 404 no route, 503 no service / no peer — template with request_id
 *   KONG_EXIT   kong.response.exit: 426 https-only, plugin exits — the body as given, no template
 */
export const ERROR_KIND = { NGINX: 0, KONG_ERROR: 1, KONG_EXIT: 2 } as const;
export type ErrorKind = (typeof ERROR_KIND)[keyof typeof ERROR_KIND];
