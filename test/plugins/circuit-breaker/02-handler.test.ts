// circuit-breaker's access and measure phases against a FakeContext, the LogFacts the pipeline
// hands over, a fake clock, and shared tables over one SharedArrayBuffer: attaching a second view
// and a second conf is what a second worker process does.
import { after, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { clock, handler, HALF_OPEN_BODY, OPEN_BODY, type CircuitBreakerConf } from '../../../src/plugins/circuit-breaker/handler';
import { DEFAULT_FAILURE_STATUSES } from '../../../src/plugins/circuit-breaker/schema';
import { buildPluginEnv } from '../../../src/plugins/env';
import { attachBreakerTable, BREAKER, tableWords, type BreakerTable } from '../../../src/shared/breaker-table';
import type { LogFacts, PluginScope } from '../../../src/plugins/types';
import { FakeContext } from '../fake-context';
import { configureLog } from '../../../src/lib/log';

// The transitions are logged (03-proxy counts those lines); here they would only be noise.
configureLog('error', 'test');

const env = buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });
const DEFAULTS = {
  failure_threshold: 5, window: 60, reset_timeout: 30, half_open_requests: 1,
  failure_statuses: [...DEFAULT_FAILURE_STATUSES], count_connect_errors: true, count_timeouts: true,
};
const SVC = 'svc-1';

let sab: SharedArrayBuffer;
let now = 1_780_000_000_000;
const realNow = clock.now;
clock.now = () => now;
after(() => {
  clock.now = realNow;
  attachBreakerTable(null);
});

/** A worker: its view of the shared table and its own conf (configure runs in every worker). */
interface Worker { table: BreakerTable; conf: CircuitBreakerConf }

let instances = 0;
/** Without a scope, each call is another plugin instance (its own breaker). */
function worker(over: Record<string, unknown> = {}, scope: PluginScope = { id: `plugin-${++instances}`, routeId: null, serviceId: SVC }): Worker {
  const table = attachBreakerTable(new Int32Array(sab)) as BreakerTable;
  return { table, conf: handler.configure!({ ...DEFAULTS, ...over }, env, scope) };
}

beforeEach(() => {
  sab = new SharedArrayBuffer(tableWords(64) * 4);
  instances++;
});

/** What the request's answer was, seen by the measure phase ('not-tried': a plugin's 503, request-termination's default). */
type Result = 'ok' | '500' | '404' | '429' | 'refused' | 'timeout' | 'dns' | 'not-tried' | 'aborted';

function factsFor(r: Result, ctx: FakeContext): LogFacts {
  const upstream = r === 'ok' || r === '500' || r === '404' || r === '429';
  const status = r === 'ok' ? 200 : upstream ? Number(r) : r === 'refused' ? 502 : r === 'timeout' ? 504 : r === 'dns' || r === 'not-tried' ? 503 : 0;
  return {
    status, fromUpstream: upstream, routeId: 'route-1', serviceId: ctx.serviceId, consumerId: null,
    requestSize: 0, responseSize: 0, requestLatency: 1, kongLatency: 0, proxyLatency: upstream ? 1 : -1,
    upstreamTried: r !== 'not-tried', shared: ctx.shared,
  };
}

/**
 * One request through worker `w`: access, then (unless the breaker answered) the upstream's
 * result `r`, then measure, as the pipeline runs them. Returns the breaker's answer or 'passed'.
 */
function send(w: Worker, r: Result, serviceId = SVC): 'passed' | 'OPEN' | 'HALF_OPEN' {
  attachBreakerTable(w.table.words);
  const ctx = new FakeContext({ serviceId });
  handler.access!(ctx, w.conf);
  const exit = ctx.exitRecord;
  // A refused request still reaches measure (it never tried an upstream).
  handler.measure!(factsFor(exit === null ? r : 'not-tried', ctx), w.conf);
  if (exit === null) return 'passed';
  assert.equal(exit.status, 503);
  assert.deepEqual(exit.headers, { 'Content-Type': 'application/json; charset=utf-8' });
  const body = JSON.parse(exit.body as string) as { message: string; circuit_state: string };
  assert.equal(body.message, 'Service temporarily unavailable');
  assert.equal(exit.body, body.circuit_state === 'OPEN' ? OPEN_BODY : HALF_OPEN_BODY);
  return body.circuit_state as 'OPEN' | 'HALF_OPEN';
}

const sendN = (w: Worker, r: Result, n: number): string[] => Array.from({ length: n }, () => send(w, r));

function state(w: Worker, serviceId = SVC): number {
  const at = w.conf.slots.get(serviceId);
  assert.ok(at !== undefined && at >= 0);
  return w.table.view(at, now, 60_000).state;
}

test('failure_threshold upstream 5xx open it; then 503 OPEN without counting the refused requests', () => {
  const w = worker();
  assert.deepEqual(sendN(w, '500', 4), ['passed', 'passed', 'passed', 'passed']);
  assert.equal(state(w), BREAKER.CLOSED);
  assert.equal(send(w, '500'), 'passed', 'the fifth failure still went to the upstream');
  assert.equal(state(w), BREAKER.OPEN);
  assert.deepEqual(sendN(w, 'ok', 3), ['OPEN', 'OPEN', 'OPEN']);
  now += 29_999;
  assert.equal(send(w, 'ok'), 'OPEN', 'reset_timeout not over yet');
});

test('successes and statuses outside failure_statuses never count; failure_statuses is what counts', () => {
  const w = worker();
  for (let i = 0; i < 4; i++) send(w, '500');
  sendN(w, 'ok', 10);
  sendN(w, '404', 10);
  sendN(w, '429', 10);
  assert.equal(state(w), BREAKER.CLOSED, '4 failures among 34 requests');
  send(w, '500');
  assert.equal(state(w), BREAKER.OPEN);

  const only429 = worker({ failure_statuses: [429], failure_threshold: 2 });
  sendN(only429, '500', 5);
  send(only429, '429');
  assert.equal(state(only429), BREAKER.CLOSED);
  send(only429, '429');
  assert.equal(state(only429), BREAKER.OPEN);
});

test('the gateway\'s own 502/503 (unreachable, DNS) and 504 (timeout) count unless switched off; aborts and other plugins\' answers never', () => {
  const w = worker({ failure_threshold: 3 });
  sendN(w, 'not-tried', 10);
  sendN(w, 'aborted', 10);
  send(w, 'refused');
  send(w, 'dns');
  assert.equal(state(w), BREAKER.CLOSED);
  send(w, 'timeout');
  assert.equal(state(w), BREAKER.OPEN);

  const off = worker({ failure_threshold: 1, count_connect_errors: false, count_timeouts: false });
  sendN(off, 'refused', 3);
  sendN(off, 'dns', 3);
  sendN(off, 'timeout', 3);
  assert.equal(send(off, '500'), 'passed');
  assert.equal(state(off), BREAKER.OPEN, 'the upstream\'s own 500 still counts');

  const timeoutsOnly = worker({ failure_threshold: 1, count_connect_errors: false });
  send(timeoutsOnly, 'refused');
  assert.equal(state(timeoutsOnly), BREAKER.CLOSED);
  send(timeoutsOnly, 'timeout');
  assert.equal(state(timeoutsOnly), BREAKER.OPEN);
});

function open(w: Worker): void {
  for (let i = 0; i < w.conf.threshold; i++) send(w, '500');
  assert.equal(state(w), BREAKER.OPEN);
}

test('after reset_timeout one trial passes and the rest get HALF_OPEN; its success closes', () => {
  const w = worker({ reset_timeout: 2 });
  open(w);
  now += 2000;
  attachBreakerTable(w.table.words);
  const trial = new FakeContext({ serviceId: SVC });
  handler.access!(trial, w.conf);
  assert.equal(trial.exitRecord, null, 'the trial goes to the upstream');
  assert.deepEqual(sendN(w, 'ok', 3), ['HALF_OPEN', 'HALF_OPEN', 'HALF_OPEN'], 'while the trial is out');
  handler.measure!(factsFor('ok', trial), w.conf);
  assert.equal(state(w), BREAKER.CLOSED);
  assert.deepEqual(sendN(w, 'ok', 3), ['passed', 'passed', 'passed']);
  // Closed again with an empty window: it takes failure_threshold new failures to reopen.
  sendN(w, '500', 4);
  assert.equal(state(w), BREAKER.CLOSED);
});

test('a failed trial reopens for another reset_timeout; a trial that never reached the upstream gives its place back', () => {
  const w = worker({ reset_timeout: 1, half_open_requests: 2 });
  open(w);
  now += 1000;
  assert.equal(send(w, 'not-tried'), 'passed', 'a trial that another plugin answered');
  assert.equal(send(w, 'aborted'), 'passed', 'a trial whose client went away');
  assert.equal(send(w, 'ok'), 'passed', 'both places came back: a first success');
  assert.equal(state(w), BREAKER.HALF_OPEN, 'two trials must succeed');
  assert.equal(send(w, '500'), 'passed', 'the second trial fails');
  assert.equal(state(w), BREAKER.OPEN);
  now += 999;
  assert.equal(send(w, 'ok'), 'OPEN');
  now += 1;
  assert.deepEqual([send(w, 'ok'), send(w, 'ok')], ['passed', 'passed']);
  assert.equal(state(w), BREAKER.CLOSED);
});

test('a late failure of a request let through while CLOSED neither reopens nor closes a HALF_OPEN breaker', () => {
  const w = worker({ reset_timeout: 1, failure_threshold: 1 });
  attachBreakerTable(w.table.words);
  const slow = new FakeContext({ serviceId: SVC });
  handler.access!(slow, w.conf);
  assert.equal(slow.exitRecord, null);
  send(w, '500');
  now += 1000;
  const trial = new FakeContext({ serviceId: SVC });
  handler.access!(trial, w.conf);
  assert.equal(trial.exitRecord, null);
  handler.measure!(factsFor('500', slow), w.conf);
  handler.measure!(factsFor('ok', slow), w.conf);
  assert.equal(state(w), BREAKER.HALF_OPEN, 'the slow request was no trial');
  handler.measure!(factsFor('ok', trial), w.conf);
  assert.equal(state(w), BREAKER.CLOSED);
});

test('two workers: failures add up across them, one trial passes across them', () => {
  const scope: PluginScope = { id: `shared-${instances}`, routeId: null, serviceId: SVC };
  const a = worker({ reset_timeout: 1 }, scope);
  const b = worker({ reset_timeout: 1 }, scope);
  send(a, '500');
  send(b, '500');
  send(a, '500');
  send(b, '500');
  assert.equal(state(a), BREAKER.CLOSED, '4 failures, 2 in each worker');
  send(b, '500');
  assert.equal(state(a), BREAKER.OPEN, 'the fifth, in worker b, opens it for worker a too');
  assert.equal(send(a, 'ok'), 'OPEN');
  now += 1000;
  attachBreakerTable(b.table.words);
  const trial = new FakeContext({ serviceId: SVC });
  handler.access!(trial, b.conf);
  assert.equal(trial.exitRecord, null);
  assert.equal(send(a, 'ok'), 'HALF_OPEN', 'worker a sees the trial worker b let through');
  attachBreakerTable(b.table.words);
  handler.measure!(factsFor('ok', trial), b.conf);
  assert.equal(send(a, 'ok'), 'passed');
});

test('one breaker per (instance, service): a global instance keeps one per service; a reload keeps the state', () => {
  const global: PluginScope = { id: `global-${instances}`, routeId: null, serviceId: null };
  const w = worker({ failure_threshold: 1 }, global);
  send(w, '500', 'svc-a');
  assert.equal(send(w, 'ok', 'svc-a'), 'OPEN');
  assert.equal(send(w, 'ok', 'svc-b'), 'passed', 'another service, another breaker');
  const other = worker({ failure_threshold: 1 }, { id: `other-${instances}`, routeId: 'route-x', serviceId: null });
  assert.equal(send(other, 'ok', 'svc-a'), 'passed', 'another instance, another breaker');
  const reloaded = worker({ failure_threshold: 1 }, global);
  assert.equal(send(reloaded, 'ok', 'svc-a'), 'OPEN', 'same plugin id after a reload: same breaker');
});

test('no table (segment without the region) or no service: the plugin does nothing', () => {
  const w = worker({ failure_threshold: 1 });
  attachBreakerTable(null);
  const ctx = new FakeContext({ serviceId: SVC });
  handler.access!(ctx, w.conf);
  handler.measure!(factsFor('500', ctx), w.conf);
  assert.equal(ctx.exitRecord, null);
  assert.equal(w.conf.slots.size, 0);
  attachBreakerTable(w.table.words);
  const none = new FakeContext({ serviceId: null });
  none.serviceId = null;
  handler.access!(none, w.conf);
  handler.measure!(factsFor('500', none), w.conf);
  assert.equal(none.exitRecord, null);
  assert.equal(send(w, 'ok'), 'passed');
});

test('a full table: the breakers that found no slot are not enforced, the others are', () => {
  sab = new SharedArrayBuffer(tableWords(1) * 4);
  const first = worker({ failure_threshold: 1 }, { id: 'full-1', routeId: null, serviceId: null });
  send(first, '500');
  assert.equal(send(first, 'ok'), 'OPEN');
  const second = worker({ failure_threshold: 1 }, { id: 'full-2', routeId: null, serviceId: null });
  sendN(second, '500', 3);
  assert.equal(send(second, 'ok'), 'passed');
  assert.equal(second.conf.slots.get(SVC), -1);
  assert.equal(second.table.fullMisses(), 1, 'looked up once, then remembered for the snapshot');
});
