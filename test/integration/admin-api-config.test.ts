/**
 * `POST /config` replaces every entity at once (all or nothing) through the same writer as the
 * entity endpoints: validated as a file, acknowledged by every worker before the 201, persisted;
 * an invalid document answers 400 and the running config stays.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';

describe('Admin API: POST /config and GET /config', () => {
  let echo: EchoServer;
  let gw: Gateway;
  const post = (body: string, type: string) => request(`${gw.adminUrl}/config`, { method: 'POST', headers: { 'content-type': type }, body });

  before(async () => {
    echo = await startEchoServer('echo');
    gw = await startGateway({
      config: { _format_version: '3.0', services: [{ name: 'old', url: `http://127.0.0.1:${echo.port}`, routes: [{ name: 'old', paths: ['/old'] }] }] },
    });
  });
  after(async () => {
    await gw?.stop();
    await echo?.close();
  });

  it('a JSON document replaces everything; the very next proxied request uses it; GET /config shows it', async () => {
    const doc = { _format_version: '3.0', services: [{ name: 'new', url: `http://127.0.0.1:${echo.port}/n`, routes: [{ name: 'new', paths: ['/new'] }] }] };
    const r = await post(JSON.stringify(doc), 'application/json');
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json<{ services: Array<{ name: string }> }>().services.map((s) => s.name), ['new']);
    assert.equal((await request(`${gw.proxyUrl}/new/x`)).json<{ url: string }>().url, '/n/x');
    assert.equal((await request(`${gw.proxyUrl}/old`)).status, 404);
    assert.equal((await gw.admin('/services/old')).status, 404);
    const shown = parse((await gw.admin('/config')).json<{ config: string }>().config) as { services: Array<{ name: string }> };
    assert.deepEqual(shown.services.map((s) => s.name), ['new']);
  });

  it('a YAML body, and a form with a config field, are taken too', async () => {
    const yaml = `_format_version: "3.0"\nservices:\n  - name: yaml\n    url: http://127.0.0.1:${echo.port}\n    routes:\n      - paths: [/yaml]\n`;
    assert.equal((await post(yaml, 'text/yaml')).status, 201);
    assert.equal((await request(`${gw.proxyUrl}/yaml`)).status, 200);
    const form = `config=${encodeURIComponent(yaml.replace(/yaml/g, 'form'))}`;
    assert.equal((await post(form, 'application/x-www-form-urlencoded')).status, 201);
    assert.equal((await request(`${gw.proxyUrl}/form`)).status, 200);
  });

  it('an invalid document answers 400 with the problems and changes nothing', async () => {
    const before = (await gw.status()).config_version;
    const r = await post(JSON.stringify({ _format_version: '3.0', services: [{ name: 'bad', host: 'h', routes: [{ paths: ['nope'] }] }] }), 'application/json');
    assert.equal(r.status, 400);
    const body = r.json<{ code: number; name: string; fields: Record<string, string> }>();
    assert.equal(body.code, 14);
    assert.equal(body.name, 'invalid declarative configuration');
    assert.equal(body.fields['services[0].routes[0].paths[0]'], 'should start with: / (fixed path) or ~/ (regex path)');
    assert.equal((await request(`${gw.proxyUrl}/form`)).status, 200);
    assert.equal((await gw.status()).config_version, before);
  });
});
