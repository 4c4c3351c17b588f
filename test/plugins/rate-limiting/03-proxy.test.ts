// rate-limiting through the real gateway (2 worker processes) and real upstreams, and with a real
// redis-server shared by two gateways (Kong's spec/03-plugins/23-rate-limiting/04-access_spec and
// 05-integration_spec): exact counts across workers and nodes, Kong's headers and 429, Redis
// going away and coming back, and seed 3's snippet.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, type HttpResult } from '../../helpers/http-client';
import { startGateway, type Gateway } from '../../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../../helpers/upstream';
import { startRedis, type RedisServer } from '../../helpers/redis';
import { waitFor } from '../../helpers/wait';
import { windowStart } from '../../../src/plugins/rate-limiting/windows';

type Rl = Record<string, unknown>;
const route = (name: string, path: string, config: Rl, plugins: { name: string; config: Rl }[] = []): object => ({
  name,
  paths: [path],
  plugins: [{ name: 'rate-limiting', config }, ...plugins],
});

/** `n` requests, at most `width` in flight, each on a fresh connection (spread over the workers). */
async function burst(n: number, width: number, send: (i: number) => Promise<HttpResult>): Promise<HttpResult[]> {
  const out: HttpResult[] = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await send(i);
    }
  }));
  return out;
}

const count = (rs: HttpResult[], status: number): number => rs.filter((r) => r.status === status).length;

/**
 * Runs a burst against a fresh counter (a new X-Burst value) inside one hour window: a burst that
 * straddled the hour edge (a few seconds a day) is run again with another counter.
 */
async function burstInOneHour(n: number, width: number, send: (id: string) => Promise<HttpResult>): Promise<HttpResult[]> {
  for (let attempt = 0; ; attempt++) {
    const id = `b${process.pid}-${Date.now()}-${attempt}`;
    const start = windowStart('hour', Date.now());
    const rs = await burst(n, width, () => send(id));
    if (windowStart('hour', Date.now()) === start || attempt > 2) return rs;
  }
}

describe('rate-limiting, policy local, 2 workers', () => {
  let echo: EchoServer;
  let gw: Gateway;

  before(async () => {
    echo = await startEchoServer('echo-up');
    gw = await startGateway({
      workers: 2,
      config: {
        _format_version: '3.0',
        services: [{
          name: 'svc',
          url: `http://127.0.0.1:${echo.port}`,
          routes: [
            route('exact', '/exact', { hour: 40, limit_by: 'header', header_name: 'X-Burst' }),
            route('headers', '/headers', { hour: 3, day: 10, limit_by: 'header', header_name: 'X-Burst' }),
            route('hidden', '/hidden', { hour: 1, limit_by: 'header', header_name: 'X-Burst', hide_client_headers: true }),
            route('by-path', '/by-path', { hour: 1, limit_by: 'path', path: '/by-path/login' }),
            route('custom', '/custom', { day: 1, limit_by: 'header', header_name: 'X-Burst', error_code: 418, error_message: 'Calm down' }),
            // key-auth (priority 1250) runs first, so the consumer is known when rate-limiting counts.
            route('by-consumer', '/by-consumer', { hour: 1 }, [{ name: 'key-auth', config: { anonymous: 'guest' } }]),
          ],
        }],
        consumers: [
          { username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] },
          { username: 'bob', keyauth_credentials: [{ key: 'bob-key' }] },
          { username: 'guest' },
        ],
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await echo?.close();
  });

  it('many concurrent clients over both workers: exactly the limit passes, the rest get 429', async () => {
    const before = (await gw.status()).workers.map((w) => w.requests);
    const rs = await burstInOneHour(200, 40, (id) => request(`${gw.proxyUrl}/exact`, { headers: { 'x-burst': id } }));
    assert.equal(count(rs, 200), 40, 'exactly the limit passed');
    assert.equal(count(rs, 429), 160);
    const afterStatus = (await gw.status()).workers.map((w) => w.requests);
    assert.ok(afterStatus.every((n, i) => n > (before[i] ?? 0)), `both workers served the burst (${before} → ${afterStatus})`);
    // What passed shows the counts 39 … 0 exactly once each: no two workers handed out the same slot.
    const remaining = rs.filter((r) => r.status === 200).map((r) => Number(r.headers['x-ratelimit-remaining-hour'])).sort((a, b) => a - b);
    assert.deepEqual(remaining, Array.from({ length: 40 }, (_, i) => i));
  });

  it('headers as Kong on passed requests; the 429 has Kong\'s body and Retry-After, and never reaches the upstream', async () => {
    const id = `h${process.pid}-${Date.now()}`;
    const seen = echo.requests.length;
    const rs: HttpResult[] = [];
    for (let i = 0; i < 4; i++) rs.push(await request(`${gw.proxyUrl}/headers`, { headers: { 'x-burst': id } }));
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 200, 429]);
    rs.slice(0, 3).forEach((r, i) => {
      assert.equal(r.headers['x-ratelimit-limit-hour'], '3');
      assert.equal(r.headers['x-ratelimit-remaining-hour'], String(2 - i));
      assert.equal(r.headers['x-ratelimit-limit-day'], '10');
      assert.equal(r.headers['x-ratelimit-remaining-day'], String(9 - i));
      assert.equal(r.headers['ratelimit-limit'], '3');
      assert.equal(r.headers['ratelimit-remaining'], String(2 - i));
      const reset = Number(r.headers['ratelimit-reset']);
      assert.ok(reset >= 1 && reset <= 3600, `reset ${reset}`);
      assert.equal(r.headers['retry-after'], undefined);
    });
    const blocked = rs[3];
    assert.equal(blocked.json<{ message: string }>().message, 'API rate limit exceeded');
    assert.match(String(blocked.headers['content-type']), /^application\/json/);
    assert.equal(blocked.headers['x-ratelimit-remaining-hour'], '0');
    assert.equal(blocked.headers['x-ratelimit-remaining-day'], '7');
    assert.equal(blocked.headers['ratelimit-remaining'], '0');
    assert.equal(blocked.headers['retry-after'], blocked.headers['ratelimit-reset']);
    assert.equal(echo.requests.length, seen + 3, 'the blocked request never went upstream');
    // Case as Kong writes it on the wire.
    assert.ok(rs[0].rawHeaders.includes('X-RateLimit-Limit-Hour'), rs[0].rawHeaders.join(' '));
  });

  it('hide_client_headers sends none, not even Retry-After; error_code and error_message', async () => {
    const id = `x${process.pid}-${Date.now()}`;
    const a = await request(`${gw.proxyUrl}/hidden`, { headers: { 'x-burst': id } });
    const b = await request(`${gw.proxyUrl}/hidden`, { headers: { 'x-burst': id } });
    assert.deepEqual([a.status, b.status], [200, 429]);
    for (const r of [a, b]) {
      assert.deepEqual(Object.keys(r.headers).filter((k) => /ratelimit|retry-after/.test(k)), []);
    }
    const c1 = await request(`${gw.proxyUrl}/custom`, { headers: { 'x-burst': id } });
    const c2 = await request(`${gw.proxyUrl}/custom`, { headers: { 'x-burst': id } });
    assert.deepEqual([c1.status, c2.status], [200, 418]);
    assert.equal(c2.json<{ message: string }>().message, 'Calm down');
  });

  it('limit_by consumer: each authenticated consumer counts apart, whatever its address', async () => {
    const as = (key: string | null): Promise<HttpResult> => request(`${gw.proxyUrl}/by-consumer`, { headers: key ? { apikey: key } : {} });
    assert.equal((await as('alice-key')).status, 200);
    assert.equal((await as('bob-key')).status, 200);
    assert.equal((await as('alice-key')).status, 429);
    assert.equal((await as('bob-key')).status, 429);
    // The anonymous consumer is a consumer too (Kong): one counter for every unauthenticated client.
    assert.equal((await as(null)).status, 200);
    assert.equal((await as('wrong-key')).status, 429);
  });

  it('limit_by path: the configured path is one counter; other paths count per client IP', async () => {
    assert.equal((await request(`${gw.proxyUrl}/by-path/login`)).status, 200);
    assert.equal((await request(`${gw.proxyUrl}/by-path/login`)).status, 429);
    assert.equal((await request(`${gw.proxyUrl}/by-path/other`)).status, 200);
    assert.equal((await request(`${gw.proxyUrl}/by-path/other`)).status, 429, 'other paths: one counter for 127.0.0.1');
  });
});

describe('rate-limiting, policy redis, two gateways on one redis-server', () => {
  let echo: EchoServer;
  let redis: RedisServer;
  let gw1: Gateway;
  let gw2: Gateway;

  before(async () => {
    echo = await startEchoServer('echo-up');
    redis = await startRedis();
    const r = { host: '127.0.0.1', port: redis.port, timeout: 500 };
    const config = {
      _format_version: '3.0',
      services: [{
        name: 'svc',
        url: `http://127.0.0.1:${echo.port}`,
        routes: [
          route('sync', '/sync', { hour: 30, limit_by: 'header', header_name: 'X-Burst', policy: 'redis', redis: r }),
          route('batched', '/batched', { hour: 20, limit_by: 'header', header_name: 'X-Burst', policy: 'redis', redis: r, sync_rate: 0.2 }),
          // The older flat fields, as many Kong files still have them.
          route('ft-true', '/ft-true', { hour: 1000, policy: 'redis', redis_host: '127.0.0.1', redis_port: redis.port, redis_timeout: 500 }),
          route('ft-false', '/ft-false', { hour: 1000, policy: 'redis', redis: r, fault_tolerant: false }),
          // Seed 3's snippet on the route it names, its Redis being the test's.
          route('user-auth', '/user-auth', { minute: 10, hour: 100, policy: 'redis', redis: { host: '127.0.0.1', port: redis.port } }),
        ],
      }],
    };
    [gw1, gw2] = await Promise.all([startGateway({ workers: 2, config }), startGateway({ workers: 2, config })]);
  });
  after(async () => {
    await gw1?.stop();
    await gw2?.stop();
    await redis?.close();
    await echo?.close();
  });

  it('synchronous: exactly the limit passes over two gateways of two workers each; keys and expiry as Kong', async () => {
    let id = '';
    const rs = await burstInOneHour(120, 30, (burstId) => {
      id = burstId;
      return request(`${(Math.random() < 0.5 ? gw1 : gw2).proxyUrl}/sync`, { headers: { 'x-burst': burstId } });
    });
    assert.equal(count(rs, 200), 30);
    assert.equal(count(rs, 429), 90);
    const keys = (await redis.call('KEYS', `ratelimit:*:${id}:*`)) as string[];
    assert.equal(keys.length, 1);
    assert.match(keys[0], new RegExp(`^ratelimit:[0-9a-f-]{36}:[0-9a-f-]{36}:${id}:\\d{13}:hour$`));
    assert.equal(await redis.call('GET', keys[0]), '30', 'blocked requests were not counted');
    const ttl = Number(await redis.call('TTL', keys[0]));
    assert.ok(ttl > 3500 && ttl <= 3600, `ttl ${ttl}`);
  });

  it('sync_rate > 0: counted locally, synced in batches; both gateways converge on the shared total', async () => {
    const id = `s${process.pid}-${Date.now()}`;
    const send = (g: Gateway): Promise<HttpResult> => request(`${g.proxyUrl}/batched`, { headers: { 'x-burst': id } });
    let passed = 0;
    for (let i = 0; i < 20; i++) if ((await send(gw1)).status === 200) passed++;
    assert.equal(passed, 20, 'the first gateway alone stays within the limit');
    // A worker learns the shared total one round trip after it first sees the key, then every
    // 0.2 s: in between it may let more through.
    await waitFor('both gateways to block on the shared total', async () => {
      const [a, b] = [await send(gw1), await send(gw2)];
      passed += (a.status === 200 ? 1 : 0) + (b.status === 200 ? 1 : 0);
      return a.status === 429 && b.status === 429;
    }, { timeoutMs: 10_000, intervalMs: 20 });
    const total = await waitFor('the counts to be synced', async () => {
      const keys = (await redis.call('KEYS', `ratelimit:*:${id}:*`)) as string[];
      const v = keys.length === 1 ? Number(await redis.call('GET', keys[0])) : 0;
      return v === passed ? v : null;
    });
    // Every admitted request reached Redis (none lost in batching). A worker admits only while its
    // own view (last total read + its own count since) is under the limit, so the overshoot is what
    // the other workers admitted within one sync interval: never more than limit × workers.
    assert.ok(total >= 20 && total <= 20 * 4, `total ${total}`);
  });

  it('seed 3: 15 quick requests to the 10-per-minute user-auth route: 10 pass, 5 get 429', async () => {
    // 15 requests take well under a second: start them away from a minute edge.
    await waitFor('a moment away from a minute edge', () => Date.now() % 60_000 < 55_000, { timeoutMs: 10_000, intervalMs: 200 });
    const rs: HttpResult[] = [];
    for (let i = 0; i < 15; i++) rs.push(await request(`${gw1.proxyUrl}/user-auth`));
    assert.deepEqual(rs.map((r) => r.status), [...Array(10).fill(200), ...Array(5).fill(429)]);
    assert.equal(rs[9].headers['x-ratelimit-remaining-minute'], '0');
    assert.equal(rs[9].headers['x-ratelimit-remaining-hour'], '90');
    assert.equal(rs[14].json<{ message: string }>().message, 'API rate limit exceeded');
  });

  it('redis stopped: fault_tolerant lets traffic through without headers, otherwise 500; one error logged per interval; recovery after restart', async () => {
    assert.equal((await request(`${gw1.proxyUrl}/ft-false`)).status, 200);
    await redis.stop();
    const tolerant = await burst(20, 5, (i) => request(`${(i % 2 ? gw1 : gw2).proxyUrl}/ft-true`));
    assert.deepEqual(tolerant.map((r) => r.status), Array(20).fill(200));
    assert.equal(tolerant[0].headers['x-ratelimit-limit-hour'], undefined, 'no usage, no headers (Kong)');
    const strict = await burst(10, 5, (i) => request(`${(i % 2 ? gw1 : gw2).proxyUrl}/ft-false`));
    assert.deepEqual(strict.map((r) => r.status), Array(10).fill(500));
    assert.equal(strict[0].json<{ message: string }>().message, 'An unexpected error occurred');
    for (const g of [gw1, gw2]) {
      const errors = g.output().split('\n').filter((l) => l.includes('rate-limiting: failed to get usage'));
      assert.ok(errors.length >= 1 && errors.length <= 2, `one line per worker per interval, got ${errors.length}`);
    }
    await redis.start();
    for (const g of [gw1, gw2]) {
      await waitFor('the workers to reconnect', async () => {
        const rs = await burst(6, 6, () => request(`${g.proxyUrl}/ft-false`));
        return rs.every((r) => r.status === 200 && r.headers['x-ratelimit-limit-hour'] === '1000');
      }, { timeoutMs: 15_000, intervalMs: 100 });
    }
    assert.deepEqual((await g1Pids(gw1)).length, 2, 'no worker was lost');
  });

  it('redis hung (no answers): requests wait at most the redis timeout, then pass (fault_tolerant) or get 500', async () => {
    redis.pause();
    try {
      const t0 = Date.now();
      const [tolerant, strict] = await Promise.all([request(`${gw1.proxyUrl}/ft-true`), request(`${gw2.proxyUrl}/ft-false`)]);
      const took = Date.now() - t0;
      assert.deepEqual([tolerant.status, strict.status], [200, 500]);
      assert.ok(took >= 450 && took < 3000, `answered after the 500 ms timeout (${took} ms)`);
    } finally {
      redis.resume();
    }
    await waitFor('answers again', async () => (await request(`${gw2.proxyUrl}/ft-false`)).status === 200, { timeoutMs: 10_000 });
  });
});

async function g1Pids(g: Gateway): Promise<number[]> {
  return (await g.status()).workers.filter((w) => w.restarts === 0).map((w) => w.pid);
}
