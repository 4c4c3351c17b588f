/**
 * Kong's read_timeout in milliseconds (nginx's proxy_read_timeout: the time between two
 * successive reads from the upstream), kept by the worker's own sweep instead of undici's
 * second-grained timers: a hanging upstream gets its 504 within 100 ms of the deadline (never
 * before it), and a body that drips with gaps shorter than the deadline is never cut, however
 * long it takes in all.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { listenLocal } from '../helpers/ports';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { streamRepeated } from '../helpers/upstream-large';

const READ_TIMEOUT = 1500;
/** Gaps of the dripping upstream: each under read_timeout, together far over it. */
const GAP = 900;
const DRIPS = 4;
/** More than the socket buffers between upstream, gateway and client hold: a stalled client stalls the upstream. */
const BIG = 64 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

describe('read_timeout: millisecond deadlines between two reads', () => {
  let upstream: Server;
  let gw: Gateway;
  const open = new Set<ServerResponse>();

  before(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      open.add(res);
      res.on('close', () => open.delete(res));
      if (req.url === '/hang') return; // never answers
      if (req.url === '/big') {
        res.writeHead(200, { 'content-length': BIG });
        streamRepeated(res, BIG, CHUNK);
        return;
      }
      // /drip: the head after GAP, then DRIPS chunks GAP apart.
      let n = 0;
      const step = (): void => {
        if (res.destroyed) return;
        if (n === 0) {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.flushHeaders(); // node holds a head back until the first write otherwise
        }
        if (n === DRIPS) {
          res.end('end');
          return;
        }
        if (n > 0) res.write(`drip${n};`);
        n++;
        setTimeout(step, GAP);
      };
      setTimeout(step, GAP);
    });
    const port = await listenLocal(upstream);
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'up', url: `http://127.0.0.1:${port}`, retries: 0, read_timeout: READ_TIMEOUT, routes: [{ name: 'r', paths: ['/'] }] }],
      },
    });
  });
  after(async () => {
    await gw?.stop();
    for (const res of open) res.destroy();
    await new Promise<void>((r) => upstream?.close(() => r()));
  });

  it(`a hanging upstream is answered 504 after ${READ_TIMEOUT} ms, within the next 200 ms`, async () => {
    // Two in turn: the second one runs on a warm sweep, the first starts it.
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      const res = await request(`${gw.proxyUrl}/hang`, { timeoutMs: 10_000 });
      const took = performance.now() - t0;
      assert.equal(res.status, 504);
      assert.ok(took >= READ_TIMEOUT, `answered after ${Math.round(took)} ms, before read_timeout`);
      assert.ok(took < READ_TIMEOUT + 200, `answered after ${Math.round(took)} ms: read_timeout ${READ_TIMEOUT} overshot`);
    }
  });

  it('a body dripping with gaps under read_timeout is relayed whole', async () => {
    const t0 = performance.now();
    const res = await request(`${gw.proxyUrl}/drip`, { timeoutMs: 15_000 });
    const took = performance.now() - t0;
    assert.equal(res.status, 200);
    assert.equal(res.text, 'drip1;drip2;drip3;end');
    assert.ok(took > READ_TIMEOUT * 2, `the drip took ${Math.round(took)} ms: it must outlast read_timeout to prove anything`);
  });

  it('a client too slow to take the response stops the clock: the upstream is paused for it, not silent', async () => {
    const sock = connect(gw.proxyPort, '127.0.0.1');
    let bytes = 0;
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => (bytes += d.length));
    sock.pause();
    sock.write('GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    // Longer than read_timeout, shorter than send_timeout (60 s) and uWS's own cut (~10 s).
    await new Promise((r) => setTimeout(r, READ_TIMEOUT * 2));
    sock.resume();
    await closed;
    assert.ok(bytes > BIG, `got ${bytes} bytes: the response was cut while the client was paused`);
  });
});
