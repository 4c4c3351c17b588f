import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handler } from '../../../src/plugins/request-transformer/handler';
import { buildPluginEnv } from '../../../src/plugins/env';
import { FakeContext, type FakeRequest } from '../fake-context';

const env = buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });
const parts = () => ({ body: [] as string[], headers: [] as string[], querystring: [] as string[] });

function conf(over: Record<string, Record<string, unknown> | string>) {
  const base: Record<string, unknown> = { http_method: null, remove: parts(), rename: parts(), replace: { ...parts(), uri: null }, add: parts(), append: parts() };
  for (const [k, v] of Object.entries(over)) base[k] = typeof v === 'string' ? v : { ...(base[k] as object), ...v };
  return handler.configure!(base, env);
}

async function run(c: ReturnType<typeof conf>, req: FakeRequest): Promise<FakeContext> {
  const ctx = new FakeContext(req, env);
  await handler.access!(ctx, c);
  return ctx;
}

test('headers: remove, rename, replace only when present, add only when absent, append always', async () => {
  const c = conf({
    remove: { headers: ['x-drop'] },
    rename: { headers: ['x-old:x-new'] },
    replace: { headers: ['x-present:replaced', 'x-missing:never'] },
    add: { headers: ['x-present:not-added', 'x-added:yes'] },
    append: { headers: ['x-present:appended'] },
  });
  const ctx = await run(c, { headers: { 'x-drop': '1', 'x-old': 'o', 'x-present': 'p' } });
  assert.equal(ctx.upstream('x-drop'), null);
  assert.equal(ctx.upstream('x-old'), null);
  assert.equal(ctx.upstream('x-new'), 'o');
  assert.deepEqual(ctx.upstreamHeaders.get('x-present'), ['replaced', 'appended']);
  assert.equal(ctx.upstream('x-missing'), null);
  assert.equal(ctx.upstream('x-added'), 'yes');
});

test('templates read headers, query params and uri captures of the request', async () => {
  const c = conf({ add: { headers: ['x-user:u-$(headers.x_user_id)', 'x-q:$(query_params.page)', 'x-cap:$(uri_captures["id"])'] } });
  const ctx = await run(c, { headers: { 'x-user-id': '42' }, query: 'page=3&x=1', uriCaptures: { id: '7' } });
  assert.equal(ctx.upstream('x-user'), 'u-42');
  assert.equal(ctx.upstream('x-q'), '3');
  assert.equal(ctx.upstream('x-cap'), '7');
});

test('query string, method and uri', async () => {
  const c = conf({
    http_method: 'POST',
    remove: { querystring: ['secret'] },
    rename: { querystring: ['old:new'] },
    add: { querystring: ['added:a b'] },
    append: { querystring: ['tag:2'] },
    replace: { uri: '/v2/$(uri_captures.id)' },
  });
  const ctx = await run(c, { query: 'secret=s&old=o&tag=1', uriCaptures: { id: '9' } });
  assert.equal(ctx.upstreamQuery, 'new=o&tag=1&added=a%20b&tag=2');
  assert.equal(ctx.upstreamMethod, 'POST');
  assert.equal(ctx.upstreamPath, '/v2/9');
});

test('JSON and form bodies are transformed; other bodies are left alone', async () => {
  const c = conf({ remove: { body: ['password'] }, rename: { body: ['user:username'] }, add: { body: ['source:gw'] }, append: { body: ['tags:b'] } });
  const json = await run(c, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"al","password":"x","tags":"a"}' });
  assert.deepEqual(JSON.parse(String(json.upstreamBody)), { username: 'al', source: 'gw', tags: ['a', 'b'] });
  const form = await run(c, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=al&password=x' });
  assert.equal(String(form.upstreamBody), 'username=al&source=gw&tags=b');
  const text = await run(c, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'user=al' });
  assert.equal(text.upstreamBody, null);
});

test('a transformer without body rules never reads the body (and stays synchronous)', () => {
  const c = conf({ add: { headers: ['x:1'] } });
  const ctx = new FakeContext({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, env);
  assert.equal(handler.access!(ctx, c), undefined);
  assert.equal(ctx.upstream('x'), '1');
});
