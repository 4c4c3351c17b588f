// What each signal does to the primary. The gateway is spawned here (not via startGateway) so it
// can lead its own process group, as it does when started from a shell: Ctrl-C reaches the group.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { request, type HttpResult } from '../helpers/http-client';
import { freePorts, refused } from '../helpers/ports';
import { startHeldUpstream, type HeldUpstream } from '../helpers/held-upstream';
import { CLI_PATH, gatewayEnv, killQuietly, type GatewayStatus } from '../helpers/start-gateway';
import { isAlive, tailOutput, trackGroup } from '../helpers/proc';
import { waitFor } from '../helpers/wait';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

interface GroupGateway {
  child: ChildProcess;
  pid: number;
  proxyUrl: string;
  proxyPort: number;
  adminUrl: string;
  workerPids: number[];
  exited: Promise<Exit>;
  output(): string;
}

/** Process groups this file started: SIGKILLed whole when the tests end, however they end. */
const groups = new Set<number>();
const killGroups = (): void => {
  for (const pgid of groups) killQuietly(-pgid, 'SIGKILL');
};
process.once('exit', killGroups);

function segmentsOf(pid: number): string[] {
  return fs.readdirSync('/dev/shm').filter((e) => e.startsWith(`hyperway.${pid}.`));
}

describe('signals', () => {
  let dir: string;
  let config: string;
  let up: HeldUpstream;

  before(async () => {
    up = await startHeldUpstream();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-signals-'));
    config = path.join(dir, 'kong.yml');
    fs.writeFileSync(
      config,
      stringify({
        _format_version: '3.0',
        services: [{ name: 'held', url: `http://127.0.0.1:${up.port}`, routes: [{ name: 's', paths: ['/s'] }] }],
      }),
    );
  });

  after(async () => {
    killGroups();
    groups.clear();
    await up?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a gateway as the leader of a new process group and waits until every worker listens. */
  async function start(env: Record<string, string> = {}): Promise<GroupGateway> {
    const [proxyPort, adminPort] = (await freePorts(2)) as [number, number];
    const child = spawn(process.execPath, [CLI_PATH, 'start', '--config', config], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A clean environment: the machine's KONG_*/HYPERWAY_* must not change the gateway under test.
      env: gatewayEnv({
        HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`,
        HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
        HYPERWAY_WORKERS: '2',
        HYPERWAY_LOG_LEVEL: 'warn',
        ...env,
      }),
    });
    const pid = child.pid;
    assert.ok(pid, 'spawned');
    groups.add(pid);
    // Killed with its group even if this test process dies first.
    trackGroup(pid);
    const output = tailOutput(child);
    const exited = new Promise<Exit>((r) => child.once('exit', (code, signal) => r({ code, signal, at: Date.now() })));
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    const status = await waitFor(
      'GET /status to answer 200',
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gateway exited early:\n${output()}`);
        const res = await request(`${adminUrl}/status`, { timeoutMs: 1000 });
        return res.status === 200 ? res.json<GatewayStatus>() : undefined;
      },
      { timeoutMs: 20000, intervalMs: 100 },
    );
    return {
      child,
      pid,
      proxyUrl: `http://127.0.0.1:${proxyPort}`,
      proxyPort,
      adminUrl,
      workerPids: status.workers.map((w) => w.pid),
      exited,
      output,
    };
  }

  /** Sends a request the upstream holds until released; resolves once the upstream has it. */
  async function heldRequest(gw: GroupGateway, tag: string): Promise<{ pending: Promise<HttpResult> }> {
    const pending = request(`${gw.proxyUrl}/s/${tag}`, { timeoutMs: 30000 });
    pending.catch(() => undefined);
    await waitFor(`upstream to receive ${tag}`, () => up.seen.includes(`/${tag}`));
    // Wrapped: an async function returning the promise itself would wait for it to settle.
    return { pending };
  }

  async function exitWithin(gw: GroupGateway, ms: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([gw.exited, new Promise<null>((res) => (timer = setTimeout(() => res(null), ms)))]);
    clearTimeout(timer);
    assert.ok(r, `the primary did not exit within ${ms} ms:\n${gw.output()}`);
    return r;
  }

  async function assertWorkersGone(gw: GroupGateway): Promise<void> {
    await waitFor(`workers ${gw.workerPids.join(', ')} to exit`, () => gw.workerPids.every((p) => !isAlive(p)), {
      timeoutMs: 3000,
    }).catch((e: Error) => assert.fail(`${e.message}\n${gw.output()}`));
    // The group is empty now: forget it, so cleanup never signals a group id reused since.
    groups.delete(gw.pid);
  }

  it('SIGHUP reloads instead of stopping (same workers serve on); SIGQUIT then drains the request in flight', { timeout: 30000 }, async () => {
    const gw = await start({ HYPERWAY_LOG_LEVEL: 'info', HYPERWAY_DRAIN_TIMEOUT: '20000' });
    assert.equal(segmentsOf(gw.pid).length, 1, `one segment while running: ${fs.readdirSync('/dev/shm').join(' ')}`);
    gw.child.kill('SIGHUP');
    await waitFor('the primary to log the reload', () => /reload: config unchanged/.test(gw.output()), {
      timeoutMs: 5000,
    }).catch((e: Error) => assert.fail(`${e.message}\n${gw.output()}`));
    assert.equal(gw.child.exitCode, null, gw.output());
    assert.equal(gw.child.signalCode, null, gw.output());
    assert.equal((await request(`${gw.proxyUrl}/s/now-after-hup`)).status, 200);
    const st = (await request(`${gw.adminUrl}/status`)).json<GatewayStatus>();
    assert.deepEqual(st.workers.map((w) => w.pid).sort(), [...gw.workerPids].sort(), 'the workers were not restarted');

    // SIGQUIT (Kong's `kong quit`) drains like SIGTERM (shutdown.test.ts); same handler, so one gateway serves both checks.
    const tag = 'held-quit';
    const { pending } = await heldRequest(gw, tag);
    let settled = false;
    void pending.finally(() => (settled = true)).catch(() => undefined);
    gw.child.kill('SIGQUIT');
    await waitFor('the proxy port to refuse new connections', () => refused(gw.proxyPort), { timeoutMs: 5000 });
    assert.equal(settled, false, 'the request in flight must not be cut');
    assert.equal(gw.child.exitCode, null, 'the primary must wait for the request in flight');
    up.release(`/${tag}`);
    const res = await pending;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, `/${tag}`);
    const exit = await exitWithin(gw, 10000);
    assert.deepEqual([exit.code, exit.signal], [0, null], gw.output());
    await assertWorkersGone(gw);
    assert.deepEqual(segmentsOf(gw.pid), []);
  });

  it('SIGINT to the whole process group (Ctrl-C): exit 0, no worker left', { timeout: 30000 }, async () => {
    const gw = await start();
    assert.equal((await request(`${gw.proxyUrl}/s/now-before-int`)).status, 200);
    process.kill(-gw.pid, 'SIGINT');
    const exit = await exitWithin(gw, 10000);
    assert.deepEqual([exit.code, exit.signal], [0, null], gw.output());
    await assertWorkersGone(gw);
    assert.deepEqual(segmentsOf(gw.pid), []);
  });

  it('a second SIGTERM while draining stops at once: exit 1, workers gone', { timeout: 30000 }, async () => {
    const gw = await start({ HYPERWAY_DRAIN_TIMEOUT: '20000' });
    const { pending } = await heldRequest(gw, 'held-twice');
    gw.child.kill('SIGTERM');
    await waitFor('the proxy port to refuse new connections (draining)', () => refused(gw.proxyPort), { timeoutMs: 5000 });
    assert.equal(gw.child.exitCode, null, 'still draining the held request');
    const second = Date.now();
    gw.child.kill('SIGTERM');
    const exit = await exitWithin(gw, 10000);
    const took = exit.at - second;
    // "At once" against a 20 s drain timeout: a wide margin for a loaded machine.
    assert.ok(took < 5000, `exited ${took} ms after the second SIGTERM`);
    assert.deepEqual([exit.code, exit.signal], [1, null], gw.output());
    await assertWorkersGone(gw);
    assert.deepEqual(segmentsOf(gw.pid), []);
    const outcome = await pending.then(
      (r) => `status ${r.status}`,
      (e: Error) => `error ${e.message}`,
    );
    assert.notEqual(outcome, 'status 200', 'the abandoned request cannot have completed');
  });
});
