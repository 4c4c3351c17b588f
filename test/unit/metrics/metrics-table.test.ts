import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSegment, destroySegment, REGION, REGION_COUNT, SHM_PREFIX, type Segment } from '../../../src/shared/shm';
import {
  initMetricsRegion, metricsRegionWords, openWorkerMetrics, readMetricsBlock, REQUEST_HIST, SOURCE, UPSTREAM_LATENCY_BUCKETS, type MetricsLayout,
} from '../../../src/shared/metrics-table';
import { MetricsCollector } from '../../../src/primary/metrics/collect';

const PREFIX = `${SHM_PREFIX}test-${process.pid}-${randomBytes(4).toString('hex')}.`;
const SVC = '11111111-2222-4333-8444-555555555555';
const R1 = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const R2 = 'ffffffff-0000-4111-8222-333333333333';
const ALICE = '0a0b0c0d-1e1f-4a2b-9c3d-4e5f6a7b8c9d';

function segment(layout: MetricsLayout): Segment {
  const words = new Array<number>(REGION_COUNT).fill(0);
  words[REGION.METRICS] = metricsRegionWords(layout);
  const seg = createSegment(process.pid, layout.blocks, PREFIX, words);
  initMetricsRegion(seg, layout);
  return seg;
}

test('series round-trip by entity uuid, per worker block; the request histogram counts every observation', () => {
  const seg = segment({ blocks: 2, statusRows: 8, routeRows: 8, kong2: false });
  try {
    const w0 = openWorkerMetrics(seg, 0);
    const w1 = openWorkerMetrics(seg, 1);
    assert.ok(w0 && w1);
    for (let i = 0; i < 3; i++) w0.countStatus(SVC, R1, null, 200, SOURCE.SERVICE);
    w0.countStatus(SVC, R1, ALICE, 401, SOURCE.KONG);
    w1.countStatus(SVC, R2, null, 200, SOURCE.SERVICE);
    for (const ms of [0, 25, 30, 70000]) w0.observe(SVC, R1, null, 10, 20, 1, ms, ms, true);
    const b0 = readMetricsBlock(seg, 0);
    assert.deepEqual(b0.status.map((s) => [s.service, s.route, s.consumer, s.code, s.source, s.count]), [
      [SVC, R1, null, 200, SOURCE.SERVICE, 3],
      [SVC, R1, ALICE, 401, SOURCE.KONG, 1],
    ]);
    assert.equal(b0.routes.length, 1);
    const v = b0.routes[0].values;
    assert.deepEqual([v[0], v[1]], [40, 80]);
    const hist = Array.from(v.slice(REQUEST_HIST, REQUEST_HIST + UPSTREAM_LATENCY_BUCKETS.length + 2));
    // 0 and 25 ms → le 25 (Kong's buckets are inclusive), 30 ms → le 50, 70000 ms → +Inf; then the sum.
    assert.deepEqual(hist, [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 70055]);
    assert.deepEqual(readMetricsBlock(seg, 1).status.map((s) => [s.route, s.count]), [[R2, 1]]);
  } finally {
    destroySegment(seg);
  }
});

test('a full series table drops (and counts) new series, never overwrites an old one', () => {
  const seg = segment({ blocks: 1, statusRows: 2, routeRows: 1, kong2: false });
  try {
    const w = openWorkerMetrics(seg, 0);
    assert.ok(w);
    w.countStatus(SVC, R1, null, 200, SOURCE.SERVICE);
    w.countStatus(SVC, R1, null, 404, SOURCE.KONG);
    w.countStatus(SVC, R1, null, 500, SOURCE.SERVICE);
    w.countStatus(SVC, R1, null, 500, SOURCE.SERVICE);
    w.countStatus(SVC, R1, null, 200, SOURCE.SERVICE);
    const b = readMetricsBlock(seg, 0);
    assert.deepEqual(b.status.map((s) => [s.code, s.count]), [[200, 2], [404, 1]]);
    assert.equal(b.dropped, 2);
  } finally {
    destroySegment(seg);
  }
});

test('retiring a slot keeps its counts in the sums and zeroes the block for the next worker', () => {
  const seg = segment({ blocks: 2, statusRows: 4, routeRows: 4, kong2: true });
  try {
    const c = new MetricsCollector(seg, 2);
    openWorkerMetrics(seg, 0)?.countStatus(SVC, R1, null, 200, SOURCE.SERVICE);
    openWorkerMetrics(seg, 1)?.countStatus(SVC, R1, null, 200, SOURCE.SERVICE);
    openWorkerMetrics(seg, 0)?.observe(SVC, R1, null, 5, 0, 1, 1, 2, true);
    const before = c.sums();
    c.retire(0);
    assert.equal(readMetricsBlock(seg, 0).status.length, 0);
    const after = c.sums();
    assert.deepEqual([...after.status.values()].map((s) => s.count), [...before.status.values()].map((s) => s.count));
    assert.deepEqual([...after.routes.values()].map((r) => Array.from(r.values)), [...before.routes.values()].map((r) => Array.from(r.values)));
    // The replacement counts from zero; the sums go on from the retired base.
    openWorkerMetrics(seg, 0)?.countStatus(SVC, R1, null, 200, SOURCE.SERVICE);
    assert.equal([...c.sums().status.values()][0].count, 3);
  } finally {
    destroySegment(seg);
  }
});
