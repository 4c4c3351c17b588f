import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, type HttpResult } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { isAlive } from '../helpers/proc';
import { waitFor } from '../helpers/wait';
import { refused } from '../helpers/ports';

function config(echoPort: number): object {
  return {
    _format_version: '3.0',
    services: [{ name: 'echo', url: `http://127.0.0.1:${echoPort}`, routes: [{ name: 's', paths: ['/s'] }] }],
  };
}

describe('graceful shutdown', () => {
  let echo: EchoServer;
  const gateways: Gateway[] = [];

  before(async () => {
    echo = await startEchoServer('echo');
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    await echo?.close();
  });

  async function start(env: Record<string, string> = {}): Promise<Gateway> {
    const gw = await startGateway({ config: config(echo.port), env });
    gateways.push(gw);
    return gw;
  }

  /** Sends a request that the upstream holds for `ms`, and resolves once the upstream has it. */
  async function slowRequest(gw: Gateway, tag: string, ms: number): Promise<{ pending: Promise<HttpResult> }> {
    const pending = request(`${gw.proxyUrl}/s/${tag}`, { headers: { 'x-echo-delay': String(ms) }, timeoutMs: 20000 });
    pending.catch(() => undefined);
    await waitFor(`upstream to receive ${tag}`, () => echo.requests.some((r) => r.url === `/${tag}`));
    return { pending };
  }

  it('SIGTERM: stops accepting, finishes the request in flight, exits 0', { timeout: 30000 }, async () => {
    const gw = await start({ HYPERWAY_DRAIN_TIMEOUT: '10000' });
    const workerPids = (await gw.status()).workers.map((w) => w.pid);
    const slow = (await slowRequest(gw, 'slow-term', 2500)).pending;
    const t0 = Date.now();
    const exit = gw.stop('SIGTERM', 20000);
    await waitFor('the proxy port to refuse new connections', () => refused(gw.proxyPort), { timeoutMs: 2000 });
    assert.ok(Date.now() - t0 < 2000, 'listeners must close before the slow request completes');
    const res = await slow;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json<{ url: string }>().url, '/slow-term');
    assert.equal(await exit, 0, gw.output());
    assert.ok(workerPids.every((p) => !isAlive(p)), 'workers must exit with the primary');
  });

  it('SIGINT: exits 0 and takes its workers along', { timeout: 30000 }, async () => {
    const gw = await start();
    const workerPids = (await gw.status()).workers.map((w) => w.pid);
    assert.equal((await request(`${gw.proxyUrl}/s/x`)).status, 200);
    assert.equal(await gw.stop('SIGINT', 15000), 0, gw.output());
    await waitFor('workers to exit', () => workerPids.every((p) => !isAlive(p)), { timeoutMs: 3000 });
  });

  it('gives up on requests that outlast HYPERWAY_DRAIN_TIMEOUT', { timeout: 30000 }, async () => {
    const gw = await start({ HYPERWAY_DRAIN_TIMEOUT: '1000' });
    const slow = (await slowRequest(gw, 'slow-drain', 15000)).pending;
    const t0 = Date.now();
    const code = await gw.stop('SIGTERM', 10000);
    const took = Date.now() - t0;
    assert.ok(took < 4000, `exited after ${took} ms with a 1000 ms drain timeout`);
    assert.equal(code, 0, gw.output());
    const outcome = await slow.then(
      (r) => `status ${r.status}`,
      (e: Error) => `error ${e.message}`,
    );
    assert.notEqual(outcome, 'status 200', 'the cut-off request cannot have succeeded');
  });
});
