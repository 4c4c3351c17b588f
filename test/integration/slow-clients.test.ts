/**
 * send_timeout (nginx's, Kong's `nginx_http_send_timeout`): a client that stops reading a proxied
 * response is disconnected once it has taken no bytes for that long, and the upstream request
 * behind it is aborted; clients that read keep being served meanwhile.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { listenLocal } from '../helpers/ports';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { waitFor } from '../helpers/wait';

const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const TOTAL = 256 * 1024 * 1024;

/** How each upstream response ended: `finished` (all bytes written) or `aborted` (the gateway hung up first). */
interface Ended { path: string; how: 'finished' | 'aborted' }

/**
 * `/big` streams TOTAL bytes with Content-Length, `/chunked` the same without it; both honour
 * backpressure, so a stalled gateway stalls them. `/small` answers 1 KiB.
 */
function startUpstream(ended: Ended[]): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/small') {
      res.end(Buffer.alloc(1024, 0x62));
      return;
    }
    res.writeHead(200, path === '/big' ? { 'content-length': TOTAL } : {});
    let sent = 0;
    let done = false;
    res.on('close', () => {
      if (!done) ended.push({ path, how: 'aborted' });
    });
    const pump = (): void => {
      while (sent < TOTAL) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) {
          res.once('drain', pump);
          return;
        }
      }
      done = true;
      ended.push({ path, how: 'finished' });
      res.end();
    };
    pump();
  });
  return listenLocal(server).then((port) => ({ server, port }));
}

/** A client that sends one request and then reads nothing: its socket stays paused. */
function stalledClient(port: number, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.pause();
      sock.write(`GET ${path} HTTP/1.1\r\nHost: slow.test\r\n\r\n`);
      resolve(sock);
    });
    sock.on('error', reject);
  });
}

/** Reads what is left on a socket until it closes; resolves with the byte count. */
function drain(sock: Socket): Promise<number> {
  return new Promise((resolve) => {
    let n = 0;
    sock.on('data', (d: Buffer) => (n += d.length));
    sock.on('error', () => undefined);
    sock.on('close', () => resolve(n));
    sock.resume();
  });
}

describe('send_timeout: slow readers are disconnected', () => {
  const ended: Ended[] = [];
  let upstream: Server;
  let gw: Gateway;

  before(async () => {
    const up = await startUpstream(ended);
    upstream = up.server;
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        hyperway: { send_timeout: '1s' },
        services: [{ name: 'up', url: `http://127.0.0.1:${up.port}`, read_timeout: 60_000, routes: [{ name: 'r', paths: ['/'] }] }],
      },
    });
  });
  after(async () => {
    await gw?.stop();
    upstream?.closeAllConnections();
    await new Promise<void>((r) => upstream?.close(() => r()));
  });

  for (const path of ['/big', '/chunked']) {
    it(`${path}: the stalled client is cut and the upstream request aborted; a reading client is served meanwhile`, async () => {
      const t0 = Date.now();
      const sock = await stalledClient(gw.proxyPort, path);
      try {
        // The cut reaches the upstream as an aborted response, long before it could have sent TOTAL bytes.
        const cut = await waitFor(`the upstream's ${path} response to be aborted`, () => ended.find((e) => e.path === path), { timeoutMs: 15_000 });
        assert.equal(cut.how, 'aborted');
        // uWS itself drops a connection that takes nothing for about 10 s: the 1 s setting must act well before.
        const took = Date.now() - t0;
        assert.ok(took < 6000, `cut after ${took} ms: send_timeout 1s did not act (uWS's own idle cut comes at ~10 s)`);
        const small = await request(`${gw.proxyUrl}/small`);
        assert.equal(small.status, 200);
        assert.equal(small.body.length, 1024);
        const received = await drain(sock);
        assert.ok(received < TOTAL, `the client got ${received} bytes of ${TOTAL} and then the connection closed`);
      } finally {
        sock.destroy();
      }
    });
  }
});
