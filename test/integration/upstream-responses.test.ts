/**
 * What the gateway does with what upstreams answer, or fail to: a service host that does not
 * resolve, a response that is not HTTP, a body shorter than its Content-Length, and a chunked
 * body streamed to a client that stops reading for a while.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { dechunk, parseRawResponse, rawExchange } from '../helpers/raw-http';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { patternBytes, sha256, startScriptedServer, type ScriptedServer } from '../helpers/scripted-upstream';
import { waitFor } from '../helpers/wait';

const SHORT = { announced: 100_000, sent: 5_000 } as const;
/** Far more than every socket buffer between upstream and client can hold (a few MiB each). */
const STREAM_BYTES = 64 * 1024 * 1024;

describe('upstream responses', () => {
  let garbage: ScriptedServer;
  let garbage2: ScriptedServer;
  let short: ScriptedServer;
  let chunked: ScriptedServer;
  const streamed = { written: 0, done: false };
  let streamBody: Buffer;
  let gw: Gateway;

  before(async () => {
    streamBody = patternBytes(STREAM_BYTES, 3);
    const notHttp = (): Promise<ScriptedServer> =>
      startScriptedServer((_req, sock) => sock.write('SSH-2.0-OpenSSH_9.6 this is not an HTTP response\r\n\r\n'));
    [garbage, garbage2] = await Promise.all([notHttp(), notHttp()]);
    short = await startScriptedServer((_req, sock) => {
      sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${SHORT.announced}\r\n\r\n`);
      // Then a clean close (FIN), not a reset: the upstream simply stops short.
      sock.write(Buffer.alloc(SHORT.sent, 0x61), () => sock.end());
    });
    chunked = await startScriptedServer((_req, sock) => {
      streamed.written = 0;
      streamed.done = false;
      sock.write('HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked\r\n\r\n');
      let i = 0;
      const pump = (): void => {
        while (streamed.written < STREAM_BYTES) {
          // Uneven chunk sizes, so a lost, repeated or re-framed chunk changes the body.
          const n = Math.min(64 * 1024 + (i++ % 97), STREAM_BYTES - streamed.written);
          const piece = streamBody.subarray(streamed.written, streamed.written + n);
          streamed.written += n;
          sock.write(`${n.toString(16)}\r\n`);
          sock.write(piece);
          if (!sock.write('\r\n')) {
            sock.once('drain', pump);
            return;
          }
        }
        sock.write('0\r\n\r\n');
        streamed.done = true;
      };
      pump();
    });
    const at = (port: number): string => `http://127.0.0.1:${port}`;
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [
          { name: 'dns', host: 'does-not-exist.invalid', port: 80, retries: 5, routes: [{ name: 'dns', paths: ['/dns'] }] },
          { name: 'garbage', host: 'two-garbage', port: 80, retries: 5, routes: [{ name: 'garbage', paths: ['/garbage'] }] },
          { name: 'short', url: at(short.port), retries: 5, routes: [{ name: 'short', paths: ['/short'] }] },
          { name: 'chunked', url: at(chunked.port), read_timeout: 30000, routes: [{ name: 'chunked', paths: ['/chunked'] }] },
        ],
        upstreams: [{ name: 'two-garbage', targets: [{ target: `127.0.0.1:${garbage.port}` }, { target: `127.0.0.1:${garbage2.port}` }] }],
      },
    });
  });

  after(async () => {
    await gw?.stop();
    await Promise.all([garbage?.close(), garbage2?.close(), short?.close(), chunked?.close()]);
  });

  it('answers 503 "name resolution failed" when the service host does not resolve', async () => {
    const res = await request(`${gw.proxyUrl}/dns/x`);
    assert.equal(res.status, 503, res.text);
    assert.equal(res.json<{ message: string }>().message, 'name resolution failed');
    const plain = await request(`${gw.proxyUrl}/dns/x`, { headers: { accept: 'text/plain' } });
    assert.equal(plain.status, 503);
    assert.match(plain.text, /^name resolution failed\nrequest_id: [0-9a-f]{32}\n$/);
  });

  it('answers 502 to a response that is not HTTP, and never retries it', async () => {
    const tries = (): number => garbage.heads() + garbage2.heads();
    for (let i = 0; i < 4; i++) {
      const before = tries();
      const res = await request(`${gw.proxyUrl}/garbage/${i}`);
      assert.equal(res.status, 502, res.text);
      assert.ok(res.text.startsWith('An invalid response was received from the upstream server'), res.text);
      assert.equal(tries() - before, 1, 'the upstream answered (badly): no second try with retries: 5');
    }
  });

  it('never passes off a body shorter than its Content-Length as complete', async () => {
    for (let i = 0; i < 3; i++) {
      const before = short.heads();
      const res = await rawExchange(gw.proxyPort, `GET /short/${i} HTTP/1.1\r\nHost: client.test\r\n\r\n`, { until: 'close', timeoutMs: 5000 });
      assert.ok(res.closed, 'the gateway closes the client connection instead of leaving it waiting for the rest');
      assert.equal(res.complete && res.status === 200, false, `a short body arrived as a complete 200 (${res.body.length} bytes)`);
      if (res.status === 200) {
        assert.equal(res.headers['content-length'], String(SHORT.announced), 'the head announces the upstream length');
        assert.ok(res.body.length <= SHORT.sent, `${res.body.length} body bytes, the upstream sent ${SHORT.sent}`);
      } else {
        assert.equal(res.status, 502, 'the only other honest answer is a 502 before any byte of the head');
      }
      assert.equal(short.heads() - before, 1, 'the request was not retried once the upstream answered');
    }
  });

  it('streams a chunked response to a client that stops reading, complete and intact once it reads', { timeout: 60000 }, async () => {
    const sock = connect({ port: gw.proxyPort, host: '127.0.0.1' });
    sock.pause(); // read nothing until the upstream has been held back
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    sock.write('GET /chunked/stream HTTP/1.1\r\nHost: client.test\r\n\r\n');
    // Wait until the upstream is held back: its written count stops moving.
    let last = -1;
    let still = 0;
    await waitFor(
      'the upstream to be held back by the client that does not read',
      () => {
        still = streamed.written === last && streamed.written > 0 ? still + 1 : 0;
        last = streamed.written;
        return still >= 5 || streamed.done;
      },
      { timeoutMs: 20000, intervalMs: 100 },
    );
    assert.equal(streamed.done, false, 'the upstream wrote the whole body while the client read nothing: no backpressure');
    assert.ok(streamed.written < STREAM_BYTES, `upstream wrote ${streamed.written} of ${STREAM_BYTES}`);

    const chunks: Buffer[] = [];
    const data = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the response did not complete within 30 s')), 30000);
      sock.on('data', (c: Buffer) => {
        chunks.push(c);
        // Parse only when the data ends like the last chunk (body bytes may too, rarely), not per read.
        const tail = Buffer.concat(chunks.slice(-2));
        if (tail.subarray(-5).toString('latin1') !== '0\r\n\r\n') return;
        const all = Buffer.concat(chunks);
        if (!parseRawResponse(all).complete) return;
        clearTimeout(timer);
        resolve(all);
      });
      sock.once('close', () => {
        clearTimeout(timer);
        reject(new Error(`connection closed after ${Buffer.concat(chunks).length} bytes`));
      });
      sock.resume();
    });
    sock.destroy();
    const res = parseRawResponse(data);
    assert.equal(res.status, 200);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    const headEnd = data.indexOf('\r\n\r\n');
    const body = dechunk(data.subarray(headEnd + 4));
    assert.ok(body.complete, 'the chunked body ends with its last chunk');
    assert.equal(body.body.length, STREAM_BYTES);
    assert.equal(sha256(body.body), sha256(streamBody), 'the body arrives byte for byte');
  });
});
