import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pathCases, pathServices } from '../fixtures/integration/router-path-handling';
import { request, type RequestOptions } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoRecord, type EchoServer } from '../helpers/upstream';

// Route identity comes from Kong-Debug: 1 (allow_debug_header on), so one echo upstream serves all.
describe('routing (traditional_compatible)', () => {
  let echo: EchoServer;
  let gw: Gateway;

  before(async () => {
    echo = await startEchoServer('echo');
    const url = `http://127.0.0.1:${echo.port}`;
    gw = await startGateway({
      env: { HYPERWAY_ALLOW_DEBUG_HEADER: 'on' },
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'main',
            url,
            routes: [
              { name: 'r-prefix', paths: ['/prefix'] },
              { name: 'r-longer', paths: ['/prefix/longer'] },
              { name: 'r-users-regex', paths: ['~/users/\\d+'] },
              { name: 'r-users-prefix', paths: ['/users'] },
              { name: 'r-rp-low', paths: ['~/rp/\\d+'], regex_priority: 0 },
              { name: 'r-rp-high', paths: ['~/rp/1\\d*'], regex_priority: 10 },
              { name: 'r-wild', hosts: ['*.wild.test'] },
              { name: 'r-plainhost', hosts: ['api.wild.test'] },
              { name: 'r-suffixwild', hosts: ['app.*'] },
              { name: 'r-hostport', hosts: ['port.test:8123'] },
              { name: 'r-method-post', methods: ['POST'], paths: ['/m'] },
              { name: 'r-method-any', paths: ['/m'] },
              { name: 'r-hdr', paths: ['/h'], headers: { 'x-version': ['v2', 'v3'] } },
              { name: 'r-h', paths: ['/h'] },
              { name: 'r-hdr-regex', paths: ['/hr'], headers: { 'x-api': ['~*^v\\d+$'] } },
              { name: 'r-two-headers', paths: ['/p'], headers: { 'x-a': ['1'], 'x-b': ['1'] } },
              { name: 'r-one-header-long', paths: ['/p/longer/path'], headers: { 'x-a': ['1'] } },
              { name: 'r-hostpath', hosts: ['hp.test'], paths: ['/'] },
              { name: 'r-long-path', paths: ['/hp/very/long'] },
              { name: 'r-public', paths: ['/public'] },
              { name: 'r-admin', paths: ['/admin'], strip_path: false },
              { name: 'r-nostrip', paths: ['/keep'], strip_path: false },
              { name: 'r-preserve', paths: ['/preserve'], preserve_host: true },
            ],
          },
          { name: 'disabled-svc', url, enabled: false, routes: [{ name: 'r-disabled', paths: ['/disabled'] }] },
          ...pathServices(url),
        ],
      },
    });
  });

  after(async () => {
    await gw?.stop();
    await echo?.close();
  });

  async function via(path: string, opts: RequestOptions = {}): Promise<{ status: number; route: unknown; up: EchoRecord | null }> {
    const headers = { 'kong-debug': '1', ...(opts.headers as Record<string, string> | undefined) };
    const res = await request(gw.proxyUrl + path, { ...opts, headers });
    const up = res.status === 200 ? res.json<EchoRecord>() : null;
    return { status: res.status, route: res.headers['kong-route-name'], up };
  }

  it('matches prefixes by plain starts-with, longest prefix first', async () => {
    assert.equal((await via('/prefix/x')).route, 'r-prefix');
    assert.equal((await via('/prefixfoo')).route, 'r-prefix');
    assert.equal((await via('/prefix/longer/x')).route, 'r-longer');
    assert.equal((await via('/PREFIX/x')).status, 404, 'prefix paths are case-sensitive');
  });

  it('anchors regex paths at the start only and prefers them to prefixes', async () => {
    assert.equal((await via('/users/12')).route, 'r-users-regex');
    assert.equal((await via('/users/12/extra')).route, 'r-users-regex');
    assert.equal((await via('/users/abc')).route, 'r-users-prefix');
    assert.equal((await via('/x/users/12')).status, 404);
  });

  it('orders regex routes by regex_priority', async () => {
    assert.equal((await via('/rp/123')).route, 'r-rp-high');
    assert.equal((await via('/rp/923')).route, 'r-rp-low');
  });

  it('matches wildcard hosts by label and prefers plain hosts', async () => {
    assert.equal((await via('/any', { headers: { host: 'foo.wild.test' } })).route, 'r-wild');
    assert.equal((await via('/any', { headers: { host: 'a.b.wild.test' } })).route, 'r-wild');
    assert.equal((await via('/any', { headers: { host: 'wild.test' } })).status, 404, '*.wild.test must not match wild.test');
    assert.equal((await via('/any', { headers: { host: 'api.wild.test' } })).route, 'r-plainhost');
    assert.equal((await via('/any', { headers: { host: 'api.wild.test:1234' } })).route, 'r-plainhost', 'a host without port accepts any port');
    assert.equal((await via('/any', { headers: { host: 'app.anything' } })).route, 'r-suffixwild');
  });

  it('requires the port of a host:port entry', async () => {
    assert.equal((await via('/any', { headers: { host: 'port.test:8123' } })).route, 'r-hostport');
    assert.equal((await via('/any', { headers: { host: 'port.test:8124' } })).status, 404);
    assert.equal((await via('/any', { headers: { host: 'port.test' } })).status, 404, 'no Host port → listener port, which is not 8123');
  });

  it('matches methods and prefers the route that has them', async () => {
    assert.equal((await via('/m', { method: 'POST', body: 'x' })).route, 'r-method-post');
    assert.equal((await via('/m')).route, 'r-method-any');
    assert.equal((await via('/m', { method: 'PUT', body: 'x' })).route, 'r-method-any');
  });

  it('matches header values case-insensitively, plain and ~* regex', async () => {
    assert.equal((await via('/h', { headers: { 'x-version': 'V2' } })).route, 'r-hdr');
    assert.equal((await via('/h', { headers: { 'x-version': 'v3' } })).route, 'r-hdr');
    assert.equal((await via('/h', { headers: { 'x-version': 'v4' } })).route, 'r-h');
    assert.equal((await via('/h')).route, 'r-h');
    assert.equal((await via('/hr', { headers: { 'x-api': 'V17' } })).route, 'r-hdr-regex');
    // `~*^v\d+$` must not match v1x; /hr then falls back to the /h prefix route.
    assert.equal((await via('/hr', { headers: { 'x-api': 'v1x' } })).route, 'r-h');
  });

  it('ranks more header names above a longer path, and host+path above any path-only route', async () => {
    const both = { 'x-a': '1', 'x-b': '1' };
    assert.equal((await via('/p/longer/path', { headers: both })).route, 'r-two-headers');
    assert.equal((await via('/p/longer/path', { headers: { 'x-a': '1' } })).route, 'r-one-header-long');
    assert.equal((await via('/hp/very/long', { headers: { host: 'hp.test' } })).route, 'r-hostpath');
    assert.equal((await via('/hp/very/long')).route, 'r-long-path');
  });

  it('joins service path and request path like Kong v0 (router_path_handling_tests)', async () => {
    const wrong: string[] = [];
    for (const c of pathCases()) {
      const r = await via(c.requestPath, { headers: { host: c.host } });
      const got = r.up?.url ?? `status ${r.status}`;
      if (got !== c.expected) {
        wrong.push(`service.path=${c.servicePath} route=${c.routePath} strip=${c.stripPath} ${c.requestPath}: want ${c.expected}, got ${got}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('strips the matched prefix only when strip_path is on', async () => {
    assert.equal((await via('/prefix/a/b')).up?.url, '/a/b');
    assert.equal((await via('/keep/a/b')).up?.url, '/keep/a/b');
  });

  it('sends the service Host unless preserve_host is on', async () => {
    assert.equal((await via('/prefix/x', { headers: { host: 'client.test:9999' } })).up?.headers.host, `127.0.0.1:${echo.port}`);
    assert.equal((await via('/preserve/x', { headers: { host: 'client.test:9999' } })).up?.headers.host, 'client.test:9999');
  });

  it('routes the normalized path: /public/../admin is /admin', async () => {
    for (const p of ['/public/../admin', '/public/%2e%2e/admin', '/public/./../admin']) {
      const r = await via(p);
      assert.equal(r.route, 'r-admin', p);
      assert.equal(r.up?.url, '/admin', p);
    }
  });

  it('normalizes and re-escapes the upstream path', async () => {
    assert.equal((await via('/prefix/cat%20dog')).up?.url, '/cat%20dog');
    assert.equal((await via('/prefix/a%2fb')).up?.url, '/a%2Fb', 'reserved %XX kept, uppercased');
    assert.equal((await via('/prefix/%65x')).up?.url, '/ex', 'unreserved %XX decoded');
    assert.equal((await via('/prefix/caf%C3%A9')).up?.url, '/caf%C3%A9');
    assert.equal((await via('/prefix/a//b')).up?.url, '/a/b');
  });

  it('passes the query string through untouched', async () => {
    for (const q of ['?a=1&b=%2f&c=%zz&d=a+b&&e=&f[]=x', '?x=%E2%82%AC&y=/../z', '?', '?=&']) {
      assert.equal((await via(`/prefix/q${q}`)).up?.url, `/q${q}`, q);
    }
  });

  it('answers 404 with Kong body when no route matches', async () => {
    const res = await request(`${gw.proxyUrl}/nothing-here`);
    assert.equal(res.status, 404);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json<{ message: string; request_id: unknown }>();
    assert.equal(body.message, 'no Route matched with those values');
    assert.match(String(body.request_id), /^[0-9a-f]{32}$/);
    assert.equal(res.headers['x-kong-request-id'], body.request_id);
    assert.equal(echo.requests.some((r) => r.url.includes('nothing-here')), false);
  });

  it('answers the 404 as text when Accept asks for text/plain', async () => {
    const res = await request(`${gw.proxyUrl}/nothing-here`, { headers: { accept: 'text/plain' } });
    assert.equal(res.status, 404);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.text, /^no Route matched with those values\n/);
  });

  it('does not route to a disabled service', async () => {
    const before = echo.requests.length;
    assert.equal((await via('/disabled/x')).status, 404);
    assert.equal(echo.requests.length, before);
  });
});
