/**
 * The own HTTP/1.1 client's failures, each with the code classify() (proxy/upstream-errors.ts)
 * maps to its class. OS errors (ECONNREFUSED, ECONNRESET, ENOTFOUND …) pass through with their
 * own codes; these are the ones only the client can tell.
 */
export type H1ErrorCode =
  | 'HW_ERR_UPSTREAM_CONNECT_TIMEOUT' // the TCP handshake did not finish in connect_timeout: retryable on the next peer
  | 'HW_ERR_UPSTREAM_TIMEOUT' // read_timeout: no head, or no body bytes, for that long (504)
  | 'HW_ERR_UPSTREAM_RESET' // the connection closed before the response was complete (502)
  | 'HW_ERR_UPSTREAM_BAD_RESPONSE' // not HTTP/1.x, ambiguous framing, head over proxy_buffer_size (502, never retried)
  | 'HW_ERR_UPSTREAM_DISPATCH'; // the request cannot be sent at all (invalid header, closed pool): never retried

export interface H1Error extends Error {
  code: H1ErrorCode;
}

export function h1Error(code: H1ErrorCode, message: string): H1Error {
  return Object.assign(new Error(message), { code });
}

/** Reasons the response parser gives; each is a BAD_RESPONSE. */
export const BAD = {
  STATUS_LINE: 'invalid status line',
  HEADER_LINE: 'invalid header line',
  OBS_FOLD: 'obsolete line folding in a header',
  TOO_BIG: 'upstream sent too big header', // nginx's words for a head over proxy_buffer_size
  CONTENT_LENGTH: 'invalid Content-Length',
  LENGTHS_DIFFER: 'duplicate Content-Length headers with differing values',
  TE_AND_CL: 'Transfer-Encoding together with Content-Length',
  TRANSFER_ENCODING: 'invalid Transfer-Encoding',
  CHUNK_SIZE: 'invalid chunk size',
  CHUNK_END: 'chunk not followed by CRLF',
  TRAILERS: 'invalid or too large trailers',
  SWITCHING: 'unexpected 101 Switching Protocols',
  EXTRA_BYTES: 'bytes after the end of the response',
} as const;
