/**
 * The request head as one latin1 string, written to the socket in one write: request line, the
 * gateway's header list as given (names already lowercased and filtered by proxy/headers.ts),
 * then the framing the body needs (Content-Length for a Buffer, chunked for a stream of unknown
 * length, `content-length: 0` for a bodiless POST/PUT/PATCH, as undici sends).
 *
 * Every name must be a token and no value or path may hold CR, LF or other control bytes: a
 * plugin's header must never split the head (request smuggling). A violation is a dispatch error.
 */
import type { Readable } from 'node:stream';
import type { ChunkSource } from './types';
import { isToken, isHeaderValue, isPathText } from '../../lib/http-chars';

export const FRAMING = { NONE: 0, LENGTH: 1, CHUNKED: 2 } as const;

const EXPECTS_BODY: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/** What the last buildRequestHead() decided (one module slot instead of a result object per request). */
export const lastHead = {
  framing: FRAMING.NONE as number,
  /** The invalid part when buildRequestHead() returned null. */
  invalid: '',
};

function isContentLength(name: string): boolean {
  return name.length === 14 && (name === 'content-length' || name.toLowerCase() === 'content-length');
}

/** The head, or null when a part of it is invalid (lastHead.invalid says which). */
export function buildRequestHead(method: string, path: string, headers: readonly string[], body: Buffer | Readable | ChunkSource | null): string | null {
  if (!isToken(method)) return invalid('method');
  if (path.length === 0 || !isPathText(path)) return invalid('path');
  let head = `${method} ${path} HTTP/1.1\r\n`;
  let declared = -1;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    if (!isToken(name)) return invalid(`header name ${JSON.stringify(name)}`);
    if (!isHeaderValue(value)) return invalid(`value of header ${name}`);
    if (isContentLength(name)) {
      declared = Number(value);
      if (!Number.isSafeInteger(declared) || declared < 0 || value.length === 0) return invalid('content-length');
    }
    head += `${name}: ${value}\r\n`;
  }
  let framing: number = FRAMING.NONE;
  if (body === null) {
    if (declared < 0 && EXPECTS_BODY.has(method)) head += 'content-length: 0\r\n';
    else if (declared > 0) return invalid('content-length without a body');
  } else if (Buffer.isBuffer(body)) {
    if (declared >= 0 && declared !== body.length) return invalid('content-length other than the body\'s length');
    if (declared < 0 && (body.length > 0 || EXPECTS_BODY.has(method))) head += `content-length: ${body.length}\r\n`;
    framing = body.length > 0 ? FRAMING.LENGTH : FRAMING.NONE;
  } else if (declared >= 0) {
    framing = declared > 0 ? FRAMING.LENGTH : FRAMING.NONE;
  } else {
    head += 'transfer-encoding: chunked\r\n';
    framing = FRAMING.CHUNKED;
  }
  lastHead.framing = framing;
  return `${head}\r\n`;
}

function invalid(what: string): null {
  lastHead.invalid = what;
  return null;
}
