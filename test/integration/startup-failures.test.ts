// A gateway that cannot serve says why and exits 1 — never half-started, never a JS imitation of
// uWS, never a crash-looping worker, never a leftover shared-memory segment.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { runCli, startGateway, type CliResult, type Gateway } from '../helpers/start-gateway';
import { freePorts, listenLocal } from '../helpers/ports';
import { waitFor } from '../helpers/wait';
import { groupMembers } from '../helpers/proc';

/**
 * Segments of the primary with this pid (`hyperway.<pid>.<8 hex>`). Only its own: other gateways
 * (other test files, a developer's) may legitimately have live segments at the same time.
 */
function segmentsOf(pid: number): string[] {
  return fs.readdirSync('/dev/shm').filter((e) => e.startsWith(`hyperway.${pid}.`));
}

/** Nothing of a failed start is left: no segment, no process of its group. */
function assertNoSegment(r: CliResult): void {
  assert.ok(r.pid > 0, 'runCli reports the pid');
  assert.deepEqual(segmentsOf(r.pid), [], `the segment of primary ${r.pid} is removed`);
  assert.deepEqual(r.stragglers, [], 'no worker outlived the primary');
}

describe('startup failures', () => {
  let dir: string;
  let config: string;
  let proxyPort: number;
  let adminPort: number;
  let busy: Server;
  let gw: Gateway | undefined;
  let fake: string | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-startup-'));
    config = path.join(dir, 'kong.yml');
    fs.writeFileSync(config, '_format_version: "3.0"\nservices:\n  - name: s\n    url: http://127.0.0.1:9\n    routes:\n      - paths: [/]\n');
    [proxyPort, adminPort] = await freePorts(2);
    busy = createServer();
  });

  after(async () => {
    await gw?.stop(); // SIGTERM: a SIGKILLed primary would leave its segment behind (until reaped)
    if (fake !== undefined) fs.rmSync(fake, { force: true });
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
    const r = await runCli(['start', '--config', config], 20000, { ...env(), HYPERWAY_UWS: 'no-such-package' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /hyperway: no uWebSockets\.js native binary could be loaded:\n  HYPERWAY_UWS=no-such-package is not one of/);
    assert.equal(r.stderr.match(/^hyperway: no uWebSockets/gm)?.length, 1, 'said once, not once per worker');
    assertNoSegment(r);
  });

  it('exits 1 when the proxy port is taken by another program', async () => {
    const port = await listenLocal(busy);
    const r = await runCli(['start', '--config', config], 20000, { ...env(), HYPERWAY_PROXY_LISTEN: `127.0.0.1:${port}` });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`hyperway: cannot listen on 127\\.0\\.0\\.1:${port}`));
    assertNoSegment(r);
  });

  it('exits 1 listing every problem of a bad config, with file, line and field path, before starting anything', async () => {
    const bad = path.join(dir, 'bad.yml');
    fs.writeFileSync(bad, '_format_version: "3.0"\nservices:\n  - name: s\n    url: http://127.0.0.1:9\n    retries: -1\n    routes:\n      - paths: [nope]\n');
    // At info level every started worker would log `uWebSockets.js loaded` (notice for worker 0,
    // info for the others), so its absence shows that no worker ran.
    const r = await runCli(['start', '--config', bad], 20000, { ...env(), HYPERWAY_LOG_LEVEL: 'info' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /bad\.yml: 2 errors in declarative config/);
    assert.match(r.stderr, /bad\.yml:5:\d+: services\[0\]\.retries: /);
    assert.match(r.stderr, /bad\.yml:7:\d+: services\[0\]\.routes\[0\]\.paths\[0\]: /);
    assert.doesNotMatch(r.stderr, /uWebSockets\.js loaded/, 'no worker was started');
    assertNoSegment(r);
  });

  /** Over LARGE_CONFIG_BYTES (256 KiB): the primary forks its workers before this file compiles. */
  const largeConfig = (tail = '', count = 12_000): string => {
    const consumers = Array.from({ length: count }, (_, i) => `  - username: consumer-${String(i).padStart(6, '0')}\n`).join('');
    return `_format_version: "3.0"\nservices:\n  - name: s\n    url: http://127.0.0.1:9\n    routes:\n      - paths: [/]\nconsumers:\n${consumers}${tail}`;
  };

  it('a large bad config: its workers were forked before it compiled, none outlives the exit 1 that lists its problems', { timeout: 30000 }, async () => {
    const bad = path.join(dir, 'large-bad.yml');
    const text = largeConfig('  - username: last\n    nope: 1\n');
    assert.ok(Buffer.byteLength(text) > 256 * 1024);
    fs.writeFileSync(bad, text);
    const r = await runCli(['start', '--config', bad], 25000, env());
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /large-bad\.yml: 1 error in declarative config/);
    assert.match(r.stderr, /large-bad\.yml:12009:\d+: consumers\[12000\]\.nope: unknown field/);
    assertNoSegment(r);
  });

  it('a large config whose early-forked workers cannot load uWS: exits 1, said once', { timeout: 30000 }, async () => {
    const large = path.join(dir, 'large.yml');
    fs.writeFileSync(large, largeConfig());
    const r = await runCli(['start', '--config', large], 25000, { ...env(), HYPERWAY_UWS: 'no-such-package' });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.match(/^hyperway: no uWebSockets/gm)?.length, 1, `said once:\n${r.stderr}`);
    assertNoSegment(r);
  });

  it('a SIGTERM while a large config compiles (its workers already forked): they are stopped, its segment is removed, exit 0', { timeout: 30000 }, async () => {
    const large = path.join(dir, 'large-stopped.yml');
    // About 1.2 MB: its compile, on the primary's thread after the fork, takes about a second here.
    fs.writeFileSync(large, largeConfig('', 40_000));
    let segment: string | undefined;
    let forkedAt = 0;
    try {
      const r = await runCli(['start', '--config', large], 25000, { ...env(), HYPERWAY_LOG_LEVEL: 'info' }, (child) => {
        const pid = child.pid ?? 0;
        // The segment is created right before the workers are forked; both in the compile window.
        void waitFor('the segment and both workers', () => {
          segment ??= segmentsOf(pid)[0];
          return segment !== undefined && groupMembers(pid).length >= 3;
        }, { timeoutMs: 20000, intervalMs: 5 }).then(() => {
          forkedAt = Date.now();
          child.kill('SIGTERM');
        }, () => undefined);
      });
      assert.ok(segment !== undefined && forkedAt > 0, `the workers were forked before the exit:\n${r.stderr}`);
      assert.deepEqual({ code: r.code, signal: r.signal }, { code: 0, signal: null }, r.stderr);
      assert.match(r.stderr, /"msg":"stop signal before the start finished: stopping the workers","signal":"SIGTERM"/);
      assert.doesNotMatch(r.stderr, /primary started/, 'the signal came while the config compiled');
      assert.equal(fs.existsSync(`/dev/shm/${segment}`), false, `segment ${segment} is removed`);
      assert.deepEqual(r.stragglers, [], 'no worker outlived the primary');
    } finally {
      // Only the one this start created, and only if the gateway left it.
      if (segment !== undefined) fs.rmSync(`/dev/shm/${segment}`, { force: true });
    }
  });

  it('exits 1 when a worker keeps dying before it ever serves', { timeout: 30000 }, async () => {
    // Preloaded into every node process of the gateway; only workers carry HYPERWAY_ROLE=worker.
    const crash = path.join(dir, 'crash-worker.js');
    fs.writeFileSync(crash, "if (process.env.HYPERWAY_ROLE === 'worker') throw new Error('injected worker crash');\n");
    const t0 = Date.now();
    const r = await runCli(['start', '--config', config], 25000, { ...env(), NODE_OPTIONS: `--require ${crash}` });
    const took = Date.now() - t0;
    assert.equal(r.code, 1, r.stderr);
    assert.ok(took < 15000, `exited after ${took} ms`);
    assert.match(r.stderr, /injected worker crash/, 'the worker really ran the preload');
    const lines = r.stderr.match(/^hyperway: worker \d+ exited 3 times before serving.*$/gm) ?? [];
    assert.equal(lines.length, 1, `said once:\n${r.stderr}`);
    // The last exit: code 1 (uncaught exception).
    assert.match(lines[0] ?? '', /serving\b.*\b1\b/, 'the line names the last exit code');
    assertNoSegment(r);
  });

  it('a start reaps a stale segment and leaves a running gateway\'s segment alone', { timeout: 30000 }, async () => {
    gw = await startGateway({ config: fs.readFileSync(config, 'utf8') });
    const live = segmentsOf(gw.child.pid ?? 0);
    assert.equal(live.length, 1, `the running gateway has one segment: ${fs.readdirSync('/dev/shm').join(' ')}`);
    // Stale by its header (no magic, no heartbeat) and its age, though the pid in its name (ours)
    // is alive. A header without magic younger than the stale limit could be one being created.
    fake = `/dev/shm/hyperway.${process.pid}.${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(fake, Buffer.alloc(4096), { mode: 0o600 });
    const minuteAgo = new Date(Date.now() - 60_000);
    fs.utimesSync(fake, minuteAgo, minuteAgo);
    const r = await runCli(['start', '--config', config], 20000, { ...env(), HYPERWAY_UWS: 'no-such-package' });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(fs.existsSync(fake), false, 'the stale segment is removed');
    assert.deepEqual(segmentsOf(gw.child.pid ?? 0), live, 'the live segment is kept');
    // A replacement worker attaches to the segment by name: it must still be there to be found.
    const victim = (await gw.status()).workers[0];
    assert.ok(victim);
    process.kill(victim.pid, 'SIGKILL');
    await waitFor(
      `worker ${victim.id} to be replaced`,
      async () => (await gw?.status())?.workers.some((w) => w.id === victim.id && w.pid !== victim.pid && w.state === 'listening'),
      { timeoutMs: 10000, intervalMs: 100 },
    ).catch((e: Error) => assert.fail(`${e.message}\n${gw?.output()}`));
  });
});
