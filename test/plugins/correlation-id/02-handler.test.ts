// The correlation-id handler against a FakeContext (Kong's spec/03-plugins/11-correlation-id cases):
// generators, the incoming id kept, the upstream header, echo_downstream on answers access never saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handler, type CorrelationIdConf } from '../../../src/plugins/correlation-id/handler';
import { buildPluginEnv } from '../../../src/plugins/env';
import { FakeContext, type FakeRequest } from '../fake-context';
import { doc, load } from '../../unit/config/helpers';

const ENV = buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_COUNTER = /^([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})#(\d+)$/;
// Kong's TRACKER_PATTERN: addr-port-pid-connection-requests-seconds.millis
const TRACKER = /^\d+\.\d+\.\d+\.\d+-\d+-\d+-\d+-\d+-\d{10}\.\d{3}$/;

function conf(yaml = ''): CorrelationIdConf {
  const text = yaml === '' ? 'plugins:\n  - name: correlation-id\n' : `plugins:\n  - name: correlation-id\n    config:\n${yaml}`;
  return handler.configure!(load(doc(text)).snapshot.plugins[0].config, ENV);
}

function run(c: CorrelationIdConf, req: FakeRequest = {}): FakeContext {
  const ctx = new FakeContext(req);
  void handler.access!(ctx, c);
  handler.headerFilter!(ctx, c);
  return ctx;
}

test('priority is Kong\'s 100001 (before every other plugin but pre-function)', () => {
  assert.equal(handler.priority, 100001);
});

test('uuid#counter: one UUID per worker, a counter that goes up by one per id', () => {
  const c = conf();
  const a = UUID_COUNTER.exec(run(c).upstream('kong-request-id') ?? '');
  const b = UUID_COUNTER.exec(run(c).upstream('kong-request-id') ?? '');
  assert.ok(a && b, 'both ids have the uuid#counter shape');
  assert.equal(a[1], b[1]);
  assert.equal(Number(b[2]), Number(a[2]) + 1);
  // The counter is the worker's, shared by every instance.
  const other = UUID_COUNTER.exec(run(conf('      header_name: X-Other\n')).upstream('x-other') ?? '');
  assert.equal(Number(other?.[2]), Number(b[2]) + 1);
});

test('uuid: a fresh v4 UUID for every request', () => {
  const c = conf('      generator: uuid\n');
  const a = run(c).upstream('kong-request-id');
  const b = run(c).upstream('kong-request-id');
  assert.match(a ?? '', UUID);
  assert.match(b ?? '', UUID);
  assert.notEqual(a, b);
});

test('tracker: Kong\'s address-port-pid-connection-requests-time shape, unique per request', () => {
  const c = conf('      generator: tracker\n');
  const a = run(c).upstream('kong-request-id');
  const b = run(c).upstream('kong-request-id');
  assert.match(a ?? '', TRACKER);
  assert.match(b ?? '', TRACKER);
  assert.notEqual(a, b);
  assert.equal(a?.split('-')[2], String(process.pid));
});

test('a custom header name; no echo unless asked', () => {
  const ctx = run(conf('      header_name: Foo-Bar-Id\n'));
  assert.match(ctx.upstream('foo-bar-id') ?? '', UUID_COUNTER);
  assert.equal(ctx.upstream('kong-request-id'), null);
  assert.equal(ctx.responseHeader('foo-bar-id'), null);
});

test('an incoming id is kept; an empty one is replaced', () => {
  const kept = run(conf(), { headers: { 'Kong-Request-ID': 'foobar' } });
  assert.equal(kept.upstream('kong-request-id'), 'foobar');
  const empty = run(conf(), { headers: { 'Kong-Request-ID': '' } });
  assert.match(empty.upstream('kong-request-id') ?? '', UUID_COUNTER);
});

test('echo_downstream sends the upstream\'s id back, under the configured name', () => {
  const ctx = run(conf('      generator: uuid\n      echo_downstream: true\n      header_name: X-Corr\n'));
  const id = ctx.upstream('x-corr');
  assert.match(id ?? '', UUID);
  assert.equal(ctx.responseHeader('x-corr'), id);
  assert.equal(run(conf('      echo_downstream: true\n'), { headers: { 'kong-request-id': 'mine' } }).responseHeader('kong-request-id'), 'mine');
});

test('echo_downstream when access never ran (an earlier exit): the incoming id, else a fresh one', () => {
  const c = conf('      generator: uuid\n      echo_downstream: true\n');
  const fresh = new FakeContext();
  fresh.exit(418, { message: "I'm a teapot" });
  handler.headerFilter!(fresh, c);
  assert.match(fresh.responseHeader('kong-request-id') ?? '', UUID);
  const incoming = new FakeContext({ headers: { 'kong-request-id': 'my very personal id' } });
  incoming.exit(418);
  handler.headerFilter!(incoming, c);
  assert.equal(incoming.responseHeader('kong-request-id'), 'my very personal id');
});
