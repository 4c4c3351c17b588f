import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { isAlive } from '../helpers/proc';
import { waitFor } from '../helpers/wait';

interface NodeInfo {
  version: string;
  node_id: string;
  hostname: string;
  pids: { master: number; workers: number[] };
}

describe('Admin API status endpoints', () => {
  let echo: EchoServer;
  let gw: Gateway;

  before(async () => {
    echo = await startEchoServer('echo');
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
    assert.equal(typeof info.version, 'string');
    assert.ok(info.version.length > 0);
    assert.equal(typeof info.node_id, 'string');
    assert.equal(info.hostname, hostname());
    assert.equal(info.pids.master, gw.child.pid);
    const st = await gw.status();
    assert.deepEqual([...info.pids.workers].sort(), st.workers.map((w) => w.pid).sort());
  });

  it('GET /status reports the config and every worker', async () => {
    const res = await gw.admin('/status');
    assert.equal(res.status, 200);
    const st = await gw.status();
    assert.equal(typeof st.configuration_hash, 'string');
    assert.ok(st.configuration_hash.length > 0);
    assert.equal(typeof st.config_version, 'number');
    assert.equal(typeof st.server.total_requests, 'number');
    assert.equal(typeof st.server.connections_active, 'number');
    assert.equal(st.workers.length, 2);
    assert.deepEqual(st.workers.map((w) => w.id).sort(), [...new Set(st.workers.map((w) => w.id))].sort(), 'worker ids are distinct');
    for (const w of st.workers) {
      assert.equal(w.state, 'listening');
      assert.ok(isAlive(w.pid), `worker pid ${w.pid} is not a live process`);
      assert.notEqual(w.pid, gw.child.pid);
      assert.equal(w.restarts, 0);
      assert.equal(w.config_version, st.config_version);
      for (const k of ['uptime', 'requests', 'connections'] as const) assert.equal(typeof w[k], 'number', k);
      assert.ok(w.uptime >= 0);
    }
  });

  it('GET /status/ready answers 200 once every worker listens', async () => {
    const res = await gw.admin('/status/ready');
    assert.equal(res.status, 200);
  });

  it('counts proxied requests in total_requests and per worker', async () => {
    const before = await gw.status();
    const perWorkerBefore = before.workers.reduce((n, w) => n + w.requests, 0);
    const N = 30;
    for (let i = 0; i < N; i++) {
      assert.equal((await request(`${gw.proxyUrl}/a/${i}`)).status, 200);
      await request(`${gw.proxyUrl}/unrouted/${i}`); // 404s are requests too
    }
    const after = await waitFor(
      'counters to include the requests',
      async () => {
        const st = await gw.status();
        const perWorker = st.workers.reduce((n, w) => n + w.requests, 0);
        return st.server.total_requests >= before.server.total_requests + 2 * N && perWorker >= perWorkerBefore + 2 * N ? st : undefined;
      },
      { timeoutMs: 5000, intervalMs: 200 },
    );
    assert.ok(after.server.total_requests >= before.server.total_requests + 2 * N);
  });
});
