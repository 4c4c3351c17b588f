import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from '../../helpers/http-client';
import { startGateway, type Gateway } from '../../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../../helpers/upstream';
import { waitFor } from '../../helpers/wait';

const SERVICE_ID = '5b1e8f43-6a1c-4b7e-9d2a-0c1f2e3d4a51';
const ROUTE_ID = '8c2d9e54-7b2d-4c8f-8e3b-1d2f3e4a5b62';

interface Line {
  request: { method: string; uri: string; headers: Record<string, string> };
  response: { status: number; size: number };
  latencies: { request: number; kong: number; proxy: number };
  client_ip: string;
  started_at: number;
  route: { id: string; name: string } | null;
  service: { id: string; name: string; host: string; port: number } | null;
  upstream_uri: string;
}

function config(echoPort: number, path: string): object {
  return {
    _format_version: '3.0',
    services: [
      {
        id: SERVICE_ID,
        name: 'logged',
        url: `http://127.0.0.1:${echoPort}`,
        routes: [
          { id: ROUTE_ID, name: 'proxied', paths: ['/proxied'] },
          { name: 'who', paths: ['/who'] },
        ],
      },
    ],
    plugins: [
      { name: 'file-log', config: { path } },
      { name: 'request-termination', route: 'who', config: { status_code: 200, echo: true } },
    ],
  };
}

describe('file-log through the gateway', () => {
  let echo: EchoServer;
  let gw: Gateway;
  let dir: string;
  let logPath: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hyperway-file-log-'));
    logPath = join(dir, 'access.log');
    echo = await startEchoServer('fl-up');
    gw = await startGateway({ config: config(echo.port, logPath) });
  });
  after(async () => {
    await gw?.stop();
    await echo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function lines(): Line[] {
    if (!existsSync(logPath)) return [];
    const text = readFileSync(logPath, 'utf8');
    // Only whole lines count: a write may be in progress.
    return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
  }

  it("writes one line per request in Kong's serialize shape, from both workers into one file", async () => {
    // Fresh connections until both workers have answered; the echo names the worker.
    const pidByUri = new Map<string, number>();
    for (let i = 0; i < 200 && new Set(pidByUri.values()).size < 2; i++) {
      const res = await request(`${gw.proxyUrl}/who/${i}`);
      assert.equal(res.status, 200);
      pidByUri.set(`/who/${i}`, res.json<{ kong: { worker_pid: number } }>().kong.worker_pid);
    }
    assert.equal(new Set(pidByUri.values()).size, 2, 'both workers served a request');
    const proxied = await request(`${gw.proxyUrl}/proxied/item?q=1`, { headers: { 'x-marker': 'm1' } });
    assert.equal(proxied.status, 200);

    const expected = [...pidByUri.keys(), '/proxied/item?q=1'];
    const got = await waitFor('a log line for every request', () => {
      const l = lines();
      return l.length >= expected.length ? l : undefined;
    });
    assert.deepEqual(got.map((l) => l.request.uri).sort(), [...expected].sort(), 'exactly one line per request');
    for (const l of got.filter((x) => x.request.uri.startsWith('/who/'))) {
      assert.equal(l.response.status, 200);
      assert.equal(l.route?.name, 'who');
    }

    const line = got.find((l) => l.request.uri === '/proxied/item?q=1')!;
    assert.equal(line.request.method, 'GET');
    assert.equal(line.request.headers['x-marker'], 'm1');
    assert.equal(line.response.status, 200);
    assert.equal(line.response.size > 0, true);
    assert.equal(line.client_ip, '127.0.0.1');
    assert.deepEqual(line.route, { id: ROUTE_ID, name: 'proxied' });
    assert.equal(line.service?.id, SERVICE_ID);
    assert.equal(line.service?.host, '127.0.0.1');
    assert.equal(line.service?.port, echo.port);
    assert.equal(line.upstream_uri, '/item?q=1');
    for (const k of ['request', 'kong', 'proxy'] as const) assert.ok(Number.isInteger(line.latencies[k]) && line.latencies[k] >= 0, k);
    assert.ok(line.latencies.request >= line.latencies.proxy);
    assert.ok(Math.abs(line.started_at - Date.now()) < 60_000, String(line.started_at));
  });
});
