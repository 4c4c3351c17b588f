// The test helpers keep their promises: a gateway under test does not inherit the machine's
// Hyperway/Kong variables, a start whose port was taken is retried, and nothing a test starts
// (processes, shared-memory segments) outlives it, however the test process ends.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { groupMembers, isAlive } from '../helpers/proc';
import { runCli, startGateway, type Gateway } from '../helpers/start-gateway';
import { waitFor } from '../helpers/wait';

const CONFIG = { _format_version: '3.0', services: [{ name: 's', url: 'http://127.0.0.1:9', routes: [{ paths: ['/s'] }] }] };

function environ(pid: number): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) m.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return m;
}

/** Live processes whose environment holds `key=value` (ours only: others' environ is unreadable). */
function processesWith(key: string, value: string): number[] {
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      return isAlive(pid) && environ(pid).get(key) === value;
    } catch {
      return false;
    }
  });
}

describe('test helpers', () => {
  const gateways: Gateway[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-helpers-'));
  after(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a gateway under test does not inherit the test process's KONG_* / HYPERWAY_* variables", { timeout: 30000 }, async () => {
    const stray: Record<string, string> = {
      KONG_PROXY_LISTEN: '127.0.0.1:1',
      HYPERWAY_WORKERS: '3',
      KONG_HEADERS: 'off',
      HYPERWAY_MAX_REQUEST_HEADERS: '1',
    };
    const saved = Object.fromEntries(Object.keys(stray).map((k) => [k, process.env[k]]));
    Object.assign(process.env, stray);
    let gw: Gateway;
    try {
      gw = await startGateway({ config: CONFIG });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    gateways.push(gw);
    const status = await gw.status();
    assert.equal(status.workers.length, 2, 'the helper default, not the stray HYPERWAY_WORKERS=3');
    for (const pid of [gw.child.pid ?? 0, ...status.workers.map((w) => w.pid)]) {
      const env = environ(pid);
      for (const k of ['KONG_PROXY_LISTEN', 'KONG_HEADERS', 'HYPERWAY_MAX_REQUEST_HEADERS']) assert.equal(env.get(k), undefined, `${k} reached pid ${pid}`);
      assert.equal(env.get('HYPERWAY_WORKERS'), '2', `pid ${pid}`);
    }
    // What the stray values would have done: KONG_HEADERS=off drops the Server header, a limit of
    // one request header refuses this request.
    const res = await request(`${gw.proxyUrl}/nowhere`, { headers: { 'x-a': '1', 'x-b': '2' } });
    assert.equal(res.status, 404, res.text);
    assert.match(String(res.headers.server ?? ''), /hyperway/i, 'server_tokens still on');
  });

  it('a start whose port another process took is retried on fresh ports', { timeout: 60000 }, async () => {
    // Preloaded into the gateway's primary on its first try only: it takes the proxy port the
    // helper picked, long before the workers try to listen there.
    const marker = path.join(dir, 'took-port');
    const preload = path.join(dir, 'take-proxy-port.js');
    fs.writeFileSync(
      preload,
      `const fs = require('fs');
       if (!process.env.HYPERWAY_ROLE && !fs.existsSync(${JSON.stringify(marker)})) {
         const [host, port] = process.env.HYPERWAY_PROXY_LISTEN.split(':');
         require('net').createServer().listen({ host, port: Number(port) }, () => fs.writeFileSync(${JSON.stringify(marker)}, port));
       }\n`,
    );
    const gw = await startGateway({ config: CONFIG, env: { NODE_OPTIONS: `--require ${preload}` } });
    gateways.push(gw);
    const taken = Number(fs.readFileSync(marker, 'utf8'));
    assert.ok(taken > 0, 'the first try lost its proxy port');
    assert.notEqual(gw.proxyPort, taken);
    assert.equal((await request(`${gw.proxyUrl}/nowhere`)).status, 404, 'the retried gateway serves');
  });

  it('stop() after the primary was SIGKILLed leaves no worker and removes its segment', { timeout: 30000 }, async () => {
    const gw = await startGateway({ config: CONFIG });
    gateways.push(gw);
    const pgid = gw.child.pid ?? 0;
    const workers = (await gw.status()).workers.map((w) => w.pid);
    assert.ok(gw.segment?.startsWith(`/hyperway.${pgid}.`), `segment ${gw.segment}`);
    assert.ok(fs.existsSync(`/dev/shm${gw.segment}`));
    process.kill(pgid, 'SIGKILL');
    await gw.stop();
    assert.deepEqual(workers.filter(isAlive), []);
    assert.deepEqual(groupMembers(pgid), []);
    assert.equal(fs.existsSync(`/dev/shm${gw.segment}`), false, 'the segment of a SIGKILLed primary is removed');
  });

  it("runCli's timeout kills the CLI's whole process group, workers included", { timeout: 30000 }, async () => {
    const tag = randomBytes(6).toString('hex');
    const config = path.join(dir, 'kong.yml');
    fs.writeFileSync(config, JSON.stringify(CONFIG));
    // A start that succeeds never exits on its own: the timeout ends it.
    const run = runCli(['start', '--config', config], 8000, { HW_TEST_TAG: tag, HYPERWAY_WORKERS: '2', HYPERWAY_PROXY_LISTEN: '127.0.0.1:0', HYPERWAY_ADMIN_LISTEN: '127.0.0.1:0' });
    await waitFor('the primary and both workers to run', () => processesWith('HW_TEST_TAG', tag).length >= 3, { timeoutMs: 7000 });
    await assert.rejects(run, /did not exit within 8000 ms/);
    const left = processesWith('HW_TEST_TAG', tag);
    for (const p of left) process.kill(p, 'SIGKILL'); // only when runCli failed to: ours to clean
    assert.deepEqual(left, [], 'no process of the run is left');
  });

  for (const how of ['exit', 'throw', 'sigterm'] as const) {
    it(`a test process that ends by ${how} leaves no gateway, worker, stopped upstream or segment`, { timeout: 40000 }, async () => {
      const child = spawn(process.execPath, [path.resolve(__dirname, '../helpers/leaky-child.js'), how], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      await new Promise((r) => child.once('exit', r));
      // What the child started inherited its stderr: if it outlived the child, the pipe stays open.
      child.stdout.destroy();
      child.stderr.destroy();
      const started = JSON.parse(out.split('\n')[0] ?? '') as { blackhole: number; primary: number; workers: number[]; segment: string; configPath: string };
      const pids = [started.blackhole, started.primary, ...started.workers];
      try {
        assert.equal(started.workers.length, 2, err);
        assert.ok(started.segment, 'the segment was known');
        // SIGKILL is immediate; the orphans are reaped by init a moment later.
        await waitFor('every process the child started to be gone', () => pids.every((p) => !isAlive(p)), { timeoutMs: 5000 }).catch(() =>
          assert.fail(`still alive: ${pids.filter(isAlive).join(' ')}\n${err}`));
        assert.equal(fs.existsSync(`/dev/shm${started.segment}`), false, 'segment removed');
        assert.equal(fs.existsSync(path.dirname(started.configPath)), false, 'config folder removed');
      } finally {
        // Only when the hooks failed: what the child started is this test's to clean up.
        for (const p of pids.filter(isAlive)) {
          for (const sig of ['SIGCONT', 'SIGKILL'] as const) {
            try {
              process.kill(-p, sig);
            } catch {
              // not a group leader (a worker) or gone
            }
            try {
              process.kill(p, sig);
            } catch {
              // gone
            }
          }
        }
        if (started.segment) fs.rmSync(`/dev/shm${started.segment}`, { force: true });
        fs.rmSync(path.dirname(started.configPath), { recursive: true, force: true });
      }
    });
  }
});
