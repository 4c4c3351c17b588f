// Helpers of the stack and latency benches: response framing, /proc/stat, saturation flags, extra rows, latency stats.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { busyShare, expandCpuList, parseProcStat } from '../lib/core-busy';
import { ResponseReader } from '../lib/http-response-reader';
import { LatencyHistogram } from '../lib/latency-histogram';
import { added, percentile, ratesFor, summarize } from '../lib/latency-stats';
import type { RateOutcome } from '../lib/rate-gen';
import { extraHyperwayRows, saturationFlag } from '../lib/stack-row';
import { nginxConfig } from '../lib/target-nginx';

const OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';
const GONE = 'HTTP/1.1 404 Not Found\r\ncontent-length:3\r\n\r\nno!';

function feedAll(parts: string[]): number[] {
  const r = new ResponseReader();
  const seen: number[] = [];
  for (const p of parts) r.feed(Buffer.from(p, 'latin1'), (s) => seen.push(s));
  assert.equal(r.idle, true);
  return seen;
}

test('ResponseReader frames by Content-Length: several responses per read, and any split point', () => {
  assert.deepEqual(feedAll([OK + GONE + OK]), [200, 404, 200]);
  const all = OK + GONE;
  for (let cut = 1; cut < all.length; cut++) assert.deepEqual(feedAll([all.slice(0, cut), all.slice(cut)]), [200, 404], `cut at ${cut}`);
  assert.deepEqual(feedAll([...all].map((c) => c)), [200, 404]);
});

test('ResponseReader skips a body larger than its head window without reading it as a head', () => {
  const body = 'x'.repeat(70_000) + '\r\n\r\n';
  const big = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  assert.deepEqual(feedAll([big + OK]), [200, 200]);
  assert.deepEqual(feedAll([big.slice(0, 30_000), big.slice(30_000) + OK.slice(0, 10), OK.slice(10)]), [200, 200]);
});

test('ResponseReader refuses a response it cannot frame', () => {
  assert.throws(() => new ResponseReader().feed(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), () => undefined), /Content-Length/);
  assert.throws(() => new ResponseReader().feed(Buffer.from('SSH-2.0-x\r\n\r\n'), () => undefined), /not an HTTP/);
});

const STAT_A = 'cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 1 0 1 50 0 0 0 0 0 0\ncpu1 9 0 9 50 0 0 0 0 0 0\nintr 1\n';
const STAT_B = 'cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 26 0 1 75 0 0 0 0 0 0\ncpu1 49 0 39 60 0 2 10 0 0 0\n';

test('parseProcStat and busyShare: busy = user+nice+system+irq+softirq+steal over the interval, per core and averaged', () => {
  const a = parseProcStat(STAT_A);
  const b = parseProcStat(STAT_B);
  assert.deepEqual(a.get('0'), { busy: 2, total: 52, irq: 0 });
  assert.equal(a.has(''), false);
  assert.equal(busyShare(a, b, '0'), 25 / 50);
  assert.equal(busyShare(a, b, '1'), 82 / 92);
  assert.equal(busyShare(a, b, '1', true), 70 / 92);
  assert.equal(busyShare(a, b, '0-1'), 107 / 142);
  assert.ok(Number.isNaN(busyShare(a, b, '2')));
  assert.deepEqual(expandCpuList('0-2,5'), [0, 1, 2, 5]);
});

test('saturationFlag names what was saturated, and says when the proxy core was too', () => {
  assert.equal(saturationFlag({ loadShare: 0.5, upstreamShare: 0.3, loadCoreBusy: 0.85, proxyCoreBusy: 1 }), '');
  assert.equal(saturationFlag({ loadShare: 0.6, upstreamShare: 0.35, loadCoreBusy: 0.97, proxyCoreBusy: 0.7 }), 'load core 97% busy; proxy core 70%');
  assert.equal(saturationFlag({ loadShare: 0.95, upstreamShare: 0.92, loadCoreBusy: 0.99, proxyCoreBusy: 0.95 }), 'wrk 95%, upstream 92%, load core 99% busy; proxy core 95% (both saturated)');
  assert.equal(saturationFlag({ loadShare: 0.6, upstreamShare: 0, loadCoreBusy: 0.7, proxyCoreBusy: 0.2 }, 0.5), 'wrk 60%, load core 70% busy; proxy core 20%');
  assert.equal(saturationFlag({ proxyShare: 0.4, proxyCoreTasks: 0.9, loadShare: 0.3, upstreamShare: 0.3, loadCoreBusy: 0.6, proxyCoreBusy: 1 }), 'other processes took 50% of the proxy core');
  // 25% of the core in softirq (loopback TCP) is not another process.
  assert.equal(saturationFlag({ proxyShare: 0.72, proxyCoreTasks: 0.75, loadShare: 0.3, upstreamShare: 0.3, loadCoreBusy: 0.6, proxyCoreBusy: 1 }), '');
});

test('extraHyperwayRows: one row per BENCH_HYPERWAY_ENV_<NAME>, variables split on whitespace', () => {
  const rows = extraHyperwayRows({ BENCH_HYPERWAY_ENV_OWN_CLIENT: ' HYPERWAY_UPSTREAM_CLIENT=hyperway  X=a=b ', BENCH_HYPERWAY_ENV_B: '', OTHER: 'Y=1' });
  assert.deepEqual(rows, [
    { key: 'hyperway-b', env: {} },
    { key: 'hyperway-own-client', env: { HYPERWAY_UPSTREAM_CLIENT: 'hyperway', X: 'a=b' } },
  ]);
  assert.throws(() => extraHyperwayRows({ BENCH_HYPERWAY_ENV_X: 'novalue' }), /NAME=value/);
});

function outcome(serviceMs: number[], lagMs: number[], extra: Partial<RateOutcome> = {}): RateOutcome {
  const s = new LatencyHistogram();
  const l = new LatencyHistogram();
  serviceMs.forEach((x) => s.record(x));
  lagMs.forEach((x) => l.record(x));
  return { rate: 100, due: serviceMs.length, completed: serviceMs.length, errors: 0, non2xx: 0, queued: 0, reconnects: 0, achievedRate: 100, cpuMs: 250, wallMs: 1000, service: s.toSparse(), corrected: s.toSparse(), lag: l.toSparse(), ...extra };
}

test('summarize: percentiles, generator share, and whether the rate was kept; added subtracts per percentile', () => {
  const ms = Array.from({ length: 1000 }, (_, i) => (i + 1) / 1000); // 0.001 … 1.000 ms
  const s = summarize(outcome(ms, ms));
  assert.equal(s.p50, 0.5);
  assert.equal(s.p99, 0.99);
  assert.equal(s.p999, 0.999);
  assert.equal(s.genShare, 0.25);
  assert.equal(s.kept, true);
  assert.equal(summarize(outcome(ms, ms.map((x) => x * 10))).kept, false, 'p99 lag 9.9 ms > 5 ms');
  assert.equal(summarize(outcome(ms, ms, { completed: 980 })).kept, false, '2% of the due requests never completed');
  const hop = summarize(outcome(ms.map((x) => x + 0.2), ms));
  const us = (a: { p50: number; p99: number; p999: number }): number[] => [a.p50, a.p99, a.p999].map((x) => Math.round(x * 1000));
  assert.deepEqual(us(added(hop, s)), [200, 200, 200]);
  assert.deepEqual(ratesFor(10_001, [0.25, 0.5, 0.75]), [2500, 5001, 7501]);
  assert.deepEqual(ratesFor(1, [0.25]), [1]);
});

test('percentile: exact ranks, p99.9 of 1000 samples is the 999th', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 1000; i++) h.record(i / 1000);
  const sparse = h.toSparse();
  assert.equal(percentile(sparse, 99.9), 0.999);
  assert.equal(percentile(sparse, 100), 1);
  assert.equal(percentile(sparse, 0), 0.001);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('nginxConfig bodyBuffer adds client_body_buffer_size at http level, or nothing for nginx\'s default', () => {
  const conf = nginxConfig('/tmp/x', 8001, 8002, { workers: '1', bodyBuffer: '128k' });
  assert.match(conf, /http \{\n  access_log off;\n  client_body_buffer_size 128k;\n/);
  assert.doesNotMatch(nginxConfig('/tmp/x', 8001, 8002, { workers: '1', bodyBuffer: '' }), /client_body_buffer_size/);
  assert.throws(() => nginxConfig('/tmp/x', 8001, 8002, { workers: '1', bodyBuffer: '1;evil' }), /expected a size/);
});

test('nginxConfig: connection limits, keep-alive and reuseport only where asked; the WebSocket proxy maps Upgrade', () => {
  const plain = nginxConfig('/tmp/x', 8001, 8002, { workers: 'auto' });
  assert.match(plain, /^worker_processes auto;\ndaemon off;$/m);
  assert.match(plain, /events \{ worker_connections 4096; \}/);
  assert.match(plain, /listen 127\.0\.0\.1:8001;/);
  assert.match(plain, /proxy_pass http:\/\/bench_upstream;/);
  assert.doesNotMatch(plain, /keepalive_timeout|keepalive_requests|worker_rlimit_nofile|Upgrade/);
  const edited = nginxConfig('/tmp/x', 8001, 8002, { workers: 4, workerConnections: 11024, keepaliveTimeoutS: 300, keepaliveRequests: 1000000, reuseport: true });
  assert.match(edited, /^worker_processes 4;\nworker_rlimit_nofile 23072;\n/m);
  assert.match(edited, /events \{ worker_connections 11024; \}/);
  assert.match(edited, /access_log off;\n  keepalive_timeout 300s;\n  keepalive_requests 1000000;\n/);
  assert.match(edited, /listen 127\.0\.0\.1:8001 reuseport;/);
  const ws = nginxConfig('/tmp/x', 8001, 8002, { workers: '1', websocket: true });
  assert.match(ws, /proxy_pass http:\/\/127\.0\.0\.1:8002;\n      proxy_http_version 1\.1;\n      proxy_set_header Upgrade \$http_upgrade;/);
  assert.doesNotMatch(ws, /bench_upstream/);
});
