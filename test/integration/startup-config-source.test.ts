// Which config file a start loads: --config, HYPERWAY_CONFIG, then Kong's KONG_DECLARATIVE_CONFIG
// (a Kong container's environment carried over); none at all is an error saying how to give one,
// never the demo config.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from '../helpers/http-client';
import { runCli } from '../helpers/start-gateway';
import { startWithEnv, type EnvGateway } from '../helpers/start-with-env';
import { freePorts } from '../helpers/ports';
import { startEchoServer, type EchoServer } from '../helpers/upstream';

describe('startup: the config file comes from --config, HYPERWAY_CONFIG or KONG_DECLARATIVE_CONFIG', () => {
  let dir: string;
  let echo: EchoServer;
  const running: EnvGateway[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-config-source-'));
    echo = await startEchoServer('echo');
  });
  after(async () => {
    await Promise.all(running.map((g) => g.stop()));
    await echo?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function configWith(name: string, routePath: string): string {
    const file = path.join(dir, `${name}.yml`);
    fs.writeFileSync(file, `_format_version: "3.0"\nservices:\n  - name: ${name}\n    url: http://127.0.0.1:${echo.port}\n    routes:\n      - paths: [${routePath}]\n`);
    return file;
  }

  it('KONG_DECLARATIVE_CONFIG is the config file when neither --config nor HYPERWAY_CONFIG is given', async () => {
    const file = configWith('kong', '/from-kong-env');
    const [proxyPort, adminPort] = await freePorts(2);
    const gw = startWithEnv(['start'], {
      KONG_DECLARATIVE_CONFIG: file, HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`, HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
      HYPERWAY_WORKERS: '2', HYPERWAY_LOG_LEVEL: 'warn',
    });
    running.push(gw);
    await gw.until('GET /status to answer 200', async () => (await request(`http://127.0.0.1:${adminPort}/status`, { timeoutMs: 1000 })).status === 200);
    const r = await request(`http://127.0.0.1:${proxyPort}/from-kong-env/abc`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json<{ url: string }>().url, '/abc', 'routed by the route of the file KONG_DECLARATIVE_CONFIG names');
    const root = await request(`http://127.0.0.1:${adminPort}/`);
    assert.equal(root.json<{ configuration: { declarative_config: string } }>().configuration.declarative_config, file);
  });

  it('HYPERWAY_CONFIG wins over KONG_DECLARATIVE_CONFIG; `check` follows the same order', async () => {
    const ours = configWith('ours', '/ours');
    const bad = path.join(dir, 'bad.yml');
    fs.writeFileSync(bad, '_format_version: "3.0"\nservices: [1]\n');
    const ok = await runCli(['check'], 15000, { HYPERWAY_CONFIG: ours, KONG_DECLARATIVE_CONFIG: bad });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `${ours}: OK\n`);
    const fromKong = await runCli(['check'], 15000, { KONG_DECLARATIVE_CONFIG: bad });
    assert.equal(fromKong.code, 1);
    assert.match(fromKong.stderr, /bad\.yml/);
  });

  it('start without any config fails at once, saying how to give one; it never serves the demo config', async () => {
    const r = await runCli(['start'], 15000, { HYPERWAY_WORKERS: '2' });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr,
      'hyperway: no config file given: pass --config FILE, or set HYPERWAY_CONFIG or KONG_DECLARATIVE_CONFIG (a Kong declarative config, kong.yml); ' +
      '`hyperway start --demo` runs the bundled demo config\n');
    const empty = await runCli(['start'], 15000, { HYPERWAY_CONFIG: '', KONG_DECLARATIVE_CONFIG: ' ' });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /no config file given/);
  });
});
