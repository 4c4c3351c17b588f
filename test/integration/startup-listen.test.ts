// Kong's listen strings as a Kong container sets them: every plain entry is served by every
// worker (IPv6 included), proxy_listen and admin_listen ssl entries are served over TLS, other http2-only
// entries are skipped with a warning; proxy_protocol and "nothing plain left" refuse to start.
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { request } from '../helpers/http-client';
import { runCli } from '../helpers/start-gateway';
import { listeningPorts, startWithEnv, type EnvGateway } from '../helpers/start-with-env';
import { freePorts } from '../helpers/ports';
import { startEchoServer, type EchoServer } from '../helpers/upstream';

/** GET over IPv6 loopback (the test client takes a hostname, not a bracketed literal). */
function get6(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '::1', family: 6, port, path: p, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe("startup: Kong's listen strings", () => {
  let dir: string;
  let config: string;
  let echo: EchoServer;
  const running: EnvGateway[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-listen-'));
    echo = await startEchoServer('echo');
    config = path.join(dir, 'kong.yml');
    fs.writeFileSync(config, `_format_version: "3.0"\nservices:\n  - name: s\n    url: http://127.0.0.1:${echo.port}\n    routes:\n      - paths: [/s]\n`);
  });
  after(async () => {
    await Promise.all(running.map((g) => g.stop()));
    await echo?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every plain entry is served by every worker (IPv6 too), proxy_listen ssl entries too (TLS); admin ssl entries serve the Admin API over TLS', async () => {
    const [p1, p2, p3, a1, a2] = await freePorts(5);
    const gw = startWithEnv(['start', '--config', config], {
      KONG_PROXY_LISTEN: `127.0.0.1:${p1} reuseport backlog=16384, [::1]:${p2}, 127.0.0.1:${p3} http2 ssl`,
      KONG_ADMIN_LISTEN: `127.0.0.1:${a1}, 127.0.0.1:${a2} ssl`,
      HYPERWAY_WORKERS: '2', HYPERWAY_LOG_LEVEL: 'warn',
    });
    running.push(gw);
    const admin = `http://127.0.0.1:${a1}`;
    const status = await gw.until('GET /status to answer 200', async () => {
      const r = await request(`${admin}/status`, { timeoutMs: 1000 });
      return r.status === 200 ? r.json<{ workers: Array<{ pid: number }> }>() : undefined;
    });
    for (const w of status.workers) assert.deepEqual(listeningPorts(w.pid), [p1, p2, p3].sort((a, b) => a - b), `worker ${w.pid} listens on each plain entry and the ssl one`);
    const v4 = await request(`http://127.0.0.1:${p1}/s/four`);
    assert.equal(v4.status, 200, v4.text);
    const v6 = await get6(p2, '/s/six');
    assert.equal(v6.status, 200, v6.body);
    assert.equal(JSON.parse(v6.body).url, '/six');
    const overTls = await new Promise<number>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: a2, path: '/status', rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(overTls, 200, 'the admin ssl entry serves the Admin API over TLS');
    const out = gw.output();
    assert.match(out, new RegExp(`backlog=16384 on 127\\.0\\.0\\.1:${p1} ignored`));
    assert.doesNotMatch(out, /KONG_ADMIN_LISTEN: skipped/);
    const root = (await request(`${admin}/`)).json<{ configuration: { proxy_listen: string[]; admin_listen: string[] } }>();
    assert.deepEqual(root.configuration.proxy_listen, [`127.0.0.1:${p1}`, `[::1]:${p2}`]);
    assert.deepEqual(root.configuration.admin_listen, [`127.0.0.1:${a1}`, `127.0.0.1:${a2} ssl`]);
  });

  it('proxy_protocol, or no plain entry left, refuses to start naming the entry', async () => {
    const [p1, a1] = await freePorts(2);
    const pp = await runCli(['start', '--config', config], 20000, { KONG_PROXY_LISTEN: `127.0.0.1:${p1} proxy_protocol`, HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${a1}` });
    assert.equal(pp.code, 1, pp.stderr);
    assert.match(pp.stderr, new RegExp(`env KONG_PROXY_LISTEN: proxy_protocol listeners are not supported yet: '127\\.0\\.0\\.1:${p1} proxy_protocol'`));
    const ssl = await runCli(['start', '--config', config], 20000, { KONG_PROXY_LISTEN: `127.0.0.1:${p1} ssl`, HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${a1}` });
    assert.equal(ssl.code, 1, ssl.stderr);
    assert.match(ssl.stderr, /env KONG_PROXY_LISTEN: an ssl entry needs a plain HTTP entry beside it/);
  });
});
