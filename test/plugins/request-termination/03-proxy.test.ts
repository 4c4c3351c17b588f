import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from '../../helpers/http-client';
import { useEchoGateway } from '../../helpers/echo-gateway';

function config(echoPort: number): object {
  const route = (name: string): object => ({ name, paths: [`/${name}`] });
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'echo',
        url: `http://127.0.0.1:${echoPort}`,
        routes: ['default', 'message', 'body', 'trigger', 'echo'].map(route),
      },
    ],
    plugins: [
      { name: 'request-termination', route: 'default', config: { status_code: 503 } },
      { name: 'request-termination', route: 'message', config: { status_code: 418, message: 'no coffee here' } },
      { name: 'request-termination', route: 'body', config: { status_code: 200, body: '<h1>maintenance</h1>', content_type: 'text/html; charset=utf-8' } },
      { name: 'request-termination', route: 'trigger', config: { status_code: 403, message: 'stopped', trigger: 'X-Stop' } },
      { name: 'request-termination', route: 'echo', config: { status_code: 202, echo: true } },
    ],
  };
}

describe('request-termination through the gateway', () => {
  const env = useEchoGateway('rt-up', config);

  it("answers with the status's default message and never reaches the upstream", async () => {
    const res = await request(`${env.gw.proxyUrl}/default/x`, { method: 'POST', body: 'payload' });
    assert.equal(res.status, 503);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.deepEqual(res.json(), { message: 'Service unavailable' });
    assert.equal(env.echo.requests.length, 0);
  });

  it('answers with the configured status and message', async () => {
    const res = await request(`${env.gw.proxyUrl}/message`);
    assert.equal(res.status, 418);
    assert.deepEqual(res.json(), { message: 'no coffee here' });
  });

  it('answers with the configured body and content type', async () => {
    const res = await request(`${env.gw.proxyUrl}/body`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.text, '<h1>maintenance</h1>');
    assert.equal(env.echo.requests.length, 0);
  });

  it('with a trigger, terminates only requests carrying the header or the query argument', async () => {
    const pass = await request(`${env.gw.proxyUrl}/trigger/ok?a=1`);
    assert.equal(pass.status, 200, pass.text);
    assert.equal(pass.json<{ url: string }>().url, '/ok?a=1');
    const byHeader = await request(`${env.gw.proxyUrl}/trigger/x`, { headers: { 'x-stop': '1' } });
    assert.equal(byHeader.status, 403);
    assert.deepEqual(byHeader.json(), { message: 'stopped' });
    const byQuery = await request(`${env.gw.proxyUrl}/trigger/x?X-Stop`);
    assert.equal(byQuery.status, 403);
    assert.deepEqual(env.echo.requests.map((r) => r.url), ['/ok?a=1']);
  });

  it('echo: answers with the request it received, body included', async () => {
    const res = await request(`${env.gw.proxyUrl}/echo/some/path?q=1&q=2&flag`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', host: 'api.test:8443' },
      body: JSON.stringify({ a: [1, 2] }),
    });
    assert.equal(res.status, 202, res.text);
    const body = res.json<{
      request: { method: string; path: string; host: string; port: number; query: unknown; body: unknown; raw_body: string };
      matched_route: { name: string };
      matched_service: { name: string };
      kong: { worker_pid: number };
    }>();
    assert.equal(body.request.method, 'POST');
    assert.equal(body.request.path, '/echo/some/path');
    assert.equal(body.request.host, 'api.test');
    assert.equal(body.request.port, 8443);
    assert.deepEqual(body.request.query, { q: ['1', '2'], flag: true });
    assert.deepEqual(body.request.body, { a: [1, 2] });
    assert.equal(body.request.raw_body, '{"a":[1,2]}');
    assert.equal(body.matched_route.name, 'echo');
    assert.equal(body.matched_service.name, 'echo');
    assert.ok(env.gw.workerPids.has(body.kong.worker_pid) || (await env.gw.status()).workers.some((w) => w.pid === body.kong.worker_pid));
    assert.equal(env.echo.requests.length, 1, 'only the trigger test reached the upstream');
  });
});
