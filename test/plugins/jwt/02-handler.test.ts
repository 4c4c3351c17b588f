/**
 * The jwt handler against a FakeContext (Kong's spec/03-plugins/16-jwt/03-access_spec cases
 * without a proxy). Every token is signed here with node:crypto, with keys generated at test time.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { constants, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { buildPluginEnv, type PluginEnv } from '../../../src/plugins/env';
import { PLUGIN_HANDLERS } from '../../../src/plugins/handlers';
import { handler, verifiedTokenCount, type JwtConf } from '../../../src/plugins/jwt/handler';
import type { ConsumerSnap, CredentialsSnap } from '../../../src/shared/snapshot';
import { FakeContext, type FakeRequest } from '../fake-context';

// ---- keys, credentials, tokens ---------------------------------------------------------------

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaOther = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p256Other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
const ed = generateKeyPairSync('ed25519');
const spki = (k: KeyObject): string => k.export({ type: 'spki', format: 'pem' }) as string;

const consumer = (i: number, username: string): ConsumerSnap => ({ id: `00000000-0000-4000-8000-00000000000${i}`, username, customId: null, tags: [] });
const CONSUMERS = [consumer(1, 'jwt_tests_consumer'), consumer(2, 'rsa_consumer'), consumer(3, 'no-body'), consumer(4, 'ec_consumer')];
const ANON = CONSUMERS[2];

type Alg = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512' | 'PS256' | 'PS384' | 'PS512' | 'EdDSA';
type JwtRow = CredentialsSnap['jwt'][number];

const hs = (alg: Alg, key: string, secret: string | null, c = 0): JwtRow => ({ id: `cred-${key}`, key, secret, algorithm: alg, rsaPublicKey: null, consumer: c });
const pk = (alg: Alg, key: string, pem: string, c = 1): JwtRow => ({ id: `cred-${key}`, key, secret: null, algorithm: alg, rsaPublicKey: pem, consumer: c });

const CREDS: JwtRow[] = [
  hs('HS256', 'hs256-key', 'hs256-secret'),
  hs('HS384', 'hs384-key', 'hs384-secret'),
  hs('HS512', 'hs512-key', 'hs512-secret'),
  hs('HS256', 'other-key', 'other-secret', 3),
  hs('HS256', 'b64-key', Buffer.from('original secret?>').toString('base64')),
  hs('HS256', 'b64url-key', Buffer.from('original secret?>').toString('base64url')),
  hs('HS256', 'not-b64-key', 'not base64!'),
  hs('HS256', 'no-secret-key', null),
  pk('RS256', 'rs256-key', spki(rsa.publicKey)),
  pk('RS384', 'rs384-key', spki(rsa.publicKey)),
  pk('RS512', 'rs512-key', spki(rsa.publicKey)),
  pk('PS256', 'ps256-key', spki(rsa.publicKey)),
  pk('PS384', 'ps384-key', spki(rsa.publicKey)),
  pk('PS512', 'ps512-key', spki(rsa.publicKey)),
  pk('RS256', 'pkcs1-key', rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string),
  pk('RS256', 'rsa1024-key', spki(rsa1024.publicKey)),
  pk('RS256', 'garbage-pem-key', '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n'),
  pk('ES256', 'es256-key', spki(p256.publicKey), 3),
  pk('ES384', 'es384-key', spki(p384.publicKey), 3),
  pk('ES512', 'es512-key', spki(p521.publicKey), 3),
  pk('EdDSA', 'eddsa-key', spki(ed.publicKey), 3),
];

function env(creds: JwtRow[] = CREDS): PluginEnv {
  return buildPluginEnv({ consumers: CONSUMERS, credentials: { keyauth: [], basicauth: [], jwt: creds, acls: [] } });
}
const ENV = env();

const PRIVATE: Record<string, KeyObject> = {
  RS: rsa.privateKey,
  PS: rsa.privateKey,
  ES256: p256.privateKey,
  ES384: p384.privateKey,
  ES512: p521.privateKey,
  EdDSA: ed.privateKey,
};

const b64u = (v: object | string): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A compact JWS over `claims`, signed with node:crypto (`key`: an HMAC secret or a private key). */
function jwt(alg: Alg, claims: object, key?: string | Buffer | KeyObject, header: object = { typ: 'JWT', alg }): string {
  const input = `${b64u(header)}.${b64u(claims)}`;
  const bits = alg === 'EdDSA' ? 0 : Number(alg.slice(2));
  const hash = `sha${bits}`;
  let sig: Buffer;
  if (alg.startsWith('HS')) sig = createHmac(hash, key as string | Buffer).update(input).digest();
  else {
    const k = (key as KeyObject | undefined) ?? PRIVATE[alg.startsWith('RS') || alg.startsWith('PS') ? alg.slice(0, 2) : alg];
    if (alg === 'EdDSA') sig = sign(null, Buffer.from(input), k);
    else if (alg.startsWith('PS')) sig = sign(hash, Buffer.from(input), { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 });
    else if (alg.startsWith('ES')) sig = sign(hash, Buffer.from(input), { key: k, dsaEncoding: 'ieee-p1363' });
    else sig = sign(hash, Buffer.from(input), k);
  }
  return `${input}.${sig.toString('base64url')}`;
}

const now = (): number => Math.floor(Date.now() / 1000);
const claims = (iss: string, extra: object = {}): object => ({ iss, nbf: now(), iat: now(), exp: now() + 3600, ...extra });

// ---- running the handler --------------------------------------------------------------------

const DEFAULTS = {
  uri_param_names: ['jwt'],
  cookie_names: [],
  header_names: ['authorization'],
  key_claim_name: 'iss',
  secret_is_base64: false,
  claims_to_verify: null,
  anonymous: null,
  run_on_preflight: true,
  maximum_expiration: 0,
  realm: null,
};

function conf(overrides: Record<string, unknown> = {}, e: PluginEnv = ENV): JwtConf {
  return handler.configure!({ ...DEFAULTS, ...overrides }, e);
}

interface Outcome {
  ctx: FakeContext;
  /** access returned a Promise (it had to verify a signature). */
  async: boolean;
}

async function run(c: JwtConf, req: FakeRequest, e: PluginEnv = ENV, before?: (ctx: FakeContext) => void): Promise<Outcome> {
  const ctx = new FakeContext(req, e);
  before?.(ctx);
  const r = handler.access!(ctx, c);
  if (r !== undefined) await r;
  return { ctx, async: r !== undefined };
}

const bearer = (token: string): FakeRequest => ({ headers: { authorization: `Bearer ${token}` } });

const INVALID = { 'WWW-Authenticate': 'Bearer error="invalid_token"' };

/** Asserts a 401 with Kong's body (compared as JSON text, so key order counts) and challenge. */
function assert401({ ctx }: Outcome, body: object, headers: Record<string, string> = INVALID): void {
  assert.ok(ctx.exitRecord, 'expected an exit');
  assert.equal(ctx.exitRecord.kind, 'exit');
  assert.equal(ctx.exitRecord.status, 401);
  assert.equal(JSON.stringify(ctx.exitRecord.body), JSON.stringify(body));
  assert.deepEqual(ctx.exitRecord.headers, headers);
  assert.equal(ctx.consumer, null);
  assert.equal(ctx.upstream('x-consumer-id'), null);
}

function assertAuthenticated({ ctx }: Outcome, username: string, key: string, token: string): void {
  assert.equal(ctx.exitRecord, null, `unexpected exit: ${JSON.stringify(ctx.exitRecord?.body)}`);
  assert.equal(ctx.consumer?.username, username);
  assert.deepEqual(ctx.credential, { id: `cred-${key}`, identifier: key });
  assert.equal(ctx.upstream('x-consumer-username'), username);
  assert.equal(ctx.upstream('x-credential-identifier'), key);
  assert.equal(ctx.upstream('x-anonymous-consumer'), null);
  assert.equal(ctx.shared.authenticated_jwt_token, token);
}

// ---- tests ------------------------------------------------------------------------------------

test('registered as Kong registers it: name jwt, PRIORITY 1450', () => {
  assert.equal(PLUGIN_HANDLERS.get('jwt'), handler);
  assert.equal(handler.priority, 1450);
});

test('no token: 401 Unauthorized with a bare Bearer challenge (realm when configured)', async () => {
  assert401(await run(conf(), {}), { message: 'Unauthorized' }, { 'WWW-Authenticate': 'Bearer' });
  assert401(await run(conf({ realm: 'api' }), {}), { message: 'Unauthorized' }, { 'WWW-Authenticate': 'Bearer realm="api"' });
  // Not a Bearer value, an empty query value, an empty cookie: still no token.
  const c = conf({ cookie_names: ['crumble'] });
  assert401(await run(c, { headers: { authorization: 'Basic dXNlcjpwYXNz', cookie: 'crumble=' }, query: 'jwt=' }), { message: 'Unauthorized' }, { 'WWW-Authenticate': 'Bearer' });
  const t = jwt('HS256', claims('other-key'), 'foo');
  assert401(await run(conf({ realm: 'api' }), bearer(t)), { message: 'Invalid signature' }, { 'WWW-Authenticate': 'Bearer realm="api" error="invalid_token"' });
});

test('the claim naming the credential: missing, empty or not a string, unknown', async () => {
  assert401(await run(conf(), bearer(jwt('HS256', { exp: now() + 60 }, 'foo'))), { message: "No mandatory 'iss' in claims" });
  assert401(await run(conf(), bearer(jwt('HS256', { iss: null }, 'foo'))), { message: "No mandatory 'iss' in claims" });
  assert401(await run(conf(), bearer(jwt('HS256', claims(''), 'foo'))), { message: "Invalid 'iss' in claims" });
  assert401(await run(conf(), bearer(jwt('HS256', { iss: 123 }, 'foo'))), { message: "Invalid 'iss' in claims" });
  assert401(await run(conf(), bearer(jwt('HS256', claims('123456789'), 'foo'))), { message: "No credentials found for given 'iss'" });
  // An inherited property is no claim: `constructor` exists on every object, never in these claims.
  assert401(await run(conf({ key_claim_name: 'constructor' }), bearer(jwt('HS256', claims('x'), 'foo'))), { message: "No mandatory 'constructor' in claims" });
  assert401(await run(conf({ key_claim_name: 'aud' }), bearer(jwt('HS256', claims('hs256-key'), 'foo'))), { message: "No mandatory 'aud' in claims" });
});

test('the algorithm must be the credential\'s; the signature must verify', async () => {
  const c = conf();
  // Signed with HS256 but announcing RS256, as Kong's spec does.
  assert401(await run(c, bearer(jwt('HS256', claims('hs256-key'), 'hs256-secret', { typ: 'JWT', alg: 'RS256' }))), { message: 'Invalid algorithm' });
  assert401(await run(c, bearer(jwt('HS384', claims('hs256-key'), 'hs256-secret'))), { message: 'Invalid algorithm' });
  assert401(await run(c, bearer(jwt('HS256', claims('hs256-key'), 'foo'))), { message: 'Invalid signature' });
  assert401(await run(c, bearer(jwt('RS256', claims('rs256-key'), rsaOther.privateKey))), { message: 'Invalid signature' });
  assert401(await run(c, bearer(jwt('PS256', claims('ps256-key'), rsaOther.privateKey))), { message: 'Invalid signature' });
  assert401(await run(c, bearer(jwt('ES256', claims('es256-key'), p256Other.privateKey))), { message: 'Invalid signature' });
  assert401(await run(c, bearer(jwt('EdDSA', claims('eddsa-key'), generateKeyPairSync('ed25519').privateKey))), { message: 'Invalid signature' });
  // ES signatures are raw r||s (RFC 7518 §3.4); a DER signature is refused.
  const input = `${b64u({ alg: 'ES256' })}.${b64u(claims('es256-key'))}`;
  const der = sign('sha256', Buffer.from(input), p256.privateKey).toString('base64url');
  assert401(await run(c, bearer(`${input}.${der}`)), { message: 'Invalid signature' });
  // An empty signature on a valid header and claims.
  assert401(await run(c, bearer(jwt('HS256', claims('hs256-key'), 'hs256-secret').replace(/[^.]*$/, ''))), { message: 'Invalid signature' });
  // jose refuses a critical header extension it does not know.
  assert401(await run(c, bearer(jwt('HS256', claims('hs256-key'), 'hs256-secret', { alg: 'HS256', crit: ['x-ext'], 'x-ext': 1 }))), { message: 'Invalid signature' });
});

test('Bad token: strict base64url, JSON objects, known alg, bounded size', async () => {
  const c = conf();
  const good = jwt('HS256', claims('hs256-key'), 'hs256-secret');
  const [h, p, s] = good.split('.');
  const bad = async (token: string, reason: string) => assert401(await run(c, bearer(token)), { message: `Bad token; ${reason}` });
  await bad('no-way-this-works' + good, 'invalid JSON');
  await bad(`${h}.${p}`, 'invalid JSON');
  await bad('bad.token', 'invalid JSON');
  await bad(`${b64u('[1,2]')}.${p}.${s}`, 'invalid JSON');
  await bad(`${h}.${b64u('"a string"')}.${s}`, 'invalid JSON');
  await bad(`${h}.${b64u('null')}.${s}`, 'invalid JSON');
  await bad(`${h}.${b64u('{"iss":')}.${s}`, 'invalid JSON');
  // Standard base64 (padding, + and /) is not base64url.
  await bad(`${h}=.${p}.${s}`, 'invalid JSON');
  await bad(`${Buffer.from(JSON.stringify({ alg: 'HS256', x: '>>>' })).toString('base64')}.${p}.${s}`, 'invalid JSON');
  await bad(`${b64u({ alg: 'none' })}.${p}.`, 'invalid alg');
  await bad(`${b64u({ typ: 'JWT' })}.${p}.${s}`, 'invalid alg');
  await bad(`${b64u({ alg: 256 })}.${p}.${s}`, 'invalid alg');
  await bad(`${b64u({ alg: 'hs256' })}.${p}.${s}`, 'invalid alg');
  await bad(`${h}.${p}.${s}+`, 'invalid signature');
  await bad(`${h}.${p}.${s}.extra`, 'invalid signature');
  await bad(`${h}.${b64u({ iss: 'hs256-key', pad: 'x'.repeat(8192) })}.${s}`, 'too large');
});

test('every algorithm verifies with its credential and identifies the consumer', async () => {
  const c = conf();
  const cases: [Alg, string, string, (string | undefined)?][] = [
    ['HS256', 'hs256-key', 'jwt_tests_consumer', 'hs256-secret'],
    ['HS384', 'hs384-key', 'jwt_tests_consumer', 'hs384-secret'],
    ['HS512', 'hs512-key', 'jwt_tests_consumer', 'hs512-secret'],
    ['RS256', 'rs256-key', 'rsa_consumer'],
    ['RS384', 'rs384-key', 'rsa_consumer'],
    ['RS512', 'rs512-key', 'rsa_consumer'],
    ['PS256', 'ps256-key', 'rsa_consumer'],
    ['PS384', 'ps384-key', 'rsa_consumer'],
    ['PS512', 'ps512-key', 'rsa_consumer'],
    ['ES256', 'es256-key', 'ec_consumer'],
    ['ES384', 'es384-key', 'ec_consumer'],
    ['ES512', 'es512-key', 'ec_consumer'],
    ['EdDSA', 'eddsa-key', 'ec_consumer'],
  ];
  for (const [alg, key, username, secret] of cases) {
    const token = jwt(alg, claims(key), secret);
    const out = await run(c, bearer(token));
    assertAuthenticated(out, username, key, token);
    assert.equal(out.async, true, `${alg}: a first sight verifies`);
    // Kong leaves the token in place for the upstream.
    assert.equal(out.ctx.upstream('authorization'), `Bearer ${token}`);
  }
  // A PKCS#1 PEM (BEGIN RSA PUBLIC KEY) works, as with Kong's OpenSSL.
  const t = jwt('RS256', claims('pkcs1-key'));
  assertAuthenticated(await run(c, bearer(t)), 'rsa_consumer', 'pkcs1-key', t);
});

test('an unusable key or secret: Invalid key/secret', async () => {
  const c = conf();
  assert401(await run(c, bearer(jwt('HS256', claims('no-secret-key'), 'x'))), { message: 'Invalid key/secret' });
  assert401(await run(c, bearer(jwt('RS256', claims('garbage-pem-key')))), { message: 'Invalid key/secret' });
  // jose verifies RSA only with 2048 bits or more (Kong accepts shorter keys).
  assert401(await run(c, bearer(jwt('RS256', claims('rsa1024-key'), rsa1024.privateKey))), { message: 'Invalid key/secret' });
  assert401(await run(conf({ secret_is_base64: true }), bearer(jwt('HS256', claims('not-b64-key'), 'not base64!'))), { message: 'Invalid key/secret' });
});

test('secret_is_base64: the stored secret is decoded (either alphabet) before verifying', async () => {
  const c = conf({ secret_is_base64: true });
  for (const key of ['b64-key', 'b64url-key']) {
    const token = jwt('HS256', claims(key), 'original secret?>');
    assertAuthenticated(await run(c, bearer(token)), 'jwt_tests_consumer', key, token);
  }
  // Without the flag the same token does not verify against the encoded text.
  const token = jwt('HS256', claims('b64-key', { jti: 1 }), 'original secret?>');
  assert401(await run(conf(), bearer(token)), { message: 'Invalid signature' });
});

test('key_claim_name: another claim, or the JOSE header when the claims lack it', async () => {
  const aud = jwt('HS256', { ...claims('nobody'), aud: 'hs256-key' }, 'hs256-secret');
  assertAuthenticated(await run(conf({ key_claim_name: 'aud' }), bearer(aud)), 'jwt_tests_consumer', 'hs256-key', aud);
  const kid = jwt('HS256', claims('nobody'), 'other-secret', { typ: 'JWT', alg: 'HS256', kid: 'other-key' });
  assertAuthenticated(await run(conf({ key_claim_name: 'kid' }), bearer(kid)), 'ec_consumer', 'other-key', kid);
});

test('where the token is found: query, cookies, headers; one distinct token only', async () => {
  const t = jwt('HS256', claims('hs256-key'), 'hs256-secret');
  const u = jwt('HS256', claims('hs384-key'), 'hs384-secret', { alg: 'HS256', typ: 'JWT', x: 1 });
  const ok = (out: Outcome) => assertAuthenticated(out, 'jwt_tests_consumer', 'hs256-key', t);
  ok(await run(conf(), { query: `a=1&jwt=${t}` }));
  ok(await run(conf({ uri_param_names: ['token', 'jwt'] }), { query: `token=${t}` }));
  ok(await run(conf(), { query: `j%77t=${encodeURIComponent(t)}` }));
  const cookies = conf({ cookie_names: ['silly', 'crumble'] });
  ok(await run(cookies, { headers: { cookie: `crumble=${t}; path=/;domain=.jwt9.com` } }));
  ok(await run(cookies, { headers: { cookie: ['a=b', `SILLY=${t}`] } }));
  ok(await run(conf({ header_names: ['CustomAuthorization'] }), { headers: { customauthorization: `Bearer ${t}` } }));
  // The first value of a repeated header; a lowercase scheme; Kong's unanchored match.
  const custom = conf({ header_names: ['CustomAuthorization'] });
  ok(await run(custom, { headers: { customauthorization: [`Bearer ${t}`, 'Bearer other-token'] } }));
  ok(await run(conf(), { headers: { authorization: `  bearer   ${t}` } }));
  // Not read from a header that is not configured.
  assert401(await run(custom, bearer(t)), { message: 'Unauthorized' }, { 'WWW-Authenticate': 'Bearer' });
  // The same token in several places is one token.
  ok(await run(cookies, { query: `jwt=${t}&jwt=${t}`, headers: { authorization: `Bearer ${t}`, cookie: `silly=${t}` } }));
  const multiple = { message: 'Multiple tokens provided' };
  assert401(await run(conf(), { query: `jwt=${t}`, headers: { authorization: `Bearer ${u}` } }), multiple);
  assert401(await run(conf(), { query: `jwt=${t}&jwt=${u}` }), multiple);
  assert401(await run(cookies, { headers: { cookie: `silly=${t}; crumble=${u}` } }), multiple);
  // A bare `?jwt` is Kong's boolean query value: no token string.
  assert401(await run(conf(), { query: 'jwt' }), { message: 'Unrecognizable token' });
  assert401(await run(conf(), { query: 'jwt', headers: { authorization: `Bearer ${t}` } }), multiple);
});

test('run_on_preflight: false lets OPTIONS through unauthenticated; true checks it', async () => {
  const out = await run(conf({ run_on_preflight: false }), { method: 'OPTIONS' });
  assert.deepEqual([out.ctx.exitRecord, out.ctx.consumer, out.async], [null, null, false]);
  assert401(await run(conf({ run_on_preflight: false }), { method: 'GET' }), { message: 'Unauthorized' }, { 'WWW-Authenticate': 'Bearer' });
  assert401(await run(conf(), { method: 'OPTIONS' }), { message: 'Unauthorized' }, { 'WWW-Authenticate': 'Bearer' });
});

test('claims_to_verify: exp and nbf as JSON error objects, in configured order', async () => {
  const c = conf({ claims_to_verify: ['nbf', 'exp'] });
  const t = (extra: object) => bearer(jwt('HS256', { iss: 'hs256-key', ...extra }, 'hs256-secret'));
  assert401(await run(c, t({})), { nbf: 'must be a number', exp: 'must be a number' });
  assert401(await run(c, t({ exp: String(now() + 60), nbf: now() })), { exp: 'must be a number' });
  assert401(await run(c, t({ exp: now() - 10, nbf: now() - 10 })), { exp: 'token expired' });
  assert401(await run(c, t({ exp: now(), nbf: now() - 10 })), { exp: 'token expired' });
  assert401(await run(c, t({ exp: now() + 10, nbf: now() + 5 })), { nbf: 'token not valid yet' });
  assert401(await run(c, t({ exp: now() - 1, nbf: now() + 5 })), { nbf: 'token not valid yet', exp: 'token expired' });
  const token = jwt('HS256', { iss: 'hs256-key', exp: now() + 10, nbf: now() }, 'hs256-secret');
  assertAuthenticated(await run(c, bearer(token)), 'jwt_tests_consumer', 'hs256-key', token);
  // Without claims_to_verify an expired token is accepted, as in Kong.
  const expired = jwt('HS256', { iss: 'hs256-key', exp: 1 }, 'hs256-secret');
  assertAuthenticated(await run(conf(), bearer(expired)), 'jwt_tests_consumer', 'hs256-key', expired);
});

test('maximum_expiration: a token valid for longer is refused', async () => {
  const c = conf({ claims_to_verify: ['nbf', 'exp'], maximum_expiration: 300 });
  const long = jwt('HS256', { iss: 'hs256-key', exp: now() + 3600, nbf: now() - 30 }, 'hs256-secret');
  assert401(await run(c, { query: `jwt=${long}` }), { exp: 'exceeds maximum allowed expiration' });
  const short = jwt('HS256', { iss: 'hs256-key', exp: now() + 270, nbf: now() - 30 }, 'hs256-secret');
  assertAuthenticated(await run(c, { query: `jwt=${short}` }), 'jwt_tests_consumer', 'hs256-key', short);
});

test('anonymous: failures continue as the anonymous consumer; a missing one is a 500', async () => {
  const t = jwt('HS256', claims('hs256-key'), 'hs256-secret');
  for (const anonymous of [ANON.id, ANON.username]) {
    const c = conf({ anonymous });
    assertAuthenticated(await run(c, bearer(t)), 'jwt_tests_consumer', 'hs256-key', t);
    for (const req of [{}, bearer(jwt('HS256', claims('hs256-key'), 'wrong')), bearer('garbage'), { query: `jwt=${t}&jwt=x` }]) {
      const { ctx } = await run(c, req);
      assert.equal(ctx.exitRecord, null);
      assert.deepEqual(ctx.consumer, ANON);
      assert.equal(ctx.credential, null);
      assert.equal(ctx.upstream('x-anonymous-consumer'), 'true');
      assert.equal(ctx.upstream('x-consumer-username'), 'no-body');
      assert.equal(ctx.upstream('x-credential-identifier'), null);
    }
  }
  const missing = '9c1b7e3a-0000-4000-8000-000000000000';
  const { ctx } = await run(conf({ anonymous: missing }), {});
  assert.deepEqual(ctx.exitRecord, { status: 500, body: `anonymous consumer ${missing} is configured but doesn't exist`, headers: {}, kind: 'error' });
});

test('several auth plugins: with anonymous an earlier credential wins (OR); without, jwt still decides (AND)', async () => {
  const preAuthenticated = (ctx: FakeContext) => ctx.authenticate(CONSUMERS[1], { id: 'key-auth-cred', identifier: 'key-auth-cred' });
  const or = await run(conf({ anonymous: ANON.id }), {}, ENV, preAuthenticated);
  assert.deepEqual([or.ctx.exitRecord, or.ctx.consumer, or.ctx.credential?.id, or.async], [null, CONSUMERS[1], 'key-auth-cred', false]);
  assert401Unchanged(await run(conf(), {}, ENV, preAuthenticated));
  function assert401Unchanged({ ctx }: Outcome): void {
    assert.equal(ctx.exitRecord?.status, 401);
    assert.deepEqual(ctx.exitRecord?.body, { message: 'Unauthorized' });
  }
});

test('a verified token is remembered: a repeat is synchronous, the claims still meet the clock', async (t) => {
  const c = conf({ claims_to_verify: ['exp'] });
  const token = jwt('HS256', { iss: 'hs256-key', exp: now() + 100 }, 'hs256-secret');
  const first = await run(c, bearer(token));
  assertAuthenticated(first, 'jwt_tests_consumer', 'hs256-key', token);
  assert.equal(first.async, true);
  const second = await run(c, bearer(token));
  assertAuthenticated(second, 'jwt_tests_consumer', 'hs256-key', token);
  assert.equal(second.async, false, 'a cached token needs no signature work');
  // Two hundred seconds later the cached token has expired.
  const base = Date.now();
  t.mock.method(Date, 'now', () => base + 200_000);
  const later = await run(c, bearer(token));
  assert401(later, { exp: 'token expired' });
  assert.equal(later.async, false);
  t.mock.restoreAll();
  // A token that failed verification is not remembered.
  const forged = jwt('HS256', { iss: 'hs256-key', exp: now() + 100 }, 'not-the-secret');
  assert.equal((await run(c, bearer(forged))).async, true);
  const again = await run(c, bearer(forged));
  assert.equal(again.async, true);
  assert401(again, { message: 'Invalid signature' });
});

test('a cached verification holds only for the same snapshot and claim name', async () => {
  const token = jwt('HS256', { ...claims('hs256-key') }, 'hs256-secret', { alg: 'HS256', kid: 'other-key' });
  const c = conf();
  assert.equal((await run(c, bearer(token))).async, true);
  assert.equal((await run(c, bearer(token))).async, false);
  // Another instance reads the credential from `kid`: a different credential, verified afresh.
  const byKid = await run(conf({ key_claim_name: 'kid' }), bearer(token));
  assert.equal(byKid.async, true);
  assert401(byKid, { message: 'Invalid signature' });
  // A reload that changes the secret: the old verification is void.
  const rotated = env(CREDS.map((r) => (r.key === 'hs256-key' ? { ...r, secret: 'rotated' } : r)));
  const afterRotation = await run(conf({}, rotated), bearer(token), rotated);
  assert.equal(afterRotation.async, true);
  assert401(afterRotation, { message: 'Invalid signature' });
  const fresh = jwt('HS256', claims('hs256-key'), 'rotated');
  assertAuthenticated(await run(conf({}, rotated), bearer(fresh), rotated), 'jwt_tests_consumer', 'hs256-key', fresh);
  // A reload without the credential.
  const removed = env(CREDS.filter((r) => r.key !== 'hs256-key'));
  assert401(await run(conf({}, removed), bearer(fresh), removed), { message: "No credentials found for given 'iss'" });
  // The same public key under a rotated PEM for the same credential id is imported anew.
  const rs = jwt('RS256', claims('rs256-key'));
  const rekeyed = env(CREDS.map((r) => (r.key === 'rs256-key' ? { ...r, rsaPublicKey: spki(rsaOther.publicKey) } : r)));
  assert401(await run(conf({}, rekeyed), bearer(rs), rekeyed), { message: 'Invalid signature' });
  const rsOther = jwt('RS256', claims('rs256-key'), rsaOther.privateKey);
  assertAuthenticated(await run(conf({}, rekeyed), bearer(rsOther), rekeyed), 'rsa_consumer', 'rs256-key', rsOther);
});

test('the verified-token cache is bounded (LRU)', async () => {
  const c = conf();
  const filler = (n: number) => jwt('HS256', { iss: 'hs256-key', n }, 'hs256-secret');
  const a = filler(-1);
  const b = filler(-2);
  await run(c, bearer(a));
  await run(c, bearer(b));
  // 4094 more fill the cache (4096 entries): anything older is gone.
  for (let n = 0; n < 4094; n++) await run(c, bearer(filler(n)));
  assert.equal(verifiedTokenCount(), 4096);
  assert.equal((await run(c, bearer(a))).async, false, 'a is still cached, and now the most recent');
  await run(c, bearer(filler(4094)));
  assert.equal(verifiedTokenCount(), 4096);
  assert.equal((await run(c, bearer(a))).async, false, 'a was used recently: kept');
  assert.equal((await run(c, bearer(b))).async, true, 'b was the least recently used: evicted');
});

test('a token carrying a cached token\'s signature is no hit: it is verified on its own', async () => {
  const c = conf();
  const genuine = jwt('HS256', claims('hs256-key'), 'hs256-secret');
  assertAuthenticated(await run(c, bearer(genuine)), 'jwt_tests_consumer', 'hs256-key', genuine);
  const [h, , sig] = genuine.split('.');
  const forged = `${h}.${b64u(claims('other-key'))}.${sig}`;
  const out = await run(c, bearer(forged));
  assert.equal(out.async, true);
  assert401(out, { message: 'Invalid signature' });
  // The genuine token still authenticates (it may be verified again: the two shared a slot).
  assertAuthenticated(await run(c, bearer(genuine)), 'jwt_tests_consumer', 'hs256-key', genuine);
});
