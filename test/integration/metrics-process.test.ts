import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';
import { parseScrape, value, type Sample } from '../plugins/prometheus/scrape';

describe('/metrics: the gateway\'s own process metrics', () => {
  let echo: EchoServer;
  let gw: Gateway;
  let stopped: number | null = null;

  before(async () => {
    echo = await startEchoServer('pm-up');
    gw = await startGateway({
      config: { _format_version: '3.0', services: [{ name: 'echo', url: `http://127.0.0.1:${echo.port}`, routes: [{ name: 'r', paths: ['/r'] }] }] },
    });
  });
  after(async () => {
    if (stopped !== null) process.kill(stopped, 'SIGCONT');
    await gw?.stop();
    await echo?.close();
  });

  async function scrape(): Promise<Sample[]> {
    const res = await gw.admin('/metrics');
    assert.equal(res.status, 200);
    return parseScrape(res.text);
  }

  it('every worker has plausible RSS, config version, restarts, event-loop lag; node info and datastore as Kong exports them', async () => {
    const status = await gw.status();
    const s = await scrape();
    assert.equal(s.filter((v) => v.name === 'hyperway_worker_event_loop_lag_seconds').length, 4, 'p99 and max of each worker');
    for (const w of status.workers) {
      const worker = String(w.id);
      const rss = value(s, 'hyperway_worker_rss_bytes', { worker, pid: String(w.pid) });
      assert.ok(rss !== undefined && rss > 10 * 1024 * 1024 && rss < 2 * 1024 * 1024 * 1024, `worker ${worker} rss ${rss}`);
      assert.equal(value(s, 'hyperway_worker_config_version', { worker }), status.config_version);
      assert.equal(value(s, 'hyperway_worker_restarts_total', { worker }), 0);
      for (const quantile of ['0.99', '1']) {
        const lag = value(s, 'hyperway_worker_event_loop_lag_seconds', { worker, quantile });
        assert.ok(lag !== undefined && lag >= 0 && lag < 0.5, `worker ${worker} lag q${quantile} ${lag}`);
      }
    }
    assert.equal(value(s, 'kong_datastore_reachable', {}), 1);
    const info = s.find((x) => x.name === 'kong_node_info');
    assert.equal(info?.value, 1);
    assert.equal(info?.labels.version, '3.10.0');
    assert.ok(s.some((x) => x.name === 'kong_nginx_connections_total' && x.labels.state === 'active'));
  });

  it('a worker whose event loop stood still ~700 ms reports that lag as its max, the other does not', async () => {
    assert.equal((await request(`${gw.proxyUrl}/r`)).status, 200);
    const [a, b] = (await gw.status()).workers;
    stopped = a.pid;
    process.kill(a.pid, 'SIGSTOP');
    const t0 = Date.now();
    await waitFor('700 ms to pass', () => Date.now() - t0 >= 700, { intervalMs: 20 });
    process.kill(a.pid, 'SIGCONT');
    stopped = null;
    const lag = await waitFor('the stall in worker ' + a.id + '\'s max lag', async () => {
      const v = value(await scrape(), 'hyperway_worker_event_loop_lag_seconds', { worker: String(a.id), quantile: '1' });
      return v !== undefined && v >= 0.5 ? v : undefined;
    });
    assert.ok(lag < 5, `lag ${lag}`);
    const other = value(await scrape(), 'hyperway_worker_event_loop_lag_seconds', { worker: String(b.id), quantile: '1' });
    assert.ok(other !== undefined && other < 0.5, `the other worker's lag ${other}`);
  });
});
