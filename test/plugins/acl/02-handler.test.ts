// acl's access handler against a FakeContext (Kong's spec/03-plugins/18-acl/02-access_spec cases), with the
// consumer set as an auth plugin (key-auth here) would set it.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { handler, type AclConf } from '../../../src/plugins/acl/handler';
import { handler as keyAuth } from '../../../src/plugins/key-auth/handler';
import { buildPluginEnv } from '../../../src/plugins/env';
import type { ConsumerSnap } from '../../../src/shared/snapshot';
import { FakeContext, type FakeRequest } from '../fake-context';

const c = (n: number, username: string): ConsumerSnap => ({ id: `00000000-0000-4000-8000-00000000000${n}`, username, customId: null, tags: [] });
const ADMIN = c(1, 'admin-user');
const DEV = c(2, 'dev-user');
const NOBODY = c(3, 'no-groups');
const env = buildPluginEnv({
  consumers: [ADMIN, DEV, NOBODY],
  credentials: {
    keyauth: [{ id: 'k1', key: 'admin-key', consumer: 0 }],
    basicauth: [],
    jwt: [],
    acls: [
      { id: 'g1', group: 'admin', consumer: 0 },
      { id: 'g2', group: 'dev', consumer: 0 },
      { id: 'g3', group: 'dev', consumer: 1 },
    ],
  },
});

function conf(over: Record<string, unknown>): AclConf {
  return handler.configure!({ allow: null, deny: null, hide_groups_header: false, always_use_authenticated_groups: false, include_consumer_groups: false, ...over }, env);
}

/** Runs acl for `consumer` (with a credential, or as an anonymous consumer when `credential` is false). */
function run(cf: AclConf, consumer: ConsumerSnap | null, credential = true, req: FakeRequest = {}): FakeContext {
  const ctx = new FakeContext(req, env);
  if (consumer) ctx.authenticate(consumer, credential ? { id: 'cred', identifier: 'cred' } : null);
  assert.equal(handler.access!(ctx, cf), undefined);
  return ctx;
}

const FORBIDDEN = { status: 403, body: 'You cannot consume this service', headers: {}, kind: 'error' };

test("PRIORITY and name are Kong 3.10's", () => {
  assert.equal(handler.priority, 950);
  assert.equal(handler.name, 'acl');
});

test('no authenticated consumer: 401 "Unauthorized"', () => {
  assert.deepEqual(run(conf({ allow: ['admin'] }), null).exitRecord, { status: 401, body: 'Unauthorized', headers: {}, kind: 'error' });
  assert.deepEqual(run(conf({ deny: ['admin'] }), null).exitRecord?.status, 401);
});

test('allow: a member of any listed group passes with X-Consumer-Groups (comma+space, file order)', () => {
  const ctx = run(conf({ allow: ['dev', 'ops'] }), ADMIN);
  assert.equal(ctx.exitRecord, null);
  assert.equal(ctx.upstream('x-consumer-groups'), 'admin, dev');
  assert.equal(run(conf({ allow: ['dev'] }), DEV).upstream('x-consumer-groups'), 'dev');
});

test('allow: anyone else, a consumer without groups included, gets 403 "You cannot consume this service"', () => {
  assert.deepEqual(run(conf({ allow: ['admin'] }), DEV).exitRecord, FORBIDDEN);
  assert.deepEqual(run(conf({ allow: ['admin'] }), NOBODY).exitRecord, FORBIDDEN);
  // Group names match exactly.
  assert.deepEqual(run(conf({ allow: ['Admin'] }), ADMIN).exitRecord, FORBIDDEN);
});

test('deny: a member of a listed group gets 403; others pass, a consumer without groups with no header', () => {
  assert.deepEqual(run(conf({ deny: ['dev'] }), ADMIN).exitRecord, FORBIDDEN);
  const dev = run(conf({ deny: ['admin'] }), DEV);
  assert.equal(dev.exitRecord, null);
  assert.equal(dev.upstream('x-consumer-groups'), 'dev');
  // Kong sends an empty value, which OpenResty drops: a client-sent header does not survive either.
  const none = run(conf({ deny: ['admin'] }), NOBODY, true, { headers: { 'x-consumer-groups': 'admin' } });
  assert.equal(none.exitRecord, null);
  assert.equal(none.upstream('x-consumer-groups'), null);
  // An empty allow list next to a deny list is the deny list's config (Kong: is_nonempty).
  assert.deepEqual(run(conf({ allow: [], deny: ['dev'] }), DEV).exitRecord, FORBIDDEN);
  assert.equal(run(conf({ allow: [], deny: ['admin'] }), DEV).exitRecord, null);
});

test('hide_groups_header sends no X-Consumer-Groups', () => {
  const ctx = run(conf({ allow: ['admin'], hide_groups_header: true }), ADMIN);
  assert.equal(ctx.exitRecord, null);
  assert.equal(ctx.upstream('x-consumer-groups'), null);
});

test("an anonymous consumer (no credential) is judged by its own groups", () => {
  assert.equal(run(conf({ allow: ['dev'] }), DEV, false).exitRecord, null);
  assert.deepEqual(run(conf({ allow: ['admin'] }), DEV, false).exitRecord, FORBIDDEN);
});

test('the decision per consumer is kept: repeated requests answer the same', () => {
  const cf = conf({ allow: ['admin'] });
  for (let i = 0; i < 3; i++) {
    assert.equal(run(cf, ADMIN).upstream('x-consumer-groups'), 'admin, dev');
    assert.deepEqual(run(cf, DEV).exitRecord, FORBIDDEN);
  }
});

test('after key-auth in PRIORITY order: the consumer key-auth found is the one acl checks', () => {
  assert.ok(keyAuth.priority > handler.priority);
  const kc = keyAuth.configure!({ key_names: ['apikey'], hide_credentials: false, anonymous: null, key_in_header: true, key_in_query: true, key_in_body: false, run_on_preflight: true, realm: null }, env);
  const ctx = new FakeContext({ headers: { apikey: 'admin-key' } }, env);
  keyAuth.access!(ctx, kc);
  handler.access!(ctx, conf({ allow: ['admin'] }));
  assert.equal(ctx.exitRecord, null);
  assert.equal(ctx.upstream('x-consumer-groups'), 'admin, dev');
  assert.equal(ctx.upstream('x-consumer-username'), 'admin-user');
});
