import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from '../../helpers/http-client';
import { startGateway, type Gateway } from '../../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../../helpers/upstream';

function config(echoPort: number): object {
  const route = (name: string): object => ({ name, paths: [`/${name}`] });
  return {
    _format_version: '3.0',
    services: [{ name: 'echo', url: `http://127.0.0.1:${echoPort}`, routes: ['allow-local', 'allow-ten', 'deny-local', 'custom'].map(route) }],
    plugins: [
      { name: 'ip-restriction', route: 'allow-local', config: { allow: ['127.0.0.1'] } },
      { name: 'ip-restriction', route: 'allow-ten', config: { allow: ['10.0.0.0/8'] } },
      { name: 'ip-restriction', route: 'deny-local', config: { deny: ['127.0.0.0/8', '::1'] } },
      { name: 'ip-restriction', route: 'custom', config: { deny: ['127.0.0.1'], status: 401, message: 'Go away' } },
    ],
  };
}

async function get(gw: Gateway, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await request(gw.proxyUrl + path, { headers });
  // kong.response.error adds the request id; the rest of the body is what the plugin chose.
  const { request_id: id, ...body } = res.json<{ request_id?: string }>();
  if (res.status !== 200) assert.match(String(id), /^[0-9a-f]{32}$/);
  return { status: res.status, body };
}

describe('ip-restriction through the gateway', () => {
  let echo: EchoServer;
  let direct: Gateway;
  let realIp: Gateway;
  let forwarded: Gateway;

  before(async () => {
    echo = await startEchoServer('ipr-up');
    const cfg = config(echo.port);
    [direct, realIp, forwarded] = await Promise.all([
      startGateway({ config: cfg }),
      startGateway({ config: cfg, env: { HYPERWAY_TRUSTED_IPS: '127.0.0.1' } }),
      startGateway({
        config: cfg,
        env: { HYPERWAY_TRUSTED_IPS: '127.0.0.1', HYPERWAY_REAL_IP_HEADER: 'X-Forwarded-For', HYPERWAY_REAL_IP_RECURSIVE: 'on' },
      }),
    ]);
  });
  after(async () => {
    await Promise.all([direct?.stop(), realIp?.stop(), forwarded?.stop()]);
    await echo?.close();
  });

  it('checks allow and deny against the client address', async () => {
    const upstreamBefore = echo.requests.length;
    assert.equal((await get(direct, '/allow-local/a')).status, 200);
    assert.deepEqual(await get(direct, '/allow-ten/a'), { status: 403, body: { message: 'IP address not allowed: 127.0.0.1' } });
    assert.deepEqual(await get(direct, '/deny-local/a'), { status: 403, body: { message: 'IP address not allowed: 127.0.0.1' } });
    assert.deepEqual(echo.requests.slice(upstreamBefore).map((r) => r.url), ['/a'], 'rejected requests never reach the upstream');
  });

  it('answers with the configured status and message', async () => {
    assert.deepEqual(await get(direct, '/custom/a'), { status: 401, body: { message: 'Go away' } });
  });

  it('ignores X-Real-IP and X-Forwarded-For from a peer that is not trusted', async () => {
    const spoof = { 'x-real-ip': '10.1.2.3', 'x-forwarded-for': '10.1.2.3' };
    assert.equal((await get(direct, '/allow-ten/a', spoof)).status, 403);
    assert.equal((await get(direct, '/deny-local/a', spoof)).status, 403);
  });

  it('with trusted_ips, the X-Real-IP address is the one checked', async () => {
    assert.equal((await get(realIp, '/allow-ten/a', { 'x-real-ip': '10.1.2.3' })).status, 200);
    assert.equal((await get(realIp, '/deny-local/a', { 'x-real-ip': '10.1.2.3' })).status, 200);
    assert.deepEqual(await get(realIp, '/allow-ten/a', { 'x-real-ip': '192.168.7.7' }), {
      status: 403,
      body: { message: 'IP address not allowed: 192.168.7.7' },
    });
    // X-Forwarded-For is not the configured real_ip_header here.
    assert.equal((await get(realIp, '/allow-ten/a', { 'x-forwarded-for': '10.1.2.3' })).status, 403);
    // Without the header the connection's address still counts.
    assert.equal((await get(realIp, '/deny-local/a')).status, 403);
  });

  it('with real_ip_header X-Forwarded-For (recursive), the rightmost untrusted address counts', async () => {
    assert.equal((await get(forwarded, '/allow-ten/a', { 'x-forwarded-for': '10.1.2.3, 127.0.0.1' })).status, 200);
    assert.deepEqual(await get(forwarded, '/allow-ten/a', { 'x-forwarded-for': '10.1.2.3, 172.16.0.9' }), {
      status: 403,
      body: { message: 'IP address not allowed: 172.16.0.9' },
    });
    assert.equal((await get(forwarded, '/allow-ten/a', { 'x-real-ip': '10.1.2.3' })).status, 403);
    assert.equal((await get(forwarded, '/custom/a', { 'x-forwarded-for': '10.9.9.9' })).status, 200);
  });
});
