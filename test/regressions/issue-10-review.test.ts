/**
 * Regressions from review issue #10: each test pins what a client or upstream observes for one
 * fixed behaviour (early upstream answers on big uploads, HEAD error bodies, non-ASCII bytes in the
 * request line and response headers, trusted X-Forwarded-Proto, real_ip_recursive, error content
 * type from Content-Type, httpoxy).
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { closedPort, listenLocal } from '../helpers/ports';
import { parseRawResponse, rawExchange } from '../helpers/raw-http';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoRecord, type EchoServer } from '../helpers/upstream';
import { KeepAliveClient } from '../helpers/keep-alive-client';
import { startRawServer, type RawServer } from '../helpers/raw-server';

const MSG_502 = 'An invalid response was received from the upstream server';
const UPLOAD_BYTES = 20 * 1024 * 1024;

/** Answers 413 without reading the body: at once, or after `?delay=<ms>` (during which node's backpressure stops reading). */
async function startEarlyAnswerServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createHttpServer((req, res) => {
    const answer = (): void => {
      res.writeHead(413, { 'content-type': 'text/plain', 'content-length': '8' });
      res.end('too big\n');
    };
    const wait = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
    if (wait > 0) setTimeout(answer, wait);
    else answer();
  });
  const port = await listenLocal(server);
  return {
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A raw upstream whose response carries `X-Name: é` as the UTF-8 bytes c3 a9 (node's server would refuse to write them). */
function startRawHeaderServer(): Promise<RawServer> {
  return startRawServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      // Only bodiless GETs reach this server, so each head is one request.
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        buf = buf.subarray(end + 4);
        sock.write(
          Buffer.concat([
            Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Name: ', 'latin1'),
            Buffer.from([0xc3, 0xa9]),
            Buffer.from('\r\n\r\nok', 'latin1'),
          ]),
        );
      }
    });
  });
}

describe('issue #10 review regressions', () => {
  let echo: EchoServer;
  let early: { port: number; close(): Promise<void> };
  let rawHeader: RawServer;
  let gw: Gateway;

  before(async () => {
    let refused: number;
    [echo, early, rawHeader, refused] = await Promise.all([
      startEchoServer('echo-10'),
      startEarlyAnswerServer(),
      startRawHeaderServer(),
      closedPort(),
    ]);
    const at = (port: number): string => `http://127.0.0.1:${port}`;
    gw = await startGateway({
      workers: 2,
      // All test clients connect from 127.0.0.1, so the whole file runs as a trusted client.
      env: { HYPERWAY_TRUSTED_IPS: '127.0.0.0/8', HYPERWAY_REAL_IP_RECURSIVE: 'on' },
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'echo',
            url: at(echo.port),
            routes: [
              { name: 'echo', paths: ['/echo'] },
              { name: 'secure', paths: ['/secure'], protocols: ['https'] },
              { name: 'secure-301', paths: ['/moved'], protocols: ['https'], https_redirect_status_code: 301 },
            ],
          },
          { name: 'early', url: at(early.port), routes: [{ name: 'early', paths: ['/early'] }] },
          { name: 'dead', url: at(refused), retries: 0, routes: [{ name: 'dead', paths: ['/dead'] }] },
          { name: 'raw-header', url: at(rawHeader.port), routes: [{ name: 'raw-header', paths: ['/rawhdr'] }] },
        ],
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([echo?.close(), early?.close(), rawHeader?.close()]);
  });

  it('drains a 20 MiB upload the upstream answered early and serves the next request on the same socket', async () => {
    const client = await KeepAliveClient.open(gw.proxyPort);
    try {
      // delay=0 answers as the head arrives; delay=100 lets the gateway pause the client first
      // (its queue fills while the upstream reads nothing), which is when an unfixed gateway
      // never resumed it and the upload stalled at ~10 MiB.
      for (const delay of [0, 100]) {
        await client.upload(`POST /early/x?delay=${delay} HTTP/1.1\r\nHost: a\r\nContent-Length: ${UPLOAD_BYTES}\r\n\r\n`, UPLOAD_BYTES);
        const early = await client.nextResponse(`the 413 (delay=${delay})`);
        assert.equal(early.status, 413);
        assert.equal(early.body.toString(), 'too big\n');
      }
      client.write('GET /echo/after HTTP/1.1\r\nHost: a\r\n\r\n');
      const next = await client.nextResponse('the GET after the uploads');
      assert.equal(next.status, 200);
      assert.equal((JSON.parse(next.body.toString()) as EchoRecord).url, '/after');
      assert.equal(client.closed, null, 'the gateway must keep the connection');
    } finally {
      client.destroy();
    }
  });

  it('answers HEAD to a refused upstream with a 502 head and no body bytes', async () => {
    // Stray body bytes would sit between the HEAD's head and whatever the connection does next:
    // a second request on it gives an event to wait for instead of a quiet period. With uWS 20.30
    // that event is a close (it does not serve a request after a HEAD response on the same
    // connection); otherwise it is the second response.
    const data = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let asked = false;
      const sock = connect({ port: gw.proxyPort, host: '127.0.0.1' }, () => sock.write('HEAD /dead HTTP/1.1\r\nHost: a\r\n\r\n'));
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`no second response within 5 s; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`));
      }, 5000);
      sock.on('data', (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        const headEnd = all.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        if (!asked) {
          asked = true;
          sock.write('GET /echo/after-head HTTP/1.1\r\nHost: a\r\n\r\n');
        }
        const second = all.indexOf('HTTP/1.1 200', headEnd);
        if (second >= 0 && parseRawResponse(all.subarray(second)).complete) {
          clearTimeout(timer);
          sock.destroy();
          resolve(all);
        }
      });
      sock.on('error', reject);
      sock.on('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      });
    });
    const head = parseRawResponse(data);
    assert.equal(head.status, 502, data.toString('latin1'));
    assert.ok(head.headers['content-length'] !== undefined, 'a Content-Length header');
    const headEnd = data.indexOf('\r\n\r\n') + 4;
    const next = data.subarray(headEnd);
    assert.ok(next.length === 0 || next.toString('latin1').startsWith('HTTP/1.1 200'), `stray bytes after the head: ${JSON.stringify(next.toString('latin1').slice(0, 200))}`);
    if (next.length > 0) assert.equal((JSON.parse(parseRawResponse(next).body.toString()) as EchoRecord).url, '/after-head');
  });

  it('percent-encodes UTF-8 bytes of the query before sending it upstream', async () => {
    const res = await rawExchange(gw.proxyPort, Buffer.from('GET /echo/q?q=€&x=1 HTTP/1.1\r\nHost: a\r\n\r\n', 'utf8'), {
      until: 'response',
    });
    assert.equal(res.status, 200, res.data.toString('latin1'));
    const up = JSON.parse(res.body.toString()) as EchoRecord;
    assert.equal(up.url, '/q?q=%E2%82%AC&x=1');
  });

  it('passes non-ASCII response header bytes through unchanged', async () => {
    const res = await rawExchange(gw.proxyPort, 'GET /rawhdr/x HTTP/1.1\r\nHost: a\r\n\r\n', { until: 'response' });
    assert.equal(res.status, 200, res.data.toString('latin1'));
    const head = res.data.subarray(0, res.data.indexOf('\r\n\r\n') + 2);
    const start = head.toString('latin1').toLowerCase().indexOf('\r\nx-name:');
    assert.ok(start >= 0, `no X-Name header in ${JSON.stringify(head.toString('latin1'))}`);
    const valueStart = start + '\r\nx-name:'.length;
    const value = head.subarray(valueStart, head.indexOf('\r\n', valueStart));
    assert.deepEqual([...value.subarray(value[0] === 0x20 ? 1 : 0)], [0xc3, 0xa9]);
  });

  it('honours X-Forwarded-Proto from a trusted client on an https-only route', async () => {
    const plain = await request(`${gw.proxyUrl}/secure/x`);
    assert.equal(plain.status, 426, plain.text);
    // kong.response.exit: plain JSON, no request_id (kong/runloop/handler.lua)
    assert.equal(plain.text, '{"message":"Please use HTTPS protocol"}');
    assert.equal(plain.headers['content-type'], 'application/json; charset=utf-8');
    // Kong's 426 headers (kong/runloop/handler.lua)
    assert.equal(plain.headers.connection, 'Upgrade');
    assert.equal(plain.headers.upgrade, 'TLS/1.2, HTTP/1.1');
    const forwarded = await request(`${gw.proxyUrl}/secure/x`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(forwarded.status, 200, forwarded.text);
    assert.equal(forwarded.json<EchoRecord>().url, '/x');
  });

  it('an https-only route with https_redirect_status_code redirects to https with the same URI', async () => {
    const res = await request(`${gw.proxyUrl}/moved/a?b=1`, { headers: { host: 'api.example.com:8000' } });
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, 'https://api.example.com/moved/a?b=1');
    assert.equal(res.body.length, 0);
  });

  it('real_ip_recursive takes the rightmost untrusted address of X-Real-IP', async () => {
    const res = await request(`${gw.proxyUrl}/echo/ip`, { headers: { 'x-real-ip': '6.6.6.6, 1.1.1.1, 127.0.0.5' } });
    assert.equal(res.status, 200, res.text);
    const up = res.json<EchoRecord>();
    assert.equal(up.headers['x-real-ip'], '1.1.1.1');
    assert.match(String(up.headers['x-forwarded-for']), /(^|, )1\.1\.1\.1$/);
  });

  it('types a 502 by the request Content-Type when there is no Accept, else text/plain', async () => {
    const json = await request(`${gw.proxyUrl}/dead`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(json.status, 502);
    assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
    const body = json.json<{ message: string; request_id: string }>();
    assert.deepEqual(Object.keys(body), ['message', 'request_id']);
    assert.equal(body.message, MSG_502);
    assert.match(body.request_id, /^[0-9a-f]{32}$/);

    const plain = await request(`${gw.proxyUrl}/dead`, { method: 'POST', body: 'x' });
    assert.equal(plain.status, 502);
    assert.equal(plain.headers['content-type'], 'text/plain; charset=utf-8');
    assert.match(plain.text, new RegExp(`^${MSG_502}\\nrequest_id: [0-9a-f]{32}\\n$`));
  });

  it('does not forward the Proxy request header (httpoxy)', async () => {
    const res = await request(`${gw.proxyUrl}/echo/p`, { headers: { proxy: 'http://evil.test', 'x-control': 'kept' } });
    assert.equal(res.status, 200, res.text);
    const up = res.json<EchoRecord>();
    assert.equal(up.headers['x-control'], 'kept');
    assert.equal(up.headers.proxy, undefined);
    assert.ok(!up.rawHeaders.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'proxy'));
  });
});
