import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { KeepAliveClient } from '../helpers/keep-alive-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoRecord, type EchoServer } from '../helpers/upstream';

/** Kong sends `kong/<version>`; a trailing RFC 9110 comment such as `(hyperway/x)` is tolerated. */
const KONG_TOKEN = String.raw`kong\/\d+\.\d+\.\d+(?: \([^)]*\))?`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * The one trusted client address: the gateway listens on 127.0.0.1, and a client bound to
 * 127.0.0.2 (loopback on Linux) reaches it from there, so one gateway has both kinds of client.
 */
const TRUSTED_CLIENT = '127.0.0.2';

/** A GET from TRUSTED_CLIENT (http-client.ts cannot pick the local address): status and JSON body. */
function requestFromTrusted(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false, localAddress: TRUSTED_CLIENT }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(10000, () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function config(echoPort: number): object {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'echo-svc',
        url: `http://127.0.0.1:${echoPort}`,
        routes: [
          { name: 'strip-route', paths: ['/h'] },
          { name: 'keep-route', paths: ['/keep'], strip_path: false },
        ],
      },
      { name: 'balanced', host: 'plain-up', routes: [{ name: 'balanced', paths: ['/balanced'] }] },
      { name: 'host-header', host: 'host-header-up', routes: [{ name: 'host-header', paths: ['/host-header'] }] },
    ],
    upstreams: [
      { name: 'plain-up', targets: [{ target: `127.0.0.1:${echoPort}` }] },
      { name: 'host-header-up', host_header: 'backend.internal', targets: [{ target: `127.0.0.1:${echoPort}` }] },
    ],
  };
}

describe('headers', () => {
  let echo: EchoServer;
  let gw: Gateway;

  before(async () => {
    echo = await startEchoServer('echo-up');
    gw = await startGateway({
      config: config(echo.port),
      // Only TRUSTED_CLIENT is trusted: the tests' ordinary requests (from 127.0.0.1) are not.
      env: { HYPERWAY_ALLOW_DEBUG_HEADER: 'on', HYPERWAY_TRUSTED_IPS: `${TRUSTED_CLIENT}/32` },
    });
  });
  after(async () => {
    await gw?.stop();
    await echo?.close();
  });

  async function upstreamSaw(path: string, headers: Record<string, string> = {}): Promise<EchoRecord> {
    const res = await request(gw.proxyUrl + path, { headers });
    assert.equal(res.status, 200, res.text);
    return res.json<EchoRecord>();
  }

  it('sets X-Forwarded-* and X-Real-IP from the connection, ignoring what the client claims', async () => {
    const up = await upstreamSaw('/h/a/../b?q=1', {
      host: 'client.test:1234',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.test',
      'x-forwarded-port': '99',
      'x-forwarded-path': '/evil',
      'x-forwarded-prefix': '/evil',
      'x-real-ip': '9.9.9.9',
    });
    assert.equal(up.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(up.headers['x-forwarded-proto'], 'http');
    assert.equal(up.headers['x-forwarded-host'], 'client.test');
    assert.equal(up.headers['x-forwarded-port'], String(gw.proxyPort));
    assert.equal(up.headers['x-forwarded-path'], '/h/a/../b', 'raw request path, not normalized, no query');
    assert.equal(up.headers['x-forwarded-prefix'], '/h');
    assert.equal(up.headers['x-real-ip'], '127.0.0.1');
  });

  it('appends the client address to an incoming X-Forwarded-For', async () => {
    const up = await upstreamSaw('/h/x', { 'x-forwarded-for': '1.2.3.4' });
    assert.equal(up.headers['x-forwarded-for'], '1.2.3.4, 127.0.0.1');
  });

  it('sends no X-Forwarded-Prefix when nothing was stripped', async () => {
    const up = await upstreamSaw('/keep/x');
    assert.equal(up.headers['x-forwarded-prefix'], undefined);
  });

  it('sends Host as service host:port and appends Kong to Via', async () => {
    const up = await upstreamSaw('/h/x', { via: '1.0 fred' });
    assert.equal(up.headers.host, `127.0.0.1:${echo.port}`);
    assert.match(String(up.headers.via), new RegExp(`^1\\.0 fred, 1\\.1 ${KONG_TOKEN}$`));
    assert.match(String((await upstreamSaw('/h/x')).headers.via), new RegExp(`^1\\.1 ${KONG_TOKEN}$`));
  });

  it('sends the target address as Host when balancing, or the upstream host_header', async () => {
    assert.equal((await upstreamSaw('/balanced/x')).headers.host, `127.0.0.1:${echo.port}`);
    assert.equal((await upstreamSaw('/host-header/x')).headers.host, `backend.internal:${echo.port}`);
  });

  it('ends HEAD, 204 and 304 responses without a body and without hanging', async () => {
    const head = await request(`${gw.proxyUrl}/h/x`, { method: 'HEAD', timeoutMs: 3000 });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    for (const status of [204, 304]) {
      const res = await request(`${gw.proxyUrl}/h/x`, { headers: { 'x-echo-status': String(status) }, timeoutMs: 3000 });
      assert.equal(res.status, status);
      assert.equal(res.body.length, 0);
    }
  });

  it('strips hop-by-hop request headers and forwards end-to-end ones', async () => {
    const up = await upstreamSaw('/h/x', {
      connection: 'keep-alive, X-Custom-Hop',
      'x-custom-hop': '1',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      proxy: 'http://evil.test',
      te: 'trailers, gzip',
      upgrade: 'h2c',
      'proxy-authorization': 'Basic dTpw',
      'x-end-to-end': 'yes',
    });
    for (const name of ['x-custom-hop', 'keep-alive', 'proxy-connection', 'proxy', 'upgrade']) {
      assert.equal(up.headers[name], undefined, `${name} must not reach the upstream`);
    }
    assert.equal(up.headers.te, 'trailers');
    assert.equal(up.headers['proxy-authorization'], 'Basic dTpw');
    assert.equal(up.headers['x-end-to-end'], 'yes');
  });

  it('drops TE when it does not list trailers', async () => {
    assert.equal((await upstreamSaw('/h/x', { te: 'gzip' })).headers.te, undefined);
  });

  it('passes X-Kong-Request-Id upstream and echoes the same id downstream', async () => {
    const res = await request(`${gw.proxyUrl}/h/x`);
    const upId = res.json<EchoRecord>().headers['x-kong-request-id'];
    assert.match(String(upId), /^[0-9a-f]{32}$/);
    assert.equal(res.headers['x-kong-request-id'], upId);
    // Several requests on one connection (so one worker): each its own id.
    const client = await KeepAliveClient.open(gw.proxyPort);
    try {
      const ids = new Set<string>();
      for (let i = 0; i < 3; i++) {
        client.write('GET /h/x HTTP/1.1\r\nHost: a\r\n\r\n');
        ids.add(String((await client.nextResponse(`response ${i}`)).headers['x-kong-request-id']));
      }
      assert.equal(ids.size, 3, `ids: ${[...ids].join(', ')}`);
    } finally {
      client.destroy();
    }
  });

  it('adds Kong latency headers and Via to proxied responses, keeping the upstream Server', async () => {
    const res = await request(`${gw.proxyUrl}/h/x`, {
      headers: { 'x-echo-response-headers': JSON.stringify({ via: '1.1 upstream-proxy' }) },
    });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['x-kong-upstream-latency']), /^\d+$/);
    assert.match(String(res.headers['x-kong-proxy-latency']), /^\d+$/);
    assert.equal(res.headers.server, 'echo-up');
    assert.match(String(res.headers.via), new RegExp(`^1\\.1 upstream-proxy, 1\\.1 ${KONG_TOKEN}$`));
  });

  it('removes response headers the upstream named in Connection', async () => {
    const res = await request(`${gw.proxyUrl}/h/x`, {
      headers: { 'x-echo-response-headers': JSON.stringify({ connection: 'keep-alive, X-Resp-Hop', 'x-resp-hop': '1', 'x-resp-kept': '1' }) },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-resp-hop'], undefined);
    assert.equal(res.headers['x-resp-kept'], '1');
  });

  it('marks Kong-generated responses with Server kong/<version> and X-Kong-Response-Latency', async () => {
    const res = await request(`${gw.proxyUrl}/no-such-route`);
    assert.equal(res.status, 404);
    assert.match(String(res.headers.server), new RegExp(`^${KONG_TOKEN}$`));
    assert.match(String(res.headers['x-kong-response-latency']), /^\d+$/);
  });

  it('answers Kong-Debug: 1 with route and service identity', async () => {
    const res = await request(`${gw.proxyUrl}/h/x`, { headers: { 'kong-debug': '1' } });
    assert.equal(res.headers['kong-route-name'], 'strip-route');
    assert.equal(res.headers['kong-service-name'], 'echo-svc');
    assert.match(String(res.headers['kong-route-id']), UUID);
    assert.match(String(res.headers['kong-service-id']), UUID);
    const plain = await request(`${gw.proxyUrl}/h/x`);
    assert.equal(plain.headers['kong-route-name'], undefined, 'no debug headers without Kong-Debug');
  });

  it('keeps the X-Forwarded-* values a trusted client sent', async () => {
    const res = await requestFromTrusted(`${gw.proxyUrl}/h/x`, {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'public.test',
      'x-forwarded-port': '443',
      'x-forwarded-path': '/outer/h/x',
      'x-forwarded-prefix': '/outer',
    });
    assert.equal(res.status, 200, res.body);
    const h = (JSON.parse(res.body) as EchoRecord).headers;
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-forwarded-host'], 'public.test');
    assert.equal(h['x-forwarded-port'], '443');
    assert.equal(h['x-forwarded-path'], '/outer/h/x');
    assert.equal(h['x-forwarded-prefix'], '/outer');
    assert.equal(h['x-forwarded-for'], TRUSTED_CLIENT);
  });
});
