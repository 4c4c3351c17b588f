import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerKind, parseLength, KIND } from '../../../src/worker/proxy/raw-headers';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

test('response header names are classified case-insensitively, by exact name only', () => {
  assert.equal(headerKind(b('Content-Length')), KIND.CONTENT_LENGTH);
  assert.equal(headerKind(b('CONTENT-LENGTH')), KIND.CONTENT_LENGTH);
  assert.equal(headerKind(b('connection')), KIND.CONNECTION);
  assert.equal(headerKind(b('Keep-Alive')), KIND.SKIP);
  assert.equal(headerKind(b('Transfer-Encoding')), KIND.SKIP);
  assert.equal(headerKind(b('Proxy-Connection')), KIND.SKIP);
  assert.equal(headerKind(b('Date')), KIND.SKIP);
  assert.equal(headerKind(b('TE')), KIND.SKIP);
  assert.equal(headerKind(b('Trailer')), KIND.SKIP);
  assert.equal(headerKind(b('Upgrade')), KIND.SKIP);
  assert.equal(headerKind(b('Server')), KIND.SERVER);
  assert.equal(headerKind(b('VIA')), KIND.VIA);
  // same lengths, other names
  assert.equal(headerKind(b('Content-Type')), KIND.PASS);
  assert.equal(headerKind(b('Content-Lengtx')), KIND.PASS);
  assert.equal(headerKind(b('Set-Cookie')), KIND.PASS);
  assert.equal(headerKind(b('Trailers')), KIND.PASS);
  assert.equal(headerKind(b('x-te')), KIND.PASS);
  assert.equal(headerKind(b('Vary')), KIND.PASS);
});

test('Content-Length values parse as plain decimals only', () => {
  assert.equal(parseLength(b('0')), 0);
  assert.equal(parseLength(b('1073741824')), 1073741824);
  assert.equal(parseLength(b('')), -1);
  assert.equal(parseLength(b('12a')), -1);
  assert.equal(parseLength(b('-1')), -1);
  assert.equal(parseLength(b(' 1')), -1);
  assert.equal(parseLength(b('1234567890123456')), -1);
});
