// Control-plane faults found in review (issue 17): a fork that fails without an exit, a worker
// forked from other code than its primary (an upgrade in place), a SIGHUP while the first config
// loads. Each through the real primary and its 2 workers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from '../helpers/http-client';
import { isAlive } from '../helpers/proc';
import { startGateway, CLI_PATH, type Gateway, type GatewayStatus } from '../helpers/start-gateway';
import { startWithEnv, type EnvGateway } from '../helpers/start-with-env';
import { freePorts } from '../helpers/ports';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';

const fdNumbers = (pid: number): number[] => fs.readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b);

function lowestFreeFd(pid: number): number {
  const used = new Set(fdNumbers(pid));
  let n = 0;
  while (used.has(n)) n++;
  return n;
}

/** The soft RLIMIT_NOFILE of `pid`. */
function softNofile(pid: number): string {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
  assert.ok(m, 'limits readable');
  return m[1];
}

describe('control-plane faults', () => {
  let echo: EchoServer;
  let dir: string;
  const gateways: Gateway[] = [];
  const others: EnvGateway[] = [];

  before(async () => {
    echo = await startEchoServer('echo');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-control-faults-'));
  });
  after(async () => {
    await Promise.all([...gateways.map((g) => g.stop()), ...others.map((g) => g.stop())]);
    await echo?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const yaml = (p: string): string => `_format_version: "3.0"\nservices:\n  - name: s\n    url: http://127.0.0.1:${echo.port}\n    routes:\n      - paths: [${p}]\n`;

  it('a fork that fails with an error and no exit (EMFILE) is retried: the slot gets a worker once forks work again', async () => {
    const gw = await startGateway({ config: yaml('/s') });
    gateways.push(gw);
    const pid = gw.child.pid as number;
    const before = await gw.status();
    const victim = before.workers[0];
    // The status request's connection closes on the primary's side a moment after its answer.
    let last = '';
    await waitFor('the primary to hold a steady set of fds', () => {
      const now = fdNumbers(pid).join(',');
      const steady = now === last;
      last = now;
      return steady;
    }, { intervalMs: 200 });
    const soft = softNofile(pid);
    // No fd number is free below the limit: the channel fd of the killed worker is the one hole,
    // and a fork needs two (its IPC socket pair), so it fails with EMFILE.
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${lowestFreeFd(pid)}:`]);
    try {
      process.kill(victim.pid, 'SIGKILL');
      await waitFor('the failed fork (EMFILE) to be logged', () => /EMFILE/.test(gw.output()), { timeoutMs: 10000 });
    } finally {
      execFileSync('prlimit', ['--pid', String(pid), `--nofile=${soft}:`]);
    }
    assert.ok(isAlive(pid), 'the primary survived');
    const healed = await waitFor('slot 0 to serve with a new worker', async () => {
      const s = await gw.status();
      const w = s.workers.find((x) => x.id === victim.id);
      return w !== undefined && w.pid !== victim.pid && w.pid > 0 && w.state === 'listening' ? s : undefined;
    }, { timeoutMs: 20000, intervalMs: 200 });
    assert.equal(healed.workers.filter((w) => w.state === 'listening').length, 2);
    assert.equal((await request(`${gw.proxyUrl}/s/x`)).status, 200);
  });

  it('a replacement worker forked from other code than its primary refuses to serve, saying why; the primary and the other worker go on', async () => {
    // A build of our own to "upgrade in place": dist/src copied, node_modules linked.
    const build = path.join(dir, 'build');
    fs.cpSync(path.resolve(path.dirname(CLI_PATH)), path.join(build, 'dist', 'src'), { recursive: true });
    fs.symlinkSync(fs.realpathSync(path.resolve(path.dirname(CLI_PATH), '..', '..', 'node_modules')), path.join(build, 'node_modules'));
    const config = path.join(dir, 'upgrade.yml');
    fs.writeFileSync(config, yaml('/s'));
    const [proxyPort, adminPort] = await freePorts(2);
    const gw = startWithEnv(['start', '--config', config], {
      HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`, HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${adminPort}`, HYPERWAY_WORKERS: '2', HYPERWAY_LOG_LEVEL: 'warn',
    }, path.join(build, 'dist', 'src', 'main.js'));
    others.push(gw);
    const admin = `http://127.0.0.1:${adminPort}`;
    const status = (): Promise<GatewayStatus> => request(`${admin}/status`, { timeoutMs: 2000 }).then((r) => r.json<GatewayStatus>());
    const first = await gw.until('every worker to listen', async () => ((await request(`${admin}/status`, { timeoutMs: 1000 })).status === 200 ? status() : undefined));
    fs.appendFileSync(path.join(build, 'dist', 'src', 'shared', 'version.js'), '\n// upgraded in place\n');
    process.kill(first.workers[0].pid, 'SIGKILL');
    // The worker says it, and the primary logs the reason the worker sent.
    await gw.until('the refusal to be logged', () => /code version mismatch: refusing to serve/.test(gw.output()) &&
      /"msg":"worker cannot serve","worker":0,"err":"worker 0 runs other code than its primary \(worker 1\/[^ ]+\/[0-9a-f]{16}, primary 1\/[^ ]+\/[0-9a-f]{16}\)[^"]*restart the gateway to run the new code/.test(gw.output()));
    const s = await status();
    assert.equal(s.workers.find((w) => w.id === 0)?.state === 'listening', false, 'the mismatched worker never listens');
    assert.equal(s.workers.find((w) => w.id === 1)?.pid, first.workers[1].pid);
    assert.equal((await request(`http://127.0.0.1:${proxyPort}/s/x`)).status, 200, 'the old worker still serves');
    assert.ok(isAlive(gw.pid));
  });

  it('a SIGHUP while the first config loads does not kill the primary; the config is reloaded once it serves', async () => {
    const fifo = path.join(dir, 'kong.yml');
    execFileSync('mkfifo', [fifo]);
    const [proxyPort, adminPort] = await freePorts(2);
    const gw = startWithEnv(['start', '--config', fifo], {
      HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`, HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${adminPort}`, HYPERWAY_WORKERS: '2', HYPERWAY_LOG_LEVEL: 'notice',
    });
    others.push(gw);
    // Opening a FIFO to write waits for its reader: the primary is reading its config now.
    const w1 = await fs.promises.open(fifo, 'w');
    process.kill(gw.pid, 'SIGHUP');
    // The reload the SIGHUP asked for reads what the path holds then: a regular file, renamed in.
    const next = path.join(dir, 'next.yml');
    fs.writeFileSync(next, yaml('/second'));
    fs.renameSync(next, fifo);
    await w1.writeFile(yaml('/first'));
    await w1.close();
    await gw.until('the reloaded config to serve', async () => (await request(`http://127.0.0.1:${proxyPort}/second/x`, { timeoutMs: 1000 })).status === 200);
    assert.equal((await request(`http://127.0.0.1:${proxyPort}/first/x`)).status, 404, 'the first load was replaced');
    assert.ok(isAlive(gw.pid));
    assert.equal((await request(`http://127.0.0.1:${proxyPort}/first/x`)).status, 404);
    assert.ok(isAlive(gw.pid));
  });
});
