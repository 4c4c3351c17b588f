import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handler } from '../../../src/plugins/response-transformer/handler';
import { buildPluginEnv } from '../../../src/plugins/env';
import { FakeContext } from '../fake-context';

const env = buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });
const values = () => ({ json: [] as string[], json_types: [] as string[], headers: [] as string[] });

function conf(over: Record<string, Record<string, unknown>>) {
  const base: Record<string, Record<string, unknown>> = { remove: { json: [], headers: [] }, rename: { json: [], headers: [] }, replace: values(), add: values(), append: values() };
  for (const [k, v] of Object.entries(over)) base[k] = { ...base[k], ...v };
  return handler.configure!(base, env);
}

function response(headers: Record<string, string>): FakeContext {
  const ctx = new FakeContext();
  for (const [k, v] of Object.entries(headers)) ctx.setResponseHeader(k, v);
  return ctx;
}

test('headers: remove, rename, replace when present, add when absent, append', () => {
  const c = conf({
    remove: { headers: ['X-Powered-By'] },
    rename: { headers: ['x-old:X-New'] },
    replace: { headers: ['server:gw', 'x-none:n'] },
    add: { headers: ['server:no', 'x-added:1'] },
    append: { headers: ['x-added:2'] },
  });
  const ctx = response({ 'x-powered-by': 'php', 'x-old': 'o', server: 'apache', 'content-type': 'text/plain' });
  handler.headerFilter!(ctx, c);
  assert.equal(ctx.responseHeader('x-powered-by'), null);
  assert.equal(ctx.responseHeader('x-new'), 'o');
  assert.equal(ctx.responseHeader('server'), 'gw');
  assert.equal(ctx.responseHeader('x-none'), null);
  assert.deepEqual(ctx.responseHeaders.get('x-added'), ['1', '2']);
  assert.equal(ctx.shared['response-transformer.body'], undefined, 'no JSON rules: the body is not held');
});

test('JSON bodies: edits once the whole body is in, typed values, no stale Content-Length', () => {
  const c = conf({
    remove: { json: ['secret'] },
    rename: { json: ['id:user_id'] },
    replace: { json: ['status:ok'] },
    add: { json: ['count:3', 'active:true', 'status:ignored'], json_types: ['number', 'boolean', 'string'] },
    append: { json: ['tags:new'] },
  });
  const ctx = response({ 'content-type': 'application/json; charset=utf-8', 'content-length': '60' });
  handler.headerFilter!(ctx, c);
  assert.equal(ctx.responseHeader('content-length'), null);
  const a = handler.bodyFilter!(ctx, c, Buffer.from('{"id":1,"secret":"s","status":"x",'), false);
  assert.equal(a.length, 0, 'held until the end');
  const b = handler.bodyFilter!(ctx, c, Buffer.from('"tags":["old"]}'), true);
  assert.deepEqual(JSON.parse(b.toString()), { user_id: 1, status: 'ok', count: 3, active: true, tags: ['old', 'new'] });
});

test('non-JSON responses and JSON arrays pass through unchanged', () => {
  const c = conf({ add: { json: ['k:v'] } });
  const text = response({ 'content-type': 'text/html', 'content-length': '5' });
  handler.headerFilter!(text, c);
  assert.equal(text.responseHeader('content-length'), '5');
  assert.equal(handler.bodyFilter!(text, c, Buffer.from('hello'), true).toString(), 'hello');
  const arr = response({ 'content-type': 'application/json' });
  handler.headerFilter!(arr, c);
  assert.equal(handler.bodyFilter!(arr, c, Buffer.from('[1,2]'), true).toString(), '[1,2]');
});
