/**
 * Request paths that Kong's normalization cannot take (lib/uri-normalize.ts: `%00`, a `%` without
 * two hex digits, also inside a UTF-8 run): 400 with the connection closed, end to end, never
 * forwarded, and the workers keep serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { rawExchange } from '../helpers/raw-http';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { okJson, startScriptedServer, type ScriptedServer } from '../helpers/scripted-upstream';

const BAD_PATHS = ['/up/%00', '/up/a%00b/c', '/%00', '/up/a%2', '/up/%', '/up/%zz/x', '/up/%C3%2', '/up/%C3%A9%G0'];

describe('paths that fail normalization', () => {
  let up: ScriptedServer;
  let gw: Gateway;
  let pidsAtStart: number[];

  before(async () => {
    up = await startScriptedServer((req, sock) => okJson(sock, { url: req.url }));
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'up', url: `http://127.0.0.1:${up.port}`, routes: [{ name: 'up', paths: ['/'] }] }],
      },
    });
    pidsAtStart = (await gw.status()).workers.map((w) => w.pid).sort();
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  for (const path of BAD_PATHS) {
    it(`GET ${path} → 400, connection closed, never forwarded`, async () => {
      const before = up.heads();
      const res = await rawExchange(gw.proxyPort, `GET ${path} HTTP/1.1\r\nHost: client.test\r\n\r\n`, { until: 'close', timeoutMs: 5000 });
      assert.equal(res.status, 400, res.data.toString('latin1'));
      assert.ok(res.complete, 'a complete 400 response');
      assert.match(res.body.toString(), /^Bad request\nrequest_id: [0-9a-f]{32}\n$/);
      assert.ok(res.closed, 'the connection is closed after the 400');
      assert.equal(up.heads(), before, 'the request never reached the upstream');
    });
  }

  it('a well-formed escape in the same place is proxied (the 400s are about the escapes)', async () => {
    const res = await request(`${gw.proxyUrl}/up/%41%C3%A9/x`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().url, '/up/A%C3%A9/x');
  });

  it('the workers keep serving: same pids, no restart, every worker still proxies', async () => {
    const st = await gw.status();
    assert.deepEqual(st.workers.map((w) => w.pid).sort(), pidsAtStart);
    assert.ok(st.workers.every((w) => w.state === 'listening' && w.restarts === 0), JSON.stringify(st.workers));
    const before = st.workers.map((w) => w.requests);
    for (let i = 0; i < 20; i++) assert.equal((await request(`${gw.proxyUrl}/up/ok/${i}`)).status, 200);
    const after = (await gw.status()).workers.map((w) => w.requests);
    assert.equal(after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0), 20, 'each good request was counted once');
    // 20 fresh connections spread by SO_REUSEPORT: all on one worker has odds of 2^-19.
    assert.ok(after.every((n, i) => n > (before[i] as number)), `requests per worker before ${before}, after ${after}`);
  });
});
