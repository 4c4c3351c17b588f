/**
 * The seed article's microservices file (../shared/seed-configs/seed3-*), served for real: its
 * service hosts are the article's docker names, rewritten here to local upstreams; everything
 * else is as written. Skipped when the shared folder is not next to the repository.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoRecord, type EchoServer } from '../helpers/upstream';

/** dist/test/integration → the repository root → ../shared/seed-configs. */
const SEEDS = resolve(__dirname, '../../../../shared/seed-configs');
const skip = existsSync(join(SEEDS, 'seed3-microservices.kong.yml')) ? false : `seed configs not found at ${SEEDS}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const APP = 'https://app.example.com';

interface Upstreams {
  user: EchoServer;
  order: EchoServer;
  product: EchoServer;
}

/** The seed's text with only its three service urls pointed at the local upstreams. */
function seedText(up: Upstreams): string {
  let text = readFileSync(join(SEEDS, 'seed3-microservices.kong.yml'), 'utf8');
  for (const [from, to] of [
    ['http://user-service:3000', up.user],
    ['http://order-service:3001', up.order],
    ['http://product-service:3002', up.product],
  ] as const) {
    assert.ok(text.includes(`url: ${from}\n`), `the seed names ${from}`);
    text = text.replace(`url: ${from}\n`, `url: http://127.0.0.1:${to.port}\n`);
  }
  return text;
}

function preflight(path: string): Promise<Awaited<ReturnType<typeof request>>> {
  return request(path, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
}

describe('seed3-microservices.kong.yml as written (local upstreams)', { skip }, () => {
  let up: Upstreams;
  let gw: Gateway;

  before(async () => {
    up = { user: await startEchoServer('user-service'), order: await startEchoServer('order-service'), product: await startEchoServer('product-service') };
    gw = await startGateway({ config: seedText(up) });
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([up?.user.close(), up?.order.close(), up?.product.close()]);
  });

  it('user-api keeps the path (strip_path false) and the Host (preserve_host); X-Correlation-ID generated and echoed; CORS for the app origin', async () => {
    const res = await request(`${gw.proxyUrl}/api/v1/users/42?expand=1`, { headers: { host: 'api.example.com', origin: APP } });
    assert.equal(res.status, 200, res.text);
    const seen = res.json<EchoRecord>();
    assert.equal(seen.server, 'user-service');
    assert.equal(seen.url, '/api/v1/users/42?expand=1');
    assert.equal(seen.headers.host, 'api.example.com');
    assert.match(String(seen.headers['x-correlation-id']), UUID);
    assert.equal(res.headers['x-correlation-id'], seen.headers['x-correlation-id']);
    assert.equal(res.headers['access-control-allow-origin'], APP);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers.vary, 'Origin');
  });

  it('keeps a client X-Correlation-ID; order-api strips its prefix and sends the service host', async () => {
    const res = await request(`${gw.proxyUrl}/api/v1/orders/7`, { method: 'DELETE', headers: { 'x-correlation-id': 'trace-123' } });
    assert.equal(res.status, 200, res.text);
    const seen = res.json<EchoRecord>();
    assert.equal(seen.server, 'order-service');
    assert.equal(seen.method, 'DELETE');
    assert.equal(seen.url, '/7');
    assert.equal(seen.headers.host, `127.0.0.1:${up.order.port}`);
    assert.equal(seen.headers['x-correlation-id'], 'trace-123');
    assert.equal(res.headers['x-correlation-id'], 'trace-123');
  });

  it('routes product-api, and answers 404 to a method its route does not list', async () => {
    const ok = await request(`${gw.proxyUrl}/api/v1/products`);
    assert.equal(ok.json<EchoRecord>().server, 'product-service');
    assert.equal((await request(`${gw.proxyUrl}/api/v1/products`, { method: 'PATCH' })).status, 404);
  });

  it("a preflight on the seed's routes is a 404: their methods do not list OPTIONS (Kong routes before cors runs)", async () => {
    const before = up.user.requests.length;
    const res = await preflight(`${gw.proxyUrl}/api/v1/users`);
    assert.equal(res.status, 404);
    assert.equal(res.json<{ message: string }>().message, 'no Route matched with those values');
    assert.equal(up.user.requests.length, before);
  });
});

const JWT_KID = 'mobile-app-key-1';
const JWT_SECRET = 'mobile-app-shared-secret-0123456789';
const PARTNER_KEY = 'partner-key-abc123';

function b64url(x: object | Buffer): string {
  return (Buffer.isBuffer(x) ? x : Buffer.from(JSON.stringify(x))).toString('base64url');
}

function hs256(payload: object, kid = JWT_KID, secret = JWT_SECRET): string {
  const signing = `${b64url({ alg: 'HS256', typ: 'JWT', kid })}.${b64url(payload)}`;
  return `${signing}.${b64url(createHmac('sha256', secret).update(signing).digest())}`;
}

/**
 * The seed, its `jwt_and_key_auth` snippet as written, and what the snippet needs to be a valid
 * file: the `partner-api` route it names, a jwt secret and a key for the seed's consumers, and
 * OPTIONS on user-api so that browsers' preflights reach the cors plugin.
 */
function authConfig(up: Upstreams): string {
  const doc = parse(seedText(up)) as {
    routes: { name: string; methods: string[] }[];
    consumers: Record<string, unknown>[];
    plugins: unknown[];
  };
  const snippets = parse(readFileSync(join(SEEDS, 'seed3-plugins.snippets.yml'), 'utf8')) as { jwt_and_key_auth: { plugins: unknown[] } };
  doc.routes.find((r) => r.name === 'user-api')!.methods.push('OPTIONS');
  doc.routes.push({ name: 'partner-api', service: 'product-service', paths: ['/api/v1/partner'] } as never);
  for (const c of doc.consumers) {
    if (c.username === 'mobile-app') c.jwt_secrets = [{ key: JWT_KID, secret: JWT_SECRET, algorithm: 'HS256' }];
    if (c.username === 'partner-api') c.keyauth_credentials = [{ key: PARTNER_KEY }];
  }
  doc.plugins.push(...snippets.jwt_and_key_auth.plugins);
  return stringify(doc);
}

describe('seed3 with its jwt_and_key_auth snippet', { skip }, () => {
  let up: Upstreams;
  let gw: Gateway;

  before(async () => {
    up = { user: await startEchoServer('user-service'), order: await startEchoServer('order-service'), product: await startEchoServer('product-service') };
    gw = await startGateway({ config: authConfig(up) });
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([up?.user.close(), up?.order.close(), up?.product.close()]);
  });

  it('user-api: 401 without a token, the upstream untouched', async () => {
    const before = up.user.requests.length;
    const res = await request(`${gw.proxyUrl}/api/v1/users/1`);
    assert.equal(res.status, 401);
    assert.equal(res.json<{ message: string }>().message, 'Unauthorized');
    assert.equal(up.user.requests.length, before);
  });

  it('user-api: 200 with an HS256 token naming the credential by kid; the upstream learns the consumer', async () => {
    const token = hs256({ sub: 'user-1', exp: Math.floor(Date.now() / 1000) + 3600 });
    const res = await request(`${gw.proxyUrl}/api/v1/users/1`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, res.text);
    const seen = res.json<EchoRecord>();
    assert.equal(seen.url, '/api/v1/users/1');
    assert.equal(seen.headers['x-consumer-username'], 'mobile-app');
    assert.equal(seen.headers['x-consumer-custom-id'], 'mobile-app-001');
    assert.equal(seen.headers['x-credential-identifier'], JWT_KID);
  });

  it('user-api: 401 for a bad signature, an expired token, an exp beyond maximum_expiration, an unknown kid', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string, unknown][] = [
      ['bad signature', hs256({ exp: now + 60 }, JWT_KID, 'another-secret'), { message: 'Invalid signature' }],
      ['expired', hs256({ exp: now - 10 }), { exp: 'token expired' }],
      ['too long', hs256({ exp: now + 2 * 86400 }), { exp: 'exceeds maximum allowed expiration' }],
      ['unknown kid', hs256({ exp: now + 60 }, 'nobody'), { message: 'No credentials found for given \'kid\'' }],
    ];
    for (const [what, token, body] of cases) {
      const res = await request(`${gw.proxyUrl}/api/v1/users/1`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 401, what);
      const { request_id: _id, ...rest } = res.json<{ request_id?: string }>();
      assert.deepEqual(rest, body, what);
    }
  });

  it('user-api with OPTIONS listed: the CORS preflight for the app origin is answered by the gateway, before jwt', async () => {
    const before = up.user.requests.length;
    const res = await preflight(`${gw.proxyUrl}/api/v1/users`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['access-control-allow-origin'], APP);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers['access-control-allow-methods'], 'GET,POST,PUT,DELETE,OPTIONS');
    assert.equal(res.headers['access-control-allow-headers'], 'content-type');
    assert.equal(res.headers['access-control-max-age'], '3600');
    assert.match(String(res.headers['x-correlation-id']), UUID);
    assert.equal(up.user.requests.length, before);
  });

  it('partner-api: 401 without or with a wrong X-API-Key, 200 with the key, which the upstream never sees', async () => {
    const none = await request(`${gw.proxyUrl}/api/v1/partner/orders`);
    assert.equal(none.status, 401);
    assert.equal(none.json<{ message: string }>().message, 'No API key found in request');
    const wrong = await request(`${gw.proxyUrl}/api/v1/partner/orders`, { headers: { 'x-api-key': 'nope' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json<{ message: string }>().message, 'Unauthorized');
    const ok = await request(`${gw.proxyUrl}/api/v1/partner/orders`, { headers: { 'x-api-key': PARTNER_KEY } });
    assert.equal(ok.status, 200, ok.text);
    const seen = ok.json<EchoRecord>();
    assert.equal(seen.server, 'product-service');
    assert.equal(seen.url, '/orders');
    assert.equal(seen.headers['x-api-key'], undefined);
    assert.equal(seen.headers['x-consumer-username'], 'partner-api');
  });
});
