// rate-limiting's access handler against a FakeContext and a table of this process (Kong's
// spec/03-plugins/23-rate-limiting/04-access_spec cases without the proxy; 03-proxy has them
// through the gateway, across worker processes and with Redis).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handler, type RateLimitingConf } from '../../../src/plugins/rate-limiting/handler';
import { buildPluginEnv } from '../../../src/plugins/env';
import { attachRateLimitTable, tableWords } from '../../../src/shared/rate-limit-table';
import { resetSeconds } from '../../../src/plugins/rate-limiting/windows';
import type { ConsumerSnap } from '../../../src/shared/snapshot';
import { FakeContext, type FakeRequest } from '../fake-context';

attachRateLimitTable(new Int32Array(tableWords(4096)));
const env = buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });

const DEFAULTS = {
  second: null, minute: null, hour: null, day: null, month: null, year: null,
  limit_by: 'consumer', header_name: null, path: null, policy: 'local', fault_tolerant: true,
  redis: { host: null, port: 6379, timeout: 2000 }, hide_client_headers: false, error_code: 429,
  error_message: 'API rate limit exceeded', sync_rate: -1,
};

let scopes = 0;
/** Each conf gets a route scope of its own, so tests never share counters by accident. */
function conf(over: Record<string, unknown>, routeId = `route-${++scopes}`): RateLimitingConf {
  return handler.configure!({ ...DEFAULTS, ...over }, env, { id: 'p', routeId, serviceId: null });
}

function run(c: RateLimitingConf, req: FakeRequest = {}, setup?: (ctx: FakeContext) => void): FakeContext {
  const ctx = new FakeContext(req, env);
  setup?.(ctx);
  const r = handler.access!(ctx, c);
  assert.equal(r, undefined, 'policy local answers synchronously');
  return ctx;
}

const h = (ctx: FakeContext, name: string): string | undefined => ctx.responseHeaders.get(name.toLowerCase())?.[0];

test('exactly the limit passes, with Kong\'s headers; the next gets 429 with Retry-After', () => {
  const c = conf({ hour: 3 });
  for (let i = 1; i <= 3; i++) {
    const ctx = run(c);
    assert.equal(ctx.exitRecord, null);
    assert.equal(h(ctx, 'X-RateLimit-Limit-Hour'), '3');
    assert.equal(h(ctx, 'X-RateLimit-Remaining-Hour'), String(3 - i));
    assert.equal(h(ctx, 'RateLimit-Limit'), '3');
    assert.equal(h(ctx, 'RateLimit-Remaining'), String(3 - i));
    const reset = Number(h(ctx, 'RateLimit-Reset'));
    assert.ok(Math.abs(reset - resetSeconds('hour', Date.now())) <= 1, `reset ${reset}`);
  }
  for (let i = 0; i < 2; i++) {
    const ctx = run(c);
    assert.deepEqual(ctx.exitRecord, { status: 429, body: 'API rate limit exceeded', headers: { 'Retry-After': h(ctx, 'RateLimit-Reset') }, kind: 'error' });
    assert.equal(h(ctx, 'X-RateLimit-Remaining-Hour'), '0');
    assert.equal(h(ctx, 'RateLimit-Remaining'), '0');
  }
});

test('several windows: each gets its headers; RateLimit-* names the most constrained, ties to the longer', () => {
  const c = conf({ hour: 2, day: 5 });
  let ctx = run(c);
  assert.equal(h(ctx, 'X-RateLimit-Remaining-Hour'), '1');
  assert.equal(h(ctx, 'X-RateLimit-Remaining-Day'), '4');
  assert.equal(h(ctx, 'RateLimit-Limit'), '2');
  const tie = conf({ hour: 3, day: 3 });
  ctx = run(tie);
  assert.equal(h(ctx, 'RateLimit-Limit'), '3');
  assert.equal(Number(h(ctx, 'RateLimit-Reset')), resetSeconds('day', Date.now()), 'tie: the day window resets');
  run(c);
  ctx = run(c);
  assert.equal(ctx.exitRecord?.status, 429);
  assert.equal(h(ctx, 'X-RateLimit-Remaining-Day'), '3');
  // The blocked requests did not count against the day window either.
  ctx = run(c);
  assert.equal(h(ctx, 'X-RateLimit-Remaining-Day'), '3');
});

test('hide_client_headers: no headers, and no Retry-After on the 429; custom error_code and message', () => {
  const c = conf({ day: 1, hide_client_headers: true, error_code: 503, error_message: 'slow down' });
  assert.equal(run(c).responseHeaders.size, 0);
  const ctx = run(c);
  assert.equal(ctx.responseHeaders.size, 0);
  assert.deepEqual(ctx.exitRecord, { status: 503, body: 'slow down', headers: {}, kind: 'error' });
});

const BOB: ConsumerSnap = { id: 'b0b0b0b0-0000-4000-8000-000000000001', username: 'bob', customId: null, tags: [] };
const EVE: ConsumerSnap = { id: 'e0e0e0e0-0000-4000-8000-000000000001', username: 'eve', customId: null, tags: [] };
const as = (who: ConsumerSnap, credId: string | null) => (ctx: FakeContext): void => {
  ctx.consumer = who;
  ctx.credential = credId === null ? null : { id: credId, identifier: credId };
};
const passes = (ctx: FakeContext): boolean => ctx.exitRecord === null;

test('limit_by consumer (fallback IP), credential, ip, service, header, path', () => {
  const byConsumer = conf({ day: 1 });
  assert.ok(passes(run(byConsumer, {}, as(BOB, 'c1'))));
  assert.ok(!passes(run(byConsumer, { clientIp: '10.0.0.9' }, as(BOB, 'c2'))), 'same consumer, other IP and credential');
  assert.ok(passes(run(byConsumer, {}, as(EVE, 'c3'))));
  assert.ok(passes(run(byConsumer, { clientIp: '10.0.0.1' })), 'no consumer: by IP');
  assert.ok(!passes(run(byConsumer, { clientIp: '10.0.0.1' })));
  assert.ok(passes(run(byConsumer, { clientIp: '10.0.0.2' })));

  const byCredential = conf({ day: 1, limit_by: 'credential' });
  assert.ok(passes(run(byCredential, {}, as(BOB, 'c1'))));
  assert.ok(passes(run(byCredential, {}, as(BOB, 'c2'))), 'same consumer, other credential');
  assert.ok(!passes(run(byCredential, { clientIp: '10.9.9.9' }, as(EVE, 'c1'))));

  const byIp = conf({ day: 1, limit_by: 'ip' });
  assert.ok(passes(run(byIp, { clientIp: '10.1.0.1' }, as(BOB, 'c1'))));
  assert.ok(!passes(run(byIp, { clientIp: '10.1.0.1' }, as(EVE, 'c3'))), 'same IP, other consumer');

  const byService = conf({ day: 1, limit_by: 'service' });
  assert.ok(passes(run(byService, { serviceId: 's1', clientIp: '10.2.0.1' })));
  assert.ok(!passes(run(byService, { serviceId: 's1', clientIp: '10.2.0.2' })));
  assert.ok(passes(run(byService, { serviceId: 's2', clientIp: '10.2.0.1' })));

  const byHeader = conf({ day: 1, limit_by: 'header', header_name: 'X-Tenant' });
  assert.ok(passes(run(byHeader, { headers: { 'x-tenant': 'acme' }, clientIp: '10.3.0.1' })));
  assert.ok(!passes(run(byHeader, { headers: { 'x-tenant': 'acme' }, clientIp: '10.3.0.2' })));
  assert.ok(passes(run(byHeader, { headers: { 'x-tenant': 'other' }, clientIp: '10.3.0.1' })));
  assert.ok(passes(run(byHeader, { clientIp: '10.3.0.1' })), 'no header: by IP');

  const byPath = conf({ day: 1, limit_by: 'path', path: '/login' });
  assert.ok(passes(run(byPath, { path: '/login', clientIp: '10.4.0.1' })));
  assert.ok(!passes(run(byPath, { path: '/login', clientIp: '10.4.0.2' })), 'the configured path is one counter for all');
  assert.ok(passes(run(byPath, { path: '/other', clientIp: '10.4.0.1' })), 'another path: by IP');
  assert.ok(passes(run(byPath, { path: '/other', clientIp: '10.4.0.2' })));
});

test('counters are keyed by the plugin\'s scope, not the request\'s route (Kong\'s conf.route_id)', () => {
  const a = conf({ day: 1 }, 'shared-scope');
  const b = conf({ day: 1 }, 'shared-scope');
  assert.ok(passes(run(a, { routeId: 'r1', clientIp: '10.5.0.1' })));
  assert.ok(!passes(run(b, { routeId: 'r2', clientIp: '10.5.0.1' })), 'same scope: one counter');
  assert.ok(passes(run(conf({ day: 1 }, 'other-scope'), { clientIp: '10.5.0.1' })));
});
