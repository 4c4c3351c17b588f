// Pure helpers of the bench harness: wrk output, k6 profile, percentiles, CPU layout, /proc sampling.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planCpus } from '../lib/cpu-plan';
import { evaluate, parseK6Profile, readK6Profile } from '../lib/k6-profile';
import { LatencyHistogram, mergeSparse, percentileMs } from '../lib/latency-histogram';
import { parseWrk } from '../lib/load-wrk';
import { cpuMsBetween, processTree, sampleCpu } from '../lib/proc-stat';
import { ratiosTable, type Row } from '../lib/report';

const WRK = `Running 10s test @ http://127.0.0.1:8000/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.33us  201.10us   9.87ms   91.02%
    Req/Sec    78.12k     2.01k   80.90k    71.00%
  Latency Distribution
     50%  790.00us
     75%  850.00us
     90%    0.95ms
     99%    1.52ms
  777123 requests in 10.01s, 95.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  77634.67
Transfer/sec:      9.50MB
`;

test('parseWrk reads totals, percentiles with units, socket errors and non-2xx', () => {
  const r = parseWrk(WRK);
  assert.equal(r.requests, 777123);
  assert.equal(r.durationS, 10.01);
  assert.equal(r.p50Ms, 0.79);
  assert.equal(r.p99Ms, 1.52);
  assert.equal(r.errors, 5);
  assert.equal(r.non2xx, 7);
  assert.throws(() => parseWrk('garbage'), /unexpected wrk output/);
});

test('percentiles come from µs buckets, and merged stages add up', () => {
  const a = new LatencyHistogram();
  for (let i = 1; i <= 100; i++) a.record(i / 100); // 0.01 … 1.00 ms
  const b = new LatencyHistogram();
  b.record(2500); // overflow bucket (> 1 s)
  assert.equal(percentileMs(a.toSparse(), 50), 0.5);
  assert.equal(percentileMs(a.toSparse(), 99), 0.99);
  const merged = mergeSparse([a.toSparse(), b.toSparse()]);
  assert.equal(percentileMs(merged, 100), 2500);
  assert.ok(Number.isNaN(percentileMs([], 50)));
  // p99.9 of 1,000 samples is the 999th, not the last.
  const thousand: [number, number][] = Array.from({ length: 1000 }, (_, i) => [i + 1, 1]);
  assert.equal(percentileMs(thousand, 99.9), 0.999);
});

test('the k6 profile is read from k6/load.ts: 50 → 100 → 200 and both thresholds', () => {
  const p = readK6Profile();
  assert.deepEqual(p.stageTargets, [50, 100, 200]);
  assert.deepEqual(p.thresholds, [
    { metric: 'http_req_duration', expr: 'p(95)<500' },
    { metric: 'http_req_failed', expr: 'rate<0.01' },
  ]);
  assert.throws(() => parseK6Profile('export const options = {}'), /no `stages/);
});

test('thresholds pass and fail on the observed values', () => {
  const obs = (p95: number, rate: number) => ({ percentileMs: () => p95, failedRate: rate });
  const dur = { metric: 'http_req_duration' as const, expr: 'p(95)<500' };
  const failed = { metric: 'http_req_failed' as const, expr: 'rate<0.01' };
  assert.equal(evaluate(dur, obs(499, 0)).pass, true);
  assert.equal(evaluate(dur, obs(500, 0)).pass, false);
  assert.equal(evaluate(failed, obs(1, 0.009)).pass, true);
  assert.equal(evaluate(failed, obs(1, 0.01)).pass, false);
  assert.throws(() => evaluate({ metric: 'http_req_duration', expr: 'avg<5' }, obs(1, 0)), /unsupported/);
});

test('cpu plan keeps the load generator off the target when a core is free', () => {
  assert.deepEqual(planCpus('upstream', 2), { target: '1', upstream: '1', loadgen: '0', overlaps: [] });
  const one = planCpus('one', 2);
  assert.deepEqual([one.target, one.upstream, one.loadgen], ['0', '1', '1']);
  assert.deepEqual(one.overlaps, ['load generator shares cpu 1 with the upstream']);
  const all = planCpus('all', 2);
  assert.equal(all.target, '0-1');
  assert.ok(all.overlaps.some((o) => o.includes('with the target')));
  const big = planCpus('one', 8);
  assert.deepEqual([big.target, big.upstream, big.loadgen, big.overlaps.length], ['0', '7', '1', 0]);
});

test('/proc sampling sees this process and charges the CPU it burns', () => {
  assert.ok(processTree(process.ppid).includes(process.pid));
  const before = sampleCpu([process.pid]);
  const end = Date.now() + 60;
  while (Date.now() < end); // burn ~60 ms of user time
  const ms = cpuMsBetween(before, sampleCpu([process.pid]));
  assert.ok(ms >= 30 && ms < 1000, `measured ${ms} ms`);
});

test('ratios pair Hyperway rows with their baselines per tool', () => {
  const row = (key: string, rps: number, p99: number, cpu: number): Row => ({
    key, target: key, tool: 'wrk', workers: 1, cpus: '0', rps, p50Ms: 1, p99Ms: p99, requests: 1, errors: 0, non2xx: 0, cpuMsPerReq: cpu, rootCpuShare: null, upstreamCpuMsPerReq: null,
  });
  const table = ratiosTable([row('direct', 100, 1, 0.01), row('hyperway-1', 50, 2, 0.04), row('nginx-1', 25, 4, 0.02)]);
  assert.match(table, /Hyperway 1 worker \/ direct\s+\| wrk\s+\| 0\.50\s+\| 2\.00\s+\| 4\.00/);
  assert.match(table, /Hyperway 1 worker \/ nginx 1 worker \| wrk\s+\| 2\.00\s+\| 0\.50\s+\| 2\.00/);
  assert.doesNotMatch(table, /all cores/);
  assert.match(ratiosTable([]), /no ratios/);
});
