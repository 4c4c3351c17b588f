// Admin API endpoints about the API itself, and the body forms Kong clients send: plugin schemas,
// /endpoints, /tags, multipart/form-data bodies (`curl -F`), POST /config?check_hash=1.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';

const JSON_TYPE = { 'content-type': 'application/json' };

/** A multipart/form-data body as curl -F builds it; `file` fields carry a filename. */
function multipart(fields: Array<[string, string, string?]>): { body: string; type: string } {
  const boundary = '----hyperway-test-boundary';
  let body = '';
  for (const [name, value, filename] of fields) {
    body += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"\r\nContent-Type: application/octet-stream` : ''}\r\n\r\n${value}\r\n`;
  }
  return { body: `${body}--${boundary}--\r\n`, type: `multipart/form-data; boundary=${boundary}` };
}

describe('Admin API: schemas, endpoints, tags, multipart bodies, check_hash', () => {
  let echo: EchoServer;
  let gw: Gateway;

  before(async () => {
    echo = await startEchoServer('echo');
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'tagged', url: `http://127.0.0.1:${echo.port}`, tags: ['team-a', 'prod'], routes: [{ name: 'r', paths: ['/t'], tags: ['team-a'] }] }],
        consumers: [{ username: 'u', tags: ['prod'] }],
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await echo?.close();
  });

  it("GET /schemas/plugins/{name} answers Kong's {fields} shape; an unknown plugin is 404", async () => {
    const r = await gw.admin('/schemas/plugins/cors');
    assert.equal(r.status, 200, r.text);
    const fields = r.json<{ fields: Array<Record<string, Record<string, unknown>>> }>().fields;
    assert.deepEqual(fields.map((f) => Object.keys(f)[0]), ['consumer', 'protocols', 'config']);
    assert.deepEqual(fields[0].consumer, { type: 'foreign', reference: 'consumers', eq: null });
    const config = fields[2].config as { type: string; fields: Array<Record<string, Record<string, unknown>>> };
    assert.equal(config.type, 'record');
    const credentials = config.fields.find((f) => 'credentials' in f)!.credentials;
    assert.deepEqual(credentials, { type: 'boolean', default: false });
    const methods = config.fields.find((f) => 'methods' in f)!.methods as { type: string; elements: { one_of: string[] } };
    assert.equal(methods.type, 'array');
    assert.ok(methods.elements.one_of.includes('PATCH'));
    assert.equal((await gw.admin('/schemas/plugins/no-such-plugin')).status, 404);
  });

  it('GET /endpoints lists the paths served, with {name} placeholders', async () => {
    const r = await gw.admin('/endpoints');
    assert.equal(r.status, 200);
    const data = r.json<{ data: string[] }>().data;
    for (const p of ['/', '/config', '/services', '/services/{service}', '/services/{service}/routes', '/schemas/plugins/{name}', '/tags/{tag}', '/plugins/enabled']) {
      assert.ok(data.includes(p), `${p} in ${JSON.stringify(data)}`);
    }
  });

  it('GET /tags and /tags/{tag} list every tagged entity as {entity_name, entity_id, tag}, paginated', async () => {
    const all = (await gw.admin('/tags')).json<{ data: Array<{ entity_name: string; tag: string }>; next: string | null }>();
    assert.deepEqual(all.data.map((d) => `${d.entity_name}:${d.tag}`).sort(), ['consumers:prod', 'routes:team-a', 'services:prod', 'services:team-a']);
    assert.equal(all.next, null);
    const prod = (await gw.admin('/tags/prod')).json<{ data: Array<{ entity_name: string; entity_id: string; tag: string }> }>();
    assert.deepEqual(prod.data.map((d) => d.entity_name).sort(), ['consumers', 'services']);
    const svc = (await gw.admin('/services/tagged')).json<{ id: string }>();
    assert.equal(prod.data.find((d) => d.entity_name === 'services')?.entity_id, svc.id);
    const page = (await gw.admin('/tags?size=3')).json<{ data: unknown[]; next: string }>();
    assert.equal(page.data.length, 3);
    const rest = (await gw.admin(page.next)).json<{ data: unknown[]; next: string | null }>();
    assert.deepEqual([rest.data.length, rest.next], [1, null]);
  });

  it('multipart/form-data bodies create entities (Kong form notation) and load a config file (curl -F config=@kong.yml)', async () => {
    const form = multipart([['name', 'mp'], ['url', `http://127.0.0.1:${echo.port}`], ['tags[]', 'x'], ['tags[]', 'y']]);
    const created = await request(`${gw.adminUrl}/services`, { method: 'POST', headers: { 'content-type': form.type }, body: form.body });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.json<{ tags: string[]; port: number }>().tags, ['x', 'y']);
    const route = multipart([['paths[]', '/mp'], ['name', 'mp-route']]);
    assert.equal((await request(`${gw.adminUrl}/services/mp/routes`, { method: 'POST', headers: { 'content-type': route.type }, body: route.body })).status, 201);
    assert.equal((await request(`${gw.proxyUrl}/mp/x`)).status, 200, 'the multipart-created route serves');
    const yaml = `_format_version: "3.0"\nservices:\n  - name: from-file\n    url: http://127.0.0.1:${echo.port}\n    routes:\n      - paths: [/file]\n`;
    const file = multipart([['config', yaml, 'kong.yml']]);
    const loaded = await request(`${gw.adminUrl}/config`, { method: 'POST', headers: { 'content-type': file.type }, body: file.body });
    assert.equal(loaded.status, 201, loaded.text);
    assert.equal((await request(`${gw.proxyUrl}/file/x`)).status, 200);
    assert.equal((await request(`${gw.proxyUrl}/mp/x`)).status, 404, 'POST /config replaced everything');
    const broken = await request(`${gw.adminUrl}/services`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=zz' }, body: 'not multipart' });
    assert.equal(broken.status, 400);
  });

  it('POST /config?check_hash=1 answers 304 and changes nothing when the document is the running config; 201 when it differs', async () => {
    const doc = { _format_version: '3.0', services: [{ name: 'h', url: `http://127.0.0.1:${echo.port}`, routes: [{ paths: ['/h'] }] }] };
    const first = await request(`${gw.adminUrl}/config`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(doc) });
    assert.equal(first.status, 201, first.text);
    const before = (await gw.status()).config_version;
    const same = await request(`${gw.adminUrl}/config?check_hash=1`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(doc) });
    assert.equal(same.status, 304);
    assert.equal(same.text, '');
    assert.equal((await gw.status()).config_version, before, 'no new version rolled out');
    const other = { ...doc, services: [{ ...doc.services[0], routes: [{ paths: ['/h2'] }] }] };
    const changed = await request(`${gw.adminUrl}/config?check_hash=1`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(other) });
    assert.equal(changed.status, 201, changed.text);
    assert.equal((await request(`${gw.proxyUrl}/h2/x`)).status, 200);
  });
});
