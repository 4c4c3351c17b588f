/**
 * Many slow readers at once: 1,000 clients each ask for an 8 MiB response and read nothing. With
 * backpressure from the client socket through uWS to the upstream, every exchange stalls with at
 * most a few chunks in the worker, so the workers' resident memory stays within a fixed budget
 * (without it, most of the 8 GiB the upstreams are ready to send would pile up in the workers).
 *
 * 1,000 connections (2,000 sockets through the gateway: client and upstream side) are opened in
 * batches of 100 so the 2-core CI box's listen backlogs never overflow; the whole test takes a
 * few seconds. The measurement is taken while every response is stalled, before uWS's own ~10 s
 * idle cut or send_timeout could close anything. It puts the kernel under TCP memory pressure
 * for those seconds (the client-side socket buffers of 1,000 stalled responses).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { listenLocal } from '../helpers/ports';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { waitFor } from '../helpers/wait';

const CLIENTS = 1000;
const BATCH = 100;
const TOTAL = 8 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
/**
 * Growth allowed over the idle workers, both together: under a third of a MiB per stalled
 * exchange (0.18–0.21 measured on the 2-core box: a 64 KiB chunk or two held by uWS and undici
 * per connection, plus the allocator's slack). A worker that ignored backpressure went past it
 * within the first few hundred connections (652 MiB when the sample failed).
 */
const BUDGET_MIB = 320;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `VmRSS of ${pid}`);
  return Number(m[1]) / 1024;
}

interface Upstream { server: Server; port: number; arrived: number; stalled: Set<number>; finished: number; open: number }

/** Each response: TOTAL bytes with Content-Length, written only as the gateway takes them. */
function startUpstream(): Promise<Upstream> {
  const up: Upstream = { server: createServer(), port: 0, arrived: 0, stalled: new Set(), finished: 0, open: 0 };
  up.server.on('connection', (sock) => {
    up.open++;
    sock.on('close', () => up.open--);
  });
  up.server.on('request', (_req, res) => {
    const id = up.arrived++;
    res.writeHead(200, { 'content-length': TOTAL });
    let sent = 0;
    const pump = (): void => {
      up.stalled.delete(id);
      while (sent < TOTAL) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) {
          up.stalled.add(id);
          res.once('drain', pump);
          return;
        }
      }
      up.finished++;
      res.end();
    };
    pump();
  });
  up.server.maxConnections = CLIENTS + 100;
  return listenLocal(up.server).then((port) => {
    up.port = port;
    return up;
  });
}

function stalledClient(port: number, i: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.pause();
      sock.write(`GET /slow/${i} HTTP/1.1\r\nHost: slow.test\r\n\r\n`);
      resolve(sock);
    });
    sock.on('error', reject);
  });
}

describe('1,000 slow readers', () => {
  let up: Upstream;
  let gw: Gateway;
  const clients: Socket[] = [];

  before(async () => {
    up = await startUpstream();
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'up', url: `http://127.0.0.1:${up.port}`, read_timeout: 60_000, routes: [{ name: 'r', paths: ['/'] }] }],
      },
    });
  });

  after(async () => {
    for (const c of clients) c.destroy();
    // Nothing graceful to check here; a worker that buffered must not get a drain period to grow.
    await gw?.stop('SIGKILL');
    up?.server.closeAllConnections();
    await new Promise<void>((r) => up?.server.close(() => r()));
  });

  it('keeps worker RSS within a fixed budget while every response is stalled', { timeout: 60_000 }, async (t) => {
    const pids = (await gw.status()).workers.map((w) => w.pid);
    assert.equal(pids.length, 2);
    const idle = pids.map(rssMiB).reduce((a, b) => a + b, 0);
    // Sampled throughout: a worker that buffers fails here before it can take the machine's memory.
    let peak = 0;
    const sample = (): void => {
      peak = Math.max(peak, pids.map(rssMiB).reduce((a, b) => a + b, 0));
      assert.ok(peak - idle < BUDGET_MIB, `workers grew by ${(peak - idle).toFixed(1)} MiB (budget ${BUDGET_MIB} MiB)`);
    };
    for (let i = 0; i < CLIENTS; i += BATCH) {
      const batch = await Promise.all(Array.from({ length: BATCH }, (_, j) => stalledClient(gw.proxyPort, i + j)));
      clients.push(...batch);
      await waitFor(`${i + BATCH} requests at the upstream`, () => up.arrived >= i + BATCH, { timeoutMs: 10_000, intervalMs: 10 });
      sample();
    }
    // Every response has filled the pipe to its client and the upstream waits on the gateway, or
    // was written whole: on loopback the kernel's autotuned socket buffers (up to tcp_wmem's 4 MiB
    // on the gateway's client side) can take much of a response (up to tcp_mem, 2.3 GB on the CI box); that memory is the kernel's, not
    // the worker's.
    await waitFor(`all ${CLIENTS} responses stalled or written`, () => {
      sample();
      return up.stalled.size + up.finished === CLIENTS;
    }, { timeoutMs: 10_000, intervalMs: 20 });
    for (let i = 0; i < 5; i++) {
      sample();
      await new Promise((r) => setTimeout(r, 100));
    }
    const grown = peak - idle;
    // The workers still serve. The stalled clients are all closed first: with their responses
    // held in socket buffers the kernel sits at tcp_mem's ceiling, where it aborts connections
    // itself (TCPAbortOnMemory, "TCP: out of memory" in dmesg) whichever client the gateway uses,
    // so a resumed stalled client could be cut by the kernel, not the gateway. Three new
    // clients then read a whole response each.
    for (const c of clients) c.destroy();
    await waitFor('every upstream connection closed', () => up.open === 0, { timeoutMs: 10_000, intervalMs: 50 });
    const fresh = await Promise.all([0, 1, 2].map((i) => stalledClient(gw.proxyPort, CLIENTS + i)));
    clients.push(...fresh);
    const read = await Promise.all(fresh.map((s) => new Promise<number>((resolve) => {
      let n = 0;
      s.on('data', (d: Buffer) => {
        n += d.length;
        if (n >= TOTAL) resolve(n);
      });
      s.on('close', () => resolve(n));
      s.resume();
    })));
    for (const n of read) assert.ok(n >= TOTAL, `a new client read ${n} bytes after the slow readers`);
    t.diagnostic(`worker RSS grew by ${grown.toFixed(1)} MiB with ${CLIENTS} slow readers (${up.stalled.size} stalled at the upstream)`);
  });
});
