// A big declarative config (bench/lib/scale-config.ts: 10,000 routes over 1,000 services, 20,000
// consumers with key-auth credentials, every 10th in an acl group) loads through the real gateway,
// and routes and consumers near the end of it work on both workers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { scaleConfig, scaleConsumerKey, scaleRouteRequest } from '../../bench/lib/scale-config';

const ROUTES = 10_000;
const CONSUMERS = 20_000;

describe('a config of 10,000 routes and 20,000 consumers', () => {
  let echo: EchoServer;
  let gw: Gateway;

  before(async () => {
    echo = await startEchoServer('echo');
    gw = await startGateway({ config: scaleConfig({ routes: ROUTES, consumers: CONSUMERS, upstreamPort: echo.port }), readyTimeoutMs: 60_000 });
  });

  after(async () => {
    await gw?.stop();
    await echo?.close();
  });

  /**
   * Sends the request on fresh connections until each worker's request counter has grown (so
   * each worker answered at least one of them); every answer must have `status`. Returns how
   * many were sent.
   */
  async function onEveryWorker(path: string, opts: { method?: string; headers?: Record<string, string> }, status: number): Promise<number> {
    const base = new Map((await gw.status()).workers.map((w) => [w.id, w.requests]));
    for (let sent = 1; sent <= 200; sent++) {
      const r = await request(`${gw.proxyUrl}${path}`, opts);
      assert.equal(r.status, status, `${opts.method ?? 'GET'} ${path} ${JSON.stringify(opts.headers)}: ${r.text}`);
      const st = await gw.status();
      if (st.workers.length === 2 && st.workers.every((w) => w.requests > (base.get(w.id) ?? 0))) return sent;
    }
    throw new Error(`200 requests to ${path} and not both workers answered one`);
  }

  it('routes near the end of the file match on both workers: host-only, host + path, methods, regex, wildcard, prefix', async () => {
    for (const i of [ROUTES - 20, ROUTES - 19, ROUTES - 18, ROUTES - 22, ROUTES - 46, ROUTES - 15]) {
      const r = scaleRouteRequest(i);
      const before = echo.requests.length;
      const sent = await onEveryWorker(r.path, { method: r.method, headers: { host: r.host } }, 200);
      const seen = echo.requests.slice(before);
      assert.equal(seen.length, sent);
      // Each service's url has path /up<service>: the request went to route i's service.
      for (const rec of seen) assert.ok(rec.url.startsWith(`/up${Math.floor(i / 10)}`), `route ${i}: upstream saw ${rec.url}`);
    }
  });

  it('a consumer near the end authenticates with its key and passes the acl on both workers; others are refused', async () => {
    const r = scaleRouteRequest(ROUTES - 1);
    const before = echo.requests.length;
    await onEveryWorker(r.path, { headers: { host: r.host, apikey: scaleConsumerKey(CONSUMERS - 10) } }, 200);
    for (const rec of echo.requests.slice(before)) assert.equal(rec.headers['x-consumer-username'], `c${CONSUMERS - 10}`);
    // The last consumer has a key but no acl group; an unknown key is no consumer at all.
    await onEveryWorker(r.path, { headers: { host: r.host, apikey: scaleConsumerKey(CONSUMERS - 1) } }, 403);
    await onEveryWorker(r.path, { headers: { host: r.host, apikey: 'no-such-key' } }, 401);
  });

  /** The file beside the segment that holds `version`'s config for the workers (primary/supervisor/config-files.ts). */
  const configFile = (version: number): string => `/dev/shm${gw.segment}.config-${version}`;

  it('the snapshot reaches the workers as one file beside the shared segment, not through the IPC channel', async () => {
    const st = await gw.status();
    const version = st.workers[0]?.config_version ?? 0;
    assert.ok(version > 0 && gw.segment !== undefined, JSON.stringify(st));
    assert.ok(existsSync(configFile(version)), `${configFile(version)} is there while its version is current`);
  });

  it('a reload of the big file (compiled on the thread, its bulk sent to the workers as the thread packed it) serves the new consumers on both workers', async () => {
    // Consumer CONSUMERS is new, and in an acl group (every 10th is).
    writeFileSync(gw.configPath, scaleConfig({ routes: ROUTES, consumers: CONSUMERS + 1, upstreamPort: echo.port, tag: '-v2' }));
    const version = (await gw.status()).workers[0]?.config_version ?? 0;
    gw.child.kill('SIGHUP');
    await waitFor('both workers on the reloaded config', async () => {
      const st = await gw.status();
      return st.workers.length === 2 && st.workers.every((w) => w.config_version > version);
    }, { timeoutMs: 60_000, intervalMs: 100 }).catch((e: Error) => assert.fail(`${e.message}\n${gw.output()}`));
    const r = scaleRouteRequest(ROUTES - 1);
    const before = echo.requests.length;
    await onEveryWorker(r.path, { headers: { host: r.host, apikey: scaleConsumerKey(CONSUMERS) } }, 200);
    for (const rec of echo.requests.slice(before)) assert.equal(rec.headers['x-consumer-username'], `c${CONSUMERS}`);
    await onEveryWorker(r.path, { headers: { host: r.host, apikey: scaleConsumerKey(CONSUMERS - 10) } }, 200);
    // Both workers moved on: the old version's file goes, the new one's stays.
    const now = (await gw.status()).workers[0]?.config_version ?? 0;
    await waitFor('the old config file removed', () => !existsSync(configFile(version)), { timeoutMs: 5_000, intervalMs: 50 });
    assert.ok(existsSync(configFile(now)), `${configFile(now)} is there while its version is current`);
    // The primary reads the reloaded snapshot's bulk (route and consumer names) only now.
    const metrics = await gw.admin('/metrics');
    assert.equal(metrics.status, 200);
    // The entity store took the reloaded entities (they come from the thread after the snapshot).
    await waitFor('the Admin API on the reloaded entities', async () => (await gw.admin(`/consumers/c${CONSUMERS}`)).status === 200, { timeoutMs: 10_000, intervalMs: 100 });
    const key = await gw.admin(`/consumers/c${CONSUMERS}/key-auth`);
    assert.equal(key.status, 200);
    assert.equal((JSON.parse(key.text) as { data: Array<{ key: string }> }).data[0]?.key, scaleConsumerKey(CONSUMERS));
  });

  it("a worker that cannot read its config file gets the config over the channel; a replaced worker serves it", async () => {
    const st = await gw.status();
    const version = st.workers[0]?.config_version ?? 0;
    rmSync(configFile(version));
    const victim = st.workers[0];
    assert.ok(victim !== undefined);
    process.kill(victim.pid, 'SIGKILL');
    await waitFor('the replaced worker serving the current config', async () => {
      const now = await gw.status();
      return now.workers.length === 2 && now.workers.every((w) => w.pid !== victim.pid && w.config_version === version);
    }, { timeoutMs: 60_000, intervalMs: 100 }).catch((e: Error) => assert.fail(`${e.message}\n${gw.output()}`));
    assert.match(gw.output(), /worker could not read its config file; sending the config over IPC/);
    const r = scaleRouteRequest(ROUTES - 1);
    await onEveryWorker(r.path, { headers: { host: r.host, apikey: scaleConsumerKey(CONSUMERS) } }, 200);
  });
});
