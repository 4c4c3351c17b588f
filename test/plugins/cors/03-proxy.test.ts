import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from '../../helpers/http-client';
import { useEchoGateway } from '../../helpers/echo-gateway';

const ORIGIN = 'http://app.example.com';

function config(echoPort: number): object {
  const cors = {
    origins: [ORIGIN, 'http://other.example.com'],
    methods: ['GET', 'POST'],
    headers: ['X-Token'],
    exposed_headers: ['X-Custom', 'X-Other'],
    credentials: true,
    max_age: 600,
  };
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'echo',
        url: `http://127.0.0.1:${echoPort}`,
        routes: [
          { name: 'cors', paths: ['/cors'] },
          { name: 'continue', paths: ['/continue'] },
          { name: 'term', paths: ['/term'] },
        ],
      },
    ],
    plugins: [
      { name: 'cors', route: 'cors', config: cors },
      { name: 'cors', route: 'continue', config: { ...cors, preflight_continue: true } },
      { name: 'cors', route: 'term', config: cors },
      { name: 'request-termination', route: 'term', config: { status_code: 503, message: 'down for maintenance' } },
    ],
  };
}

const PREFLIGHT = { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-token' };

describe('cors through the gateway', () => {
  const env = useEchoGateway('cors-up', config);

  it('answers the preflight itself with the configured headers; the upstream never sees it', async () => {
    const before = env.echo.requests.length;
    const res = await request(`${env.gw.proxyUrl}/cors/x`, { method: 'OPTIONS', headers: PREFLIGHT });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers['access-control-allow-methods'], 'GET,POST');
    assert.equal(res.headers['access-control-allow-headers'], 'X-Token');
    assert.equal(res.headers['access-control-max-age'], '600');
    assert.equal(res.headers.vary, 'Origin');
    assert.equal(res.body.length, 0);
    // A later request proves the connection to the upstream works; only it arrives there.
    assert.equal((await request(`${env.gw.proxyUrl}/cors/after`)).status, 200);
    assert.deepEqual(env.echo.requests.slice(before).map((r) => `${r.method} ${r.url}`), ['GET /after']);
  });

  it('forwards the preflight upstream with preflight_continue, without adding CORS headers', async () => {
    const res = await request(`${env.gw.proxyUrl}/continue/pf`, { method: 'OPTIONS', headers: PREFLIGHT });
    assert.equal(res.status, 200, res.text);
    const up = res.json<{ method: string; url: string; headers: Record<string, string> }>();
    assert.equal(up.method, 'OPTIONS');
    assert.equal(up.url, '/pf');
    assert.equal(up.headers['access-control-request-method'], 'POST');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-methods'], undefined);
  });

  it('adds ACAO, ACAC, Vary and the exposed headers to a proxied response, keeping the upstream Vary', async () => {
    const res = await request(`${env.gw.proxyUrl}/cors/data`, {
      headers: { origin: ORIGIN, 'x-echo-response-headers': JSON.stringify({ vary: 'Accept-Encoding' }) },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers['access-control-expose-headers'], 'X-Custom,X-Other');
    assert.equal(res.headers.vary, 'Accept-Encoding, Origin');
    assert.equal(res.json<{ url: string }>().url, '/data');
  });

  it('sends no ACAO for an origin not in the list, but still Vary and ACAC', async () => {
    const res = await request(`${env.gw.proxyUrl}/cors/data`, { headers: { origin: 'http://evil.example.com' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers.vary, 'Origin');
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
  });

  it("adds the CORS headers to a request-termination exit of the same route", async () => {
    const before = env.echo.requests.length;
    const res = await request(`${env.gw.proxyUrl}/term/x`, { headers: { origin: ORIGIN } });
    assert.equal(res.status, 503);
    assert.deepEqual(res.json(), { message: 'down for maintenance' });
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers['access-control-expose-headers'], 'X-Custom,X-Other');
    assert.equal(res.headers.vary, 'Origin');
    assert.equal(env.echo.requests.length, before);
  });

  it('runs no plugin on a 404 for no route', async () => {
    const res = await request(`${env.gw.proxyUrl}/nowhere`, { headers: { origin: ORIGIN } });
    assert.equal(res.status, 404);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });
});
