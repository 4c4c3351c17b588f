// Settings a reload changes take effect where they can, and GET / reports the running values,
// not copies made at start: headers and trusted_ips in the workers, drain_timeout at shutdown,
// admin_token on the Admin API; restart-only settings keep their running value.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fs from 'node:fs';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';

interface NodeInfo {
  hyperway: { drain_timeout: number };
  configuration: { headers: string[]; trusted_ips: string[]; status_listen: string[] };
}

const TOKEN = 'reloaded-token-0123456789';

describe('settings changed by a reload', () => {
  let echo: EchoServer;
  let gw: Gateway;
  const config = (block: string): string =>
    `_format_version: "3.0"\nhyperway:\n${block}services:\n  - name: s\n    url: http://127.0.0.1:${echo.port}\n    routes:\n      - paths: [/s]\n`;

  before(async () => {
    echo = await startEchoServer('echo');
    gw = await startGateway({ config: config('  drain_timeout: 10000\n'), env: { HYPERWAY_LOG_LEVEL: 'notice' } });
  });
  after(async () => {
    await gw?.stop();
    await echo?.close();
  });

  it('take effect in the workers, the Admin API and at shutdown; GET / shows the running values', async () => {
    const first = await request(`${gw.proxyUrl}/s/x`);
    assert.match(String(first.headers.via), /kong\//, 'server_tokens on at start: Kong appends its Via');
    assert.equal((await gw.admin('/')).json<NodeInfo>().hyperway.drain_timeout, 10000);

    fs.writeFileSync(gw.configPath, config(`  drain_timeout: 1234\n  headers: "off"\n  trusted_ips: 10.0.0.0/8\n  admin_token: ${TOKEN}\n  status_listen: 127.0.0.1:1\n`));
    gw.child.kill('SIGHUP');
    const withToken = { headers: { 'kong-admin-token': TOKEN } };
    const info = await waitFor('GET / to answer with the reloaded settings', async () => {
      const r = await request(`${gw.adminUrl}/`, withToken);
      return r.status === 200 && r.json<NodeInfo>().hyperway.drain_timeout === 1234 ? r.json<NodeInfo>() : undefined;
    }, { timeoutMs: 10000 });
    assert.deepEqual(info.configuration.headers, []);
    assert.deepEqual(info.configuration.trusted_ips, ['10.0.0.0/8']);
    assert.deepEqual(info.configuration.status_listen, [], 'status_listen needs a restart: the running value is shown');
    assert.equal((await gw.admin('/services')).status, 401, 'the reloaded admin_token is required');
    assert.match(gw.output(), /reload: status_listen changes only with a restart/);
    const after = await request(`${gw.proxyUrl}/s/x`);
    assert.equal(after.status, 200);
    assert.equal(after.headers.via, undefined, 'headers off: no Via');

    gw.child.kill('SIGTERM');
    await waitFor('the primary to exit', () => gw.child.exitCode !== null, { timeoutMs: 10000 });
    assert.match(gw.output(), /"msg":"shutting down","reason":"SIGTERM","drainTimeoutMs":1234/);
  });
});
