/**
 * Upstream misbehaviour the client must never see relayed as a valid response (upstream-responses
 * covers a response that is not HTTP and a body shorter than its Content-Length): ambiguous
 * framing (Content-Length with Transfer-Encoding, two different lengths) and a head over
 * proxy_buffer_size are a 502 and never retried; a chunked body cut short, or with a broken
 * chunk size, ends in a closed client connection, never the terminating chunk.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rawExchange } from '../helpers/raw-http';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startScriptedServer, type ScriptedRequest, type ScriptedServer } from '../helpers/scripted-upstream';

const HEAD = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n';

/** A head with `n` bytes of X-Pad header lines (1000-byte values). */
function padded(n: number): string {
  let h = HEAD;
  for (let i = 0; i * 1000 < n; i++) h += `x-pad-${i}: ${'p'.repeat(1000)}\r\n`;
  return `${h}content-length: 2\r\n\r\nok`;
}

const ANSWERS: Record<string, (sock: Socket) => void> = {
  '/cl-te': (s) => s.write(`${HEAD}content-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`),
  '/te-cl': (s) => s.write(`${HEAD}transfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n`),
  '/two-cl': (s) => s.write(`${HEAD}content-length: 5\r\ncontent-length: 6\r\n\r\nhello!`),
  '/cl-list': (s) => s.write(`${HEAD}content-length: 5, 6\r\n\r\nhello!`),
  '/head-20k': (s) => s.write(padded(20 * 1024)),
  '/head-200k': (s) => s.write(padded(200 * 1024)),
  '/cut-chunked': (s) => s.write(`${HEAD}transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n`, () => s.end()),
  '/cut-in-chunk': (s) => s.write(`${HEAD}transfer-encoding: chunked\r\n\r\n5\r\nhello\r\na\r\nhel`, () => s.end()),
  '/bad-chunk-size': (s) => s.write(`${HEAD}transfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nhello\r\n0\r\n\r\n`),
};

describe('upstream chaos', () => {
  let up: ScriptedServer;
  let gw: Gateway;
  const heads = new Map<string, number>();

  before(async () => {
    up = await startScriptedServer((req: ScriptedRequest, sock) => {
      const path = req.url.split('?')[0] as string;
      heads.set(path, (heads.get(path) ?? 0) + 1);
      (ANSWERS[path] ?? ((s: Socket) => s.destroy()))(sock);
    });
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'up', url: `http://127.0.0.1:${up.port}`, retries: 5, routes: [{ name: 'up', paths: ['/'] }] }],
      },
    });
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  for (const path of ['/cl-te', '/te-cl', '/two-cl', '/cl-list']) {
    it(`answers 502 to ambiguous response framing (${path}) and never retries it`, async () => {
      const res = await rawExchange(gw.proxyPort, `GET ${path} HTTP/1.1\r\nHost: client.test\r\n\r\n`, { until: 'response', timeoutMs: 5000 });
      assert.equal(res.status, 502, res.data.toString('latin1'));
      assert.match(res.body.toString(), /^An invalid response was received from the upstream server/);
      assert.equal(heads.get(path), 1, 'tries that reached the upstream (retries: 5)');
    });
  }

  it('relays a 20 KiB response head (under proxy_buffer_size, 160k) and answers 502 to a 200 KiB one, never retried', async () => {
    const ok = await rawExchange(gw.proxyPort, 'GET /head-20k HTTP/1.1\r\nHost: client.test\r\n\r\n', { until: 'response', timeoutMs: 5000 });
    assert.equal(ok.status, 200, ok.data.toString('latin1').slice(0, 300));
    assert.equal(ok.headers['x-pad-20'], 'p'.repeat(1000));
    assert.equal(ok.body.toString(), 'ok');
    const big = await rawExchange(gw.proxyPort, 'GET /head-200k HTTP/1.1\r\nHost: client.test\r\n\r\n', { until: 'response', timeoutMs: 5000 });
    assert.equal(big.status, 502, big.data.toString('latin1').slice(0, 300));
    assert.equal(heads.get('/head-200k'), 1);
  });

  it("takes proxy_buffer_size from Kong's variable: with 8k, a 20 KiB head is a 502", async () => {
    const small = await startGateway({
      env: { KONG_NGINX_PROXY_PROXY_BUFFER_SIZE: '8k' },
      config: { _format_version: '3.0', services: [{ name: 'up', url: `http://127.0.0.1:${up.port}`, routes: [{ name: 'up', paths: ['/'] }] }] },
    });
    try {
      const before = heads.get('/head-20k') ?? 0;
      const res = await rawExchange(small.proxyPort, 'GET /head-20k HTTP/1.1\r\nHost: client.test\r\n\r\n', { until: 'response', timeoutMs: 5000 });
      assert.equal(res.status, 502, res.data.toString('latin1').slice(0, 300));
      assert.equal((heads.get('/head-20k') ?? 0) - before, 1);
    } finally {
      await small.stop();
    }
  });

  for (const path of ['/cut-chunked', '/cut-in-chunk', '/bad-chunk-size']) {
    it(`closes the client connection when a chunked body breaks (${path}): never the terminating chunk`, async () => {
      const res = await rawExchange(gw.proxyPort, `GET ${path} HTTP/1.1\r\nHost: client.test\r\n\r\n`, { until: 'close', timeoutMs: 5000 });
      assert.ok(res.closed, 'the client connection is closed');
      assert.equal(res.complete, false, `a complete response was relayed: ${res.data.toString('latin1')}`);
      if (res.status !== 502) {
        assert.equal(res.status, 200);
        assert.equal(res.data.includes('0\r\n\r\n'), false, 'the terminating chunk');
      }
      assert.equal(heads.get(path), 1);
    });
  }
});
