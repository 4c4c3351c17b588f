// rate-limiting-advanced through the real gateway (2 worker processes): the sliding window's
// bound at a window edge, exact counts across workers, and Redis shared by two gateways with
// seed 3's snippet and the Redis settings taken from the environment.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, type HttpResult } from '../../helpers/http-client';
import { startGateway, type Gateway } from '../../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../../helpers/upstream';
import { startRedis, type RedisServer } from '../../helpers/redis';
import { waitFor } from '../../helpers/wait';

const rla = (config: Record<string, unknown>): object => ({ name: 'rate-limiting-advanced', config });

async function burst(n: number, width: number, send: () => Promise<HttpResult>): Promise<number> {
  let next = 0;
  let ok = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next++ < n) if ((await send()).status === 200) ok++;
  }));
  return ok;
}

/** A burst on a fresh counter inside one window of `sizeS` seconds (run again if it straddled one). */
async function burstInOneWindow(sizeS: number, n: number, width: number, send: (id: string) => Promise<HttpResult>): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const id = `w${process.pid}-${Date.now()}-${attempt}`;
    const start = Math.floor(Date.now() / 1000 / sizeS);
    const ok = await burst(n, width, () => send(id));
    if (Math.floor(Date.now() / 1000 / sizeS) === start || attempt > 2) return ok;
  }
}

describe('rate-limiting-advanced, strategy local, 2 workers', () => {
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
            { name: 'exact', paths: ['/exact'], plugins: [rla({ limit: [30], window_size: [3600], identifier: 'header', header_name: 'X-Burst' })] },
            { name: 'edge', paths: ['/edge'], plugins: [rla({ limit: [20], window_size: [2], identifier: 'header', header_name: 'X-Burst', disable_penalty: true })] },
          ],
        }],
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await echo?.close();
  });

  it('a fresh sliding window: exactly the limit passes for many concurrent clients over both workers', async () => {
    const ok = await burstInOneWindow(3600, 150, 30, (id) => request(`${gw.proxyUrl}/exact`, { headers: { 'x-burst': id } }));
    assert.equal(ok, 30);
  });

  it('a burst at the end of a window and another right after the edge: within the documented bound, far from twice the limit', async () => {
    for (let attempt = 0; ; attempt++) {
      const id = `e${process.pid}-${attempt}`;
      const send = (): Promise<HttpResult> => request(`${gw.proxyUrl}/edge`, { headers: { 'x-burst': id } });
      await waitFor('the last part of a 2 s window', () => {
        const into = Date.now() % 2000;
        return into >= 1000 && into < 1300;
      }, { timeoutMs: 5000, intervalMs: 10 });
      const edge = Math.ceil(Date.now() / 2000) * 2000;
      const first = await burst(60, 20, send);
      if (Date.now() >= edge) {
        assert.ok(attempt < 4, 'the first burst never fit before the edge');
        continue;
      }
      assert.equal(first, 20, 'the first burst gets the limit');
      await waitFor('the window edge', () => Date.now() >= edge, { timeoutMs: 3000, intervalMs: 5 });
      const second = await burst(60, 20, send);
      const delta = Date.now() - edge;
      // README: δ after a full window, at most floor(limit·δ/size) + 1 more.
      assert.ok(second <= Math.floor((20 * delta) / 2000) + 1, `second burst ${second} within ${delta} ms of the edge`);
      assert.ok(first + second < 40);
      return;
    }
  });
});

describe('rate-limiting-advanced, strategy redis, two gateways', () => {
  let echo: EchoServer;
  let redis: RedisServer;
  let gw1: Gateway;
  let gw2: Gateway;

  before(async () => {
    echo = await startEchoServer('echo-up');
    redis = await startRedis();
    const config = {
      _format_version: '3.0',
      services: [{
        name: 'svc',
        url: `http://127.0.0.1:${echo.port}`,
        routes: [
          { name: 'seed', paths: ['/seed'] },
          { name: 'exact', paths: ['/exact'], plugins: [rla({ limit: [30], window_size: [3600], identifier: 'header', header_name: 'X-Burst', strategy: 'redis', sync_rate: 0, redis: { host: '127.0.0.1', port: redis.port } })] },
          { name: 'batched', paths: ['/batched'], plugins: [rla({ limit: [10], window_size: [3600], identifier: 'header', header_name: 'X-Burst', strategy: 'redis', sync_rate: 0.2, disable_penalty: true, namespace: 'batched-ns', redis: { host: '127.0.0.1', port: redis.port } })] },
          { name: 'node-only', paths: ['/node-only'], plugins: [rla({ limit: [3], window_size: [3600], identifier: 'header', header_name: 'X-Burst', strategy: 'redis', sync_rate: -1, namespace: 'node-ns' })] },
          // No Redis settings in the file: the environment's.
          { name: 'from-env', paths: ['/from-env'], plugins: [rla({ limit: [5], window_size: [3600], identifier: 'header', header_name: 'X-Burst', strategy: 'redis', namespace: 'env-ns' })] },
        ],
      }],
      // Seed 3's snippet as written (global), its Redis host being the test's.
      plugins: [rla({ limit: [1000], window_size: [60], window_type: 'sliding', strategy: 'redis', redis: { host: '127.0.0.1', port: redis.port } })],
    };
    const env = { HYPERWAY_REDIS_HOST: '127.0.0.1', HYPERWAY_REDIS_PORT: String(redis.port) };
    [gw1, gw2] = await Promise.all([startGateway({ workers: 2, config, env }), startGateway({ workers: 2, config, env })]);
  });
  after(async () => {
    await gw1?.stop();
    await gw2?.stop();
    await redis?.close();
    await echo?.close();
  });

  it('seed 3: the global 1000-per-60 s sliding limit counts across both gateways in Redis', async () => {
    const a = await request(`${gw1.proxyUrl}/seed`);
    const b = await request(`${gw2.proxyUrl}/seed`);
    assert.deepEqual([a.status, b.status], [200, 200]);
    assert.equal(a.headers['x-ratelimit-limit-minute'], '1000');
    assert.ok(Number(b.headers['x-ratelimit-remaining-minute']) < Number(a.headers['x-ratelimit-remaining-minute']), 'the second gateway saw the first one\'s request');
  });

  it('sync_rate 0: exactly the limit passes over two gateways of two workers each', async () => {
    let i = 0;
    const ok = await burstInOneWindow(3600, 120, 30, (id) => request(`${(i++ % 2 ? gw1 : gw2).proxyUrl}/exact`, { headers: { 'x-burst': id } }));
    assert.equal(ok, 30);
  });

  it('sync_rate > 0: batched per worker, every admitted request reaches Redis, both gateways end up blocking', async () => {
    const id = `b${process.pid}-${Date.now()}`;
    const send = (g: Gateway): Promise<HttpResult> => request(`${g.proxyUrl}/batched`, { headers: { 'x-burst': id } });
    let passed = 0;
    for (let i = 0; i < 10; i++) if ((await send(gw1)).status === 200) passed++;
    assert.equal(passed, 10);
    await waitFor('both gateways to block', async () => {
      const [a, b] = [await send(gw1), await send(gw2)];
      passed += (a.status === 200 ? 1 : 0) + (b.status === 200 ? 1 : 0);
      return a.status === 429 && b.status === 429;
    }, { timeoutMs: 10_000, intervalMs: 20 });
    await waitFor('the counts to be synced', async () => {
      const keys = (await redis.call('KEYS', `ratelimit-advanced:batched-ns:${id}:*`)) as string[];
      const values = await Promise.all(keys.map((k) => redis.call('GET', k)));
      return values.reduce((s: number, v) => s + Number(v), 0) === passed;
    });
    assert.ok(passed <= 10 * 4, `passed ${passed}`);
  });

  it('sync_rate -1: counted in each node\'s memory only', async () => {
    const id = `n${process.pid}-${Date.now()}`;
    const statuses = async (g: Gateway): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < 4; i++) out.push((await request(`${g.proxyUrl}/node-only`, { headers: { 'x-burst': id } })).status);
      return out;
    };
    assert.deepEqual(await statuses(gw1), [200, 200, 200, 429]);
    assert.deepEqual(await statuses(gw2), [200, 200, 200, 429], 'the other node counts apart');
    assert.deepEqual(await redis.call('KEYS', `ratelimit-advanced:node-ns:*`), []);
  });

  it('Redis settings from the environment when the plugin has none', async () => {
    const id = `env-${process.pid}`;
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await request(`${(i % 2 ? gw1 : gw2).proxyUrl}/from-env`, { headers: { 'x-burst': id } })).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    const keys = (await redis.call('KEYS', `ratelimit-advanced:env-ns:${id}:*`)) as string[];
    assert.equal(keys.length, 1);
  });
});
