// copyRequest judges what uWS lets through: duplicate Content-Length/Host, Transfer-Encoding
// other than one exact `chunked`, TE with CL, and bad method tokens are rejected (-1).
// uWS 20.30 (the build on glibc < 2.38) drops several of these requests before the handler, so
// test/integration/bad-requests.test.ts cannot reach this code there; the fake requests below
// carry what the 20.57 build hands over (README, "Request framing"), so every machine runs it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyRequest, REQUEST } from '../../../src/worker/server/request';

// Typed from copyRequest itself, so the tests follow a rename of the types it takes.
type Target = Parameters<typeof copyRequest>[0];
type UwsRequest = Parameters<typeof copyRequest>[1];

/** The fields copyRequest writes, as a fresh request's target has them before the copy. */
interface Copied {
  method: string;
  url: string;
  search: string;
  headers: string[];
  host: string;
  connection: string | null;
  closeAfter: boolean;
}

/** A uWS request as the handler sees it: names lowercased, in wire order; no `?` → undefined query. */
function fakeReq(method: string, headers: [string, string][], url = '/p', query?: string): UwsRequest {
  const req = {
    getCaseSensitiveMethod: () => method,
    getMethod: () => method.toLowerCase(),
    getUrl: () => url,
    getQuery: () => query,
    getHeader: (k: string) => headers.find(([n]) => n === k)?.[1] ?? '',
    forEach: (cb: (k: string, v: string) => void) => {
      for (const [k, v] of headers) cb(k, v);
    },
  };
  return req as unknown as UwsRequest;
}

function blank(): Copied {
  return { method: '', url: '', search: '', headers: [], host: '', connection: null, closeAfter: false };
}

function judge(method: string, headers: [string, string][]): { result: number; copy: Copied } {
  const copy = blank();
  const result = copyRequest(copy as unknown as Target, fakeReq(method, headers));
  return { result, copy };
}

describe('copyRequest: the requests of bad-requests.test.ts, as uWS 20.57 passes them', () => {
  // [what, method, headers]: each MUST be refused (-1 → Kong's 400, connection closed, never forwarded).
  const refused: Array<[string, string, [string, string][]]> = [
    ['two identical Content-Length headers', 'POST', [['host', 'a'], ['content-length', '5'], ['content-length', '5']]],
    ['two different Content-Length headers', 'POST', [['host', 'a'], ['content-length', '5'], ['content-length', '6']]],
    ['two Host headers', 'GET', [['host', 'a'], ['host', 'b']]],
    ['two Host headers with the same value', 'GET', [['host', 'a'], ['host', 'a']]],
    ['Transfer-Encoding: gzip, chunked', 'POST', [['host', 'a'], ['transfer-encoding', 'gzip, chunked']]],
    ['Transfer-Encoding: chunked, chunked', 'POST', [['host', 'a'], ['transfer-encoding', 'chunked, chunked']]],
    ['Transfer-Encoding: xchunked', 'POST', [['host', 'a'], ['transfer-encoding', 'xchunked']]],
    ['Transfer-Encoding: chunkedx', 'POST', [['host', 'a'], ['transfer-encoding', 'chunkedx']]],
    ['Transfer-Encoding: identity', 'POST', [['host', 'a'], ['transfer-encoding', 'identity']]],
    ['an empty Transfer-Encoding', 'POST', [['host', 'a'], ['transfer-encoding', '']]],
    ['two Transfer-Encoding lines', 'POST', [['host', 'a'], ['transfer-encoding', 'chunked'], ['transfer-encoding', 'chunked']]],
    ['Content-Length then Transfer-Encoding', 'POST', [['host', 'a'], ['content-length', '3'], ['transfer-encoding', 'chunked']]],
    ['Transfer-Encoding then Content-Length', 'POST', [['host', 'a'], ['transfer-encoding', 'chunked'], ['content-length', '3']]],
    ['Content-Length: -1', 'POST', [['host', 'a'], ['content-length', '-1']]],
    ['Content-Length: 1e3', 'POST', [['host', 'a'], ['content-length', '1e3']]],
    ['Content-Length: 0x10', 'POST', [['host', 'a'], ['content-length', '0x10']]],
    ['Content-Length: 5, 5 (one line)', 'POST', [['host', 'a'], ['content-length', '5, 5']]],
    ['an empty Content-Length', 'POST', [['host', 'a'], ['content-length', '']]],
    ['Content-Length of 16 digits', 'POST', [['host', 'a'], ['content-length', '1234567890123456']]],
    ['method token G@T', 'G@T', [['host', 'a']]],
    ['method token with a space', 'GE T', [['host', 'a']]],
    ['method token with a colon', 'GET:', [['host', 'a']]],
    ['method token with a non-ASCII byte', 'GÉT', [['host', 'a']]],
    ['an empty method', '', [['host', 'a']]],
  ];
  for (const [what, method, headers] of refused) {
    it(`refuses ${what}`, () => {
      assert.equal(judge(method, headers).result, -1);
    });
  }

  // [what, method, headers, body length]: framing both sides agree on (-2 = chunked).
  const accepted: Array<[string, string, [string, string][], number]> = [
    ['a GET without body', 'GET', [['host', 'a']], 0],
    ['one Content-Length', 'POST', [['host', 'a'], ['content-length', '12']], 12],
    ['Content-Length: 0', 'POST', [['host', 'a'], ['content-length', '0']], 0],
    ['Content-Length with leading zeros', 'POST', [['host', 'a'], ['content-length', '007']], 7],
    ['Content-Length of 15 digits', 'POST', [['host', 'a'], ['content-length', '999999999999999']], 999999999999999],
    ['Transfer-Encoding: chunked', 'POST', [['host', 'a'], ['transfer-encoding', 'chunked']], -2],
    ['Transfer-Encoding: Chunked with blanks around it', 'POST', [['host', 'a'], ['transfer-encoding', ' Chunked ']], -2],
    ['PoSt (method case is the client\'s)', 'PoSt', [['host', 'a'], ['content-length', '2']], 2],
    ['PURGE (an extension method)', 'PURGE', [['host', 'a']], 0],
    ['M-SEARCH', 'M-SEARCH', [['host', 'a']], 0],
    ["every token character in the method: !#$%&'*+-.^_`|~", "!#$%&'*+-.^_`|~0aZ", [['host', 'a']], 0],
  ];
  for (const [what, method, headers, length] of accepted) {
    it(`accepts ${what}: body length ${length}, method kept as sent`, () => {
      const { result, copy } = judge(method, headers);
      assert.equal(result, length);
      assert.equal(copy.method, method);
    });
  }

  it('leaves a request without Host to the uWS build (HTTP/1.1 without Host: 20.30 never answers, 20.57 answers itself)', () => {
    const { result, copy } = judge('GET', []);
    assert.equal(result, 0);
    assert.equal(copy.host, '');
  });

  it('judges each request on its own: a refused one leaves nothing behind for the next', () => {
    assert.equal(judge('POST', [['content-length', '1'], ['content-length', '2']]).result, -1);
    assert.equal(judge('POST', [['content-length', '3']]).result, 3);
    assert.equal(judge('POST', [['transfer-encoding', 'chunked'], ['transfer-encoding', 'chunked']]).result, -1);
    assert.equal(judge('POST', [['transfer-encoding', 'chunked']]).result, -2);
    assert.equal(judge('GET', [['host', 'a'], ['host', 'b']]).result, -1);
    const next = judge('GET', [['host', 'c']]);
    assert.equal(next.result, 0);
    assert.equal(next.copy.host, 'c');
  });
});

describe('copyRequest: the copy', () => {
  it('keeps method case, raw url, query, all headers in order, and the Connection list', () => {
    const x = blank();
    copyRequest(
      x as unknown as Target,
      fakeReq('PoSt', [['host', 'Example.com:8000'], ['connection', 'keep-alive'], ['connection', 'x-a'], ['x-a', '1'], ['x-a', '2']], '/a/../b', 'q=%2f'),
    );
    assert.equal(x.method, 'PoSt');
    assert.equal(x.url, '/a/../b');
    assert.equal(x.search, '?q=%2f');
    assert.equal(x.host, 'Example.com:8000');
    assert.equal(x.connection, 'keep-alive, x-a', 'several Connection headers are one list');
    assert.deepEqual(x.headers, ['host', 'Example.com:8000', 'connection', 'keep-alive', 'connection', 'x-a', 'x-a', '1', 'x-a', '2']);
  });

  it('tells no query from a bare trailing ?', () => {
    const y = blank();
    copyRequest(y as unknown as Target, fakeReq('GET', [], '/', undefined));
    assert.equal(y.search, '', 'uWS returns undefined for no query');
    const z = blank();
    copyRequest(z as unknown as Target, fakeReq('GET', [], '/', ''));
    assert.equal(z.search, '?', 'a bare trailing ? is kept');
  });
});

describe('copyRequest: edge hygiene (issue 19), in the same walk over the headers', () => {
  function judgeAt(method: string, headers: [string, string][], url = '/p', query?: string, limits = { count: 4, size: 8192 }): { result: number; copy: Copied } {
    const copy = blank();
    return { result: copyRequest(copy as unknown as Target, fakeReq(method, headers, url, query), limits), copy };
  }

  it('refuses every control byte but HTAB in a header value, and DEL; passes HTAB and bytes >= 0x80', () => {
    for (let c = 0; c < 0x20; c++) {
      const { result } = judge('GET', [['host', 'a'], ['x-v', `a${String.fromCharCode(c)}b`]]);
      assert.equal(result, c === 9 ? 0 : REQUEST.BAD, `byte 0x${c.toString(16)}`);
    }
    assert.equal(judge('GET', [['host', 'a'], ['x-v', 'a\x7fb']]).result, REQUEST.BAD);
    assert.equal(judge('GET', [['host', 'a'], ['x-v', 'café']]).result, 0);
    // The flag is per request: a clean request after a refused one passes.
    assert.equal(judge('GET', [['host', 'a'], ['x-v', 'ok']]).result, 0);
  });

  it('measures the request line and header lines as nginx\'s large_client_header_buffers does', () => {
    const limits = { count: 2, size: 1024 };
    // "GET " + url + " HTTP/1.1\r\n": 12 bytes around the target.
    assert.equal(judgeAt('GET', [], '/'.padEnd(1024 - 3 - 12, 'a'), undefined, limits).result, 0);
    assert.equal(judgeAt('GET', [], '/'.padEnd(1024 - 3 - 12 + 1, 'a'), undefined, limits).result, REQUEST.URI_TOO_LONG);
    assert.equal(judgeAt('GET', [], '/a', 'q'.repeat(1024), limits).result, REQUEST.URI_TOO_LONG, 'the query counts');
    // "x-a: " + value + CRLF.
    assert.equal(judgeAt('GET', [['x-a', 'v'.repeat(1024 - 7)]], '/', undefined, limits).result, 0);
    assert.equal(judgeAt('GET', [['x-a', 'v'.repeat(1024 - 6)]], '/', undefined, limits).result, REQUEST.HEADER_TOO_LARGE);
    const three: [string, string][] = [['x-a', 'v'.repeat(700)], ['x-b', 'v'.repeat(700)], ['x-c', 'v'.repeat(700)]];
    assert.equal(judgeAt('GET', three, '/', undefined, limits).result, REQUEST.HEADER_TOO_LARGE, 'over count * size in all');
    assert.equal(judgeAt('GET', three.slice(0, 2), '/', undefined, limits).result, 0);
    // A refused consumer header still counts toward the size.
    assert.equal(judgeAt('GET', [['x-consumer-id', 'v'.repeat(2000)]], '/', undefined, limits).result, REQUEST.HEADER_TOO_LARGE);
  });

  it('refuses invalid Host values and keeps valid ones', () => {
    for (const bad of ['a, b', 'a,b', 'a/b', '', 'a..b', 'a b', 'a\\b', 'user@a', 'a?b', 'a#b']) {
      assert.equal(judge('GET', [['host', bad]]).result, REQUEST.BAD, JSON.stringify(bad));
    }
    for (const good of ['a', 'example.com:8000', '[::1]:8000', '127.0.0.1', 'xn--caf-dma.example', 'café.example', 'a.b.']) {
      assert.equal(judge('GET', [['host', good]]).result, 0, JSON.stringify(good));
    }
  });

  it('notes `close` anywhere in the Connection list, in any case, and nothing else; a bare `close` is left to uWS', () => {
    for (const v of ['close', 'Close', 'CLOSE']) {
      assert.equal(judge('GET', [['host', 'a'], ['connection', v]]).copy.closeAfter, false, `uWS closes on ${v} itself`);
    }
    assert.equal(judge('GET', [['host', 'a'], ['connection', 'close'], ['connection', 'x-a']]).copy.closeAfter, false, 'uWS reads the first line');
    for (const v of ['close, x-secret', 'x-secret,close', 'keep-alive , CLOSE ', 'a,\tclose\t']) {
      assert.equal(judge('GET', [['host', 'a'], ['connection', v]]).copy.closeAfter, true, JSON.stringify(v));
    }
    for (const v of ['keep-alive', 'closed', 'x-close', 'clos', 'close-x, keep-alive']) {
      assert.equal(judge('GET', [['host', 'a'], ['connection', v]]).copy.closeAfter, false, JSON.stringify(v));
    }
    assert.equal(judge('GET', [['host', 'a'], ['connection', 'x-a'], ['connection', 'close']]).copy.closeAfter, true, 'second Connection line');
  });

  it('answers TRACE and CONNECT 405, closing only when a body is left unread', () => {
    assert.equal(judge('TRACE', [['host', 'a']]).result, REQUEST.NOT_ALLOWED);
    assert.equal(judge('TRACE', [['host', 'a']]).copy.closeAfter, false);
    assert.equal(judge('CONNECT', [['host', 'a:443']]).result, REQUEST.NOT_ALLOWED);
    const withBody = judge('TRACE', [['host', 'a'], ['content-length', '3']]);
    assert.equal(withBody.result, REQUEST.NOT_ALLOWED);
    assert.equal(withBody.copy.closeAfter, true);
    assert.equal(judge('trace', [['host', 'a']]).result, 0, 'methods are case-sensitive: `trace` is an extension method');
    assert.equal(judge('TRACE', [['host', 'a'], ['content-length', '1'], ['content-length', '2']]).result, REQUEST.BAD, 'bad framing first');
  });
});
