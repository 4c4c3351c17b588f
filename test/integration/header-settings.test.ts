/**
 * The `headers` and `headers_upstream` settings (README "Settings", Kong's kong.conf properties)
 * on the wire: what a client and an upstream actually receive, not only what the file parses to.
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-upstream';

/** Kong headers that the `headers` setting governs downstream. */
const KONG_DOWNSTREAM = [
  'server',
  'via',
  'x-kong-upstream-latency',
  'x-kong-proxy-latency',
  'x-kong-response-latency',
  'x-kong-request-id',
  'x-kong-upstream-status',
];

function present(h: IncomingHttpHeaders): string[] {
  return KONG_DOWNSTREAM.filter((name) => h[name] !== undefined);
}

/** YAML as a user writes it: `off` unquoted, a list as one comma-separated value. */
function configText(port: number, settings: string): string {
  return `_format_version: "3.0"
hyperway:
${settings}
services:
  - name: up
    url: http://127.0.0.1:${port}
    routes:
      - name: up
        paths: [/up]
`;
}

describe('headers / headers_upstream settings', () => {
  let up: ScriptedServer;
  let off: Gateway; // headers: off, headers_upstream: off
  let only: Gateway; // headers: x-kong-upstream-status (headers_upstream at its default)

  before(async () => {
    // Answers with the request headers it got; `x-status` sets the status, `x-with-server` adds a Server header.
    up = await startScriptedServer((req, sock) => {
      const body = JSON.stringify(req.headers);
      const server = req.headers['x-with-server'] === undefined ? '' : 'server: upstream-own/1.0\r\n';
      sock.write(
        `HTTP/1.1 ${req.headers['x-status'] ?? '200'} X\r\ncontent-type: application/json\r\n${server}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    [off, only] = await Promise.all([
      startGateway({ config: configText(up.port, '  headers: off\n  headers_upstream: off') }),
      startGateway({ config: configText(up.port, '  headers: x-kong-upstream-status') }),
    ]);
  });

  after(async () => {
    await Promise.all([off?.stop(), only?.stop()]);
    await up?.close();
  });

  it('headers: off sends none of Kong\'s headers on a proxied response', async () => {
    const res = await request(`${off.proxyUrl}/up/x`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(present(res.headers), [], JSON.stringify(res.headers));
  });

  it('headers: off still passes the upstream\'s own Server header', async () => {
    const res = await request(`${off.proxyUrl}/up/x`, { headers: { 'x-with-server': '1' } });
    assert.equal(res.headers.server, 'upstream-own/1.0');
  });

  it('headers: off sends none of Kong\'s headers on a gateway-generated error', async () => {
    const res = await request(`${off.proxyUrl}/no-such-route`);
    assert.equal(res.status, 404);
    assert.deepEqual(present(res.headers), [], JSON.stringify(res.headers));
  });

  it('headers_upstream: off sends no X-Kong-Request-Id upstream; the default sends it', async () => {
    const without = (await request(`${off.proxyUrl}/up/x`)).json<Record<string, string>>();
    assert.equal(without['x-kong-request-id'], undefined);
    const withId = (await request(`${only.proxyUrl}/up/x`)).json<Record<string, string>>();
    assert.match(withId['x-kong-request-id'] ?? '', /^[0-9a-f]{32}$/);
  });

  it('headers: x-kong-upstream-status sends that header and no other Kong header', async () => {
    const res = await request(`${only.proxyUrl}/up/x`, { headers: { 'x-status': '201' } });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(present(res.headers), ['x-kong-upstream-status'], JSON.stringify(res.headers));
    assert.equal(res.headers['x-kong-upstream-status'], '201');
  });

  it('headers: x-kong-upstream-status adds nothing to a gateway-generated error (no upstream answered)', async () => {
    const res = await request(`${only.proxyUrl}/no-such-route`);
    assert.equal(res.status, 404);
    assert.deepEqual(present(res.headers), [], JSON.stringify(res.headers));
  });
});
