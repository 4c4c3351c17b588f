// rate-limiting-advanced's handler and sliding-window math against a FakeContext, a table of this
// process and a fake clock (Date.now replaced for the duration of each test).
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { handler, type RateLimitingAdvancedConf } from '../../../src/plugins/rate-limiting-advanced/handler';
import { previousWeight, secondsToWindowEnd, slidingRate, windowIndexOf } from '../../../src/plugins/rate-limiting-advanced/sliding-window';
import { buildPluginEnv } from '../../../src/plugins/env';
import { attachRateLimitTable, tableWords } from '../../../src/shared/rate-limit-table';
import { FakeContext } from '../fake-context';

attachRateLimitTable(new Int32Array(tableWords(4096)));
const env = buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });
const realNow = Date.now;
let now = 0;
afterEach(() => {
  Date.now = realNow;
});
function at(ms: number): void {
  now = ms;
  Date.now = () => now;
}

const DEFAULTS = {
  window_type: 'sliding', identifier: 'ip', header_name: null, path: null, namespace: null, strategy: 'local',
  sync_rate: null, hide_client_headers: false, retry_after_jitter_max: 0, error_code: 429,
  error_message: 'API rate limit exceeded', disable_penalty: false, redis: { host: null, port: null, timeout: 2000 },
};
let n = 0;
const conf = (over: Record<string, unknown>): RateLimitingAdvancedConf =>
  handler.configure!({ ...DEFAULTS, ...over }, env, { id: `plugin-${++n}`, routeId: null, serviceId: null });
function run(c: RateLimitingAdvancedConf): FakeContext {
  const ctx = new FakeContext({ clientIp: '10.0.0.1' }, env);
  assert.equal(handler.access!(ctx, c), undefined);
  return ctx;
}
const h = (ctx: FakeContext, name: string): string | undefined => ctx.responseHeaders.get(name.toLowerCase())?.[0];
const passed = (c: RateLimitingAdvancedConf, count: number): number => {
  let p = 0;
  for (let i = 0; i < count; i++) if (run(c).exitRecord === null) p++;
  return p;
};

const T0 = 1_800_000_000_000; // a multiple of 10 s and of 60 s

test('sliding-window math: window index, weight of the previous window, rate, reset', () => {
  assert.equal(windowIndexOf(10, T0 + 9_999), T0 / 10_000);
  assert.equal(previousWeight(10, T0), 1);
  assert.equal(previousWeight(10, T0 + 2_500), 0.75);
  assert.equal(slidingRate(8, 3, 10, T0 + 2_500), 6 + 3);
  assert.equal(secondsToWindowEnd(10, T0 + 2_500), 8);
  assert.equal(secondsToWindowEnd(10, T0 + 9_999), 1);
});

test('sliding: the previous window weighs on the next; a burst at the edge does not get through twice', () => {
  const c = conf({ limit: [10], window_size: [10], disable_penalty: true });
  at(T0 + 9_900);
  assert.equal(passed(c, 30), 10);
  // 0.5 s into the next window the previous one still weighs 95 %: floor(10 × 0.95) = 9, so 1 more.
  at(T0 + 10_500);
  assert.equal(passed(c, 30), 1);
  // Half way: floor(10 × 0.5) = 5, so 10 − 5 − 1 already counted = 4 more.
  at(T0 + 15_000);
  assert.equal(passed(c, 30), 4);
  // The bound in the README: δ seconds after a full window, at most floor(limit·δ/size) + 1 more.
  const c2 = conf({ limit: [100], window_size: [10], disable_penalty: true });
  at(T0 + 9_999);
  assert.equal(passed(c2, 100), 100);
  for (const d of [1, 1_000, 3_333, 9_999]) {
    const c3 = conf({ limit: [100], window_size: [10], disable_penalty: true });
    at(T0 + 9_999);
    passed(c3, 100);
    at(T0 + 10_000 + d);
    assert.ok(passed(c3, 300) <= Math.floor((100 * d) / 10_000) + 1, `δ = ${d} ms`);
  }
});

test('penalty (disable_penalty false): denied requests count too, so a client that keeps hammering stays blocked', () => {
  const c = conf({ limit: [10], window_size: [10] });
  at(T0 + 9_000);
  assert.equal(passed(c, 30), 10);
  at(T0 + 15_000);
  assert.equal(passed(c, 5), 0, 'floor(30 × 0.5) = 15 > 10');
});

test('fixed windows reset at their edge; headers name calendar sizes in words, others in seconds', () => {
  const c = conf({ limit: [2, 5], window_size: [10, 60], window_type: 'fixed' });
  at(T0 + 1_000);
  let ctx = run(c);
  assert.equal(h(ctx, 'X-RateLimit-Limit-10'), '2');
  assert.equal(h(ctx, 'X-RateLimit-Remaining-10'), '1');
  assert.equal(h(ctx, 'X-RateLimit-Limit-Minute'), '5');
  assert.equal(h(ctx, 'X-RateLimit-Remaining-Minute'), '4');
  assert.equal(h(ctx, 'RateLimit-Limit'), '2');
  assert.equal(h(ctx, 'RateLimit-Reset'), '9');
  run(c);
  ctx = run(c);
  assert.deepEqual(ctx.exitRecord, { status: 429, body: 'API rate limit exceeded', headers: { 'Retry-After': '9' }, kind: 'error' });
  assert.equal(h(ctx, 'X-RateLimit-Remaining-Minute'), '3', 'the denied request was not counted');
  at(T0 + 10_000);
  assert.equal(run(c).exitRecord, null, 'a fixed window starts again at its edge');
});

test('retry_after_jitter_max adds 0 … max seconds; hide_client_headers hides everything', () => {
  const c = conf({ limit: [1], window_size: [60], retry_after_jitter_max: 5 });
  at(T0 + 30_000);
  run(c);
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(Number(run(c).exitRecord?.headers['Retry-After']));
  assert.ok([...seen].every((s) => s >= 30 && s <= 35), [...seen].join());
  assert.ok(seen.size > 3, 'jitter varies');
  const hidden = conf({ limit: [1], window_size: [60], hide_client_headers: true });
  assert.equal(run(hidden).responseHeaders.size, 0);
  const ctx = run(hidden);
  assert.equal(ctx.responseHeaders.size, 0);
  assert.deepEqual(ctx.exitRecord?.headers, {});
});

test('a namespace shares counters between instances', () => {
  at(T0 + 1_000);
  const a = conf({ limit: [1], window_size: [60], namespace: 'shared' });
  const b = conf({ limit: [1], window_size: [60], namespace: 'shared' });
  assert.equal(run(a).exitRecord, null);
  assert.equal(run(b).exitRecord?.status, 429);
  assert.equal(run(conf({ limit: [1], window_size: [60] })).exitRecord, null);
});
