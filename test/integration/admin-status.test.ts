import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway, type GatewayStatus } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { isAlive } from '../helpers/proc';
import { rawExchange } from '../helpers/raw-http';
import { KeepAliveClient } from '../helpers/keep-alive-client';
import { waitFor } from '../helpers/wait';

/** dist/test/integration → the repository's package.json: Hyperway's own version. */
const PACKAGE_VERSION = (JSON.parse(readFileSync(resolve(__dirname, '../../../package.json'), 'utf8')) as { version: string }).version;

interface NodeInfo {
  /** The Kong version Hyperway follows: Kong clients (decK) read it to pick their behaviour. */
  version: string;
  hyperway: { version: string };
  node_id: string;
  hostname: string;
  pids: { master: number; workers: number[] };
}

describe('Admin API status endpoints', () => {
  let echo: EchoServer;
  let gw: Gateway;
  /** Just before the gateway was started: bounds the uptime it reports. */
  let startedBefore: number;

  before(async () => {
    echo = await startEchoServer('echo');
    startedBefore = Date.now();
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'echo', url: `http://127.0.0.1:${echo.port}`, routes: [{ name: 'a', paths: ['/a'] }] }],
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await echo?.close();
  });

  it('GET / describes the node and its processes', async () => {
    const res = await gw.admin('/');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const info = res.json<NodeInfo>();
    assert.equal(info.version, '3.10.0');
    assert.equal(info.hyperway?.version, PACKAGE_VERSION);
    assert.match(info.node_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(info.hostname, hostname());
    assert.equal(info.pids.master, gw.child.pid);
    const st = await gw.status();
    assert.deepEqual([...info.pids.workers].sort(), st.workers.map((w) => w.pid).sort());
  });

  it('GET /status reports the config and every worker', async () => {
    const res = await gw.admin('/status');
    assert.equal(res.status, 200);
    const st = res.json<GatewayStatus>();
    assert.match(st.configuration_hash, /^[0-9a-f]{64}$/);
    // A fresh gateway, never reloaded: version 1 everywhere, no restart.
    assert.equal(st.config_version, 1);
    assert.equal(st.workers.length, 2);
    assert.deepEqual(st.workers.map((w) => w.id).sort(), [0, 1]);
    const upFor = (Date.now() - startedBefore) / 1000;
    for (const w of st.workers) {
      assert.equal(w.state, 'listening');
      assert.ok(isAlive(w.pid), `worker pid ${w.pid} is not a live process`);
      assert.notEqual(w.pid, gw.child.pid);
      assert.equal(w.restarts, 0);
      assert.equal(w.config_version, 1);
      assert.ok(Number.isInteger(w.uptime) && w.uptime >= 0 && w.uptime <= Math.ceil(upFor), `uptime ${w.uptime} s, started ${upFor} s ago`);
    }
  });

  it('counts the client connections each worker holds, from the kernel', async () => {
    const K = 6;
    // Every proxy connection of this gateway is one a test opened; the earlier ones are closed.
    await waitFor('no proxy connection open', async () => (await gw.status()).server.connections_active === 0, { timeoutMs: 5000 });
    const before = await gw.status();
    const clients = await Promise.all(Array.from({ length: K }, () => KeepAliveClient.open(gw.proxyPort)));
    try {
      // One request per connection: the worker that answers it holds that connection, which ties
      // the kernel's count per worker to the request counter of the same worker.
      for (const [i, c] of clients.entries()) {
        c.write(`GET /a/conn-${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
        assert.equal((await c.nextResponse(`response ${i}`)).status, 200);
      }
      const st = await waitFor(`${K} connections in /status`, async () => {
        const s = await gw.status();
        return s.server.connections_active === K ? s : undefined;
      }, { timeoutMs: 5000 }).catch(async (e: Error) => assert.fail(`${e.message}: ${JSON.stringify((await gw.status()).workers)}`));
      for (const w of st.workers) {
        const served = w.requests - (before.workers.find((b) => b.id === w.id)?.requests ?? 0);
        assert.equal(w.connections, served, `worker ${w.id}: ${w.connections} connections, served ${served} of the ${K} connections`);
      }
    } finally {
      for (const c of clients) c.destroy();
    }
    await waitFor('the connections to be gone from /status', async () => (await gw.status()).server.connections_active === 0, { timeoutMs: 5000 });
  });

  it('GET /status/ready answers 200 once every worker listens', async () => {
    const res = await gw.admin('/status/ready');
    assert.equal(res.status, 200);
  });

  it('counts proxied requests in total_requests and per worker, exactly', async () => {
    const before = await gw.status();
    const N = 30;
    for (let i = 0; i < N; i++) {
      assert.equal((await request(`${gw.proxyUrl}/a/${i}`)).status, 200);
      assert.equal((await request(`${gw.proxyUrl}/unrouted/${i}`)).status, 404); // 404s are requests too
    }
    // Each response was read before the next request: the counters are already final.
    const after = await gw.status();
    assert.equal(after.server.total_requests - before.server.total_requests, 2 * N);
    const served = after.workers.map((w) => w.requests - (before.workers.find((b) => b.id === w.id)?.requests ?? 0));
    assert.equal(served.reduce((a, b) => a + b, 0), 2 * N, `per worker: ${served.join(', ')}`);
    assert.ok(served.every((n) => n >= 0));
    assert.equal((after.server as { requests_in_flight?: number }).requests_in_flight, 0);
  });

  it('answers a request target that is no URL, and a request node cannot parse, with 400 JSON, and keeps running', async () => {
    // The handler's own answer: node passes `http://[` through and adminPath finds no URL in it.
    const target = await rawExchange(gw.adminPort, 'GET http://[ HTTP/1.1\r\nHost: a\r\n\r\n', { until: 'response' });
    assert.equal(target.status, 400, target.data.toString('latin1'));
    assert.match(String(target.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(target.body.toString()), { message: 'Bad request' });
    // node's parser refuses a header line without a colon: the clientError answer, then a close.
    const unparsable = await rawExchange(gw.adminPort, 'GET /status HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n', { until: 'close' });
    assert.equal(unparsable.status, 400, unparsable.data.toString('latin1'));
    assert.deepEqual(JSON.parse(unparsable.body.toString()), { message: 'Bad request' });
    assert.equal(unparsable.closed, true);
    await assertServing();
  });

  it('routes on the path alone: `//status` is not `/status` on host "status"', async () => {
    const res = await gw.admin('//status');
    assert.equal(res.status, 404, res.text);
    assert.deepEqual(res.json(), { message: 'Not found' });
    await assertServing();
  });

  it('answers Kong shapes for an unknown path and a wrong method', async () => {
    const nope = await gw.admin('/nope');
    assert.equal(nope.status, 404);
    assert.deepEqual(nope.json(), { message: 'Not found' });
    const post = await request(`${gw.adminUrl}/status`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(post.status, 405);
    assert.deepEqual(post.json(), { message: 'Method not allowed' });
  });

  it('HEAD /status answers 200 with headers only', async () => {
    // Raw socket: node's client would hide body bytes sent after a HEAD response.
    const res = await rawExchange(gw.adminPort, 'HEAD /status HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', { until: 'close' });
    assert.equal(res.status, 200, res.data.toString('latin1'));
    assert.ok(res.closed);
    const afterHead = res.data.subarray(res.data.indexOf('\r\n\r\n') + 4);
    assert.equal(afterHead.length, 0, `body bytes after a HEAD response: ${afterHead.toString().slice(0, 100)}`);
  });

  async function assertServing(): Promise<void> {
    assert.equal(gw.child.exitCode, null, `the primary exited:\n${gw.output()}`);
    assert.equal(gw.child.signalCode, null, `the primary was killed:\n${gw.output()}`);
    assert.equal((await gw.admin('/status')).status, 200);
    assert.equal((await request(`${gw.proxyUrl}/a/after`)).status, 200);
  }
});
