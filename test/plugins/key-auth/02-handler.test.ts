// key-auth's access handler against a FakeContext (Kong's spec/03-plugins/09-key-auth/02-access_spec cases,
// minus the proxy, which 03-proxy covers once the pipeline is in the worker).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { BODY_LIMIT, handler, type KeyAuthConf } from '../../../src/plugins/key-auth/handler';
import { buildPluginEnv } from '../../../src/plugins/env';
import type { ConsumerSnap } from '../../../src/shared/snapshot';
import { FakeContext, type FakeRequest } from '../fake-context';

const ALICE: ConsumerSnap = { id: 'a1a1a1a1-0000-4000-8000-000000000001', username: 'alice', customId: 'A-1', tags: [] };
const ANON: ConsumerSnap = { id: 'a0a0a0a0-0000-4000-8000-000000000000', username: 'anonymous', customId: null, tags: [] };
const env = buildPluginEnv({
  consumers: [ALICE, ANON],
  credentials: { keyauth: [{ id: 'c0ffee00-0000-4000-8000-000000000001', key: 'secret-a', consumer: 0 }], basicauth: [], jwt: [], acls: [] },
});
const CRED_ID = 'c0ffee00-0000-4000-8000-000000000001';

const DEFAULTS = {
  key_names: ['apikey'],
  hide_credentials: false,
  anonymous: null,
  key_in_header: true,
  key_in_query: true,
  key_in_body: false,
  run_on_preflight: true,
  realm: null,
};

function conf(over: Record<string, unknown> = {}): KeyAuthConf {
  return handler.configure!({ ...DEFAULTS, ...over }, env);
}

/** Runs access and awaits it when it went asynchronous; returns the context and whether it did. */
async function run(c: KeyAuthConf, req: FakeRequest): Promise<{ ctx: FakeContext; async: boolean }> {
  const ctx = new FakeContext(req, env);
  const r = handler.access!(ctx, c);
  if (r instanceof Promise) await r;
  return { ctx, async: r instanceof Promise };
}

function assertAlice(ctx: FakeContext): void {
  assert.equal(ctx.exitRecord, null);
  assert.equal(ctx.consumer?.id, ALICE.id);
  assert.equal(ctx.upstream('x-consumer-id'), ALICE.id);
  assert.equal(ctx.upstream('x-consumer-username'), 'alice');
  assert.equal(ctx.upstream('x-consumer-custom-id'), 'A-1');
  assert.equal(ctx.upstream('x-credential-identifier'), CRED_ID);
  assert.equal(ctx.upstream('x-anonymous-consumer'), null);
}

function assert401(ctx: FakeContext, message: string, challenge = 'Key'): void {
  assert.deepEqual(ctx.exitRecord, { status: 401, body: message, headers: { 'WWW-Authenticate': challenge }, kind: 'error' });
  assert.equal(ctx.consumer, null);
}

test('PRIORITY and name are Kong 3.10\'s', () => {
  assert.equal(handler.priority, 1250);
  assert.equal(handler.name, 'key-auth');
});

test('no key: 401 "No API key found in request" with WWW-Authenticate: Key, or Key realm="…"', async () => {
  assert401((await run(conf(), {})).ctx, 'No API key found in request');
  assert401((await run(conf({ realm: 'api' }), {})).ctx, 'No API key found in request', 'Key realm="api"');
  // An empty value is no key either.
  assert401((await run(conf(), { query: 'apikey=' })).ctx, 'No API key found in request');
  assert401((await run(conf(), { headers: { apikey: '' } })).ctx, 'No API key found in request');
});

test('an unknown key: 401 "Unauthorized" (Kong 3.10) with the challenge', async () => {
  assert401((await run(conf(), { headers: { apikey: 'nope' } })).ctx, 'Unauthorized');
  assert401((await run(conf({ realm: 'api' }), { query: 'apikey=nope' })).ctx, 'Unauthorized', 'Key realm="api"');
});

test('a valid key in a header or the query string authenticates, synchronously, and stays upstream', async () => {
  const h = await run(conf(), { headers: { ApiKey: 'secret-a' } });
  assertAlice(h.ctx);
  assert.equal(h.async, false);
  assert.equal(h.ctx.upstream('apikey'), 'secret-a');
  const q = await run(conf(), { query: 'a=1&apikey=secret-a' });
  assertAlice(q.ctx);
  assert.equal(q.ctx.upstreamQuery, 'a=1&apikey=secret-a');
  // Query args are decoded as OpenResty does ('+' and %XX), and their names are case-sensitive.
  assertAlice((await run(conf({ key_names: ['api key'] }), { query: 'api+k%65y=secret%2Da' })).ctx);
  assert401((await run(conf(), { query: 'APIKEY=secret-a' })).ctx, 'No API key found in request');
});

test('repeated keys: 401 "Duplicate API key found"', async () => {
  assert401((await run(conf(), { headers: { apikey: ['secret-a', 'secret-a'] } })).ctx, 'Duplicate API key found');
  assert401((await run(conf(), { query: 'apikey=secret-a&apikey=secret-a' })).ctx, 'Duplicate API key found');
  assert401((await run(conf(), { query: 'apikey=secret-a&apikey' })).ctx, 'Duplicate API key found');
});

test('search order: each key name in turn, header before query; a valueless arg moves on to the next name', async () => {
  // The header wins over the query string for one name.
  assert401((await run(conf(), { headers: { apikey: 'nope' }, query: 'apikey=secret-a' })).ctx, 'Unauthorized');
  // The first name is searched everywhere before the second.
  assertAlice((await run(conf({ key_names: ['first', 'second'] }), { headers: { second: 'nope' }, query: 'first=secret-a' })).ctx);
  assertAlice((await run(conf({ key_names: ['first', 'second'] }), { query: 'first&second=secret-a' })).ctx);
  // A dashed header answers an underscored key name (OpenResty's header table).
  assertAlice((await run(conf({ key_names: ['api_key'] }), { headers: { 'api-key': 'secret-a' } })).ctx);
});

test('key_in_header / key_in_query false ignore that place', async () => {
  assert401((await run(conf({ key_in_header: false }), { headers: { apikey: 'secret-a' } })).ctx, 'No API key found in request');
  assert401((await run(conf({ key_in_query: false }), { query: 'apikey=secret-a' })).ctx, 'No API key found in request');
});

test('hide_credentials removes the header and the query arg, keeping the other args in order', async () => {
  const h = await run(conf({ hide_credentials: true }), { headers: { apikey: 'secret-a', other: 'x' } });
  assertAlice(h.ctx);
  assert.equal(h.ctx.upstream('apikey'), null);
  assert.equal(h.ctx.upstream('other'), 'x');
  const q = await run(conf({ hide_credentials: true }), { query: 'b=2&apikey=secret-a&a=1&c' });
  assertAlice(q.ctx);
  assert.equal(q.ctx.upstreamQuery, 'b=2&a=1&c');
  const encoded = await run(conf({ hide_credentials: true }), { query: 'x=%41&api%6Bey=secret-a' });
  assert.equal(encoded.ctx.upstreamQuery, 'x=%41');
});

test('key_in_body: form-urlencoded and JSON bodies are read (asynchronously) after header and query', async () => {
  const c = conf({ key_in_body: true });
  const form = await run(c, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1&apikey=secret-a' });
  assertAlice(form.ctx);
  assert.equal(form.async, true);
  assert.equal(form.ctx.upstreamBody, null, 'the body is not rewritten without hide_credentials');
  assertAlice((await run(c, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"apikey":"secret-a"}' })).ctx);
  // A header key needs no body read.
  assert.equal((await run(c, { headers: { apikey: 'secret-a' }, body: 'apikey=nope' })).async, false);
  // Other types, unparsable JSON and non-string values hold no key.
  assert401((await run(c, { headers: { 'content-type': 'text/plain' }, body: 'apikey=secret-a' })).ctx, 'No API key found in request');
  assert401((await run(c, { headers: { 'content-type': 'application/json' }, body: '{"apikey":' })).ctx, 'No API key found in request');
  assert401((await run(c, { headers: { 'content-type': 'application/json' }, body: '{"apikey":5}' })).ctx, 'No API key found in request');
  // Repeated form fields and JSON arrays or objects are duplicates, as Kong sees a table.
  assert401((await run(c, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'apikey=a&apikey=b' })).ctx, 'Duplicate API key found');
  assert401((await run(c, { headers: { 'content-type': 'application/json' }, body: '{"apikey":["secret-a"]}' })).ctx, 'Duplicate API key found');
  // Without key_in_body the body is never looked at.
  assert401((await run(conf(), { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'apikey=secret-a' })).ctx, 'No API key found in request');
});

test('key_in_body with hide_credentials removes the field from the body, wherever the key was found', async () => {
  const c = conf({ key_in_body: true, hide_credentials: true });
  const form = await run(c, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1&apikey=secret-a&y=%C3%A9' });
  assertAlice(form.ctx);
  assert.equal(form.ctx.upstreamBody?.toString(), 'x=1&y=%C3%A9');
  const json = await run(c, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"apikey":"secret-a","foo":"bar"}' });
  assertAlice(json.ctx);
  assert.deepEqual(JSON.parse(json.ctx.upstreamBody!.toString()), { foo: 'bar' });
  const both = await run(c, { method: 'POST', headers: { apikey: 'secret-a', 'content-type': 'application/json' }, body: '{"apikey":"other","n":1}' });
  assertAlice(both.ctx);
  assert.equal(both.async, true);
  assert.deepEqual(JSON.parse(both.ctx.upstreamBody!.toString()), { n: 1 });
  assert.equal(both.ctx.upstream('apikey'), null);
});

test('a body over the read limit is treated as one without fields', async () => {
  const big = 'apikey=secret-a&pad=' + 'x'.repeat(BODY_LIMIT);
  const r = await run(conf({ key_in_body: true }), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: big });
  assert401(r.ctx, 'No API key found in request');
});

test('run_on_preflight false lets OPTIONS through unauthenticated; true (default) checks it', async () => {
  const skipped = await run(conf({ run_on_preflight: false }), { method: 'OPTIONS' });
  assert.equal(skipped.ctx.exitRecord, null);
  assert.equal(skipped.ctx.consumer, null);
  assert401((await run(conf(), { method: 'OPTIONS' })).ctx, 'No API key found in request');
  assert401((await run(conf({ run_on_preflight: false }), { method: 'GET' })).ctx, 'No API key found in request');
});

test('anonymous (id or username): a failure continues as that consumer with X-Anonymous-Consumer', async () => {
  for (const anonymous of [ANON.id, ANON.id.toUpperCase(), 'anonymous']) {
    const { ctx } = await run(conf({ anonymous }), { headers: { apikey: 'nope' } });
    assert.equal(ctx.exitRecord, null);
    assert.equal(ctx.consumer?.id, ANON.id);
    assert.equal(ctx.credential, null);
    assert.equal(ctx.upstream('x-anonymous-consumer'), 'true');
    assert.equal(ctx.upstream('x-consumer-username'), 'anonymous');
    assert.equal(ctx.upstream('x-credential-identifier'), null);
  }
  // A good key still authenticates the real consumer.
  assertAlice((await run(conf({ anonymous: 'anonymous' }), { query: 'apikey=secret-a' })).ctx);
});

test('an anonymous consumer that does not exist: 500 with Kong 3.10\'s message', async () => {
  const { ctx } = await run(conf({ anonymous: 'ghost' }), {});
  assert.deepEqual(ctx.exitRecord, { status: 500, body: "anonymous consumer ghost is configured but doesn't exist", headers: {}, kind: 'error' });
});

test('logical OR: with anonymous set, a request an earlier plugin authenticated is left alone', async () => {
  const earlier = (ctx: FakeContext): void => ctx.authenticate(ANON, { id: 'other-cred', identifier: 'someone' });
  const or = new FakeContext({ headers: { apikey: 'nope' } }, env);
  earlier(or);
  assert.equal(handler.access!(or, conf({ anonymous: 'anonymous' })), undefined);
  assert.equal(or.exitRecord, null);
  assert.equal(or.upstream('x-credential-identifier'), 'someone');
  // Logical AND (no anonymous): this plugin must pass on its own.
  const and = new FakeContext({ headers: { apikey: 'nope' } }, env);
  earlier(and);
  handler.access!(and, conf());
  assert.equal(and.exitRecord?.status, 401);
});
