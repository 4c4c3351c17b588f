/**
 * Debian's slowhttptest against the real gateway (2 workers), its three slow-client attacks at
 * once for a few seconds each, with the deadlines set low: slow body (-B, R-U-Dead-Yet) is cut by
 * client_body_timeout, slow read (-X) by send_timeout, and slowloris (-H) by uWS 20.30's own
 * cut of a connection whose request head is not complete 8–12 s after it opened (the gateway
 * sees no partial head). Meanwhile a normal client keeps getting 200s. Asserted from
 * slowhttptest's own statistics (-g: a CSV row per second: closed, pending, connected, and
 * whether its probe request was served).
 *
 * Under CI the binary must be there (.ci/run installs it): missing, the test fails.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { listenLocal } from '../helpers/ports';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { streamRepeated } from '../helpers/upstream-large';

const BINARY = 'slowhttptest';
const available = spawnSync(BINARY, ['-h'], { stdio: 'ignore' }).error === undefined;
const CONNECTIONS = 12;
const BODY_TIMEOUT_MS = 1000;
const SEND_TIMEOUT_MS = 1000;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
/** Far more than the socket buffers between the upstream, the gateway and a client hold. */
const BIG = 256 * 1024 * 1024;

/** One row of slowhttptest's CSV: the second, and the connection counts at that second. */
interface Row { s: number; closed: number; pending: number; connected: number; available: boolean }

function parseCsv(text: string): Row[] {
  const rows: Row[] = [];
  for (const line of text.trim().split('\n').slice(1)) {
    const [s, closed, pending, connected, avail] = line.split(',').map((x) => x.trim());
    rows.push({ s: Number(s), closed: Number(closed), pending: Number(pending), connected: Number(connected), available: Number(avail) > 0 });
  }
  return rows;
}

interface Run { rows: Row[]; out: string }

/** The second slowhttptest stopped at, when it stopped because every connection was closed; else null. */
function allClosedAt(r: Run): number | null {
  const out = r.out.replace(/\x1b\[[0-9;]*m/g, '');
  const ended = /Test ended on (\d+)\w* second/.exec(out);
  return ended !== null && out.includes('No open connections left') ? Number(ended[1]) : null;
}

/** Runs slowhttptest with `args` and returns its per-second rows and its report. */
function slowhttptest(dir: string, name: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const prefix = join(dir, name);
    const child = spawn(BINARY, [...args, '-g', '-o', prefix, '-c', String(CONNECTIONS), '-r', String(CONNECTIONS), '-p', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', () => {
      try {
        resolve({ rows: parseCsv(readFileSync(`${prefix}.csv`, 'utf8')), out });
      } catch (e) {
        reject(new Error(`${name}: no CSV (${(e as Error).message}); output:\n${out}`));
      }
    });
  });
}

describe('slowhttptest: slow clients are cut within their deadlines while others are served', { skip: available || process.env.CI ? false : 'slowhttptest is not installed (apt-get install slowhttptest; under CI the test fails instead)' }, () => {
  let upstream: Server;
  let gw: Gateway;
  let dir: string;
  const bigAborted: number[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hyperway-slowhttptest-'));
    upstream = createServer((req, res) => {
      req.resume();
      if (req.url !== '/big') {
        req.on('end', () => res.end('ok'));
        return;
      }
      // Streamed with backpressure: a stalled client stalls it, and a cut aborts it.
      res.writeHead(200, { 'content-length': BIG });
      const progress = { downloadSent: 0 };
      res.on('close', () => {
        if (progress.downloadSent < BIG) bigAborted.push(Date.now());
      });
      streamRepeated(res, BIG, CHUNK, progress);
    });
    const port = await listenLocal(upstream);
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        hyperway: { client_body_timeout: `${BODY_TIMEOUT_MS}ms`, send_timeout: `${SEND_TIMEOUT_MS}ms` },
        services: [{ name: 'up', url: `http://127.0.0.1:${port}`, routes: [{ name: 'r', paths: ['/'], strip_path: false }] }],
      },
    });
  });
  after(async () => {
    await gw?.stop();
    upstream?.closeAllConnections();
    await new Promise<void>((r) => upstream?.close(() => r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('slowloris (-H), slow body (-B) and slow read (-X) at once: every slow connection is closed, normal requests all get 200', async () => {
    assert.ok(available, `${BINARY} is not installed`);
    const url = `${gw.proxyUrl}/small`;
    const t0 = Date.now();
    // A normal client throughout: a request every 100 ms on a fresh connection.
    let stop = false;
    const statuses: number[] = [];
    const normal = (async () => {
      while (!stop) {
        const r = await request(url, { timeoutMs: 5000 }).catch(() => ({ status: 0 }));
        statuses.push(r.status);
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const [headers, body, read] = await Promise.all([
      // A header line every 2 s: the head never completes.
      slowhttptest(dir, 'slow-headers', ['-H', '-u', url, '-i', '2', '-l', '16']),
      // A body piece every 3 s: past client_body_timeout after the first.
      slowhttptest(dir, 'slow-body', ['-B', '-u', url, '-i', '3', '-s', '100000', '-l', '8']),
      // Reads 5 bytes every 3 s of a 4 MiB response through a tiny window: past send_timeout.
      slowhttptest(dir, 'slow-read', ['-X', '-u', `${gw.proxyUrl}/big`, '-n', '3', '-z', '5', '-w', '1', '-y', '64', '-l', '8']),
    ]);
    stop = true;
    await normal;
    // Every attack got its connections open first.
    for (const r of [headers, body, read]) assert.ok(r.rows.some((row) => row.connected === CONNECTIONS), JSON.stringify(r.rows));
    // Slow body: client_body_timeout (1 s) cut all of them right after the first gap, long before uWS's own cut.
    const bodyEnd = allClosedAt(body);
    assert.ok(bodyEnd !== null && bodyEnd <= 3, `slow body: ${bodyEnd === null ? 'connections left open' : `last closed at ${bodyEnd} s`}\n${body.out}`);
    // Slowloris: the gateway never sees a partial head; uWS 20.30 closes it 8–12 s after the connection opened.
    const headersEnd = allClosedAt(headers);
    assert.ok(headersEnd !== null && headersEnd <= 13, `slowloris: ${headersEnd === null ? 'connections left open' : `last closed at ${headersEnd} s`}\n${headers.out}`);
    // Slow read: each stalled response was cut by send_timeout, which aborts its upstream response
    // (the client itself only sees the close once it has read what its buffers hold).
    assert.ok(bigAborted.length >= CONNECTIONS, `${bigAborted.length} slow-read responses aborted`);
    const cutWithin = bigAborted.slice(0, CONNECTIONS).map((t) => t - t0);
    assert.ok(Math.max(...cutWithin) < 6000, `slow reads cut after ${cutWithin.join(', ')} ms`);
    assert.ok(statuses.length > 50, `only ${statuses.length} normal requests ran`);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], 'every normal request got a 200');
  });
});
