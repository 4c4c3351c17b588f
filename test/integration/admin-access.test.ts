// Who may change the gateway: the Admin API on loopback by default; beyond loopback only with a
// token (Kong-Admin-Token) or an explicit opt-out; `admin_listen: off` means no Admin API at all.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from '../helpers/http-client';
import { runCli } from '../helpers/start-gateway';
import { listeningPorts, startWithEnv, type EnvGateway } from '../helpers/start-with-env';
import { freePorts } from '../helpers/ports';

const TOKEN = 'test-token-0123456789abcdef';

describe('Admin API access: loopback by default, a token or an explicit opt-out beyond it, off means off', () => {
  let dir: string;
  let config: string;
  const running: EnvGateway[] = [];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-admin-access-'));
    config = path.join(dir, 'kong.yml');
    fs.writeFileSync(config, '_format_version: "3.0"\n');
  });
  after(async () => {
    await Promise.all(running.map((g) => g.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(env: NodeJS.ProcessEnv): Promise<EnvGateway> {
    const gw = startWithEnv(['start', '--config', config], { HYPERWAY_WORKERS: '2', HYPERWAY_LOG_LEVEL: 'warn', ...env });
    running.push(gw);
    return gw;
  }

  it('refuses to start with the Admin API beyond loopback and no token, saying how to fix it', async () => {
    const [proxyPort, adminPort] = await freePorts(2);
    const r = await runCli(['start', '--config', config], 20000, {
      HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`, KONG_ADMIN_LISTEN: `0.0.0.0:${adminPort}`, HYPERWAY_WORKERS: '2',
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`env KONG_ADMIN_LISTEN: the Admin API would listen on 0\\.0\\.0\\.0:${adminPort}, beyond loopback`));
    assert.match(r.stderr, /set admin_token \(HYPERWAY_ADMIN_TOKEN; clients send it in Kong-Admin-Token\), or admin_allow_unauthenticated_remote: true/);
  });

  it('with admin_token, every Admin API request needs Kong-Admin-Token (401 otherwise); /status stays open', async () => {
    const [proxyPort, adminPort] = await freePorts(2);
    const gw = await start({ HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`, HYPERWAY_ADMIN_LISTEN: `0.0.0.0:${adminPort}`, HYPERWAY_ADMIN_TOKEN: TOKEN });
    const admin = `http://127.0.0.1:${adminPort}`;
    await gw.until('GET /status to answer 200', async () => (await request(`${admin}/status`, { timeoutMs: 1000 })).status === 200);
    const json = { 'content-type': 'application/json' };
    const none = await request(`${admin}/services`);
    assert.equal(none.status, 401);
    assert.deepEqual(none.json(), { message: 'Invalid credentials. Token or User credentials required' });
    assert.equal((await request(`${admin}/services`, { headers: { 'kong-admin-token': TOKEN.slice(0, -1) } })).status, 401);
    assert.equal((await request(`${admin}/services`, { headers: { 'kong-admin-token': TOKEN + 'x' } })).status, 401);
    const refused = await request(`${admin}/services`, { method: 'POST', headers: json, body: JSON.stringify({ name: 's', url: 'http://127.0.0.1:9' }) });
    assert.equal(refused.status, 401);
    assert.equal((await request(`${admin}/config`, { method: 'POST', headers: json, body: '{"_format_version":"3.0"}' })).status, 401);
    const created = await request(`${admin}/services`, { method: 'POST', headers: { ...json, 'Kong-Admin-Token': TOKEN }, body: JSON.stringify({ name: 's', url: 'http://127.0.0.1:9' }) });
    assert.equal(created.status, 201, created.text);
    const list = await request(`${admin}/services`, { headers: { 'kong-admin-token': TOKEN } });
    assert.equal(list.status, 200);
    assert.deepEqual(list.json<{ data: Array<{ name: string }> }>().data.map((s) => s.name), ['s'], 'only the request with the token changed anything');
    assert.equal((await request(`${admin}/`)).status, 401);
    assert.equal((await request(`${admin}/status/ready`)).status, 200);
  });

  it('admin_allow_unauthenticated_remote: true serves the Admin API beyond loopback without a token', async () => {
    const [proxyPort, adminPort] = await freePorts(2);
    const gw = await start({ HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`, HYPERWAY_ADMIN_LISTEN: `0.0.0.0:${adminPort}`, HYPERWAY_ADMIN_ALLOW_UNAUTHENTICATED_REMOTE: 'true' });
    const admin = `http://127.0.0.1:${adminPort}`;
    await gw.until('GET /status to answer 200', async () => (await request(`${admin}/status`, { timeoutMs: 1000 })).status === 200);
    assert.equal((await request(`${admin}/services`)).status, 200);
  });

  it('admin_listen: off serves the proxy and no Admin API at all', async () => {
    const [proxyPort, statusPort] = await freePorts(2);
    const gw = await start({ HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`, KONG_ADMIN_LISTEN: 'off', KONG_STATUS_LISTEN: `127.0.0.1:${statusPort}` });
    await gw.until('GET /status on status_listen to answer 200', async () => (await request(`http://127.0.0.1:${statusPort}/status`, { timeoutMs: 1000 })).status === 200);
    assert.equal((await request(`http://127.0.0.1:${proxyPort}/nothing`)).status, 404, 'the proxy serves');
    assert.deepEqual(listeningPorts(gw.pid), [statusPort], 'the primary listens on status_listen only');
    assert.doesNotMatch(gw.output(), /not supported for admin_listen/);
  });
});
