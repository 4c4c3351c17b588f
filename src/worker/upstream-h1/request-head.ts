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

export const FRAMING = { NONE: 0, LENGTH: 1, CHUNKED: 2 } as const;

/** RFC 9110 tchar: ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA (1 = allowed), for codes below 128. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** A method or header name: one or more tchars. */
export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** A header value: HTAB, SP to `~`, and obs-text 0x80-0xff; no other control byte, nothing above 0xff. */
export function isHeaderValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 ? c !== 0x09 : c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/** A request target's characters: 0x21-0xff (no space, no control byte below it, nothing above 0xff). */
export function isPathText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0xff) return false;
  }
  return true;
}
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
