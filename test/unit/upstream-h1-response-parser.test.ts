import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResponseHead, parseContentLength, type ResponseHead } from '../../src/worker/upstream-h1/response-parser';
import { BAD } from '../../src/worker/upstream-h1/errors';

const LIMIT = 16 * 1024;
const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const parse = (s: string, limit = LIMIT): ResponseHead | string | null => parseResponseHead(b(s), limit);
function head(s: string): ResponseHead {
  const h = parse(s);
  assert.ok(h !== null && typeof h === 'object', `expected a head, got ${String(h)}`);
  return h;
}
const names = (h: ResponseHead): string[] => h.rawHeaders.map((x) => x.toString('latin1'));

test('a plain head: status, raw headers as received (values trimmed), framing, length', () => {
  const text = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Odd:  \xe9t\xe9 \t\r\n\r\nhello';
  const h = head(text);
  assert.equal(h.status, 200);
  assert.deepEqual(names(h), ['Content-Type', 'text/plain', 'Content-Length', '5', 'X-Odd', '\xe9t\xe9']);
  assert.equal(h.contentLength, 5);
  assert.equal(h.chunked, false);
  assert.equal(h.keepAlive, true);
  assert.equal(h.length, text.length - 5);
});

test('an incomplete head waits; one past the limit is too big, complete or not', () => {
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n'), null);
  assert.equal(parse('HTTP/1.1 200 OK\r\n'), null);
  const big = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(200)}\r\n\r\n`;
  assert.equal(parse(big, 100), BAD.TOO_BIG);
  assert.equal(parse(big.slice(0, 150), 100), BAD.TOO_BIG);
  assert.equal(typeof parse(big, big.length), 'object');
});

test('status lines: HTTP/1.0 and 1.1, three digits, reason optional', () => {
  assert.equal(head('HTTP/1.1 204 \r\n\r\n').status, 204);
  assert.equal(head('HTTP/1.1 404\r\n\r\n').status, 404);
  assert.equal(head('HTTP/1.0 200 OK\r\n\r\n').keepAlive, false);
  assert.equal(head('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n').keepAlive, true);
  for (const bad of ['HTTP/2.0 200 OK\r\n\r\n', 'HTTP/1.1 20 OK\r\n\r\n', 'HTTP/1.1 2000 OK\r\n\r\n', 'HTTP/1.1 099 x\r\n\r\n',
    'http/1.1 200 OK\r\n\r\n', 'HTTP/1.1  200 OK\r\n\r\n', 'HTTP/1.1 200 O\x01K\r\n\r\n', 'SSH-2.0-OpenSSH_9.2\r\n\r\n', 'HTTP/1.1 200 OK\n\r\n\r\n']) {
    assert.equal(parse(bad), BAD.STATUS_LINE, JSON.stringify(bad));
  }
});

test('header lines: obs-fold, names that are not tokens, bare LF or CR, control bytes are refused', () => {
  assert.equal(parse('HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n'), BAD.OBS_FOLD);
  assert.equal(parse('HTTP/1.1 200 OK\r\nX-A: 1\r\n\tfolded\r\n\r\n'), BAD.OBS_FOLD);
  assert.equal(parse('HTTP/1.1 200 OK\r\nX A: 1\r\n\r\n'), BAD.HEADER_LINE);
  assert.equal(parse('HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n'), BAD.HEADER_LINE);
  assert.equal(parse('HTTP/1.1 200 OK\r\n: 1\r\n\r\n'), BAD.HEADER_LINE);
  assert.equal(parse('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n'), BAD.HEADER_LINE);
  assert.equal(parse('HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2\r\n\r\n'), BAD.HEADER_LINE);
  assert.equal(parse('HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\n\r\n'), BAD.HEADER_LINE);
  assert.equal(parse('HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n'), BAD.HEADER_LINE);
  assert.equal(parse('HTTP/1.1 200 OK\r\nX-A: a\x7fb\r\n\r\n'), BAD.HEADER_LINE);
  assert.equal(parse('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n'), BAD.STATUS_LINE);
});

test('Content-Length: equal duplicates are one length; differing ones, lists that differ, or non-digits are refused', () => {
  assert.equal(head('HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n').contentLength, 5);
  assert.equal(head('HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n').contentLength, 5);
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n'), BAD.LENGTHS_DIFFER);
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n'), BAD.LENGTHS_DIFFER);
  for (const v of ['', '-1', '+5', '5a', '0x10', '5 6', '1,', ',1', '99999999999999999999']) {
    assert.equal(parse(`HTTP/1.1 200 OK\r\nContent-Length: ${v}\r\n\r\n`), BAD.CONTENT_LENGTH, JSON.stringify(v));
  }
  assert.equal(parseContentLength(b('0'), 0, 1), 0);
  assert.equal(parseContentLength(b('12 , 12'), 0, 7), 12);
});

test('Transfer-Encoding: chunked last frames the body; with Content-Length, or chunked not last, it is refused', () => {
  assert.equal(head('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n').chunked, true);
  assert.equal(head('HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n').chunked, true);
  assert.equal(head('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n').chunked, true);
  assert.equal(head('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n').chunked, true);
  const gz = head('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n');
  assert.equal(gz.chunked, false);
  assert.equal(gz.otherCoding, true);
  assert.equal(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n'), BAD.TE_AND_CL);
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n'), BAD.TE_AND_CL);
  assert.equal(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'), BAD.TRANSFER_ENCODING);
  assert.equal(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n'), BAD.TRANSFER_ENCODING);
  assert.equal(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n'), BAD.TRANSFER_ENCODING);
  assert.equal(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: ,chunked\r\n\r\n'), BAD.TRANSFER_ENCODING);
});

test('Connection and Keep-Alive: close ends reuse, timeout= is read as a hint in ms', () => {
  assert.equal(head('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n').keepAlive, false);
  assert.equal(head('HTTP/1.1 200 OK\r\nConnection: Upgrade, Close\r\n\r\n').keepAlive, false);
  assert.equal(head('HTTP/1.1 200 OK\r\nConnection: closed\r\n\r\n').keepAlive, true);
  assert.equal(head('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\n\r\n').keepAliveHintMs, 5000);
  assert.equal(head('HTTP/1.1 200 OK\r\nKeep-Alive: max=100, timeout=7\r\n\r\n').keepAliveHintMs, 7000);
  assert.equal(head('HTTP/1.1 200 OK\r\n\r\n').keepAliveHintMs, -1);
});
