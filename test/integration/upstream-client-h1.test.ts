/**
 * upstream_client: hyperway — the own HTTP/1.1 client (src/worker/upstream-h1/) behind the real
 * gateway (2 workers), against scripted raw upstreams: every failure class, framing the client
 * must refuse, keep-alive reuse, backpressure, request bodies and bodiless responses.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { stringify } from 'yaml';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startScriptedServer, okJson, patternBytes, sha256, type ScriptedServer, type ScriptedRequest } from '../helpers/scripted-upstream';
import { startLargeBodyServer, startFaultServer, startBlackholeServer, PATTERN, type LargeBodyServer, type FaultServer, type BlackholeServer } from '../helpers/upstream';
import { rawExchange } from '../helpers/raw-http';
import { KeepAliveClient } from '../helpers/keep-alive-client';
import { request } from '../helpers/http-client';
import { closedPort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';

const READ_TIMEOUT = 400;
const BIG = 64 * 1024 * 1024;

/** POSTs `body` in 64 KiB writes (chunked without a Content-Length), waiting for 'drain'; the answer once it ends. */
function upload(url: string, body: Buffer, chunked: boolean): Promise<{ status: number; text: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(url, { method: 'POST', agent: false, headers: chunked ? {} : { 'content-length': String(body.length) } }, (res) => {
      answered = true;
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: Date.now() - t0 }));
      res.on('error', reject);
    });
    req.setTimeout(20000, () => req.destroy(new Error('upload timed out')));
    // Once answered, the gateway may close while the rest is still being written.
    req.on('error', (e) => (answered ? undefined : reject(e)));
    let off = 0;
    const pump = (): void => {
      while (off < body.length && !answered) {
        const n = Math.min(64 * 1024, body.length - off);
        const ok = req.write(body.subarray(off, off + n));
        off += n;
        if (!ok) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

/** The scripted upstream's answers, by path. */
function answer(req: ScriptedRequest, sock: Socket): void {
  const path = req.url.split('?')[0];
  switch (path) {
    case '/garbage': sock.write('SSH-2.0-OpenSSH_9.2\r\n\r\n'); return;
    case '/cl-te': sock.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'); return;
    case '/dup-cl': sock.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!'); return;
    case '/big-head': sock.write(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(2048)}\r\ncontent-length: 2\r\n\r\nok`); return;
    case '/cut':
      sock.write('HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n');
      sock.write(Buffer.alloc(1000, 0x61), () => sock.destroy());
      return;
    case '/chunk-cut':
      sock.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n400\r\n');
      sock.write(Buffer.alloc(1024, 0x61));
      sock.write('\r\n10\r\nabc', () => sock.destroy());
      return;
    case '/hang': return;
    case '/reset': sock.resetAndDestroy(); return;
    case '/head': sock.write('HTTP/1.1 200 OK\r\ncontent-length: 1234\r\ncontent-type: text/plain\r\n\r\n'); return;
    case '/204': sock.write('HTTP/1.1 204 No Content\r\nx-a: 1\r\n\r\n'); return;
    case '/304': sock.write('HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\netag: "x"\r\n\r\n'); return;
    case '/interim': sock.write('HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'); return;
    case '/chunked': sock.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-t: 1\r\n\r\n'); return;
    case '/until-close': sock.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end'); return;
    case '/echo': okJson(sock, { bytes: req.body.length, sha: sha256(req.body), chunked: req.chunked, contentLength: req.headers['content-length'] ?? null }); return;
    default: okJson(sock, { path, connection: req.headers.connection ?? null });
  }
}

describe('upstream_client: hyperway', () => {
  let gw: Gateway;
  let script: ScriptedServer;
  /** A connection that carried a request is closed by the upstream when it is reused (the keep-alive race). */
  let stale: ScriptedServer;
  /** Its own upstream, so its connection count is the reuse test's alone. */
  let reuse: ScriptedServer;
  let large: LargeBodyServer;
  let reset: FaultServer;
  let blackhole: BlackholeServer;
  let refusedPort: number;
  /** Stops reading each connection for a while after its first 256 KiB. */
  let stalling: ScriptedServer;
  let noRead: FaultServer;

  before(async () => {
    script = await startScriptedServer(answer);
    reuse = await startScriptedServer((req, sock) => okJson(sock, { path: req.url }));
    const answered = new WeakSet<Socket>();
    stale = await startScriptedServer((_req, sock) => {
      if (answered.has(sock)) {
        sock.destroy();
        return;
      }
      answered.add(sock);
      okJson(sock, { fresh: true });
    });
    large = await startLargeBodyServer();
    reset = await startFaultServer('reset-before-response');
    blackhole = await startBlackholeServer();
    refusedPort = await closedPort();
    stalling = await startScriptedServer(answer, { afterBytes: 256 * 1024, ms: 600 });
    noRead = await startFaultServer('no-read');
    const s = `http://127.0.0.1:${script.port}`;
    gw = await startGateway({
      env: { HYPERWAY_UPSTREAM_CLIENT: 'hyperway', HYPERWAY_PROXY_BUFFER_SIZE: '1k' },
      config: {
        _format_version: '3.0',
        upstreams: [
          { name: 'pair', targets: [{ target: `127.0.0.1:${refusedPort}` }, { target: `127.0.0.1:${script.port}` }] },
          { name: 'slowpair', targets: [{ target: `127.0.0.1:${blackhole.port}` }, { target: `127.0.0.1:${script.port}` }] },
        ],
        services: [
          { name: 'script', url: s, read_timeout: READ_TIMEOUT, retries: 5, routes: [{ name: 'script', paths: ['/s'] }] },
          { name: 'nobuf', url: s, routes: [{ name: 'nobuf', paths: ['/nobuf'], request_buffering: false }] },
          { name: 'reuse', url: `http://127.0.0.1:${reuse.port}`, routes: [{ name: 'reuse', paths: ['/reuse'] }] },
          { name: 'stale', url: `http://127.0.0.1:${stale.port}`, retries: 0, routes: [{ name: 'stale', paths: ['/stale'] }] },
          { name: 'large', url: `http://127.0.0.1:${large.port}`, routes: [{ name: 'large', paths: ['/large'] }] },
          { name: 'refused', url: `http://127.0.0.1:${refusedPort}`, retries: 0, routes: [{ name: 'refused', paths: ['/refused'] }] },
          { name: 'reset', url: `http://127.0.0.1:${reset.port}`, routes: [{ name: 'reset', paths: ['/reset'] }] },
          { name: 'pair', host: 'pair', retries: 5, routes: [{ name: 'pair', paths: ['/pair'] }] },
          { name: 'slowpair', host: 'slowpair', connect_timeout: 300, retries: 5, routes: [{ name: 'slowpair', paths: ['/slowpair'] }] },
          { name: 'blackhole', url: `http://127.0.0.1:${blackhole.port}`, connect_timeout: 300, retries: 0, routes: [{ name: 'blackhole', paths: ['/blackhole'] }] },
          { name: 'stalling', url: `http://127.0.0.1:${stalling.port}`, write_timeout: 5000, routes: [{ name: 'stalling', paths: ['/stalling'], request_buffering: false }] },
          { name: 'noread', url: `http://127.0.0.1:${noRead.port}`, write_timeout: 500, read_timeout: 30000, retries: 0, routes: [{ name: 'noread', paths: ['/noread'], request_buffering: false }] },
        ],
      },
    });
  });

  after(async () => {
    await gw?.stop();
    await Promise.all([script?.close(), reuse?.close(), stale?.close(), large?.close(), reset?.close(), blackhole?.close(), stalling?.close(), noRead?.close()]);
  });

  it('is the client in use: it sends no Connection header (undici sends keep-alive)', async () => {
    const r = await request(`${gw.proxyUrl}/s/which`);
    assert.equal(r.status, 200);
    assert.equal(r.json<{ connection: string | null }>().connection, null);
  });

  it('refused → 502; reset before the response → 502', async () => {
    assert.equal((await request(`${gw.proxyUrl}/refused`)).status, 502);
    assert.equal((await request(`${gw.proxyUrl}/reset`)).status, 502);
  });

  it('hang → 504 after read_timeout', async (t) => {
    const t0 = Date.now();
    const r = await request(`${gw.proxyUrl}/s/hang`, { method: 'POST', body: 'x' });
    const elapsed = Date.now() - t0;
    assert.equal(r.status, 504);
    assert.ok(elapsed >= READ_TIMEOUT - 20, `504 after ${elapsed} ms, before read_timeout ${READ_TIMEOUT} ms`);
    assert.ok(elapsed < READ_TIMEOUT + 2000, `504 after ${elapsed} ms`);
    t.diagnostic(`504 after ${elapsed} ms (read_timeout ${READ_TIMEOUT} ms)`);
  });

  it('garbage, Content-Length with chunked, differing lengths, a head over proxy_buffer_size: 502, never retried', async () => {
    for (const path of ['/garbage', '/cl-te', '/dup-cl', '/big-head']) {
      const before = script.heads();
      const r = await request(`${gw.proxyUrl}/s${path}`);
      assert.equal(r.status, 502, path);
      assert.doesNotMatch(r.text, /hello/, path);
      assert.equal(script.heads() - before, 1, `${path}: tries that reached the upstream`);
    }
  });

  it('a body cut mid-way (by length or between chunks) closes the client connection: never a complete response', async () => {
    for (const path of ['/cut', '/chunk-cut']) {
      const r = await rawExchange(gw.proxyPort, `GET /s${path} HTTP/1.1\r\nHost: x\r\n\r\n`, { timeoutMs: 5000 });
      assert.equal(r.status, 200, path);
      assert.equal(r.closed, true, path);
      assert.equal(r.complete, false, path);
      assert.ok(r.body.length >= 1000 && r.body.length < 100_000, `${path}: ${r.body.length} body bytes`);
    }
  });

  it('a refused target is retried on the next one', async () => {
    for (let i = 0; i < 6; i++) {
      const r = await request(`${gw.proxyUrl}/pair/p${i}`);
      assert.equal(r.status, 200);
      assert.equal(r.json<{ path: string }>().path, `/p${i}`);
    }
  });

  it('connect timeout → 504; a POST whose connect timed out is retried on the next target', async () => {
    assert.equal((await request(`${gw.proxyUrl}/blackhole`)).status, 504);
    for (let i = 0; i < 4; i++) {
      const r = await request(`${gw.proxyUrl}/slowpair/echo`, { method: 'POST', body: 'abc' });
      assert.equal(r.status, 200);
      assert.equal(r.json<{ bytes: number }>().bytes, 3);
    }
  });

  it('keeps one upstream connection for sequential requests of one client connection', async () => {
    const client = await KeepAliveClient.open(gw.proxyPort);
    try {
      for (let i = 0; i < 20; i++) {
        client.write(`GET /reuse/${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
        const r = await client.nextResponse(`response ${i}`);
        assert.equal(r.status, 200);
      }
    } finally {
      client.destroy();
    }
    assert.equal(reuse.heads(), 20);
    assert.equal(reuse.conns.length, 1);
  });

  it('replays a GET (never a POST) once on a fresh connection when the upstream closed the reused one (retries: 0)', async () => {
    const client = await KeepAliveClient.open(gw.proxyPort);
    try {
      for (let i = 0; i < 3; i++) {
        client.write(`GET /stale/${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
        assert.equal((await client.nextResponse(`response ${i}`)).status, 200);
      }
      // Requests 1 and 2 each found their kept connection closed and were replayed on a fresh one.
      assert.equal(stale.heads(), 5);
      assert.equal(stale.conns.length, 3);
      // A POST is never sent twice: the same close is a 502 (retries: 0).
      client.write('POST /stale/post HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
      assert.equal((await client.nextResponse('the POST')).status, 502);
      assert.equal(stale.heads(), 6);
    } finally {
      client.destroy();
    }
  });

  it('streams a large response to a slow client with backpressure, then delivers it whole', async () => {
    const sock = connect(gw.proxyPort, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.pause();
    sock.write(`GET /large/download?bytes=${BIG} HTTP/1.1\r\nHost: x\r\n\r\n`);
    // Stalled: no progress over five samples in a row (a second), well before the whole body.
    let last = -1;
    let still = 0;
    await waitFor('the upstream to stall', () => {
      const now = large.stats.downloadSent;
      still = now > 0 && now === last ? still + 1 : 0;
      last = now;
      return still >= 5;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    assert.ok(large.stats.downloadSent < BIG / 2, `the upstream sent ${large.stats.downloadSent} of ${BIG} bytes to a client that reads nothing`);
    let head = true;
    let bytes = 0;
    let ok = true;
    await new Promise<void>((resolve, reject) => {
      sock.on('data', (c: Buffer) => {
        if (head) {
          const end = c.indexOf('\r\n\r\n');
          if (end < 0) return reject(new Error('head split across reads'));
          head = false;
          c = c.subarray(end + 4);
        }
        for (let i = 0; i < c.length; i++) if (c[i] !== ((bytes + i) & 0xff)) ok = false;
        bytes += c.length;
        if (bytes >= BIG) resolve();
      });
      sock.on('close', () => resolve());
      sock.resume();
    });
    sock.destroy();
    assert.equal(bytes, BIG);
    assert.ok(ok, 'body bytes in order');
    assert.equal(PATTERN[1], 1);
  });

  it('request bodies: Content-Length and chunked, request_buffering on and off', async () => {
    const body = patternBytes(100 * 1024);
    const chunked = `${(60 * 1024).toString(16)}\r\n${body.subarray(0, 60 * 1024).toString('latin1')}\r\n${(40 * 1024).toString(16)}\r\n${body.subarray(60 * 1024).toString('latin1')}\r\n0\r\n\r\n`;
    for (const [prefix, buffered] of [['/s', true], ['/nobuf', false]] as const) {
      const cl = await request(`${gw.proxyUrl}${prefix}/echo`, { method: 'POST', body });
      assert.equal(cl.status, 200);
      assert.deepEqual(cl.json(), { bytes: body.length, sha: sha256(body), chunked: false, contentLength: String(body.length) });
      const r = await rawExchange(gw.proxyPort, Buffer.from(`POST ${prefix}/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`, 'latin1'), { until: 'response', timeoutMs: 5000 });
      assert.equal(r.status, 200, `${prefix}: ${r.body.toString()}`);
      // Buffered, a chunked upload goes out with its length; streamed, it stays chunked.
      assert.deepEqual(JSON.parse(r.body.toString()), { bytes: body.length, sha: sha256(body), chunked: !buffered, contentLength: buffered ? String(body.length) : null });
    }
  });

  it('streamed uploads (chunked and with a length) to an upstream that stops reading for a while: held back, then delivered whole', async () => {
    const body = patternBytes(12 * 1024 * 1024 + 3, 7);
    for (const chunked of [true, false]) {
      const before = stalling.stalls();
      const r = await upload(`${gw.proxyUrl}/stalling/echo`, body, chunked);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(JSON.parse(r.text), { bytes: body.length, sha: sha256(body), chunked, contentLength: chunked ? null : String(body.length) });
      assert.equal(stalling.stalls(), before + 1, 'the upstream stalled once during the upload');
      assert.ok(r.ms >= 500, `the upload waited out the upstream's stall (${r.ms} ms)`);
    }
  });

  it('a streamed chunked upload the upstream never reads: 504 after write_timeout, not read_timeout', async () => {
    const r = await upload(`${gw.proxyUrl}/noread/x`, patternBytes(32 * 1024 * 1024, 3), true);
    assert.equal(r.status, 504, r.text);
    // The TCP buffers fill first; then write_timeout (500 ms) runs, not read_timeout (30 s).
    assert.ok(r.ms < 15000, `504 after ${r.ms} ms`);
  });

  it('HEAD, 204, 304 and interim 1xx responses carry no body and keep the connection usable', async () => {
    // On a raw socket: the helper below would wait for the body Content-Length announces.
    for (const [method, path, pattern] of [['HEAD', '/head', /^HTTP\/1\.1 200 OK\r\n[^]*\r\nContent-Length: 1234\r\n/i], ['GET', '/304', /^HTTP\/1\.1 304 Not Modified\r\n/]] as const) {
      const sock = connect(gw.proxyPort, '127.0.0.1');
      let got = '';
      sock.on('data', (c: Buffer) => (got += c.toString('latin1')));
      const first = script.heads();
      sock.write(`${method} /s${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await waitFor(`the ${method} ${path} head`, () => got.endsWith('\r\n\r\n'));
      assert.match(got, pattern);
      const headLength = got.length;
      sock.write('GET /s/which HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor('the next response', () => got.includes('"path":"/which"'));
      assert.match(got.slice(headLength), /^HTTP\/1\.1 200 OK\r\n/, `${method} ${path}: nothing between the bodiless response and the next one`);
      // The next request went out on the same upstream connection: the bodiless response left it clean.
      assert.equal(script.headLog[first + 1], script.headLog[first], `${method} ${path}: upstream connection reused`);
      sock.destroy();
    }
    const client = await KeepAliveClient.open(gw.proxyPort);
    const first = script.heads();
    try {
      for (const [path, status] of [['/204', 204], ['/interim', 200], ['/chunked', 200], ['/which', 200]] as const) {
        client.write(`GET /s${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
        const r = await client.nextResponse(path);
        assert.equal(r.status, status, path);
        if (path === '/interim') assert.equal(r.body.toString(), 'ok');
        if (path === '/chunked') assert.equal(r.body.toString(), 'hello world');
        if (status !== 200) assert.equal(r.body.length, 0, path);
        assert.equal(script.headLog[script.heads() - 1], script.headLog[first], `${path}: upstream connection reused`);
      }
    } finally {
      client.destroy();
    }
    const r = await request(`${gw.proxyUrl}/s/until-close`);
    assert.equal(r.status, 200);
    assert.equal(r.text, 'until the end');
  });
});

describe('upstream_client across a reload', () => {
  let gw: Gateway;
  let up: ScriptedServer;
  /** Responses the upstream holds until the test releases them. */
  const held: Socket[] = [];

  /** No client named: the default, which is the own one. */
  const config = (client?: string): object => ({
    _format_version: '3.0',
    ...(client === undefined ? {} : { hyperway: { upstream_client: client } }),
    services: [{ name: 'up', url: `http://127.0.0.1:${up.port}`, routes: [{ name: 'up', paths: ['/'] }] }],
  });

  async function reloadTo(client: string): Promise<void> {
    const version = (await gw.status()).config_version + 1;
    writeFileSync(gw.configPath, stringify(config(client)));
    gw.child.kill('SIGHUP');
    await waitFor(`both workers on version ${version}`, async () => (await gw.status()).workers.every((w) => w.config_version === version), { timeoutMs: 10_000 });
  }

  const connectionHeader = async (): Promise<string | null> => {
    const r = await request(`${gw.proxyUrl}/which`);
    assert.equal(r.status, 200);
    return r.json<{ connection: string | null }>().connection;
  };

  before(async () => {
    up = await startScriptedServer((req, sock) => {
      if (req.url === '/held') held.push(sock);
      else okJson(sock, { connection: req.headers.connection ?? null });
    });
    gw = await startGateway({ config: config() });
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  it('the own client is the default; a reload switches the client; a request in flight on the retired pool completes', async () => {
    assert.equal(await connectionHeader(), null, 'no upstream_client set: the own client (no Connection header)');
    const inFlight = request(`${gw.proxyUrl}/held`, { timeoutMs: 15_000 });
    await waitFor('the held request at the upstream', () => held.length === 1);
    await reloadTo('undici');
    assert.equal(await connectionHeader(), 'keep-alive');
    held[0].write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nheld');
    const r = await inFlight;
    assert.equal(r.status, 200);
    assert.equal(r.text, 'held');
    await reloadTo('hyperway');
    assert.equal(await connectionHeader(), null);
  });
});
