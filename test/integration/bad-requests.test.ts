// Malformed and smuggling-shaped requests on raw sockets. What reaches the handler depends on the
// uWS build (README, "Request framing"): uWS 20.30 drops some requests itself (no answer, or the
// connection left open), while newer builds answer them. Whatever the build, such a request MUST
// never reach the upstream and the worker MUST keep serving; where the request reaches the
// gateway's handler, the answer is Kong's 400 with the connection closed.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { openRaw, rawExchange, type RawResponse } from '../helpers/raw-http';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { waitFor } from '../helpers/wait';
import { startRawEchoServer, type RawEchoServer } from '../helpers/upstream';

/** What the client sees: a 400 and a close; a close without any answer; no answer at all. */
type Outcome = '400' | 'dropped' | 'no-answer';

/** [what, raw request, outcome under uWS 20.30]. Under other builds every case expects a 400. */
const BAD: Array<[string, string, Outcome]> = [
  ['two identical Content-Length headers', 'POST /br/cl HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello', '400'],
  ['two different Content-Length headers', 'POST /br/cl2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', '400'],
  ['two Host headers', 'GET /br/host HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', '400'],
  ['Transfer-Encoding: gzip, chunked', 'POST /br/te HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', '400'],
  ['Transfer-Encoding: chunked, chunked', 'POST /br/te2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', '400'],
  ['Transfer-Encoding: xchunked', 'POST /br/xte HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', '400'],
  ['two Transfer-Encoding lines', 'POST /br/te3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', '400'],
  ['method token G@T', 'G@T /br/method HTTP/1.1\r\nHost: a\r\n\r\n', 'dropped'],
  ['Content-Length together with Transfer-Encoding', 'POST /br/clte HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'dropped'],
  ['HTTP/1.1 without Host', 'GET /br/nohost HTTP/1.1\r\n\r\n', 'no-answer'],
];

function assertOutcome(res: RawResponse, outcome: Outcome): void {
  const seen = JSON.stringify(res.data.toString().slice(0, 200));
  if (outcome === '400') {
    assert.equal(res.status, 400, `response: ${seen}`);
    assert.match(res.body.toString(), /^Bad request\nrequest_id: [0-9a-f]{32}\n$/);
    assert.equal(res.closed, true, 'connection must be closed after the 400');
  } else if (outcome === 'dropped') {
    assert.equal(res.status, null, `no answer expected, got ${seen}`);
    assert.equal(res.closed, true, 'uWS closes the connection');
  } else {
    assert.equal(res.status, null, `no answer expected, got ${seen}`);
  }
}


describe('request parsing on raw sockets', () => {
  let upstream: RawEchoServer;
  let gw: Gateway;
  let pidsAtStart: number[];
  let uws2030 = false;

  before(async () => {
    upstream = await startRawEchoServer('raw');
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'raw', url: `http://127.0.0.1:${upstream.port}`, routes: [{ name: 'br', paths: ['/br'], strip_path: false }] }],
      },
    });
    pidsAtStart = (await gw.status()).workers.map((w) => w.pid).sort();
    const info = JSON.parse((await gw.admin('/')).body.toString()) as { uws: { version: string } };
    uws2030 = info.uws.version.startsWith('20.30.');
  });

  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  // No malformed request may take a worker down: checked after each test, so each stands alone.
  afterEach(async () => {
    const st = await gw.status();
    assert.deepEqual(st.workers.map((w) => w.pid).sort(), pidsAtStart, 'no worker crashed or was replaced');
    assert.ok(st.workers.every((w) => w.state === 'listening'), JSON.stringify(st.workers));
  });

  /**
   * Sends valid requests on new connections until every worker has answered one (per-worker
   * counters in /status): each worker has then handled what reached it before, such as the bytes
   * of a request it leaves unanswered. Returns the paths it sent.
   */
  async function untilEveryWorkerServed(tag: string): Promise<string[]> {
    const base = new Map((await gw.status()).workers.map((w) => [w.id, w.requests]));
    const sent: string[] = [];
    await waitFor('every worker to serve a request after the malformed one', async () => {
      const path = `/br/${tag}-${sent.length}`;
      sent.push(path);
      assert.equal((await request(gw.proxyUrl + path)).status, 200);
      return (await gw.status()).workers.every((w) => w.requests > (base.get(w.id) ?? Infinity));
    }, { timeoutMs: 10000, intervalMs: 0 });
    return sent;
  }

  it('proxies a well-formed raw request (control for the cases below)', async () => {
    const res = await rawExchange(gw.proxyPort, 'POST /br/ok HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello', { until: 'response' });
    assert.equal(res.status, 200, res.data.toString());
    assert.equal(upstream.requests.at(-1)?.url, '/br/ok');
    assert.equal(upstream.requests.at(-1)?.body_length, 5);
  });

  for (const [what, payload, under2030] of BAD) {
    it(`refuses ${what}; it never reaches the upstream`, async () => {
      const seen = upstream.requests.length;
      const outcome = uws2030 ? under2030 : '400';
      let after: string[];
      if (outcome === 'no-answer') {
        const conn = await openRaw(gw.proxyPort, payload);
        try {
          after = await untilEveryWorkerServed('after-silent');
          assert.equal(conn.data().length, 0, `no answer expected, got ${JSON.stringify(conn.data().toString().slice(0, 200))}`);
        } finally {
          conn.destroy();
        }
      } else {
        assertOutcome(await rawExchange(gw.proxyPort, payload, { until: 'close', timeoutMs: 5000 }), outcome);
        // A request that slipped through would reach the upstream before the next, valid one does.
        assert.equal((await request(`${gw.proxyUrl}/br/after`)).status, 200);
        after = ['/br/after'];
      }
      const reached = upstream.requests.slice(seen).map((r) => r.url);
      assert.deepEqual(reached, after, 'the malformed request must never reach the upstream');
    });
  }

  it('forwards methods with their case, and extension methods (uWS 20.30 drops them itself)', async () => {
    for (const [method, body] of [['PoSt', 'hi'], ['PURGE', '']] as const) {
      const seen = upstream.requests.length;
      const payload = `${method} /br/m HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      if (uws2030) {
        assertOutcome(await rawExchange(gw.proxyPort, payload, { until: 'close', timeoutMs: 5000 }), 'dropped');
        assert.equal(upstream.requests.length, seen);
      } else {
        const res = await rawExchange(gw.proxyPort, payload, { until: 'response', timeoutMs: 5000 });
        assert.equal(res.status, 200, res.data.toString());
        assert.equal(upstream.requests.at(-1)?.requestLine.split(' ')[0], method);
      }
    }
  });

  it('answers an HTTP/1.0 request (uWS 20.30 leaves it unanswered)', async () => {
    const seen = upstream.requests.length;
    const payload = 'GET /br/http10 HTTP/1.0\r\nHost: a\r\n\r\n';
    if (uws2030) {
      const conn = await openRaw(gw.proxyPort, payload);
      try {
        const after = await untilEveryWorkerServed('after-http10');
        assert.equal(conn.data().length, 0, `no answer expected, got ${JSON.stringify(conn.data().toString().slice(0, 200))}`);
        assert.deepEqual(upstream.requests.slice(seen).map((r) => r.url), after);
      } finally {
        conn.destroy();
      }
    } else {
      const res = await rawExchange(gw.proxyPort, payload, { until: 'close', timeoutMs: 5000 });
      assert.equal(res.status, 200, `response: ${JSON.stringify(res.data.toString().slice(0, 200))}`);
      assert.equal(upstream.requests.at(-1)?.url, '/br/http10');
    }
  });
});
