// The issue's "edge battery" of ambiguous framing, measured per uWS build (README, "Request
// framing"): obs-fold and other malformed header lines, bad chunk sizes, malformed request lines,
// HTTP/1.0 without Host, CL+TE, xchunked, odd Content-Length values. On uWS 20.30 each outcome is
// the one measured there: the gateway's 400 and a close where uWS hands the request over, else
// uWS's own drop (closed, no answer) or silence (no answer, connection left open). On any build:
// never a success, never a byte at the upstream, no worker lost.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { openRaw } from '../helpers/raw-http';
import { waitFor } from '../helpers/wait';
import { startRawEchoServer, type RawEchoServer } from '../helpers/upstream';

type Outcome = '400' | 'dropped' | 'no-answer';

const CHUNKED = 'POST /eb/chunk HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';

/** [what, raw request, outcome measured on uWS 20.30]. */
const BATTERY: Array<[string, string, Outcome]> = [
  ['obs-fold (a header line continued on the next)', 'GET /eb/fold HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  folded\r\n\r\n', 'no-answer'],
  ['a header line without a colon', 'GET /eb/nocolon HTTP/1.1\r\nHost: a\r\nX-A\r\n\r\n', 'no-answer'],
  ['whitespace before a header colon', 'GET /eb/spcolon HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n', 'no-answer'],
  ['chunk size 5x', `${CHUNKED}5x\r\nhello\r\n0\r\n\r\n`, 'dropped'],
  ['chunk size zz', `${CHUNKED}zz\r\nhello\r\n0\r\n\r\n`, 'dropped'],
  ['chunk size -5', `${CHUNKED}-5\r\nhello\r\n0\r\n\r\n`, 'dropped'],
  ['chunk size 0x5', `${CHUNKED}0x5\r\nhello\r\n0\r\n\r\n`, 'dropped'],
  ['chunk size of 17 hex digits (64-bit overflow)', `${CHUNKED}10000000000000005\r\nhello\r\n0\r\n\r\n`, 'dropped'],
  ['request line with two spaces', 'GET  /eb/rl HTTP/1.1\r\nHost: a\r\n\r\n', 'no-answer'],
  ['request line with a fourth token', 'GET /eb/rl HTTP/1.1 x\r\nHost: a\r\n\r\n', 'no-answer'],
  ['request line HTTP/9.9', 'GET /eb/rl HTTP/9.9\r\nHost: a\r\n\r\n', 'no-answer'],
  ['request line without a version', 'GET /eb/rl\r\nHost: a\r\n\r\n', 'no-answer'],
  ['request line with a lowercase version', 'GET /eb/rl http/1.1\r\nHost: a\r\n\r\n', 'no-answer'],
  ['request line and headers ended by bare LF', 'GET /eb/rl HTTP/1.1\nHost: a\n\n', 'no-answer'],
  ['request target without a leading slash', 'GET eb/rl HTTP/1.1\r\nHost: a\r\n\r\n', 'no-answer'],
  ['HTTP/1.0 without Host', 'GET /eb/h10 HTTP/1.0\r\n\r\n', 'no-answer'],
  ['Content-Length with Transfer-Encoding', 'POST /eb/clte HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'dropped'],
  ['Transfer-Encoding: xchunked', 'POST /eb/xte HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', '400'],
  ['Content-Length: +5', 'POST /eb/clplus HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello', 'dropped'],
  ['Content-Length: 5x', 'POST /eb/clx HTTP/1.1\r\nHost: a\r\nContent-Length: 5x\r\n\r\nhello', 'dropped'],
];


describe('edge battery: ambiguous framing per uWS build', () => {
  let upstream: RawEchoServer;
  let gw: Gateway;
  let pidsAtStart: number[];
  let uws2030 = false;

  before(async () => {
    upstream = await startRawEchoServer('eb');
    gw = await startGateway({
      config: { _format_version: '3.0', services: [{ name: 'eb', url: `http://127.0.0.1:${upstream.port}`, routes: [{ name: 'eb', paths: ['/eb'], strip_path: false }] }] },
    });
    pidsAtStart = (await gw.status()).workers.map((w) => w.pid).sort();
    uws2030 = (JSON.parse((await gw.admin('/')).body.toString()) as { uws: { version: string } }).uws.version.startsWith('20.30.');
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  afterEach(async () => {
    const st = await gw.status();
    assert.deepEqual(st.workers.map((w) => w.pid).sort(), pidsAtStart, 'no worker crashed or was replaced');
  });

  /** Valid requests on new connections until every worker served one: what reached it before is handled. */
  async function untilEveryWorkerServed(tag: string): Promise<string[]> {
    const base = new Map((await gw.status()).workers.map((w) => [w.id, w.requests]));
    const sent: string[] = [];
    await waitFor('every worker to serve a request after the malformed one', async () => {
      const path = `/eb/${tag}-${sent.length}`;
      sent.push(path);
      assert.equal((await request(gw.proxyUrl + path)).status, 200);
      return (await gw.status()).workers.every((w) => w.requests > (base.get(w.id) ?? Infinity));
    }, { timeoutMs: 10000, intervalMs: 0 });
    return sent;
  }

  BATTERY.forEach(([what, payload, on2030], i) => {
    it(`${what}: never forwarded; on 20.30 ${on2030 === '400' ? "the gateway's 400 and a close" : on2030 === 'dropped' ? 'closed by uWS without an answer' : 'left unanswered by uWS'}`, async () => {
      const seen = upstream.requests.length;
      const conn = await openRaw(gw.proxyPort, payload);
      let valid: string[];
      try {
        valid = await untilEveryWorkerServed(`after-${i}`);
        const text = conn.data().toString('latin1');
        if (uws2030 && on2030 === '400') {
          await waitFor('the close after the 400', () => conn.closed(), { timeoutMs: 5000 });
          assert.match(conn.data().toString('latin1'), /^HTTP\/1\.1 400 /, JSON.stringify(text.slice(0, 120)));
        } else if (uws2030 && on2030 === 'dropped') {
          await waitFor('uWS to close the connection', () => conn.closed(), { timeoutMs: 5000 });
          assert.equal(conn.data().length, 0, `no answer expected, got ${JSON.stringify(text.slice(0, 120))}`);
        } else if (uws2030) {
          assert.equal(conn.data().length, 0, `no answer expected, got ${JSON.stringify(text.slice(0, 120))}`);
          assert.equal(conn.closed(), false, 'uWS 20.30 leaves the connection open');
        } else {
          // Other builds: whatever answers, it is no success.
          assert.doesNotMatch(text, /^HTTP\/1\.[01] [23]\d\d /, JSON.stringify(text.slice(0, 120)));
        }
      } finally {
        conn.destroy();
      }
      assert.deepEqual(upstream.requests.slice(seen).map((r) => r.url), valid, 'nothing of the malformed request reaches the upstream');
    });
  });
});
