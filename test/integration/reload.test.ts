// Hot reload (SIGHUP): a new config file is served without a restart and without failed requests;
// a bad file changes nothing (errors on stderr, the running config stays in place).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Agent, request as undiciRequest } from 'undici';
import { stringify } from 'yaml';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';

function config(port: number, paths: string[]): object {
  return {
    _format_version: '3.0',
    services: [{ name: 'echo', url: `http://127.0.0.1:${port}`, routes: paths.map((p) => ({ name: `r${p.slice(1)}`, paths: [p] })) }],
  };
}

describe('hot reload on SIGHUP', () => {
  let echo: EchoServer;
  let gw: Gateway;

  before(async () => {
    echo = await startEchoServer('echo');
    gw = await startGateway({ config: config(echo.port, ['/a']), env: { HYPERWAY_LOG_LEVEL: 'notice' } });
  });

  after(async () => {
    await gw?.stop();
    await echo?.close();
  });

  async function versions(): Promise<number[]> {
    return (await gw.status()).workers.map((w) => w.config_version);
  }

  /** The version every worker serves now; each test reloads from there, whatever ran before it. */
  async function currentVersion(): Promise<number> {
    const st = await gw.status();
    assert.ok(st.workers.every((w) => w.config_version === st.config_version), JSON.stringify(st.workers));
    return st.config_version;
  }

  async function reloadTo(paths: string[], version: number): Promise<void> {
    writeFileSync(gw.configPath, stringify(config(echo.port, paths)));
    gw.child.kill('SIGHUP');
    await waitFor(`both workers on version ${version}`, async () => (await versions()).every((v) => v === version), { timeoutMs: 10000 })
      .catch((e: Error) => assert.fail(`${e.message}\n${gw.output()}`));
  }

  it('serves a new route after SIGHUP, every worker acknowledges it, and no request fails meanwhile', { timeout: 30000 }, async () => {
    const pids = (await gw.status()).workers.map((w) => w.pid).sort();
    const v = await currentVersion();
    assert.equal((await request(`${gw.proxyUrl}/b/x`)).status, 404, 'no /b before the reload');
    // Keep-alive load on the old route across the reload.
    const agent = new Agent({ connections: 4 });
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const load = (async () => {
      while (!stop && ok + failures.length < 20000) {
        try {
          const r = await undiciRequest(`${gw.proxyUrl}/a/x`, { dispatcher: agent });
          await r.body.text();
          if (r.statusCode === 200) ok++;
          else failures.push(String(r.statusCode));
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    })();
    await waitFor('some requests before the reload', () => ok > 50, { timeoutMs: 5000 });
    await reloadTo(['/a', '/b'], v + 1);
    const before = ok;
    await waitFor('more requests after the reload', () => ok > before + 50, { timeoutMs: 5000 });
    stop = true;
    await load;
    await agent.close();
    assert.deepEqual(failures, [], `${failures.length} failed of ${ok + failures.length}`);
    assert.equal((await request(`${gw.proxyUrl}/b/x`)).status, 200);
    assert.equal((await gw.status()).configuration_hash.length, 64);
    assert.deepEqual((await gw.status()).workers.map((w) => w.pid).sort(), pids, 'no worker was restarted');
    assert.match(gw.output(), new RegExp(`"msg":"config reloaded","version":${v + 1}`));
  });

  it('a bad file changes nothing: errors with file, line and path on stderr, the running config stays', { timeout: 30000 }, async () => {
    const v = await currentVersion();
    const { configuration_hash: hash } = await gw.status();
    const rejected = new RegExp(`reload rejected; config version ${v} stays in place`, 'g');
    const rejectionsBefore = gw.output().match(rejected)?.length ?? 0;
    writeFileSync(gw.configPath, '_format_version: "3.0"\nservices:\n  - name: echo\n    url: http://127.0.0.1:1\n    retries: -1\n');
    gw.child.kill('SIGHUP');
    await waitFor('the rejection on stderr', () => (gw.output().match(rejected)?.length ?? 0) > rejectionsBefore, { timeoutMs: 10000 })
      .catch((e: Error) => assert.fail(`${e.message}\n${gw.output()}`));
    assert.match(gw.output(), /kong\.yml:5:\d+: services\[0\]\.retries: /);
    assert.deepEqual(await versions(), [v, v]);
    assert.equal((await gw.status()).configuration_hash, hash);
    assert.equal((await request(`${gw.proxyUrl}/a/x`)).status, 200, 'the running config still routes /a');
  });

  it('removes a route and adds another', { timeout: 30000 }, async () => {
    const v = await currentVersion();
    // The other configs of this file all route /a and none routes /c: the same start in any order.
    assert.equal((await request(`${gw.proxyUrl}/a/x`)).status, 200);
    assert.equal((await request(`${gw.proxyUrl}/c/x`)).status, 404);
    await reloadTo(['/c'], v + 1);
    assert.equal((await request(`${gw.proxyUrl}/a/x`)).status, 404);
    assert.equal((await request(`${gw.proxyUrl}/c/x`)).status, 200);
  });
});
