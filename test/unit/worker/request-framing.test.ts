// copyRequest judges what uWS lets through: duplicate Content-Length/Host, Transfer-Encoding
// other than one exact `chunked`, TE with CL, and bad method tokens are rejected (-1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyRequest } from '../../../src/worker/server/request';
import type { HttpRequest } from '../../../src/worker/server/uws';
import type { RequestContext } from '../../../src/worker/server/context';

function fakeReq(method: string, headers: [string, string][], url = '/p', query?: string): HttpRequest {
  return {
    getCaseSensitiveMethod: () => method,
    getMethod: () => method.toLowerCase(),
    getUrl: () => url,
    getQuery: () => query as string,
    getHeader: (k: string) => headers.find(([n]) => n === k)?.[1] ?? '',
    forEach: (cb: (k: string, v: string) => void) => { for (const [k, v] of headers) cb(k, v); },
  };
}
function blank(): RequestContext {
  return { headers: [], host: '', connection: null } as unknown as RequestContext;
}
function judge(method: string, headers: [string, string][]): number {
  return copyRequest(blank(), fakeReq(method, headers));
}

test('well-formed requests report their body length', () => {
  assert.equal(judge('GET', [['host', 'a']]), 0);
  assert.equal(judge('POST', [['host', 'a'], ['content-length', '12']]), 12);
  assert.equal(judge('POST', [['host', 'a'], ['transfer-encoding', 'chunked']]), -2);
  assert.equal(judge('POST', [['host', 'a'], ['transfer-encoding', 'Chunked ']]), -2);
  assert.equal(judge('PoSt', [['host', 'a']]), 0);
  assert.equal(judge('M-SEARCH', [['host', 'a']]), 0);
});

test('smuggling-shaped framing and bad method tokens are rejected', () => {
  const bad: [string, [string, string][]][] = [
    ['POST', [['content-length', '1'], ['content-length', '1']]],
    ['POST', [['content-length', '1'], ['content-length', '2']]],
    ['GET', [['host', 'a'], ['host', 'b']]],
    ['POST', [['transfer-encoding', 'gzip, chunked']]],
    ['POST', [['transfer-encoding', 'chunked, chunked']]],
    ['POST', [['transfer-encoding', 'xchunked']]],
    ['POST', [['transfer-encoding', 'chunked'], ['transfer-encoding', 'chunked']]],
    ['POST', [['transfer-encoding', 'chunked'], ['content-length', '3']]],
    ['POST', [['content-length', '-1']]],
    ['POST', [['content-length', '1e3']]],
    ['G@T', [['host', 'a']]],
    ['GE T', [['host', 'a']]],
    ['', [['host', 'a']]],
  ];
  for (const [m, h] of bad) assert.equal(judge(m, h), -1, `${m} ${JSON.stringify(h)}`);
});

test('the copy keeps method case, raw url, query, all headers in order, and the Connection list', () => {
  const x = blank();
  copyRequest(x, fakeReq('PoSt', [['host', 'Example.com:8000'], ['connection', 'keep-alive, x-a'], ['x-a', '1'], ['x-a', '2']], '/a/../b', 'q=%2f'));
  assert.equal(x.method, 'PoSt');
  assert.equal(x.url, '/a/../b');
  assert.equal(x.search, '?q=%2f');
  assert.equal(x.host, 'Example.com:8000');
  assert.equal(x.connection, 'keep-alive, x-a');
  assert.deepEqual(x.headers, ['host', 'Example.com:8000', 'connection', 'keep-alive, x-a', 'x-a', '1', 'x-a', '2']);
  const y = blank();
  copyRequest(y, fakeReq('GET', [], '/', undefined));
  assert.equal(y.search, '', 'uWS 20.30 returns undefined for no query');
  const z = blank();
  copyRequest(z, fakeReq('GET', [], '/', ''));
  assert.equal(z.search, '?', 'a bare trailing ? is kept');
});
