/**
 * undici failures → Kong's proxy statuses and retry classes.
 *   connect refused / reset / bad response → 502; connect, header or body timeout → 504;
 *   name resolution → 503 `name resolution failed` (Kong's balancer message);
 *   a request undici refuses to send (bad argument, closed pool) → 502, never retried.
 * "connect" errors never sent a byte, so nginx retries them for any method; other failures are
 * retried only for idempotent requests whose body was not sent (nginx proxy_next_upstream).
 */
import type { ErrorCode } from '../../lib/errors';

export const FAILURE = { CONNECT: 0, TIMEOUT: 1, RESET: 2, DNS: 3, BAD_RESPONSE: 4, INTERNAL: 5 } as const;
export type Failure = (typeof FAILURE)[keyof typeof FAILURE];

/** The stable error code logged for each failure class (lib/errors.ts). */
export const FAILURE_CODE: readonly ErrorCode[] = [
  'HW_ERR_UPSTREAM_CONNECT', 'HW_ERR_UPSTREAM_TIMEOUT', 'HW_ERR_UPSTREAM_RESET',
  'HW_ERR_UPSTREAM_DNS', 'HW_ERR_UPSTREAM_BAD_RESPONSE', 'HW_ERR_UPSTREAM_DISPATCH',
];

export function classify(err: Error & { code?: string }): Failure {
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return FAILURE.CONNECT;
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'HW_ERR_UPSTREAM_CONNECT_TIMEOUT': // the own client (worker/upstream-h1/errors.ts)
      return FAILURE.TIMEOUT;
    case 'HW_ERR_UPSTREAM_TIMEOUT': // write_timeout (stream-request.ts)
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return FAILURE.TIMEOUT;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return FAILURE.DNS;
    // The request could not be sent at all (bad argument, pool closed by a reload): a new try on
    // the same pool would fail the same way.
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
    case 'HW_ERR_UPSTREAM_DISPATCH':
      return FAILURE.INTERNAL;
    case 'HW_ERR_UPSTREAM_BAD_RESPONSE':
      return FAILURE.BAD_RESPONSE;
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_HEADERS_OVERFLOW': // over proxy_buffer_size: nginx's "upstream sent too big header"
    case 'UND_ERR_INFO':
      return FAILURE.BAD_RESPONSE;
    default:
      // undici 7's llhttp errors carry no code (its table maps names to numbers, not back), only
      // the class name: a response that is not HTTP must not be retried as if it were a reset.
      if (err.name === 'HTTPParserError' || (err.code !== undefined && err.code.startsWith('HPE_'))) return FAILURE.BAD_RESPONSE;
      return FAILURE.RESET;
  }
}

export function statusFor(f: Failure): number {
  return f === FAILURE.TIMEOUT ? 504 : f === FAILURE.DNS ? 503 : 502;
}

/** Only connect-phase failures are safe to retry whatever the method. */
export function isConnectPhase(err: Error & { code?: string }, f: Failure): boolean {
  return f === FAILURE.CONNECT || err.code === 'UND_ERR_CONNECT_TIMEOUT' || err.code === 'HW_ERR_UPSTREAM_CONNECT_TIMEOUT';
}

export const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
