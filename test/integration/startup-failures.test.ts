// A gateway that cannot serve says why and exits 1 — never half-started, never a JS imitation of
// uWS, never a leftover shared-memory segment.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:net';
import { runCli } from '../helpers/start-gateway';
import { freePorts, listenLocal } from '../helpers/ports';

function segments(): string[] {
  return fs.readdirSync('/dev/shm').filter((e) => e.startsWith('hyperway.')).sort();
}

describe('startup failures', () => {
  let dir: string;
  let config: string;
  let proxyPort: number;
  let adminPort: number;
  let busy: Server;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-startup-'));
    config = path.join(dir, 'kong.yml');
    fs.writeFileSync(config, '_format_version: "3.0"\nservices:\n  - name: s\n    url: http://127.0.0.1:9\n    routes:\n      - paths: [/]\n');
    [proxyPort, adminPort] = await freePorts(2);
    busy = createServer();
  });

  after(() => {
    busy.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => ({
    HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`,
    HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
    HYPERWAY_WORKERS: '2',
    HYPERWAY_LOG_LEVEL: 'error',
  });

  it('exits 1 naming the reason when no uWS binary can be loaded', async () => {
    const before = segments();
    const r = await runCli(['start', '--config', config], 20000, { ...env(), HYPERWAY_UWS: 'no-such-package' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /hyperway: no uWebSockets\.js native binary could be loaded:\n  HYPERWAY_UWS=no-such-package is not one of/);
    assert.equal(r.stderr.match(/^hyperway: no uWebSockets/gm)?.length, 1, 'said once, not once per worker');
    assert.deepEqual(segments(), before, 'the shared-memory segment is removed');
  });

  it('exits 1 when the proxy port is taken by another program', async () => {
    const port = await listenLocal(busy);
    const r = await runCli(['start', '--config', config], 20000, { ...env(), HYPERWAY_PROXY_LISTEN: `127.0.0.1:${port}` });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`hyperway: cannot listen on 127\\.0\\.0\\.1:${port}`));
  });

  it('exits 1 listing every problem of a bad config, with file, line and field path, before starting anything', async () => {
    const bad = path.join(dir, 'bad.yml');
    fs.writeFileSync(bad, '_format_version: "3.0"\nservices:\n  - name: s\n    url: http://127.0.0.1:9\n    retries: -1\n    routes:\n      - paths: [nope]\n');
    const r = await runCli(['start', '--config', bad], 20000, env());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.yml: 2 errors in declarative config/);
    assert.match(r.stderr, /bad\.yml:5:\d+: services\[0\]\.retries: /);
    assert.match(r.stderr, /bad\.yml:7:\d+: services\[0\]\.routes\[0\]\.paths\[0\]: /);
    assert.doesNotMatch(r.stderr, /worker/, 'no worker was started');
  });
});
