/**
 * least-connections across 2 workers on the shared in-flight counts (README "Health checks",
 * balancing): while one target holds a request, every new request of either worker goes to the
 * other one. With counts kept per worker, the worker that did not send the held request would
 * still see the holding target idle and send it one as well.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { listenLocal } from '../helpers/ports';
import { waitFor } from '../helpers/wait';

describe('least-connections', () => {
  let gw: Gateway;
  let slow: Server;
  let fast: Server;
  const held: ServerResponse[] = [];
  let fastServed = 0;

  before(async () => {
    slow = createServer((req, res) => {
      req.resume();
      held.push(res);
    });
    fast = createServer((req, res) => {
      req.resume();
      fastServed++;
      res.end('fast');
    });
    const [slowPort, fastPort] = [await listenLocal(slow), await listenLocal(fast)];
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'lc', host: 'lc-up', port: 80, routes: [{ name: 'lc', paths: ['/lc'] }] }],
        upstreams: [{ name: 'lc-up', algorithm: 'least-connections', targets: [{ target: `127.0.0.1:${slowPort}` }, { target: `127.0.0.1:${fastPort}` }] }],
      },
      workers: 2,
    });
  });

  after(async () => {
    await gw?.stop();
    for (const r of held) r.destroy();
    slow?.closeAllConnections();
    fast?.closeAllConnections();
    await Promise.all([slow, fast].map((s) => new Promise((r) => s?.close(r))));
  });

  it('a target holding a request gets no other from either worker', { timeout: 30000 }, async () => {
    const pending: Array<Promise<unknown>> = [];
    const workersBefore = (await gw.status()).workers.map((w) => w.requests);
    for (let i = 0; i < 20; i++) {
      const heldBefore = held.length;
      let done = false;
      const r = request(`${gw.proxyUrl}/lc`).then((res) => {
        done = true;
        return res;
      });
      pending.push(r);
      // Either the fast target answered, or the slow one now holds it.
      await waitFor(`request ${i} answered or held`, () => done || held.length > heldBefore, { timeoutMs: 5000, intervalMs: 5 });
    }
    const served = (await gw.status()).workers.map((w, i) => w.requests - workersBefore[i]);
    assert.ok(served.every((n) => n > 0), `both workers served requests (${served.join(', ')})`);
    assert.equal(held.length, 1, 'one request held; nothing more sent to the busy target');
    assert.equal(fastServed, 19);
    for (const r of held) r.end('slow');
    const statuses = (await Promise.all(pending)).map((r) => (r as { status: number }).status);
    assert.deepEqual(new Set(statuses), new Set([200]));
  });
});
