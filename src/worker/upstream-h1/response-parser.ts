/**
 * A strict HTTP/1.x response-head parser. It reads only what the proxy needs (status, the raw
 * header list, and the framing: Content-Length, Transfer-Encoding, Connection, Keep-Alive) and
 * refuses anything ambiguous rather than guessing, since a proxy that frames a response
 * differently from its client is the start of response smuggling:
 *   - the line ending is CRLF; a bare LF or CR, a control byte, obs-fold, a header name that is
 *     not a token, a status that is not three digits → bad response;
 *   - Content-Length with differing values (two headers, or a list), or together with
 *     Transfer-Encoding → bad response; chunked anywhere but last in Transfer-Encoding → bad;
 *   - a head larger than the limit (proxy_buffer_size) → bad response ("too big header").
 * Names and values are handed on as subarrays of the received bytes, as undici's rawHeaders.
 */
import { BAD } from './errors';
import { TCHAR } from '../../lib/http-chars';

export interface ResponseHead {
  status: number;
  /** [name, value, …] as received, values without surrounding whitespace. */
  rawHeaders: Buffer[];
  /** The declared length, or -1 when there is no Content-Length. */
  contentLength: number;
  /** Transfer-Encoding ends in chunked. */
  chunked: boolean;
  /** Transfer-Encoding present without chunked last: the body runs until the connection closes. */
  otherCoding: boolean;
  /** The connection may carry another request after this response (HTTP/1.1 without `close`). */
  keepAlive: boolean;
  /** The upstream's `Keep-Alive: timeout=N` hint in ms, or -1. */
  keepAliveHintMs: number;
  /** Bytes of the head, blank line included. */
  length: number;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;

/** What a field value or reason phrase may hold: HTAB, SP, VCHAR, obs-text. */
const VCHAR = new Uint8Array(256);
for (let c = 0; c < 256; c++) VCHAR[c] = c === HT || (c >= 0x20 && c !== 0x7f) ? 1 : 0;

const H_OTHER = 0;
const H_CONTENT_LENGTH = 1;
const H_TRANSFER_ENCODING = 2;
const H_CONNECTION = 3;
const H_KEEP_ALIVE = 4;

const CONTENT_LENGTH = Buffer.from('content-length');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding');
const CONNECTION = Buffer.from('connection');
const KEEP_ALIVE = Buffer.from('keep-alive');
const CHUNKED = Buffer.from('chunked');
const CLOSE = Buffer.from('close');
const TIMEOUT_EQ = Buffer.from('timeout=');

/** buf[start, start + lower.length) equals `lower`, ASCII letters compared case-insensitively. */
function sameToken(buf: Buffer, start: number, end: number, lower: Buffer): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((buf[start + i] | 0x20) !== lower[i]) return false;
  return true;
}

function headerId(buf: Buffer, start: number, end: number): number {
  switch (end - start) {
    case 14: return sameToken(buf, start, end, CONTENT_LENGTH) ? H_CONTENT_LENGTH : H_OTHER;
    case 17: return sameToken(buf, start, end, TRANSFER_ENCODING) ? H_TRANSFER_ENCODING : H_OTHER;
    case 10:
      if (sameToken(buf, start, end, CONNECTION)) return H_CONNECTION;
      return sameToken(buf, start, end, KEEP_ALIVE) ? H_KEEP_ALIVE : H_OTHER;
    default: return H_OTHER;
  }
}

/** A Content-Length value (`N` or a list `N, N`) as a number; -1 when invalid, -2 when the list differs. */
export function parseContentLength(buf: Buffer, start: number, end: number): number {
  let value = -1;
  let n = -1;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 44 : buf[i];
    if (c >= 48 && c <= 57) {
      n = n < 0 ? c - 48 : n * 10 + (c - 48);
      if (n > Number.MAX_SAFE_INTEGER) return -1;
    } else if (c === 44) { // ','
      if (n < 0) return -1;
      if (value >= 0 && value !== n) return -2;
      value = n;
      n = -1;
      // Whitespace after a comma only.
      while (i + 1 < end && (buf[i + 1] === SP || buf[i + 1] === HT)) i++;
    } else if ((c === SP || c === HT) && n >= 0) {
      // Whitespace before a comma only.
      while (i + 1 < end && (buf[i + 1] === SP || buf[i + 1] === HT)) i++;
      if (i + 1 < end && buf[i + 1] !== 44) return -1;
    } else {
      return -1;
    }
  }
  return value;
}

/** 1: chunked last; 0: codings without chunked; -1: chunked not last (invalid). */
function transferCoding(buf: Buffer, start: number, end: number): number {
  if (sameToken(buf, start, end, CHUNKED)) return 1;
  const tokens = buf.toString('latin1', start, end).split(',');
  let result = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i].trim().toLowerCase();
    if (t === '') return -1;
    if (result === 1) return -1; // something after chunked
    if (t === 'chunked') result = 1;
  }
  return result;
}

function keepAliveHint(buf: Buffer, start: number, end: number): number {
  let s = -1;
  if (end - start > TIMEOUT_EQ.length && sameToken(buf, start, start + TIMEOUT_EQ.length, TIMEOUT_EQ)) s = start + TIMEOUT_EQ.length;
  else {
    const m = /(?:^|[\s,])timeout\s*=\s*(\d+)/i.exec(buf.toString('latin1', start, end));
    return m === null ? -1 : Number(m[1]) * 1000;
  }
  let n = 0;
  for (let i = s; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  return n * 1000;
}

/** The value lists `close` (any case, among other tokens). */
function listsClose(buf: Buffer, start: number, end: number): boolean {
  if (sameToken(buf, start, end, CLOSE)) return true;
  if (end - start <= 5) return false;
  return /(?:^|,)\s*close\s*(?:,|$)/i.test(buf.toString('latin1', start, end));
}

function listsKeepAlive(buf: Buffer, start: number, end: number): boolean {
  if (sameToken(buf, start, end, KEEP_ALIVE)) return true;
  return /(?:^|,)\s*keep-alive\s*(?:,|$)/i.test(buf.toString('latin1', start, end));
}

/**
 * Parses the head at the start of `buf`. Returns null when it is not complete yet (and still fits
 * the limit), a BAD reason string when it is invalid, else the head.
 */
export function parseResponseHead(buf: Buffer, limit: number): ResponseHead | string | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return buf.length >= limit ? BAD.TOO_BIG : null;
  const headLength = end + 4;
  if (headLength > limit) return BAD.TOO_BIG;
  // Status line: HTTP/1.x SP 3DIGIT [SP reason] CRLF
  if (buf.length < 12 || buf[0] !== 72 || buf[1] !== 84 || buf[2] !== 84 || buf[3] !== 80 || buf[4] !== 47 || buf[5] !== 49 || buf[6] !== 46) return BAD.STATUS_LINE;
  const minor = buf[7];
  if ((minor !== 48 && minor !== 49) || buf[8] !== SP) return BAD.STATUS_LINE;
  const d0 = buf[9] - 48;
  const d1 = buf[10] - 48;
  const d2 = buf[11] - 48;
  if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return BAD.STATUS_LINE;
  const status = d0 * 100 + d1 * 10 + d2;
  let pos = 12;
  if (buf[pos] === SP) {
    pos++;
    while (buf[pos] !== CR) {
      if (VCHAR[buf[pos]] === 0) return BAD.STATUS_LINE;
      pos++;
    }
  }
  if (buf[pos] !== CR || buf[pos + 1] !== LF) return BAD.STATUS_LINE;
  pos += 2;

  const raw: Buffer[] = [];
  let contentLength = -1;
  let coding = -2; // -2: no Transfer-Encoding
  let close = minor === 48; // HTTP/1.0 closes unless it says keep-alive
  let keepAliveHintMs = -1;
  while (pos < headLength - 2) {
    const c0 = buf[pos];
    if (c0 === SP || c0 === HT) return BAD.OBS_FOLD;
    const nameStart = pos;
    while (TCHAR[buf[pos]] === 1) pos++;
    if (pos === nameStart || buf[pos] !== COLON) return BAD.HEADER_LINE;
    const nameEnd = pos;
    pos++;
    while (buf[pos] === SP || buf[pos] === HT) pos++;
    const valueStart = pos;
    while (buf[pos] !== CR) {
      if (VCHAR[buf[pos]] === 0) return BAD.HEADER_LINE;
      pos++;
    }
    if (buf[pos + 1] !== LF) return BAD.HEADER_LINE;
    let valueEnd = pos;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HT)) valueEnd--;
    pos += 2;
    switch (headerId(buf, nameStart, nameEnd)) {
      case H_CONTENT_LENGTH: {
        const n = parseContentLength(buf, valueStart, valueEnd);
        if (n === -2 || (n >= 0 && contentLength >= 0 && n !== contentLength)) return BAD.LENGTHS_DIFFER;
        if (n < 0) return BAD.CONTENT_LENGTH;
        contentLength = n;
        break;
      }
      case H_TRANSFER_ENCODING: {
        if (coding === 1) return BAD.TRANSFER_ENCODING; // another coding after chunked
        const t = transferCoding(buf, valueStart, valueEnd);
        if (t < 0) return BAD.TRANSFER_ENCODING;
        coding = t;
        break;
      }
      case H_CONNECTION:
        if (listsClose(buf, valueStart, valueEnd)) close = true;
        else if (minor === 48 && listsKeepAlive(buf, valueStart, valueEnd)) close = false;
        break;
      case H_KEEP_ALIVE:
        keepAliveHintMs = keepAliveHint(buf, valueStart, valueEnd);
        break;
    }
    raw.push(buf.subarray(nameStart, nameEnd), buf.subarray(valueStart, valueEnd));
  }
  if (coding !== -2 && contentLength >= 0) return BAD.TE_AND_CL;
  return {
    status,
    rawHeaders: raw,
    contentLength,
    chunked: coding === 1,
    otherCoding: coding === 0,
    keepAlive: !close,
    keepAliveHintMs,
    length: headLength,
  };
}
