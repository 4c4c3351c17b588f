import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSegment, destroySegment, REGION, REGION_COUNT, SHM_PREFIX } from '../../../src/shared/shm';
import { initMetricsRegion, metricsRegionWords, readMetricsBlock, SOURCE } from '../../../src/shared/metrics-table';
import { bindPrometheus, handler } from '../../../src/plugins/prometheus/handler';
import { buildPluginEnv } from '../../../src/plugins/env';
import type { LogFacts } from '../../../src/plugins/types';

const PREFIX = `${SHM_PREFIX}test-${process.pid}-${randomBytes(4).toString('hex')}.`;
const SVC = '11111111-2222-4333-8444-555555555555';
const ROUTE = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const ALICE = '0a0b0c0d-1e1f-4a2b-9c3d-4e5f6a7b8c9d';

const facts = (over: Partial<LogFacts> = {}): LogFacts => ({
  status: 200, fromUpstream: true, routeId: ROUTE, serviceId: SVC, consumerId: ALICE,
  requestSize: 7, responseSize: 11, requestLatency: 3, kongLatency: 1, proxyLatency: 2, ...over,
});

test('prometheus handler: counts only the families its config enables, the consumer only with per_consumer', () => {
  const layout = { blocks: 1, statusRows: 8, routeRows: 8, kong2: false };
  const words = new Array<number>(REGION_COUNT).fill(0);
  words[REGION.METRICS] = metricsRegionWords(layout);
  const seg = createSegment(process.pid, 1, PREFIX, words);
  try {
    initMetricsRegion(seg, layout);
    bindPrometheus(seg, 0);
    const env = buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });
    const off = handler.configure!({ per_consumer: false, status_code_metrics: false, latency_metrics: false, bandwidth_metrics: false }, env);
    handler.measure!(facts(), off);
    assert.deepEqual(readMetricsBlock(seg, 0), { status: [], routes: [], dropped: 0 });

    const statusOnly = handler.configure!({ per_consumer: false, status_code_metrics: true, latency_metrics: false, bandwidth_metrics: false }, env);
    handler.measure!(facts(), statusOnly);
    handler.measure!(facts({ status: 401, fromUpstream: false, proxyLatency: -1 }), statusOnly);
    let b = readMetricsBlock(seg, 0);
    assert.deepEqual(b.status.map((s) => [s.consumer, s.code, s.source, s.count]), [[null, 200, SOURCE.SERVICE, 1], [null, 401, SOURCE.KONG, 1]]);
    assert.equal(b.routes.length, 0);

    const all = handler.configure!({ per_consumer: true, status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true }, env);
    handler.measure!(facts(), all);
    b = readMetricsBlock(seg, 0);
    assert.deepEqual(b.status.map((s) => [s.consumer, s.code, s.count]).at(-1), [ALICE, 200, 1]);
    assert.equal(b.routes.length, 1);
    assert.equal(b.routes[0].consumer, ALICE);
    assert.deepEqual([b.routes[0].values[0], b.routes[0].values[1]], [7, 11]);
  } finally {
    destroySegment(seg);
  }
});
