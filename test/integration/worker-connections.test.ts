/**
 * nginx_events_worker_connections (nginx's worker_connections) with real sockets, one worker and
 * a limit of 5: on a uWS build with App.filter, a 6th connection is closed as it opens while the
 * 5 established keep-alive connections go on being served, and a freed place is taken again. On
 * uWS 20.30, which has no connection events, the worker says once that the setting is not
 * enforced, and every connection is served (README: what that build cannot do).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadUws } from '../../src/worker/server/uws';
import { KeepAliveClient } from '../helpers/keep-alive-client';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { waitFor } from '../helpers/wait';

const LIMIT = 5;
// The build the gateway loads (start-gateway passes HYPERWAY_TEST_UWS on as HYPERWAY_UWS).
const build = loadUws(process.env.HYPERWAY_TEST_UWS);
const enforced = build.source !== '@trufflesuite/uws-js-unofficial';
const NOT_ENFORCED = 'nginx_events_worker_connections is not enforced';

async function served(c: KeepAliveClient, what: string): Promise<void> {
  c.write('GET /echo HTTP/1.1\r\nHost: a\r\n\r\n');
  const res = await c.nextResponse(what, 5000);
  assert.equal(res.status, 200, what);
}

describe(`nginx_events_worker_connections ${LIMIT}, 1 worker (uWS ${build.version}, ${enforced ? 'enforced' : 'not enforceable'})`, () => {
  let echo: EchoServer;
  let gw: Gateway;
  const clients: KeepAliveClient[] = [];

  before(async () => {
    echo = await startEchoServer('echo');
    gw = await startGateway({
      workers: 1,
      config: {
        _format_version: '3.0',
        hyperway: { nginx_events_worker_connections: LIMIT },
        services: [{ name: 'echo', url: `http://127.0.0.1:${echo.port}`, routes: [{ name: 'r', paths: ['/echo'] }] }],
      },
    });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await gw?.stop();
    await echo?.close();
  });

  it('established keep-alive connections keep being served; one beyond the limit is closed (where the build can count)', async () => {
    for (let i = 0; i < LIMIT; i++) {
      const c = await KeepAliveClient.open(gw.proxyPort);
      clients.push(c);
      await served(c, `connection ${i + 1}`);
    }
    const extra = await KeepAliveClient.open(gw.proxyPort);
    clients.push(extra);
    if (enforced) {
      await waitFor('the connection beyond the limit to be closed', () => extra.closed !== null);
    } else {
      await served(extra, 'a connection beyond the limit (not enforced on this build)');
      assert.equal(gw.output().split(NOT_ENFORCED).length - 1, 1, `the worker says once that the limit is not enforced:\n${gw.output()}`);
    }
    for (let i = 0; i < LIMIT; i++) await served(clients[i], `established connection ${i + 1} again`);
    if (!enforced) return;
    // A closed connection frees its place.
    clients[0].destroy();
    const next = await waitFor('a new connection to be served after one closed', async () => {
      const c = await KeepAliveClient.open(gw.proxyPort);
      clients.push(c);
      try {
        await served(c, 'a connection after one closed');
        return c;
      } catch {
        return null;
      }
    });
    assert.ok(next);
  });
});
