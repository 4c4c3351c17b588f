/**
 * Health checks through the real gateway (primary + 2 workers) against real upstreams on
 * 127.0.0.1 (README "Health checks"): active probes from the primary take a stopped target out
 * and bring it back without a reload, passive checks count the traffic of both workers
 * together, the Admin API shows and overrides target health, and health survives a reload.
 *
 * Intervals are 0.2 s (Kong accepts any number of seconds from 0 to 65535); every wait is a
 * bounded poll for the state the test expects next.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startHealthTarget, type HealthTarget } from '../helpers/health-target';
import { waitFor } from '../helpers/wait';

const INTERVAL = 0.2;
const NO_PEER = 'failure to get a peer from the ring-balancer';

interface HealthBody {
  data: Array<{ id: string; target: string; weight: number; upstream: { id: string }; health: string; data: { addresses: Array<{ ip: string; port: number; health: string; weight: number }> } }>;
  next: null;
  node_id: string;
}

const activeChecks = {
  active: {
    http_path: '/health',
    timeout: 1,
    healthy: { interval: INTERVAL, successes: 1 },
    unhealthy: { interval: INTERVAL, tcp_failures: 1, http_failures: 1, timeouts: 1 },
  },
};

describe('health checks', () => {
  let a1: HealthTarget, a2: HealthTarget, probed: HealthTarget, p1: HealthTarget, single: HealthTarget, m1: HealthTarget, m2: HealthTarget;
  let tcp: HealthTarget, st: HealthTarget;
  let gw: Gateway;
  const target = (t: HealthTarget): { target: string } => ({ target: `127.0.0.1:${t.port}` });

  function config(extraRoutes: string[] = []): object {
    const svc = (name: string, upstream: string, path: string): object => ({ name, host: upstream, port: 80, retries: 0, routes: [{ name, paths: [path, ...extraRoutes.map((r) => `${path}${r}`)] }] });
    return {
      _format_version: '3.0',
      services: [
        svc('active', 'active-up', '/active'),
        svc('probed', 'probed-up', '/probed'),
        svc('passive', 'passive-up', '/passive'),
        svc('single', 'single-up', '/single'),
        svc('manual', 'manual-up', '/manual'),
        svc('tcp', 'tcp-up', '/tcp'),
        svc('statuses', 'statuses-up', '/statuses'),
      ],
      upstreams: [
        { name: 'active-up', healthchecks: activeChecks, targets: [target(a1), target(a2)] },
        {
          name: 'probed-up',
          healthchecks: { active: { http_path: '/health', headers: { 'x-probe': ['yes'] }, healthy: { interval: 0.3 }, unhealthy: { interval: 0.3 } } },
          targets: [target(probed)],
        },
        {
          name: 'tcp-up',
          healthchecks: { active: { type: 'tcp', healthy: { interval: INTERVAL, successes: 1 }, unhealthy: { interval: INTERVAL, tcp_failures: 1 } } },
          targets: [target(tcp)],
        },
        {
          name: 'statuses-up',
          healthchecks: {
            active: {
              http_path: '/health',
              timeout: 0.3,
              healthy: { interval: INTERVAL, successes: 1 },
              unhealthy: { interval: INTERVAL, http_failures: 2, timeouts: 1, http_statuses: [500] },
            },
          },
          targets: [target(st)],
        },
        {
          name: 'passive-up',
          healthchecks: { passive: { healthy: { successes: 1 }, unhealthy: { http_failures: 2, http_statuses: [500] } } },
          targets: [target(p1)],
        },
        { name: 'single-up', healthchecks: { passive: { unhealthy: { http_failures: 4, http_statuses: [500] } } }, targets: [target(single)] },
        { name: 'manual-up', targets: [target(m1), target(m2)] },
      ],
    };
  }

  before(async () => {
    [a1, a2, probed, p1, single, m1, m2, tcp, st] = await Promise.all(['a1', 'a2', 'probed', 'p1', 'single', 'm1', 'm2', 'tcp', 'st'].map((n) => startHealthTarget(n)));
    gw = await startGateway({ config: config(), workers: 2 });
  });

  after(async () => {
    await gw?.stop();
    await Promise.all([a1, a2, probed, p1, single, m1, m2, tcp, st].map((t) => t?.stop()));
  });

  async function health(upstream: string): Promise<Record<string, string>> {
    const r = await gw.admin(`/upstreams/${upstream}/health`);
    assert.equal(r.status, 200, r.text);
    return Object.fromEntries(r.json<HealthBody>().data.map((d) => [d.target, d.health]));
  }

  function waitHealth(upstream: string, t: HealthTarget, want: string, timeoutMs = 5000): Promise<unknown> {
    return waitFor(`${t.name} ${want}`, async () => (await health(upstream))[`127.0.0.1:${t.port}`] === want, { timeoutMs })
      .catch((e: Error) => assert.fail(`${e.message}\n${gw.output().slice(-3000)}`));
  }

  /** `n` requests, each on a new connection (so the kernel spreads them over both workers): who answered. */
  async function spread(path: string, n: number): Promise<Record<string, number>> {
    const seen: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const r = await request(`${gw.proxyUrl}${path}`);
      const who = r.status === 200 ? (r.json<{ server: string }>().server) : `${r.status}`;
      seen[who] = (seen[who] ?? 0) + 1;
    }
    return seen;
  }

  it('active checks: a stopped target gets no traffic, none left gives Kong\'s 503, started again it takes traffic without a reload', { timeout: 30000 }, async () => {
    assert.deepEqual(Object.keys(await spread('/active', 10)).sort(), ['a1', 'a2']);
    await a2.stop();
    await waitHealth('active-up', a2, 'UNHEALTHY');
    assert.deepEqual(await spread('/active', 10), { a1: 10 });
    await a1.stop();
    await waitHealth('active-up', a1, 'UNHEALTHY');
    const r = await request(`${gw.proxyUrl}/active`, { headers: { accept: 'application/json' } });
    assert.equal(r.status, 503);
    assert.equal(r.json().message, NO_PEER);
    await a1.start();
    await a2.start();
    await waitHealth('active-up', a1, 'HEALTHY');
    await waitHealth('active-up', a2, 'HEALTHY');
    assert.deepEqual(Object.keys(await spread('/active', 10)).sort(), ['a1', 'a2']);
    assert.deepEqual((await gw.status()).workers.map((w) => w.config_version), [1, 1], 'no reload happened');
  });

  it('the primary probes each target once per interval, whatever the worker count', { timeout: 20000 }, async () => {
    const from = probed.probes.length;
    await waitFor('6 more probes', () => probed.probes.length >= from + 6, { timeoutMs: 10000 });
    const p = probed.probes.slice(from, from + 6);
    // Five gaps of 0.3 s: one prober. A prober per worker would fit them in half the time.
    const span = p[5] - p[0];
    assert.ok(span >= 5 * 300 * 0.8, `6 probes within ${span} ms`);
    const gaps = p.slice(1).map((t, i) => t - p[i]);
    assert.ok(gaps.every((g) => g >= 300 * 0.7), `probe gaps ${gaps.join(', ')} ms`);
    assert.equal(probed.probeHeaders['x-probe'], 'yes', 'active.headers go with each probe');
    assert.equal(probed.probeHeaders.host, `127.0.0.1:${probed.port}`);
  });

  it('tcp checks: a refused connect takes the target out, an accepted one brings it back', { timeout: 20000 }, async () => {
    await tcp.stop();
    await waitHealth('tcp-up', tcp, 'UNHEALTHY');
    assert.equal((await request(`${gw.proxyUrl}/tcp`)).status, 503);
    await tcp.start();
    await waitHealth('tcp-up', tcp, 'HEALTHY');
    assert.equal((await request(`${gw.proxyUrl}/tcp`)).status, 200);
    assert.equal(tcp.probes.length, 0, 'a tcp check sends no HTTP request');
  });

  it('http checks: unhealthy http_statuses count as http failures, statuses in neither list are ignored, a probe without an answer in time as a timeout', { timeout: 20000 }, async () => {
    st.probeStatus = 404; // in neither list of this upstream: ignored
    const from = st.probes.length;
    await waitFor('3 probes answered 404', () => st.probes.length >= from + 3, { timeoutMs: 5000 });
    assert.equal((await health('statuses-up'))[`127.0.0.1:${st.port}`], 'HEALTHY');
    st.probeStatus = 500;
    await waitHealth('statuses-up', st, 'UNHEALTHY');
    st.probeStatus = 200;
    await waitHealth('statuses-up', st, 'HEALTHY');
    st.probeStatus = 0;
    await waitHealth('statuses-up', st, 'UNHEALTHY');
    st.probeStatus = 200;
    await waitHealth('statuses-up', st, 'HEALTHY');
  });

  it('passive checks: failures seen by both workers add up to the threshold; Kong\'s counters reset on a success', { timeout: 30000 }, async () => {
    // single-up trips after 4 HTTP 500s. Each request goes on a new connection; /status tells
    // which worker served it. A round counts only when both workers served a failure.
    single.status = 500;
    let split = false;
    for (let round = 0; round < 8 && !split; round++) {
      const served = [0, 0];
      // A success zeroes the failure counters (Kong): it starts every round from nothing.
      single.status = 200;
      assert.equal((await request(`${gw.proxyUrl}/single`)).status, 200);
      single.status = 500;
      for (let i = 0; i < 3; i++) {
        const before = (await gw.status()).workers.map((w) => w.requests);
        assert.equal((await request(`${gw.proxyUrl}/single`)).status, 500);
        const now = (await gw.status()).workers.map((w) => w.requests);
        now.forEach((n, w) => (served[w] += n - before[w]));
      }
      assert.equal((await health('single-up'))[`127.0.0.1:${single.port}`], 'HEALTHY', '3 failures are below the threshold of 4');
      if (served[0] === 0 || served[1] === 0) continue;
      split = true;
      assert.equal((await request(`${gw.proxyUrl}/single`)).status, 500);
      await waitHealth('single-up', single, 'UNHEALTHY');
    }
    assert.ok(split, 'the kernel never spread three requests over both workers');
    const r = await request(`${gw.proxyUrl}/single`, { headers: { accept: 'application/json' } });
    assert.deepEqual([r.status, r.json().message], [503, NO_PEER]);
    single.status = 200;
  });

  it('passive only: a target taken out by passive checks comes back through the Admin API, then traffic heals its counters', { timeout: 20000 }, async () => {
    p1.status = 500;
    for (let i = 0; i < 2; i++) assert.equal((await request(`${gw.proxyUrl}/passive`)).status, 500);
    await waitHealth('passive-up', p1, 'UNHEALTHY');
    p1.status = 200;
    const before = p1.served.get(200) ?? 0;
    assert.equal((await request(`${gw.proxyUrl}/passive`)).status, 503, 'no traffic reaches it: passive checks alone cannot bring it back (Kong)');
    assert.equal(p1.served.get(200) ?? 0, before);
    assert.equal((await gw.admin(`/upstreams/passive-up/targets/127.0.0.1:${p1.port}/healthy`)).status, 405, 'GET is not allowed');
    const put = await request(`${gw.adminUrl}/upstreams/passive-up/targets/127.0.0.1:${p1.port}/healthy`, { method: 'PUT' });
    assert.equal(put.status, 204);
    assert.equal((await request(`${gw.proxyUrl}/passive`)).status, 200);
  });

  it('Admin API: health and targets/all in Kong\'s shapes; PUT unhealthy/healthy steer traffic at once; the override survives a SIGHUP reload', { timeout: 30000 }, async () => {
    const r = await gw.admin('/upstreams/manual-up/health');
    const body = r.json<HealthBody>();
    assert.equal(body.next, null);
    assert.equal(typeof body.node_id, 'string');
    assert.deepEqual(body.data.map((d) => [d.target, d.weight, d.health, d.data.addresses]), [
      [`127.0.0.1:${m1.port}`, 100, 'HEALTHCHECKS_OFF', [{ ip: '127.0.0.1', port: m1.port, health: 'HEALTHCHECKS_OFF', weight: 100 }]],
      [`127.0.0.1:${m2.port}`, 100, 'HEALTHCHECKS_OFF', [{ ip: '127.0.0.1', port: m2.port, health: 'HEALTHCHECKS_OFF', weight: 100 }]],
    ]);
    const all = (await gw.admin('/upstreams/manual-up/targets/all')).json<{ data: Array<Record<string, unknown>>; next: null }>();
    assert.deepEqual(all.data.map((d) => Object.keys(d).sort()), [['id', 'tags', 'target', 'upstream', 'weight'], ['id', 'tags', 'target', 'upstream', 'weight']]);
    assert.equal(all.data[0].id, body.data[0].id);
    assert.equal((await gw.admin('/upstreams/nope/health')).status, 404);
    assert.equal((await request(`${gw.adminUrl}/upstreams/manual-up/targets/127.0.0.1:1/unhealthy`, { method: 'PUT' })).status, 404);

    const put = await request(`${gw.adminUrl}/upstreams/manual-up/targets/127.0.0.1:${m2.port}/unhealthy`, { method: 'PUT' });
    assert.deepEqual([put.status, put.text], [204, '']);
    assert.deepEqual(await health('manual-up'), { [`127.0.0.1:${m1.port}`]: 'HEALTHCHECKS_OFF', [`127.0.0.1:${m2.port}`]: 'UNHEALTHY' });
    assert.deepEqual(await spread('/manual', 10), { m1: 10 });
    const balancer = (await gw.admin('/upstreams/manual-up/health?balancer_health=1')).json<{ data: Record<string, unknown> }>();
    assert.deepEqual([balancer.data.health, balancer.data.balancer_health], ['HEALTHCHECKS_OFF', 'HEALTHY']);

    writeFileSync(gw.configPath, stringify(config(['-v2'])));
    gw.child.kill('SIGHUP');
    await waitFor('both workers on version 2', async () => (await gw.status()).workers.every((w) => w.config_version === 2), { timeoutMs: 10000 })
      .catch((e: Error) => assert.fail(`${e.message}\n${gw.output()}`));
    assert.equal((await request(`${gw.proxyUrl}/manual-v2`)).status, 200, 'the new config is served');
    assert.equal((await health('manual-up'))[`127.0.0.1:${m2.port}`], 'UNHEALTHY', 'health survives the reload');
    assert.deepEqual(await spread('/manual', 10), { m1: 10 });

    // By target id this time, as Kong accepts either.
    const id = body.data[1].id;
    assert.equal((await request(`${gw.adminUrl}/upstreams/manual-up/targets/${id}/healthy`, { method: 'PUT' })).status, 204);
    assert.deepEqual(Object.keys(await spread('/manual', 10)).sort(), ['m1', 'm2']);
  });
});
