import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, type HttpResult } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

describe('Admin API: entity CRUD through the real primary and 2 workers', () => {
  let echo: EchoServer;
  let gw: Gateway;
  const send = (method: string, path: string, body?: string | object, headers: Record<string, string> = FORM): Promise<HttpResult> =>
    request(`${gw.adminUrl}${path}`, {
      method,
      headers: typeof body === 'object' ? JSON_TYPE : headers,
      body: typeof body === 'object' ? JSON.stringify(body) : body,
    });
  const proxy = (path: string): Promise<HttpResult> => request(`${gw.proxyUrl}${path}`);

  before(async () => {
    echo = await startEchoServer('echo');
    gw = await startGateway({ config: { _format_version: '3.0' } });
  });
  after(async () => {
    await gw?.stop();
    await echo?.close();
  });

  it('POST (form, url shorthand) answers 201 with the stored entity; GET by name and id; 404 and 409 in Kong shape', async () => {
    const created = await send('POST', '/services', `name=svc-a&url=http://127.0.0.1:${echo.port}/base&retries=3`);
    assert.equal(created.status, 201, created.text);
    const svc = created.json<Record<string, unknown>>();
    assert.match(String(svc.id), /^[0-9a-f-]{36}$/);
    assert.equal(svc.host, '127.0.0.1');
    assert.equal(svc.port, echo.port);
    assert.equal(svc.path, '/base');
    assert.equal(svc.retries, 3); // form text coerced to the schema's integer
    assert.equal(svc.connect_timeout, 60000); // default filled in
    assert.equal(typeof svc.created_at, 'number');
    assert.deepEqual((await send('GET', '/services/svc-a')).json(), svc);
    assert.deepEqual((await send('GET', `/services/${String(svc.id)}`)).json(), svc);
    const missing = await send('GET', '/services/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json(), { message: 'Not found' });
    const dup = await send('POST', '/services', { name: 'svc-a', host: 'example.com' });
    assert.equal(dup.status, 409);
    assert.deepEqual(dup.json(), { code: 5, name: 'unique constraint violation', message: `UNIQUE violation detected on '{name="svc-a"}'`, fields: { name: 'svc-a' } });
  });

  it('a route created under a service serves the very next proxied request, on every worker (ack before reply)', async () => {
    const r = await send('POST', '/services/svc-a/routes', 'name=route-a&paths[]=/a&paths[]=/a2&strip_path=true');
    assert.equal(r.status, 201, r.text);
    const route = r.json<{ paths: string[]; service: { id: string }; strip_path: boolean }>();
    assert.deepEqual(route.paths, ['/a', '/a2']);
    assert.equal(route.strip_path, true);
    assert.equal(route.service.id, (await send('GET', '/services/svc-a')).json<{ id: string }>().id);
    // No waiting: each request is a fresh connection, so the kernel spreads them over both workers.
    for (let i = 0; i < 8; i++) {
      const res = await proxy('/a/x');
      assert.equal(res.status, 200, `request ${i}: ${res.text}`);
      assert.equal(res.json<{ url: string }>().url, '/base/x');
    }
    const st = await gw.status();
    const version = st.config_version;
    assert.ok(st.workers.every((w) => w.config_version === version), JSON.stringify(st.workers));
  });

  it('the reply waits for a worker that has not applied the change yet (stopped), then every worker serves it', async () => {
    assert.equal((await send('POST', '/services', `name=svc-slow&url=http://127.0.0.1:${echo.port}`)).status, 201);
    const { pid } = (await gw.status()).workers[0];
    process.kill(pid, 'SIGSTOP');
    let answeredAt = 0;
    let resumedAt = 0;
    try {
      const pending = send('POST', '/services/svc-slow/routes', 'name=route-slow&paths[]=/slow').then((r) => ((answeredAt = Date.now()), r));
      // A negative observation needs a window: the reply must not come while the worker is stopped.
      await Promise.race([pending, new Promise((r) => setTimeout(r, 700))]);
      assert.equal(answeredAt, 0, 'answered while a worker had not acknowledged the change');
      resumedAt = Date.now();
      process.kill(pid, 'SIGCONT');
      const r = await pending;
      assert.equal(r.status, 201, r.text);
      assert.ok(answeredAt >= resumedAt);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    for (let i = 0; i < 8; i++) assert.equal((await proxy('/slow')).status, 200, `request ${i}`);
    assert.equal((await send('DELETE', '/routes/route-slow')).status, 204);
  });

  it('PATCH merges, PUT upserts by name, GET /routes/{r}/service', async () => {
    const p = await send('PATCH', '/routes/route-a', { paths: ['/patched'] });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual(p.json<{ paths: string[] }>().paths, ['/patched']);
    assert.equal(p.json<{ strip_path: boolean }>().strip_path, true);
    assert.equal((await proxy('/patched/y')).json<{ url: string }>().url, '/base/y');
    assert.equal((await proxy('/a/x')).status, 404);
    const put = await send('PUT', '/services/svc-put', { host: '127.0.0.1', port: echo.port });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json<{ name: string }>().name, 'svc-put');
    const again = await send('PUT', '/services/svc-put', { host: '127.0.0.1', port: echo.port, retries: 1 });
    assert.equal(again.json<{ id: string }>().id, put.json<{ id: string }>().id);
    assert.equal(again.json<{ retries: number }>().retries, 1);
    const owner = await send('GET', '/routes/route-a/service');
    assert.equal(owner.status, 200);
    assert.equal(owner.json<{ name: string }>().name, 'svc-a');
  });

  it('DELETE: a service still used by routes is refused as Kong does; 204 after its routes go; 204 for a missing one', async () => {
    const refused = await send('DELETE', '/services/svc-a');
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.json(), { code: 4, name: 'foreign key violation', message: "an existing 'routes' entity references this 'services' entity", fields: { '@referenced_by': 'routes' } });
    const del = await send('DELETE', '/routes/route-a');
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    assert.equal((await proxy('/patched/y')).status, 404);
    assert.equal((await send('DELETE', '/services/svc-a')).status, 204);
    assert.equal((await send('GET', '/services/svc-a')).status, 404);
    assert.equal((await send('DELETE', '/services/svc-a')).status, 204);
  });

  it('a change the validator rejects answers 400 in Kong shape and changes nothing, on the proxy or in the store', async () => {
    await send('POST', '/services', { name: 'svc-b', url: `http://127.0.0.1:${echo.port}`, routes: undefined });
    assert.equal((await send('POST', '/services/svc-b/routes', 'name=route-b&paths[]=/b')).status, 201);
    const before = (await gw.status()).config_version;
    const bad = await send('PATCH', '/routes/route-b', { paths: ['no-slash'] });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json(), {
      code: 2,
      name: 'schema violation',
      message: 'schema violation (paths.1: should start with: / (fixed path) or ~/ (regex path))',
      fields: { paths: ['should start with: / (fixed path) or ~/ (regex path)'] },
    });
    assert.deepEqual((await send('GET', '/routes/route-b')).json<{ paths: string[] }>().paths, ['/b']);
    assert.equal((await proxy('/b')).status, 200);
    assert.equal((await gw.status()).config_version, before);
    const badFk = await send('POST', '/routes', { name: 'orphan', paths: ['/o'], service: { id: '00000000-0000-4000-8000-000000000000' } });
    assert.equal(badFk.status, 400);
    assert.equal(badFk.json<{ code: number }>().code, 4);
    const badPlugin = await send('POST', '/plugins', 'name=request-termination&config.status_code=999');
    assert.equal(badPlugin.status, 400);
    assert.deepEqual(badPlugin.json<{ fields: unknown }>().fields, { config: { status_code: 'value should be between 100 and 599' } });
  });

  it('bodies: JSON, nested form keys for plugin config, 415 for other types, 400 for bad JSON, 413 above the limit', async () => {
    const plugin = await send('POST', '/routes/route-b/plugins', 'name=request-termination&config.status_code=418&config.message=teapot');
    assert.equal(plugin.status, 201, plugin.text);
    assert.equal(plugin.json<{ config: { status_code: number } }>().config.status_code, 418);
    const res = await proxy('/b');
    assert.equal(res.status, 418);
    assert.match(res.text, /teapot/);
    const twice = await send('POST', '/routes/route-b/plugins', 'name=request-termination');
    assert.equal(twice.status, 409, twice.text);
    assert.equal(twice.json<{ name: string }>().name, 'unique constraint violation');
    const listed = (await send('GET', '/routes/route-b/plugins')).json<{ data: unknown[] }>();
    assert.equal(listed.data.length, 1);
    assert.equal((await send('DELETE', `/plugins/${plugin.json<{ id: string }>().id}`)).status, 204);
    assert.equal((await proxy('/b')).status, 200);
    const text = await send('POST', '/services', 'name=x', { 'content-type': 'text/plain' });
    assert.equal(text.status, 415);
    const badJson = await send('POST', '/services', '{"name":', JSON_TYPE);
    assert.equal(badJson.status, 400);
    assert.deepEqual(badJson.json(), { message: 'Cannot parse JSON body' });
    const huge = await send('POST', '/services', `name=${'x'.repeat(9 * 1024 * 1024)}`);
    assert.equal(huge.status, 413);
  });

  it('lists paginate with size/offset/next and filter by tags (a,b = all; a/b = any)', async () => {
    for (const [name, tags] of [['c1', ['t1']], ['c2', ['t1', 't2']], ['c3', ['t2']]] as const) {
      assert.equal((await send('POST', '/consumers', { username: name, tags })).status, 201);
    }
    const page1 = (await send('GET', '/consumers?size=2')).json<{ data: Array<{ username: string }>; next: string; offset: string }>();
    assert.deepEqual(page1.data.map((c) => c.username), ['c1', 'c2']);
    assert.equal(page1.next, `/consumers?offset=${page1.offset}&size=2`);
    const page2 = (await send('GET', page1.next)).json<{ data: Array<{ username: string }>; next: unknown }>();
    assert.deepEqual(page2.data.map((c) => c.username), ['c3']);
    assert.equal(page2.next, null);
    const all = (await send('GET', '/consumers?tags=t1,t2')).json<{ data: Array<{ username: string }> }>();
    assert.deepEqual(all.data.map((c) => c.username), ['c2']);
    const any = (await send('GET', '/consumers?tags=t1/t2')).json<{ data: Array<{ username: string }> }>();
    assert.deepEqual(any.data.map((c) => c.username), ['c1', 'c2', 'c3']);
    assert.equal((await send('GET', '/consumers?offset=@@')).status, 400);
    assert.equal((await send('GET', '/consumers?size=0')).status, 400);
  });

  it('consumer credentials: key-auth gets a generated key, acls by group; 404 under a missing consumer; deleting the consumer takes them', async () => {
    const key = await send('POST', '/consumers/c1/key-auth', '');
    assert.equal(key.status, 201, key.text);
    assert.match(key.json<{ key: string }>().key, /^[0-9a-f]{32}$/);
    assert.equal((await send('POST', '/consumers/c1/acls', 'group=admins')).status, 201);
    assert.equal((await send('POST', '/consumers/c1/acls', 'group=admins')).status, 409);
    assert.equal((await send('POST', '/consumers/nobody/key-auth', '')).status, 404);
    assert.equal((await send('GET', '/consumers/c1/key-auth')).json<{ data: unknown[] }>().data.length, 1);
    assert.equal((await send('DELETE', '/consumers/c1')).status, 204);
    assert.equal((await send('GET', '/key-auths')).json<{ data: unknown[] }>().data.length, 0);
    assert.equal((await send('GET', '/acls')).json<{ data: unknown[] }>().data.length, 0);
  });
});
