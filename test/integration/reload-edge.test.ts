// Reload (SIGHUP) edge cases (issue 13): settings that need a restart, SIGHUPs that overlap a
// running reload, and config files large enough to compile on the piscina thread.
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { LARGE_CONFIG_BYTES } from '../../src/primary/config';
import { request } from '../helpers/http-client';
import { freePorts, refused } from '../helpers/ports';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';

/** YAML for `n` services, each with one route `/<prefix>-<i>`, plus `extra` paths on one more. */
function bigConfig(port: number, prefix: string, n: number, extra: string[] = [], settings = ''): string {
  const parts = [`_format_version: "3.0"\n${settings}services:\n`];
  for (let i = 0; i < n; i++) {
    parts.push(`  - name: svc-${prefix}-${i}\n    url: http://127.0.0.1:${port}\n    routes:\n      - name: r-${prefix}-${i}\n        paths: [/${prefix}-${i}]\n`);
  }
  if (extra.length > 0) parts.push(`  - name: extra\n    url: http://127.0.0.1:${port}\n    routes:\n      - name: extra\n        paths: [${extra.join(', ')}]\n`);
  return parts.join('');
}

/** Replaces the config file in one step, so a reload never reads it half written. */
function replaceConfig(gw: Gateway, text: string): void {
  const tmp = `${gw.configPath}.next`;
  writeFileSync(tmp, text);
  renameSync(tmp, gw.configPath);
}

/** Threads of a process (/proc/<pid>/status): the primary gains one while the compile pool runs. */
function threads(pid: number): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

async function get(url: string): Promise<number> {
  return (await request(url)).status;
}

describe('reload edge cases', () => {
  let echo: EchoServer;
  const gateways: Gateway[] = [];

  before(async () => {
    echo = await startEchoServer('echo');
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await echo?.close();
  });

  async function start(config: string, env: Record<string, string> = {}): Promise<Gateway> {
    const gw = await startGateway({ config, env, readyTimeoutMs: 40_000 });
    gateways.push(gw);
    return gw;
  }

  async function settled(gw: Gateway, version: number): Promise<void> {
    await waitFor(`every worker on config version ${version}`, async () => {
      const s = await gw.status();
      return s.config_version === version && s.workers.every((w) => w.config_version === version);
    }, { timeoutMs: 30_000 }).catch((e: Error) => assert.fail(`${e.message}\n${gw.output()}`));
  }

  it('a reload that changes proxy_listen and workers keeps the running values, warns naming them, and applies the rest', { timeout: 60_000 }, async () => {
    const [p1, p2] = (await freePorts(2)) as [number, number];
    const file = (port: number, workers: number, paths: string[]): string =>
      bigConfig(echo.port, 'x', 0, paths, `hyperway:\n  proxy_listen: 127.0.0.1:${port}\n  workers: ${workers}\n`);
    // The file, not the helper's environment, sets both (an environment value would win over any file).
    const gw = await start(file(p1, 2, ['/a']), { HYPERWAY_PROXY_LISTEN: '', HYPERWAY_WORKERS: '' });
    const pids = (await gw.status()).workers.map((w) => w.pid);
    assert.equal(pids.length, 2);
    assert.equal(await get(`http://127.0.0.1:${p1}/a`), 200);

    replaceConfig(gw, file(p2, 3, ['/a', '/b']));
    gw.child.kill('SIGHUP');
    await settled(gw, 2);
    assert.equal(await get(`http://127.0.0.1:${p1}/b`), 200, 'the rest of the new file is served');
    assert.ok(await refused(p2), `nothing listens on the new proxy_listen ${p2}`);
    assert.deepEqual((await gw.status()).workers.map((w) => w.pid), pids, 'same two workers, none restarted');
    const out = gw.output();
    assert.match(out, new RegExp(`reload: proxy_listen changes only with a restart; keeping the running value","running":"127\\.0\\.0\\.1:${p1}","requested":"127\\.0\\.0\\.1:${p2}"`));
    assert.match(out, /reload: workers changes only with a restart; keeping the running value","running":2,"requested":3/);
    assert.doesNotMatch(out, /admin_listen changes/);

    // A replacement worker starts from the reloaded snapshot: it must still listen where the others do.
    process.kill(pids[1], 'SIGKILL');
    await waitFor('worker 1 replaced and listening', async () => {
      const r = await gw.admin('/status');
      return r.status === 200 && r.json<{ workers: { pid: number }[] }>().workers[1].pid !== pids[1];
    }, { timeoutMs: 20_000 });
    await gw.status();
    assert.ok(await refused(p2), `the replacement listens on the running ${p1}, not on ${p2}`);
    assert.equal((await gw.status()).workers.length, 2);
    assert.equal(await get(`http://127.0.0.1:${p1}/b`), 200);
  });

  it(`a config above ${LARGE_CONFIG_BYTES / 1024} KiB (compiled on the pool thread on reload) loads at start and on reload; a bad one is rejected with its line`, { timeout: 90_000 }, async () => {
    const first = bigConfig(echo.port, 'l1', 3000);
    assert.ok(Buffer.byteLength(first) > LARGE_CONFIG_BYTES, `${Buffer.byteLength(first)} bytes`);
    const gw = await start(first);
    assert.equal((await gw.status()).config_version, 1);
    assert.equal(await get(`${gw.proxyUrl}/l1-2999`), 200);
    assert.equal(await get(`${gw.proxyUrl}/l2-2999`), 404);

    replaceConfig(gw, bigConfig(echo.port, 'l2', 3000));
    gw.child.kill('SIGHUP');
    await settled(gw, 2);
    assert.equal(await get(`${gw.proxyUrl}/l2-2999`), 200);
    assert.equal(await get(`${gw.proxyUrl}/l1-2999`), 404);

    // The pool thread's problems come back as the inline path's do: file, line, path, message.
    const bad = bigConfig(echo.port, 'l3', 3000).replace('name: r-l3-2500\n', 'name: r-l3-2500\n        strip_path: maybe\n');
    const line = bad.slice(0, bad.indexOf('strip_path: maybe')).split('\n').length;
    replaceConfig(gw, bad);
    gw.child.kill('SIGHUP');
    await waitFor('the rejection on stderr', () => /reload rejected; config version 2 stays in place/.test(gw.output()), { timeoutMs: 30_000 })
      .catch((e: Error) => assert.fail(`${e.message}\n${gw.output()}`));
    assert.match(gw.output(), new RegExp(`kong\\.yml:${line}:\\d+: services\\[2500\\]\\.routes\\[0\\]\\.strip_path: expected a boolean`));
    await settled(gw, 2);
    assert.equal(await get(`${gw.proxyUrl}/l2-2999`), 200);
  });

  it('SIGHUPs during a running reload: one more reload follows, the last file is served, no worker restarts', { timeout: 90_000 }, async () => {
    const gw = await start(bigConfig(echo.port, 'v0', 0, ['/v0']), { HYPERWAY_LOG_LEVEL: 'notice' });
    const primary = gw.child.pid as number;
    const pids = (await gw.status()).workers.map((w) => w.pid);
    const idle = threads(primary);

    // A large file is slow to reload (pool thread, ~1 MB of YAML); send the rest while it runs.
    replaceConfig(gw, bigConfig(echo.port, 'a', 10_000, ['/va']));
    gw.child.kill('SIGHUP');
    // The pool thread starts after the file was read: from then on, this reload is running.
    await waitFor('the reload of the large file to start', () => threads(primary) > idle, { timeoutMs: 10_000, intervalMs: 2 });
    replaceConfig(gw, bigConfig(echo.port, 'b', 0, ['/vb']));
    gw.child.kill('SIGHUP');
    replaceConfig(gw, bigConfig(echo.port, 'c', 0, ['/vc']));
    gw.child.kill('SIGHUP');
    gw.child.kill('SIGHUP');

    // The large reload is over once its thread is gone; then the queued one runs with the last file.
    await waitFor('the pool thread to end', () => threads(primary) <= idle, { timeoutMs: 30_000 });
    await waitFor('the last file to be served', async () => (await get(`${gw.proxyUrl}/vc`)) === 200, { timeoutMs: 30_000 })
      .catch((e: Error) => assert.fail(`${e.message}\n${gw.output()}`));
    const version = (await gw.status()).config_version;
    await settled(gw, version);
    const reloads = [...gw.output().matchAll(/"msg":"config reloaded","version":(\d+)/g)].map((m) => Number(m[1]));
    // The large file, then one reload for the SIGHUPs that came meanwhile (not one each: 2, 3, and
    // a 4 only if the large reload ended between the last two signals), each a new version.
    assert.ok(reloads.length >= 2 && reloads.length <= 3, `reloads ${reloads.join(', ')}`);
    assert.deepEqual(reloads, reloads.map((_, i) => i + 2), gw.output());
    assert.equal(version, reloads[reloads.length - 1]);
    assert.equal(await get(`${gw.proxyUrl}/vb`), 404);
    assert.equal(await get(`${gw.proxyUrl}/va`), 404);
    assert.equal(await get(`${gw.proxyUrl}/v0`), 404);
    const after = (await gw.status()).workers;
    assert.deepEqual(after.map((w) => w.pid), pids, 'no worker was restarted');
    assert.deepEqual(after.map((w) => w.restarts), [0, 0]);
  });
});
