/**
 * nginx's client-side timeouts the gateway enforces itself: `client_body_timeout` (the longest
 * gap between two reads of a request body: 408 and close, nothing forwarded, or the upstream try
 * aborted) and `keepalive_timeout 0` (no keep-alive: every response closes its connection).
 * uWS 20.30 cuts any connection whose request is not complete 8–12 s after it opened, whatever
 * arrives meanwhile; these tests stay well inside that.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { listenLocal } from '../helpers/ports';
import { rawExchange, parseRawResponse } from '../helpers/raw-http';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { waitFor, delay } from '../helpers/wait';

const BODY_TIMEOUT = 1000;

/** What the upstream saw of each request: its path, the bytes that arrived, and whether the body completed. */
interface Seen { path: string; bytes: number; complete: boolean; closed: boolean }

describe('client_body_timeout and keepalive_timeout 0', () => {
  let upstream: Server;
  let gw: Gateway;
  const seen: Seen[] = [];

  before(async () => {
    upstream = createServer((req: IncomingMessage, res) => {
      const s: Seen = { path: req.url ?? '/', bytes: 0, complete: false, closed: false };
      seen.push(s);
      req.on('data', (d: Buffer) => (s.bytes += d.length));
      req.on('end', () => {
        s.complete = true;
        res.end(`got ${s.bytes}`);
      });
      req.on('close', () => (s.closed = true));
    });
    const port = await listenLocal(upstream);
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        hyperway: { client_body_timeout: `${BODY_TIMEOUT}ms`, keepalive_timeout: 0 },
        services: [{
          name: 'up', url: `http://127.0.0.1:${port}`, retries: 0,
          routes: [
            { name: 'buffered', paths: ['/buffered'], strip_path: false },
            { name: 'streamed', paths: ['/streamed'], strip_path: false, request_buffering: false },
          ],
        }],
      },
    });
  });
  after(async () => {
    await gw?.stop();
    upstream?.closeAllConnections();
    await new Promise<void>((r) => upstream?.close(() => r()));
  });

  it('a body that stops (request_buffering on) gets 408 and a closed connection; nothing reaches the upstream', async () => {
    const t0 = performance.now();
    const res = await rawExchange(gw.proxyPort, 'POST /buffered HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789', { timeoutMs: 6000 });
    const took = performance.now() - t0;
    assert.equal(res.status, 408, `got ${res.data.toString('latin1').slice(0, 80)}`);
    assert.equal(res.closed, true);
    assert.ok(took >= BODY_TIMEOUT && took < BODY_TIMEOUT + 1000, `408 after ${Math.round(took)} ms`);
    assert.equal(seen.filter((s) => s.path === '/buffered').length, 0, 'a held body that timed out is never forwarded');
  });

  it('a streamed body that stops: 408, and the upstream request already under way is aborted', async () => {
    const res = await rawExchange(gw.proxyPort, 'POST /streamed HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789', { timeoutMs: 6000 });
    assert.equal(res.status, 408);
    assert.equal(res.closed, true);
    const up = await waitFor('the upstream request to be closed', () => seen.find((s) => s.path === '/streamed' && s.closed));
    assert.equal(up.complete, false, 'the upstream never got a complete body');
    assert.ok(up.bytes < 100);
  });

  it('a body trickling with gaps under client_body_timeout is forwarded whole', async () => {
    const sock = connect(gw.proxyPort, '127.0.0.1');
    const data: Buffer[] = [];
    sock.on('data', (d: Buffer) => data.push(d));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const t0 = performance.now();
    sock.write('POST /buffered HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n');
    for (const piece of ['ab', 'cd', 'ef']) {
      await delay(BODY_TIMEOUT * 0.7);
      sock.write(piece);
    }
    const res = await waitFor('the response', () => {
      const r = parseRawResponse(Buffer.concat(data));
      return r.complete ? r : null;
    });
    sock.destroy();
    assert.ok(performance.now() - t0 > BODY_TIMEOUT * 2, 'the body took longer than client_body_timeout in all');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'got 6');
    assert.ok(seen.some((s) => s.path === '/buffered' && s.complete), 'the upstream records forwarded paths as sent');
  });

  it('keepalive_timeout 0: a keep-alive request gets its response with Connection: close, and the connection closes', async () => {
    const res = await rawExchange(gw.proxyPort, 'POST /buffered HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok', { timeoutMs: 6000 });
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    assert.equal(res.closed, true);
  });
});
