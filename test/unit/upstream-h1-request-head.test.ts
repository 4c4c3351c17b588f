import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buildRequestHead, lastHead, FRAMING } from '../../src/worker/upstream-h1/request-head';

test('the head: request line, headers in order, framing for the body', () => {
  assert.equal(buildRequestHead('GET', '/a?b=1', ['host', 'x', 'x-a', '1'], null), 'GET /a?b=1 HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n\r\n');
  assert.equal(lastHead.framing, FRAMING.NONE);
  assert.equal(buildRequestHead('POST', '/', ['host', 'x'], null), 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n');
  assert.equal(buildRequestHead('POST', '/', ['host', 'x'], Buffer.from('abc')), 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\n');
  assert.equal(lastHead.framing, FRAMING.LENGTH);
  assert.equal(buildRequestHead('PUT', '/', ['content-length', '3'], Buffer.from('abc')), 'PUT / HTTP/1.1\r\ncontent-length: 3\r\n\r\n');
  const stream = Readable.from([]);
  assert.equal(buildRequestHead('POST', '/', ['host', 'x'], stream), 'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n');
  assert.equal(lastHead.framing, FRAMING.CHUNKED);
  assert.equal(buildRequestHead('POST', '/', ['content-length', '10'], stream), 'POST / HTTP/1.1\r\ncontent-length: 10\r\n\r\n');
  assert.equal(lastHead.framing, FRAMING.LENGTH);
});

test('nothing that could split the head goes out: CR/LF in values, non-token names, spaces in the path', () => {
  assert.equal(buildRequestHead('GET', '/', ['x-a', 'v\r\nx-injected: 1'], null), null);
  assert.equal(buildRequestHead('GET', '/', ['x-a', 'v\nx'], null), null);
  assert.equal(buildRequestHead('GET', '/', ['x a', 'v'], null), null);
  assert.equal(buildRequestHead('GET', '/', ['x-a:', 'v'], null), null);
  assert.equal(buildRequestHead('GET', '/a b', [], null), null);
  assert.equal(buildRequestHead('GET', '/a\r\n', [], null), null);
  assert.equal(buildRequestHead('G ET', '/', [], null), null);
  assert.equal(buildRequestHead('POST', '/', ['content-length', '4'], Buffer.from('abc')), null);
  assert.equal(buildRequestHead('POST', '/', ['content-length', 'x'], Buffer.from('abc')), null);
  assert.match(lastHead.invalid, /content-length/);
});

