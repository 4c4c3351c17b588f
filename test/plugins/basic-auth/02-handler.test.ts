// basic-auth's access handler against a FakeContext (Kong's spec/03-plugins/10-basic-auth/03-access_spec
// cases), with credentials from the real config loader so the file's clear-text passwords are hashed as Kong.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { CACHE_MAX, handler, parseBasic, type BasicAuthConf } from '../../../src/plugins/basic-auth/handler';
import { handler as keyAuth } from '../../../src/plugins/key-auth/handler';
import { buildPluginEnv } from '../../../src/plugins/env';
import { doc, load } from '../../unit/config/helpers';
import { FakeContext, type FakeRequest } from '../fake-context';

const { snapshot } = load(
  doc(
    'consumers:\n' +
      '  - username: alice\n    custom_id: A-1\n    basicauth_credentials:\n      - username: aladdin\n        password: "open:sesame"\n' +
      '  - username: bob\n    basicauth_credentials:\n      - username: bob\n        password: pw\n    keyauth_credentials:\n      - key: bob-key\n' +
      '  - username: anonymous\n',
  ),
);
const env = buildPluginEnv(snapshot);
const [ALICE, BOB, ANON] = snapshot.consumers;
const ALADDIN = snapshot.credentials.basicauth[0];

function basic(userPass: string, scheme = 'Basic'): string {
  return `${scheme} ${Buffer.from(userPass).toString('base64')}`;
}
const GOOD = basic('aladdin:open:sesame');

function conf(over: Record<string, unknown> = {}): BasicAuthConf {
  return handler.configure!({ anonymous: null, hide_credentials: false, realm: 'service', ...over }, env);
}

function run(c: BasicAuthConf, req: FakeRequest): FakeContext {
  const ctx = new FakeContext(req, env);
  assert.equal(handler.access!(ctx, c), undefined, 'basic-auth never goes asynchronous');
  return ctx;
}

function assertAladdin(ctx: FakeContext): void {
  assert.equal(ctx.exitRecord, null);
  assert.equal(ctx.consumer?.id, ALICE.id);
  assert.equal(ctx.credential?.id, ALADDIN.id);
  assert.equal(ctx.upstream('x-consumer-id'), ALICE.id);
  assert.equal(ctx.upstream('x-consumer-username'), 'alice');
  assert.equal(ctx.upstream('x-consumer-custom-id'), 'A-1');
  assert.equal(ctx.upstream('x-credential-identifier'), 'aladdin');
  assert.equal(ctx.upstream('x-anonymous-consumer'), null);
}

function assert401(ctx: FakeContext, challenge = 'Basic realm="service"'): void {
  assert.deepEqual(ctx.exitRecord, { status: 401, body: 'Unauthorized', headers: { 'WWW-Authenticate': challenge }, kind: 'error' });
  assert.equal(ctx.consumer, null);
}

test("PRIORITY and name are Kong 3.10's", () => {
  assert.equal(handler.priority, 1100);
  assert.equal(handler.name, 'basic-auth');
});

test('no Authorization header: 401 "Unauthorized" with WWW-Authenticate: Basic realm="service" (or the realm set)', () => {
  assert401(run(conf(), {}));
  assert401(run(conf({ realm: 'internal' }), {}), 'Basic realm="internal"');
});

test('valid credentials in Authorization authenticate; the password is checked as sha1(password + consumer id)', () => {
  const ctx = run(conf(), { headers: { authorization: GOOD } });
  assertAladdin(ctx);
  assert.equal(ctx.upstream('authorization'), GOOD, 'kept upstream without hide_credentials');
  // Kong's pattern takes `basic` too; each consumer's hash is salted with its own id.
  assertAladdin(run(conf(), { headers: { authorization: basic('aladdin:open:sesame', 'basic') } }));
  assert.equal(run(conf(), { headers: { authorization: basic('bob:pw') } }).consumer?.id, BOB.id);
});

test('every failure is the same 401 "Unauthorized"', () => {
  for (const authorization of [
    basic('aladdin:open'), // wrong password
    basic('nobody:open:sesame'), // unknown user
    basic('aladdin'), // no colon
    basic(':x'), // no user
    'Basic !!!not-base64', // not base64
    'Basic Zm9v@', // a char outside the alphabet
    GOOD.slice(0, 10) + '!' + GOOD.slice(10), // Node's decoder would skip the '!', nginx's refuses it
    'Bearer ' + GOOD.slice(6), // another scheme
    '',
  ]) {
    assert401(run(conf(), { headers: { authorization } }));
  }
});

test('Proxy-Authorization is tried first, then Authorization when it names no known user', () => {
  assertAladdin(run(conf(), { headers: { 'proxy-authorization': GOOD } }));
  assertAladdin(run(conf(), { headers: { 'proxy-authorization': basic('nobody:x'), authorization: GOOD } }));
  assertAladdin(run(conf(), { headers: { 'proxy-authorization': 'garbage', authorization: GOOD } }));
  // A known user with a wrong password in Proxy-Authorization is final, as in Kong.
  assert401(run(conf(), { headers: { 'proxy-authorization': basic('aladdin:wrong'), authorization: GOOD } }));
});

test('hide_credentials removes each header that was read', () => {
  const proxied = run(conf({ hide_credentials: true }), { headers: { 'proxy-authorization': GOOD, authorization: 'Bearer upstream-token' } });
  assertAladdin(proxied);
  assert.equal(proxied.upstream('proxy-authorization'), null);
  assert.equal(proxied.upstream('authorization'), 'Bearer upstream-token', 'not read, so not removed');
  const both = run(conf({ hide_credentials: true }), { headers: { 'proxy-authorization': basic('nobody:x'), authorization: GOOD } });
  assertAladdin(both);
  assert.equal(both.upstream('proxy-authorization'), null);
  assert.equal(both.upstream('authorization'), null);
});

test('anonymous (id or username): a failure continues as that consumer; a missing one is a 500', () => {
  for (const anonymous of [ANON.id, 'anonymous']) {
    const ctx = run(conf({ anonymous }), { headers: { authorization: basic('aladdin:wrong') } });
    assert.equal(ctx.exitRecord, null);
    assert.equal(ctx.consumer?.id, ANON.id);
    assert.equal(ctx.upstream('x-anonymous-consumer'), 'true');
  }
  assertAladdin(run(conf({ anonymous: 'anonymous' }), { headers: { authorization: GOOD } }));
  assert.deepEqual(run(conf({ anonymous: 'ghost' }), {}).exitRecord, {
    status: 500,
    body: "anonymous consumer ghost is configured but doesn't exist",
    headers: {},
    kind: 'error',
  });
});

test('key-auth and basic-auth with anonymous combine as a logical OR, in PRIORITY order', async () => {
  assert.ok(keyAuth.priority > handler.priority, 'key-auth runs first');
  const kc = keyAuth.configure!({ key_names: ['apikey'], hide_credentials: false, anonymous: 'anonymous', key_in_header: true, key_in_query: true, key_in_body: false, run_on_preflight: true, realm: null }, env);
  const bc = conf({ anonymous: 'anonymous' });
  const chain = async (req: FakeRequest): Promise<FakeContext> => {
    const ctx = new FakeContext(req, env);
    await keyAuth.access!(ctx, kc);
    handler.access!(ctx, bc);
    return ctx;
  };
  // Only a key: key-auth identifies bob, basic-auth sees a credential and stays out.
  const byKey = await chain({ headers: { apikey: 'bob-key' } });
  assert.equal(byKey.consumer?.id, BOB.id);
  assert.equal(byKey.exitRecord, null);
  // Only basic credentials: key-auth falls back to anonymous (no credential), basic-auth then authenticates.
  assertAladdin(await chain({ headers: { authorization: GOOD } }));
  // Neither: anonymous.
  const neither = await chain({});
  assert.equal(neither.consumer?.id, ANON.id);
  assert.equal(neither.exitRecord, null);
  // Without anonymous on basic-auth (logical AND), a good key alone is not enough.
  const and = new FakeContext({ headers: { apikey: 'bob-key' } }, env);
  await keyAuth.access!(and, kc);
  handler.access!(and, conf());
  assert.equal(and.exitRecord?.status, 401);
});

test('verified header values are cached per snapshot, and the cache stays bounded', () => {
  // A PluginEnv of its own: the cache belongs to the snapshot's env, which the other tests share.
  const own = buildPluginEnv(snapshot);
  const c = handler.configure!({ anonymous: null, hide_credentials: false, realm: 'service' }, own);
  assertAladdin(run(c, { headers: { authorization: GOOD } }));
  assert.equal(c.verified.get(GOOD)?.id, ALADDIN.id);
  // A repeat is answered from the cache, without hashing: a planted entry is believed.
  const planted = 'Basic planted';
  c.verified.set(planted, env.basicauthByUsername.get('aladdin')!);
  assertAladdin(run(c, { headers: { authorization: planted } }));
  c.verified.delete(planted);
  // Failures are not cached.
  run(c, { headers: { authorization: basic('aladdin:wrong') } });
  assert.equal(c.verified.size, 1);
  // Distinct values that verify (Kong's pattern is unanchored, so a prefix keeps them valid) fill it up to the bound.
  for (let i = 0; i < CACHE_MAX + 10; i++) assertAladdin(run(c, { headers: { authorization: `${i} ${GOOD}` } }));
  assert.equal(c.verified.size, CACHE_MAX);
  assert.equal(c.verified.has(GOOD), false, 'the oldest entries went first');
  // Another instance of the same snapshot shares the cache; a new snapshot starts empty.
  assert.equal(handler.configure!({ realm: 'other' }, own).verified, c.verified);
  assert.notEqual(conf().verified, c.verified);
});

test("parseBasic follows Kong's patterns", () => {
  assert.deepEqual(parseBasic(basic('u:p:q')), ['u', 'p:q']);
  assert.deepEqual(parseBasic('  basic ' + Buffer.from('u:').toString('base64')), ['u', '']);
  // nginx's decoder stops at '=': what follows is ignored.
  assert.deepEqual(parseBasic('Basic ' + Buffer.from('ab:c').toString('base64') + '=junk'), ['ab', 'c']);
  assert.equal(parseBasic('BASIC ' + Buffer.from('u:p').toString('base64')), null);
  assert.equal(parseBasic('Basic'), null);
});
