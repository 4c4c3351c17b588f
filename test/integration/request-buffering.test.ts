/**
 * A route's `request_buffering` (Kong's default true, nginx's proxy_request_buffering): a body
 * that arrives without a length is held whole before the upstream is contacted — in memory up
 * to client_body_buffer_size, beyond that in an unlinked temp file — and goes upstream with a
 * Content-Length, replayable on a retry. With `request_buffering: false` it streams, chunked,
 * as it arrives.
 */
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KeepAliveClient } from '../helpers/keep-alive-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { okJson, patternBytes, sha256, startScriptedServer, type ScriptedRequest, type ScriptedServer } from '../helpers/scripted-upstream';
import { waitFor } from '../helpers/wait';

interface Seen {
  length: number;
  sha: string;
  te: string | null;
  cl: string | null;
}

function chunk(b: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
}

/** `body` in chunked framing, pieces of `size` bytes. */
function chunked(body: Buffer, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < body.length; off += size) parts.push(chunk(body.subarray(off, off + size)));
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads the whole response on `s` (Content-Length framed JSON from okJson). */
function response(s: Socket): Promise<{ status: number; seen: Seen }> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      data = Buffer.concat([data, c]);
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = data.subarray(0, end).toString('latin1');
      const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? -1);
      if (data.length < end + 4 + len) return;
      s.off('data', onData);
      const status = Number(head.slice(9, 12));
      const text = data.subarray(end + 4, end + 4 + len).toString();
      // The gateway's own answers (502 …) are text: the assertion on the status names it.
      resolve({ status, seen: status === 200 ? (JSON.parse(text) as Seen) : ({ text } as unknown as Seen) });
    };
    s.on('data', onData);
    s.once('close', () => reject(new Error(`closed before a response: ${data.toString('latin1').slice(0, 200)}`)));
  });
}

/** The spill files a process holds open: `/tmp/hyperway-body-… (deleted)`. */
function spillFiles(pid: number): string[] {
  const out: string[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.includes('hyperway-body-')) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

describe('request_buffering', () => {
  let up: ScriptedServer;
  let reset: ScriptedServer;
  let gw: Gateway;
  let workers: number[];

  before(async () => {
    up = await startScriptedServer((req: ScriptedRequest, sock) =>
      okJson(sock, { length: req.body.length, sha: sha256(req.body), te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null } satisfies Seen),
    );
    reset = await startScriptedServer((_req, sock) => sock.resetAndDestroy());
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{
          name: 'up',
          url: `http://127.0.0.1:${up.port}`,
          routes: [
            { name: 'held', paths: ['/held'] },
            { name: 'streamed', paths: ['/streamed'], request_buffering: false },
          ],
        }, {
          // Two targets, round-robin per worker: of three requests over two workers, at least one starts on `reset`.
          name: 'replay',
          host: 'reset-then-good',
          port: 80,
          retries: 1,
          routes: [{ name: 'replay', paths: ['/replay'] }],
        }],
        upstreams: [{ name: 'reset-then-good', targets: [{ target: `127.0.0.1:${reset.port}` }, { target: `127.0.0.1:${up.port}` }] }],
      },
    });
    workers = (await gw.status()).workers.map((w) => w.pid);
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
    await reset?.close();
  });

  it('sends a chunked upload upstream with its Content-Length: small (memory) and 1 MiB (spilled), then serves the next request', async () => {
    const client = await KeepAliveClient.open(gw.proxyPort);
    try {
      for (const [n, piece] of [[3000, 700], [1024 * 1024 + 3, 65536]] as const) {
        // ASCII: KeepAliveClient writes strings.
        const body = Buffer.from(patternBytes(n, n).toString('base64').slice(0, n), 'latin1');
        client.write(`POST /held/${n} HTTP/1.1\r\nHost: client.test\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(body, piece).toString('latin1')}`);
        const res = await client.nextResponse(`the response to the ${n}-byte upload`);
        assert.equal(res.status, 200, res.body.toString());
        const seen = JSON.parse(res.body.toString()) as Seen;
        assert.deepEqual(seen, { length: n, sha: sha256(body), te: null, cl: String(n) });
      }
      client.write('GET /held/next HTTP/1.1\r\nHost: client.test\r\n\r\n');
      assert.equal((await client.nextResponse('the next response')).status, 200);
    } finally {
      client.destroy();
    }
  });

  it('holds a slow chunked upload until it is whole: the upstream sees nothing before, the spill file is unlinked and closed after', async () => {
    const before = up.heads();
    const s = await open(gw.proxyPort);
    try {
      const first = patternBytes(100 * 1024, 3);
      const last = patternBytes(5000, 4);
      s.write(Buffer.concat([Buffer.from('POST /held/slow HTTP/1.1\r\nHost: client.test\r\nTransfer-Encoding: chunked\r\n\r\n'), chunk(first)]));
      // Past client_body_buffer_size (8k) the body waits in a temp file that no directory lists.
      const files = await waitFor('a spill file in a worker', () => {
        const f = workers.flatMap(spillFiles);
        return f.length > 0 ? f : null;
      });
      assert.equal(files.length, 1, files.join());
      assert.match(files[0] as string, /\(deleted\)$/);
      assert.equal(up.heads(), before, 'the upstream was contacted before the body was whole');
      const res = response(s);
      s.write(Buffer.concat([chunk(last), Buffer.from('0\r\n\r\n')]));
      const { status, seen } = await res;
      assert.equal(status, 200);
      const body = Buffer.concat([first, last]);
      assert.deepEqual(seen, { length: body.length, sha: sha256(body), te: null, cl: String(body.length) });
      await waitFor('the spill file closed', () => workers.flatMap(spillFiles).length === 0);
    } finally {
      s.destroy();
    }
  });

  it('drops the spill file when the client goes away mid-upload, and never contacts the upstream', async () => {
    const before = up.heads();
    const s = await open(gw.proxyPort);
    s.write(Buffer.concat([Buffer.from('POST /held/gone HTTP/1.1\r\nHost: client.test\r\nTransfer-Encoding: chunked\r\n\r\n'), chunk(patternBytes(64 * 1024, 5))]));
    await waitFor('a spill file in a worker', () => workers.flatMap(spillFiles).length === 1);
    s.destroy();
    await waitFor('the spill file closed', () => workers.flatMap(spillFiles).length === 0);
    assert.equal(up.heads(), before);
  });

  it('replays a held body on a retry: a PUT the first target read whole and reset reaches the second intact', async () => {
    for (let i = 0; i < 3; i++) {
      for (const big of [false, true]) {
        const body = patternBytes(big ? 50_000 : 3000, 7 + i);
        const s = await open(gw.proxyPort);
        try {
          const res = response(s);
          s.write(Buffer.concat([Buffer.from(`PUT /replay/${i} HTTP/1.1\r\nHost: client.test\r\nTransfer-Encoding: chunked\r\n\r\n`), chunked(body, 4096)]));
          const { status, seen } = await res;
          assert.equal(status, 200, `request ${i} (${body.length} bytes): ${JSON.stringify(seen)}`);
          assert.deepEqual(seen, { length: body.length, sha: sha256(body), te: null, cl: String(body.length) });
        } finally {
          s.destroy();
        }
      }
    }
    assert.ok(reset.heads() >= 1, 'no request started on the resetting target');
  });

  it('with request_buffering: false, streams: the upstream gets the head before the body ends, chunked', async () => {
    const before = up.heads();
    const s = await open(gw.proxyPort);
    try {
      const first = patternBytes(2000, 6);
      s.write(Buffer.concat([Buffer.from('POST /streamed/x HTTP/1.1\r\nHost: client.test\r\nTransfer-Encoding: chunked\r\n\r\n'), chunk(first)]));
      await waitFor('the upstream to see the head', () => up.heads() === before + 1);
      const res = response(s);
      s.write('0\r\n\r\n');
      const { status, seen } = await res;
      assert.equal(status, 200);
      assert.deepEqual(seen, { length: first.length, sha: sha256(first), te: 'chunked', cl: null });
    } finally {
      s.destroy();
    }
  });
});

describe('client_body_buffer_size', () => {
  let up: ScriptedServer;
  let gw: Gateway;

  before(async () => {
    up = await startScriptedServer((req: ScriptedRequest, sock) => okJson(sock, { length: req.body.length, sha: sha256(req.body), te: null, cl: req.headers['content-length'] ?? null }));
    gw = await startGateway({
      env: { KONG_NGINX_HTTP_CLIENT_BODY_BUFFER_SIZE: '1k' },
      config: { _format_version: '3.0', services: [{ name: 'up', url: `http://127.0.0.1:${up.port}`, routes: [{ name: 'held', paths: ['/held'] }] }] },
    });
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  it("takes Kong's variable: with 1k, a 2 KiB chunked upload already waits in a spill file", async () => {
    const workers = (await gw.status()).workers.map((w) => w.pid);
    const s = await open(gw.proxyPort);
    try {
      const first = patternBytes(2048, 8);
      s.write(Buffer.concat([Buffer.from('POST /held/small HTTP/1.1\r\nHost: client.test\r\nTransfer-Encoding: chunked\r\n\r\n'), chunk(first)]));
      await waitFor('a spill file in a worker', () => workers.flatMap(spillFiles).length === 1);
      const res = response(s);
      s.write('0\r\n\r\n');
      const { status, seen } = await res;
      assert.equal(status, 200);
      assert.deepEqual(seen, { length: 2048, sha: sha256(first), te: null, cl: '2048' });
    } finally {
      s.destroy();
    }
  });
});
