import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type Socket } from 'node:net';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { isAlive } from '../helpers/proc';
import { rawExchange } from '../helpers/raw-http';
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
    assert.equal(info.version, '3.10.0');
    assert.equal(info.hyperway?.version, PACKAGE_VERSION);
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

  it('counts open client connections per worker, from the kernel', async () => {
    const base = (await gw.status()).server.connections_active;
    const sockets = await Promise.all(Array.from({ length: 6 }, () => new Promise<Socket>((res, rej) => {
      const s = connect({ port: gw.proxyPort, host: '127.0.0.1' }, () => res(s));
      s.once('error', rej);
    })));
    try {
      const st = await waitFor('6 more connections in /status', async () => {
        const s = await gw.status();
        return s.server.connections_active >= base + 6 ? s : null;
      }, { timeoutMs: 5000 });
      assert.equal(st.workers.reduce((n, w) => n + w.connections, 0), st.server.connections_active);
    } finally {
      for (const s of sockets) s.destroy();
    }
    await waitFor('the connections to be gone from /status', async () => (await gw.status()).server.connections_active <= base, { timeoutMs: 5000 });
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

  it('answers a request target that is no URL with 400, and keeps running', async () => {
    const res = await rawExchange(gw.adminPort, 'GET http://[ HTTP/1.1\r\nHost: a\r\n\r\n', { until: 'response' });
    const said = res.data.toString('latin1');
    if (res.status === 400 && res.body.length > 0) {
      assert.deepEqual(JSON.parse(res.body.toString()), { message: 'Bad request' }, said);
    } else {
      // node's HTTP parser may refuse the line itself: a bare 400, or nothing, and the connection closed.
      assert.ok(res.closed && (res.status === null || res.status === 400), `neither a 400 nor a close: ${JSON.stringify(said)}`);
    }
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

  // Last: it restarts a worker, which the tests above would see as restarts > 0.
  it('GET / never lists a dead worker pid while the worker is replaced', { timeout: 20000 }, async (t) => {
    const before = await gw.status();
    const victim = before.workers[0];
    assert.ok(victim);
    process.kill(victim.pid, 'SIGKILL');
    // Once /proc/<pid> is gone the primary has reaped it, so it has handled the exit: from then on
    // no answer may name the pid.
    await waitFor(`worker ${victim.pid} to be reaped`, () => !existsSync(`/proc/${victim.pid}`), { timeoutMs: 3000, intervalMs: 5 });
    let samples = 0;
    // Recorded, not asserted in the probe: waitFor retries a probe that throws.
    const listedDead: number[][] = [];
    const replacement = await waitFor(
      `worker ${victim.id} to be replaced`,
      async () => {
        const info = (await gw.admin('/')).json<NodeInfo>();
        samples++;
        if (info.pids.workers.includes(victim.pid)) listedDead.push(info.pids.workers);
        const w = (await gw.status()).workers.find((x) => x.id === victim.id);
        return w && w.pid !== victim.pid && w.state === 'listening' ? w : undefined;
      },
      { timeoutMs: 10000, intervalMs: 5 },
    );
    assert.deepEqual(listedDead, [], `GET / listed dead pid ${victim.pid} in ${listedDead.length} of ${samples} answers`);
    t.diagnostic(`${samples} GET / answers while worker ${victim.id} was replaced (pid ${victim.pid} → ${replacement.pid})`);
    const info = (await gw.admin('/')).json<NodeInfo>();
    assert.ok(info.pids.workers.includes(replacement.pid), JSON.stringify(info.pids));
    assert.ok(!info.pids.workers.includes(victim.pid));
  });

  async function assertServing(): Promise<void> {
    assert.equal(gw.child.exitCode, null, `the primary exited:\n${gw.output()}`);
    assert.equal(gw.child.signalCode, null, `the primary was killed:\n${gw.output()}`);
    assert.equal((await gw.admin('/status')).status, 200);
    assert.equal((await request(`${gw.proxyUrl}/a/after`)).status, 200);
  }
});
