/**
 * Admin API changes outlive the primary: they go to `kong.yml.hyperway-state.json` next to the
 * config (kong.yml itself is never rewritten), the next start loads them with the same ids, and
 * `GET /config` shows exactly what a start would load. When kong.yml changed after the state
 * was written, the state file wins and the start says so, naming both files.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';
import { stringify } from 'yaml';

describe('Admin API persistence across restarts', () => {
  let echo: EchoServer;
  let dir: string;
  const gateways: Gateway[] = [];
  const config = (): object => ({
    _format_version: '3.0',
    services: [{ name: 'file-svc', url: `http://127.0.0.1:${echo.port}`, routes: [{ name: 'file-route', paths: ['/file'] }] }],
  });
  const start = async (cfg: object): Promise<Gateway> => {
    const gw = await startGateway({ config: cfg, configDir: dir });
    gateways.push(gw);
    return gw;
  };

  before(async () => {
    echo = await startEchoServer('echo');
    dir = mkdtempSync(join(tmpdir(), 'hyperway-admin-persist-'));
  });
  after(async () => {
    for (const gw of gateways) await gw.stop();
    await echo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('API changes survive a restart with their ids; kong.yml is untouched; GET /config is what the next start loads', { timeout: 90_000 }, async () => {
    const gw1 = await start(config());
    const kongText = readFileSync(gw1.configPath, 'utf8');
    const fileSvc = (await gw1.admin('/services/file-svc')).json<{ id: string }>();
    const created = await request(`${gw1.adminUrl}/services`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'api-svc', url: `http://127.0.0.1:${echo.port}/api-base`, tags: ['api'] }),
    });
    assert.equal(created.status, 201, created.text);
    const apiSvc = created.json<{ id: string }>();
    const route = await request(`${gw1.adminUrl}/services/api-svc/routes`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=api-route&paths[]=/api' });
    assert.equal(route.status, 201, route.text);
    assert.equal(readFileSync(gw1.configPath, 'utf8'), kongText, 'kong.yml was rewritten');
    assert.ok(existsSync(`${gw1.configPath}.hyperway-state.json`));
    const shown = (await gw1.admin('/config')).json<{ config: string }>().config;
    const doc = parse(shown) as { services: Array<{ name: string; id: string }>; routes: Array<{ name: string }> };
    assert.deepEqual(doc.services.map((s) => [s.name, s.id]), [['file-svc', fileSvc.id], ['api-svc', apiSvc.id]]);
    assert.deepEqual(doc.routes.map((r) => r.name), ['file-route', 'api-route']);
    assert.equal(await gw1.stop(), 0);

    const gw2 = await start(config());
    assert.equal((await gw2.admin('/services/api-svc')).json<{ id: string }>().id, apiSvc.id);
    assert.equal((await gw2.admin('/services/file-svc')).json<{ id: string }>().id, fileSvc.id);
    assert.equal((await gw2.admin('/routes/api-route')).status, 200);
    const res = await request(`${gw2.proxyUrl}/api/x`);
    assert.equal(res.status, 200);
    assert.equal(res.json<{ url: string }>().url, '/api-base/x');
    assert.equal((await gw2.admin('/config')).json<{ config: string }>().config, shown);
    assert.doesNotMatch(gw2.output(), /changed after the Admin API wrote/);
    assert.equal(await gw2.stop(), 0);
  });

  it('kong.yml changed after the state was written: the state file wins, with a warning naming both, until resolved', { timeout: 90_000 }, async () => {
    const changed = { ...config(), consumers: [{ username: 'only-in-kong-yml' }] };
    const gw = await start(changed);
    assert.match(gw.output(), new RegExp(`${gw.configPath.replace(/[.]/g, '\\.')} changed after the Admin API wrote ${gw.configPath.replace(/[.]/g, '\\.')}\\.hyperway-state\\.json`));
    assert.equal((await gw.admin('/services/api-svc')).status, 200);
    assert.equal((await gw.admin('/consumers/only-in-kong-yml')).status, 404);
    // A write after the warning does not make the unloaded edit of kong.yml look loaded.
    const write = await request(`${gw.adminUrl}/consumers`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=later' });
    assert.equal(write.status, 201, write.text);
    assert.equal(await gw.stop(), 0);
    const again = await start(changed);
    assert.match(again.output(), /changed after the Admin API wrote/);
    assert.equal((await again.admin('/consumers/later')).status, 200);
  });

  it('SIGHUP with a state file reloads the state (API changes stay) and warns that the edited kong.yml is not loaded', { timeout: 60_000 }, async () => {
    const own = mkdtempSync(join(tmpdir(), 'hyperway-admin-sighup-'));
    try {
      const gw = await startGateway({ config: config(), configDir: own });
      gateways.push(gw);
      const r = await request(`${gw.adminUrl}/consumers`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=from-api' });
      assert.equal(r.status, 201, r.text);
      writeFileSync(gw.configPath, stringify({ ...config(), consumers: [{ username: 'from-file' }] }));
      process.kill(gw.child.pid!, 'SIGHUP');
      await waitFor('the warning naming both files', () => /changed after the Admin API wrote/.test(gw.output()), { timeoutMs: 10_000 });
      assert.equal((await gw.admin('/consumers/from-api')).status, 200);
      assert.equal((await gw.admin('/consumers/from-file')).status, 404);
      assert.equal((await request(`${gw.proxyUrl}/file`)).status, 200);
      await gw.stop();
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });
});
