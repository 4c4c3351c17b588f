import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { request, type HttpResult } from '../helpers/http-client';
import { closedPort } from '../helpers/ports';
import { rawExchange } from '../helpers/raw-http';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import {
  startBlackholeServer,
  startEchoServer,
  startFaultServer,
  type BlackholeServer,
  type EchoRecord,
  type EchoServer,
  type FaultServer,
  MID_BODY,
} from '../helpers/upstream';

const MSG_502 = 'An invalid response was received from the upstream server';
const MSG_504 = 'The upstream server is timing out';

describe('upstream errors', () => {
  let echo: EchoServer;
  let hang: FaultServer;
  let noRead: FaultServer;
  let resetEarly: FaultServer;
  let resetMid: FaultServer;
  let blackhole: BlackholeServer;
  let refused: number;
  let gw: Gateway;
  let pidsAtStart: number[];

  before(async () => {
    [echo, hang, noRead, resetEarly, resetMid, blackhole, refused] = await Promise.all([
      startEchoServer('good'),
      startFaultServer('hang'),
      startFaultServer('no-read'),
      startFaultServer('reset-before-response'),
      startFaultServer('reset-mid-body'),
      startBlackholeServer(),
      closedPort(),
    ]);
    const at = (port: number): string => `http://127.0.0.1:${port}`;
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [
          { name: 'good', url: at(echo.port), routes: [{ name: 'good', paths: ['/good'] }] },
          { name: 'refused', url: at(refused), retries: 0, routes: [{ name: 'refused', paths: ['/refused'] }] },
          { name: 'hang', url: at(hang.port), retries: 0, read_timeout: 500, routes: [{ name: 'hang', paths: ['/hang'] }] },
          {
            name: 'no-read',
            url: at(noRead.port),
            retries: 0,
            write_timeout: 500,
            read_timeout: 30000,
            routes: [{ name: 'no-read', paths: ['/no-read'] }],
          },
          { name: 'reset-early', url: at(resetEarly.port), retries: 0, routes: [{ name: 'reset-early', paths: ['/reset-early'] }] },
          { name: 'reset-mid', url: at(resetMid.port), retries: 0, routes: [{ name: 'reset-mid', paths: ['/reset-mid'] }] },
          {
            name: 'blackhole',
            url: at(blackhole.port),
            retries: 0,
            connect_timeout: 300,
            routes: [{ name: 'blackhole', paths: ['/blackhole'] }],
          },
          { name: 'retry', host: 'two-targets', port: 80, retries: 3, routes: [{ name: 'retry', paths: ['/retry'] }] },
          { name: 'no-retry', host: 'two-targets', port: 80, retries: 0, routes: [{ name: 'no-retry', paths: ['/no-retry'] }] },
          { name: 'empty', host: 'no-targets', routes: [{ name: 'empty', paths: ['/empty'] }] },
          { name: 'zero', host: 'zero-weight', routes: [{ name: 'zero', paths: ['/zero'] }] },
        ],
        routes: [{ name: 'serviceless', paths: ['/serviceless'] }],
        upstreams: [
          { name: 'two-targets', targets: [{ target: `127.0.0.1:${refused}` }, { target: `127.0.0.1:${echo.port}` }] },
          { name: 'no-targets' },
          { name: 'zero-weight', targets: [{ target: `127.0.0.1:${echo.port}`, weight: 0 }] },
        ],
      },
    });
    pidsAtStart = (await gw.status()).workers.map((w) => w.pid).sort();
  });

  after(async () => {
    await gw?.stop();
    await Promise.all([echo?.close(), hang?.close(), noRead?.close(), resetEarly?.close(), resetMid?.close(), blackhole?.close()]);
  });

  // Every fault above must leave the gateway as it was: checked after each test, so each stands alone.
  afterEach(async () => {
    const st = await gw.status();
    assert.deepEqual(st.workers.map((w) => w.pid).sort(), pidsAtStart, 'no worker crashed or was replaced');
    assert.ok(st.workers.every((w) => w.state === 'listening' && w.restarts === 0), JSON.stringify(st.workers));
    assert.equal((await request(`${gw.proxyUrl}/good/x`)).status, 200);
  });

  function assertNginxError(res: HttpResult, status: number, message: string): void {
    assert.equal(res.status, status, res.text);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.ok(res.text.startsWith(message), `body ${JSON.stringify(res.text)} should start with ${message}`);
  }

  it('answers 502 (text/plain) when the upstream refuses the connection', async () => {
    assertNginxError(await request(`${gw.proxyUrl}/refused`), 502, MSG_502);
  });

  it('answers 502 as JSON when Accept asks for it', async () => {
    const res = await request(`${gw.proxyUrl}/refused`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 502);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.json<{ message: string }>().message, MSG_502);
  });

  it('answers 504 after read_timeout when the upstream never answers', async () => {
    const t0 = Date.now();
    const res = await request(`${gw.proxyUrl}/hang`, { timeoutMs: 10000 });
    const took = Date.now() - t0;
    assertNginxError(res, 504, MSG_504);
    assert.ok(took >= 400 && took < 5000, `504 after ${took} ms, read_timeout is 500 ms`);
  });

  it('answers 504 after write_timeout when the upstream stops taking the request body', async () => {
    const t0 = Date.now();
    const res = await request(`${gw.proxyUrl}/no-read`, { method: 'POST', body: Buffer.alloc(32 * 1024 * 1024, 0x61), timeoutMs: 20000 });
    assertNginxError(res, 504, MSG_504);
    // The TCP buffers fill first; then the gateway waits write_timeout (500 ms), not read_timeout (30 s).
    assert.ok(Date.now() - t0 < 15000, `took ${Date.now() - t0} ms`);
  });

  it('answers 504 as JSON when Accept asks for it', async () => {
    const res = await request(`${gw.proxyUrl}/hang`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 504);
    assert.equal(res.json<{ message: string }>().message, MSG_504);
  });

  it('answers 504 after connect_timeout when the TCP handshake never completes', async () => {
    const t0 = Date.now();
    const res = await request(`${gw.proxyUrl}/blackhole`);
    const took = Date.now() - t0;
    assertNginxError(res, 504, MSG_504);
    assert.ok(took >= 250 && took < 5000, `504 after ${took} ms, connect_timeout is 300 ms`);
  });

  it('answers 502 when the upstream resets before responding', async () => {
    assertNginxError(await request(`${gw.proxyUrl}/reset-early`), 502, MSG_502);
  });

  it('cuts the client connection when the upstream resets mid-body: the 200 head and part of the body, then a close', async () => {
    // The fault upstream sends its head and 64 KiB, waits, then resets: the gateway has sent the
    // head by then, so the only honest signal left is a cut connection (forward.ts, onError).
    const res = await rawExchange(gw.proxyPort, 'GET /reset-mid HTTP/1.1\r\nHost: a\r\n\r\n', { until: 'close', timeoutMs: 5000 });
    const seen = `${res.data.subarray(0, res.data.indexOf('\r\n\r\n') + 4).toString('latin1')}… (${res.body.length} body bytes)`;
    assert.equal(res.closed, true, `the connection must be closed promptly, not left hanging: ${seen}`);
    assert.equal(res.status, 200, seen);
    assert.equal(res.headers['content-length'], String(MID_BODY.announcedBytes), seen);
    assert.equal(res.complete, false, `a complete response after an upstream reset: ${seen}`);
    assert.ok(res.body.length <= MID_BODY.sentBytes, `more body than the upstream sent: ${seen}`);
  });

  it('retries a refused target on the other target of the upstream', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await request(`${gw.proxyUrl}/retry/${i}`);
      assert.equal(res.status, 200, `request ${i}: ${res.text}`);
      assert.equal(res.json<EchoRecord>().server, 'good');
    }
  });

  it('a retry sends the new target\'s Host and leaves other headers alone, even one whose value is "host"', async () => {
    for (let i = 0; i < 6; i++) {
      const res = await request(`${gw.proxyUrl}/retry/h${i}`, { headers: { 'x-word': 'host', 'x-other': 'kept' } });
      assert.equal(res.status, 200, res.text);
      const seen = res.json<EchoRecord>();
      assert.equal(seen.headers.host, `127.0.0.1:${echo.port}`);
      assert.equal(seen.headers['x-word'], 'host');
      assert.equal(seen.headers['x-other'], 'kept');
    }
  });

  it('does not retry when retries is 0 (the refused target shows as 502)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await request(`${gw.proxyUrl}/no-retry/${i}`)).status);
    assert.ok(statuses.includes(502), `statuses: ${statuses.join(',')}`);
    assert.ok(statuses.includes(200), `statuses: ${statuses.join(',')}`);
  });

  it('answers 503 when the upstream has no usable target', async () => {
    for (const path of ['/empty', '/zero']) {
      const res = await request(gw.proxyUrl + path);
      assert.equal(res.status, 503, `${path}: ${res.text}`);
      assert.match(res.text, /failure to get a peer from the ring-balancer/);
    }
  });

  it('answers 503 for a route without a service', async () => {
    const res = await request(`${gw.proxyUrl}/serviceless`);
    assert.equal(res.status, 503);
    assert.equal(res.json<{ message: string }>().message, 'no Service found with those values');
  });
});
