// The bare prototype proxies every payload the stack bench sends, and the constant-rate generator completes what it schedules.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { planCpus } from '../lib/cpu-plan';
import { startPayloadUpstream } from '../lib/payload-upstream';
import { runRate } from '../lib/rate-gen';
import type { Target } from '../lib/target';
import { startBare } from '../lib/target-bare';
import type { UpstreamProcess } from '../lib/upstream-process';
import { BODY } from '../upstream';

let upstream: UpstreamProcess;
let bare: Target;

before(async () => {
  upstream = await startPayloadUpstream('0');
  bare = await startBare({ key: 'bare', name: 'bare', upstreamPort: upstream.port, plan: planCpus('one', 2), expectBody: BODY });
});

after(async () => {
  await bare?.stop();
  await upstream?.stop();
});

function send(path: string, method: string, body?: Buffer, chunked = false): Promise<{ status: number; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = chunked ? { 'transfer-encoding': 'chunked' } : {};
    const req = request(new URL(path, bare.url), { method, agent: false, timeout: 5000, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: Buffer.concat(parts) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body && chunked) {
      // Several writes: the body reaches the proxy in more than one piece.
      for (let i = 0; i < body.length; i += 8192) req.write(body.subarray(i, i + 8192));
      req.end();
    } else req.end(body);
  });
}

test('bare prototype: 64 B, 1 KiB and 64 KiB responses arrive whole', async () => {
  for (const [path, size] of [['/', 64], ['/1k', 1024], ['/64k', 65536]] as const) {
    const r = await send(path, 'GET');
    assert.equal(r.status, 200, path);
    assert.equal(r.bytes.length, size, path);
  }
  assert.equal((await send('/', 'GET')).bytes.toString(), BODY);
});

test('bare prototype: a 64 KiB upload reaches the upstream whole, with Content-Length and chunked', async () => {
  const body = Buffer.alloc(65536, 'u');
  for (const chunked of [false, true]) {
    const r = await send('/upload', 'POST', body, chunked);
    assert.equal(r.status, 200);
    assert.equal(r.bytes.toString().trim(), '65536', chunked ? 'chunked' : 'content-length');
  }
});

test('rate generator: every request due in the measured window completes, none counted twice', async () => {
  const port = Number(new URL(bare.url).port);
  const o = await runRate({ host: '127.0.0.1', port, path: '/1k', rate: 400, durationS: 0.5, warmupS: 0.25, connections: 4 });
  assert.equal(o.due, 200);
  assert.equal(o.completed, 200);
  assert.equal(o.errors + o.non2xx, 0);
  const count = (h: Array<[number, number]>): number => h.reduce((a, [, n]) => a + n, 0);
  assert.equal(count(o.service), 200);
  assert.equal(count(o.lag) + o.queued, 200, "each request either found a connection (its lag recorded) or waited for one");
});

test('rate generator: connections the target closes mid-run are replaced, and the run still ends with a result', async () => {
  // nginx's keepalive_requests in small: every connection is closed after its 5th response.
  const server = createServer((socket) => {
    let answered = 0;
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
        pending = pending.slice(end + 4);
        answered++;
        if (answered < 5) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        else {
          socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
          return;
        }
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const o = await runRate({ host: '127.0.0.1', port, path: '/', rate: 400, durationS: 0.5, warmupS: 0.25, connections: 4 });
    assert.ok(o.reconnects >= 20, `${o.reconnects} reconnects for ~300 requests at 5 per connection`);
    assert.equal(o.due, 200);
    assert.ok(o.completed >= 180, `${o.completed} of 200 completed (a request sent just as its connection closed is an error)`);
    assert.ok(o.wallMs < 5000, `the run ended on its own after ${Math.round(o.wallMs)} ms, not at the give-up timer`);
  } finally {
    server.close();
  }
});
