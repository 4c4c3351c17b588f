// Regressions from the second review of issue #10's proxy: how upstream responses of unusual
// shapes reach the client — interim 1xx, a head whose body comes late, several Connection
// headers, a 204 with Content-Length, and write_timeout once the upstream has answered.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startRawServer, type RawServer } from '../helpers/raw-server';
import { parseRawResponse, rawExchange } from '../helpers/raw-http';
import { startGateway, type Gateway } from '../helpers/start-gateway';

/** A raw upstream: for each request head on a connection it runs `answer(sock, head)` (bodiless requests, except the last case, which pauses the socket). */
function rawUpstream(answer: (sock: Socket, head: string) => void): Promise<RawServer> {
  return startRawServer((sock) => {
    let buf = '';
    sock.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      // The gateway keeps upstream connections alive: answer every head that arrives.
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0 && !sock.isPaused(); end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        answer(sock, head);
      }
    });
  });
}

describe('issue #10 review 2: upstream response shapes', () => {
  let up: RawServer;
  let gw: Gateway;
  /** Sends the body of a /late-body response that the upstream holds until the test says so. */
  const lateBodies: Array<() => void> = [];

  before(async () => {
    up = await rawUpstream((sock, head) => {
      const path = head.split(' ')[1];
      if (path === '/early-hints') {
        sock.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n');
        setTimeout(() => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'), 50);
      } else if (path === '/late-body') {
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Late: 1\r\n\r\n');
        lateBodies.push(() => sock.write('hello'));
      } else if (path === '/two-connection') {
        sock.write('HTTP/1.1 200 OK\r\nConnection: X-A\r\nConnection: keep-alive, X-B\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\nContent-Length: 2\r\n\r\nok');
      } else if (path === '/no-content') {
        sock.write('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n');
      } else if (path === '/answers-without-reading') {
        // Answers at once and streams its body for a while; it never reads the request body.
        sock.pause();
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc');
        setTimeout(() => sock.write('def'), 500);
        setTimeout(() => sock.write('ghi'), 1000);
      }
    });
    const svc = { name: 'raw', url: `http://127.0.0.1:${up.port}`, retries: 0, write_timeout: 200, routes: [{ name: 'raw', paths: ['/'], strip_path: false }] };
    gw = await startGateway({ config: { _format_version: '3.0', services: [svc] } });
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  it('skips interim 1xx responses and relays the final one', async () => {
    const res = await rawExchange(gw.proxyPort, 'GET /early-hints HTTP/1.1\r\nHost: a\r\n\r\n', { until: 'response', timeoutMs: 3000 });
    assert.equal(res.status, 200, res.data.toString());
    assert.equal(res.body.toString(), 'hello');
    assert.doesNotMatch(res.data.toString(), /103/);
  });

  it('sends a known-length head as soon as it arrives, before a late body', async () => {
    // The upstream sends the body only once the client has the whole head: a gateway that held
    // the head for the first body bytes never delivers it, and the wait below times out.
    const bodiesBefore = lateBodies.length;
    const data = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let released = false;
      const s = connect(gw.proxyPort, '127.0.0.1', () => s.write('GET /late-body HTTP/1.1\r\nHost: a\r\n\r\n'));
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`no complete ${released ? 'response' : 'head before the body'} within 5 s: ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`));
      }, 5000);
      s.on('data', (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (!released && all.includes('\r\n\r\n')) {
          released = true;
          assert.equal(lateBodies.length, bodiesBefore + 1, 'the upstream holds one late body');
          (lateBodies.at(-1) as () => void)();
        }
        if (parseRawResponse(all).complete) {
          clearTimeout(timer);
          s.destroy();
          resolve(all);
        }
      });
      s.on('error', reject);
    });
    const res = parseRawResponse(data);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-late'], '1');
    assert.equal(res.body.toString(), 'hello');
  });

  it('drops every name listed in any of several Connection headers', async () => {
    const res = await rawExchange(gw.proxyPort, 'GET /two-connection HTTP/1.1\r\nHost: a\r\n\r\n', { until: 'response' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-a'], undefined);
    assert.equal(res.headers['x-b'], undefined);
    assert.equal(res.headers['x-c'], '3');
  });

  it('sends a 204 without Content-Length', async () => {
    const res = await rawExchange(gw.proxyPort, 'GET /no-content HTTP/1.1\r\nHost: a\r\n\r\n', { until: 'response', timeoutMs: 2000 });
    assert.equal(res.status, 204);
    assert.equal(res.headers['content-length'], undefined);
  });

  it('an upstream that answered is not cut by write_timeout while it ignores the rest of the body', async () => {
    const data = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      // Cleared once settled: a pending timer would keep this file's process alive for its length.
      const timer = setTimeout(() => reject(new Error('no complete response')), 8000);
      const done = (b: Buffer): void => {
        clearTimeout(timer);
        resolve(b);
      };
      const s = connect(gw.proxyPort, '127.0.0.1', () => {
        s.write('POST /answers-without-reading HTTP/1.1\r\nHost: a\r\nContent-Length: 33554432\r\n\r\n');
        const block = Buffer.alloc(64 * 1024, 0x61);
        for (let i = 0; i < 512; i++) s.write(block);
      });
      s.on('data', (c: Buffer) => {
        chunks.push(c);
        if (parseRawResponse(Buffer.concat(chunks)).complete) {
          s.destroy();
          done(Buffer.concat(chunks));
        }
      });
      s.on('error', reject);
      s.on('close', () => done(Buffer.concat(chunks)));
    });
    const res = parseRawResponse(data);
    assert.equal(res.status, 200, data.toString('latin1').slice(0, 300));
    assert.equal(res.body.toString(), 'abcdefghi', 'the whole body arrived (write_timeout 200 ms < 1 s of streaming)');
  });
});
