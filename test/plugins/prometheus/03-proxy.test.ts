import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { startGateway, type Gateway } from '../../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../../helpers/upstream';
import { request, type HttpResult, type RequestOptions } from '../../helpers/http-client';
import { freePort } from '../../helpers/ports';
import { waitFor } from '../../helpers/wait';
import { parseScrape, sum, value, type Sample } from './scrape';

const ROUTE_B_ID = '6f1c2b8e-0a47-4d3c-9b51-3d2f7e9a1c40';
const PROM = { name: 'prometheus', config: { per_consumer: true, status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, upstream_health_metrics: true } };

let upstream: EchoServer;
let gw: Gateway;
let plain: Gateway;
let statusPort: number;

function config(port: number): object {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'svc-a',
        url: `http://127.0.0.1:${port}`,
        routes: [
          { name: 'ra', paths: ['/a'] },
          { name: 'rc', paths: ['/c'], plugins: [{ name: 'key-auth' }] },
          { name: 'rt', paths: ['/t'], plugins: [{ name: 'request-termination', config: { status_code: 503, message: 'down' } }] },
        ],
      },
      // No service name: Kong labels it by host; no route name: by route id.
      { url: `http://127.0.0.1:${port}/`, routes: [{ id: ROUTE_B_ID, paths: ['/b'] }] },
    ],
    consumers: [{ username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] }],
    plugins: [PROM],
  };
}

before(async () => {
  upstream = await startEchoServer('metrics-up');
  statusPort = await freePort();
  gw = await startGateway({
    config: config(upstream.port),
    env: { HYPERWAY_PROMETHEUS_KONG2_METRICS: 'on', HYPERWAY_STATUS_LISTEN: `127.0.0.1:${statusPort}` },
  });
});

after(async () => {
  await gw?.stop();
  await plain?.stop();
  await upstream?.close();
});

async function scrape(g: Gateway = gw): Promise<Sample[]> {
  const res = await g.admin('/metrics');
  assert.equal(res.status, 200, res.text);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parseScrape(res.text);
}

/** `n` requests on fresh connections (so SO_REUSEPORT spreads them over both workers), 8 at a time. */
async function send(n: number, path: string, opts: RequestOptions = {}, expect?: number): Promise<void> {
  for (let done = 0; done < n; done += 8) {
    const batch: Promise<HttpResult>[] = Array.from({ length: Math.min(8, n - done) }, () => request(`${gw.proxyUrl}${path}`, opts));
    for (const r of await Promise.all(batch)) if (expect !== undefined) assert.equal(r.status, expect, r.text);
  }
}

const A = { service: 'svc-a', route: 'ra', workspace: 'default' };
const req = (route: string, code: string, source: string, consumer = '', service = 'svc-a'): Record<string, string> =>
  ({ service, route, code, source, workspace: 'default', consumer });
const TOTAL = 10 + 2 + 5 + 4 + 3 + 2 + 6;

test('a scrape after known traffic through 2 workers shows exactly those counts per service, route, code, source and consumer', async () => {
  await send(10, '/a', {}, 200);
  await send(2, '/a', { method: 'POST', body: 'x'.repeat(100) }, 200);
  await send(5, '/a', { headers: { 'x-echo-status': '500' } }, 500);
  await send(4, '/t', {}, 503);
  await send(3, '/c', { headers: { apikey: 'alice-key' } }, 200);
  await send(2, '/c', {}, 401);
  await send(6, '/b', {}, 200);
  // Workers count right after each response; the scrape may come a moment earlier than the last one.
  const s = await waitFor('every request counted', async () => {
    const got = await scrape();
    return sum(got, 'kong_http_requests_total') === TOTAL ? got : undefined;
  });
  assert.equal(value(s, 'kong_http_requests_total', req('ra', '200', 'service')), 12);
  assert.equal(value(s, 'kong_http_requests_total', req('ra', '500', 'service')), 5);
  assert.equal(value(s, 'kong_http_requests_total', req('rt', '503', 'kong')), 4);
  assert.equal(value(s, 'kong_http_requests_total', req('rc', '200', 'service', 'alice')), 3);
  assert.equal(value(s, 'kong_http_requests_total', req('rc', '401', 'kong')), 2);
  assert.equal(value(s, 'kong_http_requests_total', req(ROUTE_B_ID, '200', 'service', '', '127.0.0.1')), 6);
  // Both workers served part of it, and the per-worker totals add up.
  const w0 = value(s, 'hyperway_worker_requests_total', { worker: '0' }) ?? 0;
  const w1 = value(s, 'hyperway_worker_requests_total', { worker: '1' }) ?? 0;
  assert.ok(w0 > 0 && w1 > 0, `both workers served requests (${w0}, ${w1})`);
  assert.equal(w0 + w1, TOTAL);
  assert.equal(value(s, 'kong_nginx_requests_total', { node_id: s.find((x) => x.name === 'kong_node_info')?.labels.node_id ?? '', subsystem: 'http' }), TOTAL);
  assert.equal(value(s, 'kong_datastore_reachable', {}), 1);

  // Histograms: one observation per request; the gateway's own answers have no upstream latency.
  assert.equal(value(s, 'kong_request_latency_ms_count', A), 17);
  assert.equal(value(s, 'kong_kong_latency_ms_count', A), 17);
  assert.equal(value(s, 'kong_upstream_latency_ms_count', A), 17);
  assert.equal(value(s, 'kong_request_latency_ms_bucket', { ...A, le: '+Inf' }), 17);
  const T = { service: 'svc-a', route: 'rt', workspace: 'default' };
  assert.equal(value(s, 'kong_request_latency_ms_count', T), 4);
  assert.equal(value(s, 'kong_kong_latency_ms_count', T), 4);
  assert.equal(value(s, 'kong_upstream_latency_ms_count', T), undefined);
  const buckets = s.filter((x) => x.name === 'kong_request_latency_ms_bucket' && x.labels.route === 'ra').map((x) => x.value);
  assert.deepEqual(buckets, [...buckets].sort((a, b) => a - b), 'buckets are cumulative');
  assert.equal(sum(s, 'kong_request_latency_ms_count'), TOTAL);

  // Bandwidth: the two POST bodies in, the echoed bodies out.
  assert.equal(value(s, 'kong_bandwidth_bytes', { service: 'svc-a', route: 'ra', direction: 'ingress', workspace: 'default', consumer: '' }), 200);
  assert.ok((value(s, 'kong_bandwidth_bytes', { service: 'svc-a', route: 'ra', direction: 'egress', workspace: 'default', consumer: '' }) ?? 0) > 0);
  assert.ok((value(s, 'kong_bandwidth_bytes', { service: 'svc-a', route: 'rc', direction: 'egress', workspace: 'default', consumer: 'alice' }) ?? 0) > 0);

  // prometheus_kong2_metrics: Kong 2.x's names, summed from the same counts.
  assert.equal(value(s, 'kong_latency_count', { service: 'svc-a', route: 'ra', type: 'request' }), 17);
  assert.equal(value(s, 'kong_latency_bucket', { service: 'svc-a', route: 'ra', type: 'request', le: '+Inf' }), 17);
  assert.equal(value(s, 'kong_latency_count', { service: 'svc-a', route: 'rt', type: 'upstream' }), undefined);
  assert.equal(value(s, 'kong_http_status', { service: 'svc-a', route: 'ra', code: '200' }), 12);
  assert.equal(value(s, 'kong_bandwidth', { service: 'svc-a', route: 'ra', type: 'ingress' }), 200);
});

test('status_listen serves /metrics and /status, and nothing of the Admin API', async () => {
  const base = `http://127.0.0.1:${statusPort}`;
  const m = await request(`${base}/metrics`);
  assert.equal(m.status, 200);
  assert.match(m.text, /^# TYPE kong_http_requests_total counter$/m);
  assert.equal((await request(`${base}/status`)).status, 200);
  assert.equal((await request(`${base}/`)).status, 404);
});

test("a SIGKILLed worker's counts are kept after its replacement, and later requests add to them", async () => {
  const seen = await waitFor('the first test\'s counts', async () => {
    const got = await scrape();
    return sum(got, 'kong_http_requests_total') >= TOTAL ? got : undefined;
  });
  const ra200 = value(seen, 'kong_http_requests_total', req('ra', '200', 'service')) ?? 0;
  const raCount = value(seen, 'kong_request_latency_ms_count', A) ?? 0;
  const total = sum(seen, 'kong_http_requests_total');
  const victim = (await gw.status()).workers[0];
  assert.ok(ra200 >= 12);
  process.kill(victim.pid, 'SIGKILL');
  await waitFor('worker 0 replaced and listening', async () => {
    const st = await gw.status();
    const w = st.workers[0];
    return w.pid !== victim.pid && w.state === 'listening' && w.restarts === 1;
  }, { timeoutMs: 15000 });
  const afterKill = await scrape();
  assert.equal(sum(afterKill, 'kong_http_requests_total'), total);
  assert.equal(value(afterKill, 'kong_http_requests_total', req('ra', '200', 'service')), ra200);
  assert.equal(value(afterKill, 'kong_request_latency_ms_count', A), raCount);
  assert.equal(value(afterKill, 'hyperway_worker_restarts_total', { worker: '0' }), 1);
  assert.equal(sum(afterKill, 'hyperway_worker_requests_total'), total);

  await send(6, '/a', {}, 200);
  const later = await waitFor('the new requests counted', async () => {
    const got = await scrape();
    return sum(got, 'kong_http_requests_total') === total + 6 ? got : undefined;
  });
  assert.equal(value(later, 'kong_http_requests_total', req('ra', '200', 'service')), ra200 + 6);
});

test('without prometheus_kong2_metrics there are no 2.x families; without status_listen no status listener', async () => {
  plain = await startGateway({ config: config(upstream.port) });
  const r = await request(`${plain.proxyUrl}/a`);
  assert.equal(r.status, 200);
  const s = await waitFor('the request counted', async () => {
    const got = await scrape(plain);
    return sum(got, 'kong_http_requests_total') === 1 ? got : undefined;
  });
  assert.equal(value(s, 'kong_http_requests_total', req('ra', '200', 'service')), 1);
  assert.equal(s.some((x) => x.name.startsWith('kong_latency') || x.name === 'kong_http_status' || x.name === 'kong_bandwidth'), false);
  const text = (await plain.admin('/metrics')).text;
  assert.doesNotMatch(text, /^# TYPE kong_latency /m);
});

test('a reload that reorders services and routes and adds new ones keeps every series under its labels', async () => {
  // Runs after the previous test: `plain` has counted one GET /a.
  const next = config(upstream.port) as { services: { name?: string; routes: object[] }[] };
  next.services[0].routes.reverse();
  next.services.unshift({ name: 'svc-new', url: `http://127.0.0.1:${upstream.port}`, routes: [{ name: 'rn', paths: ['/n'] }] } as never);
  writeFileSync(plain.configPath, stringify(next));
  const version = (await plain.status()).config_version;
  plain.child.kill('SIGHUP');
  await waitFor('both workers on the new config', async () => (await plain.status()).workers.every((w) => w.config_version === version + 1), { timeoutMs: 10000 });
  for (const path of ['/a', '/a', '/n']) assert.equal((await request(`${plain.proxyUrl}${path}`)).status, 200);
  const s = await waitFor('the new requests counted', async () => {
    const got = await scrape(plain);
    return sum(got, 'kong_http_requests_total') === 4 ? got : undefined;
  });
  assert.equal(value(s, 'kong_http_requests_total', req('ra', '200', 'service')), 3);
  assert.equal(value(s, 'kong_http_requests_total', req('rn', '200', 'service', '', 'svc-new')), 1);
  assert.equal(value(s, 'kong_request_latency_ms_count', A), 3);
});
