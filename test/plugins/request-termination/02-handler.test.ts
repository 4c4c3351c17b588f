// The request-termination handler against a FakeContext (Kong's spec/03-plugins/14-request-termination
// cases): default messages per status, raw bodies, trigger, echo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { handler, parseQuery, type RequestTerminationConf } from '../../../src/plugins/request-termination/handler';
import { buildPluginEnv } from '../../../src/plugins/env';
import { FakeContext, type FakeRequest } from '../fake-context';
import { doc, load } from '../../unit/config/helpers';

const ENV = buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });

function conf(yaml = ''): RequestTerminationConf {
  const text = yaml === '' ? 'plugins:\n  - name: request-termination\n' : `plugins:\n  - name: request-termination\n    config:\n${yaml}`;
  return handler.configure!(load(doc(text)).snapshot.plugins[0].config, ENV);
}

async function run(c: RequestTerminationConf, req: FakeRequest = {}): Promise<FakeContext> {
  const ctx = new FakeContext(req);
  await handler.access!(ctx, c);
  return ctx;
}

test('priority is Kong\'s 2 (after auth and rate limiting)', () => {
  assert.equal(handler.priority, 2);
});

test('default: 503 {"message":"Service unavailable"}', async () => {
  const ctx = await run(conf());
  assert.deepEqual(ctx.exitRecord, { status: 503, body: { message: 'Service unavailable' }, headers: {}, kind: 'exit' });
});

test("Kong's default message per status; other statuses without a message have no body", async () => {
  const expected: Record<number, string | null> = {
    401: 'Unauthorized', 404: 'Not found', 405: 'Method not allowed', 500: 'An unexpected error occurred',
    502: 'Bad Gateway', 503: 'Service unavailable', 200: null, 403: null, 418: null,
  };
  for (const [status, message] of Object.entries(expected)) {
    const ctx = await run(conf(`      status_code: ${status}\n`));
    assert.equal(ctx.exitRecord?.status, Number(status));
    assert.deepEqual(ctx.exitRecord?.body, message === null ? null : { message }, `status ${status}`);
  }
});

test('a configured message replaces the default', async () => {
  const ctx = await run(conf("      status_code: 418\n      message: \"I'm a teapot\"\n"));
  assert.deepEqual(ctx.exitRecord?.body, { message: "I'm a teapot" });
});

test('a raw body goes as is, with its content type', async () => {
  const ctx = await run(conf('      status_code: 200\n      body: "<html>bye</html>"\n      content_type: text/html\n'));
  assert.deepEqual(ctx.exitRecord, { status: 200, body: '<html>bye</html>', headers: { 'Content-Type': 'text/html' }, kind: 'exit' });
  const bare = await run(conf('      body: plain\n'));
  assert.deepEqual([bare.exitRecord?.body, bare.exitRecord?.headers], ['plain', {}]);
});

test('trigger: only requests carrying that header or query argument are terminated', async () => {
  const c = conf('      trigger: X-Stop\n');
  assert.equal((await run(c)).exited, false);
  assert.equal((await run(c, { query: 'x-stop=1' })).exited, false, 'query names compare exactly');
  assert.equal((await run(c, { headers: { 'x-stop': '' } })).exitRecord?.status, 503);
  assert.equal((await run(c, { query: 'a=1&X-Stop' })).exitRecord?.status, 503);
  assert.equal((await run(c, { query: 'X-Stop=' })).exitRecord?.status, 503);
});

test('echo: the request as Kong 3.10 describes it, as JSON', async () => {
  const c = conf('      status_code: 404\n      echo: true\n');
  const ctx = await run(c, {
    method: 'POST',
    path: '/echo/7',
    query: 'a=1&a=2&b=x%20y&flag',
    headers: { host: 'Api.Test:8000', 'content-type': 'application/json' },
    body: '{"hello":"world"}',
    routeId: 'r-1',
    serviceId: 's-1',
    uriCaptures: { '0': '/echo/7', '1': '7', id: '7' },
  });
  assert.equal(ctx.exitRecord?.status, 404);
  const body = JSON.parse(JSON.stringify(ctx.exitRecord?.body));
  assert.match(body.kong.node_id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  delete body.kong.node_id;
  assert.deepEqual(body, {
    message: 'Not found',
    kong: { worker_pid: process.pid, hostname: hostname() },
    request: {
      scheme: 'http',
      host: 'api.test',
      port: 8000,
      headers: {},
      query: { a: ['1', '2'], b: 'x y', flag: true },
      body: { hello: 'world' },
      raw_body: '{"hello":"world"}',
      method: 'POST',
      path: '/echo/7',
      uri_captures: { unnamed: ['7'], named: { id: '7' } },
    },
    matched_route: { id: 'r-1' },
    matched_service: { id: 's-1' },
  });
});

test('echo with a trigger lets other requests through', async () => {
  const c = conf('      echo: true\n      trigger: X-Debug\n');
  assert.equal((await run(c)).exited, false);
  assert.equal((await run(c, { headers: { 'x-debug': '1' } })).exitRecord?.status, 503);
});

test('query strings parse as kong.request.get_query', () => {
  assert.deepEqual(parseQuery(''), {});
  assert.deepEqual(parseQuery('a=1&a=2&a=3&b&c=&d=%2F+x&&=z'), { a: ['1', '2', '3'], b: true, c: '', d: '/ x' });
});
