// Supervisor error paths (issue 13): a worker that hangs before it listens, a worker that cannot
// drain, a stopped worker at shutdown, and workers whose primary is SIGKILLed. Worker pids are
// checked directly, before the gateway helper's stop() sweeps up anything left over.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request, type HttpResult } from '../helpers/http-client';
import { isAlive } from '../helpers/proc';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { stallEnv } from '../helpers/stall-worker';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';

/** Hyperway's fixed startup allowance (supervisor.ts STARTUP_HEARTBEAT_MS); no setting shortens it. */
const STARTUP_ALLOWANCE_MS = 30_000;

function config(echoPort: number): object {
  return {
    _format_version: '3.0',
    services: [{ name: 'echo', url: `http://127.0.0.1:${echoPort}`, routes: [{ name: 's', paths: ['/s'] }] }],
  };
}

/** Signals the primary and waits for its own exit (no sweep): exit code and how long it took, or null on timeout. */
async function signalAndWait(gw: Gateway, signal: NodeJS.Signals, timeoutMs: number): Promise<{ code: number | null; ms: number } | null> {
  const t0 = Date.now();
  const exited = new Promise<number | null>((r) => {
    if (gw.child.exitCode !== null || gw.child.signalCode !== null) r(gw.child.exitCode);
    else gw.child.once('exit', (code) => r(code));
  });
  gw.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
  clearTimeout(timer);
  return code === 'timeout' ? null : { code, ms: Date.now() - t0 };
}

/** The one-letter state in /proc/<pid>/status (T: stopped), or '' once the process is gone. */
function procState(pid: number): string {
  try {
    return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
}

/** The stall file a hook left in `dir` with this prefix: the pid it names. */
function stalledPid(dir: string, prefix: string): number | undefined {
  const f = readdirSync(dir).find((n) => n.startsWith(`${prefix}.`));
  return f === undefined ? undefined : Number(f.slice(prefix.length + 1));
}

// The startup-hang test spends 30 s waiting on a timer with its gateway idle: the others run beside it.
describe('supervisor faults', { concurrency: 2 }, () => {
  let echo: EchoServer;
  const gateways: Gateway[] = [];
  const dirs: string[] = [];

  before(async () => {
    echo = await startEchoServer('echo');
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    await echo?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function start(env: Record<string, string> = {}): Promise<Gateway> {
    const gw = await startGateway({ config: config(echo.port), env });
    gateways.push(gw);
    return gw;
  }

  function stallDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'hyperway-stall-'));
    dirs.push(d);
    return d;
  }

  it('a worker that hangs before it listens is killed after the 30 s startup allowance and replaced; the other serves meanwhile', { timeout: 90_000 }, async () => {
    const dir = stallDir();
    // A heartbeat timeout well below the allowance (but one a loaded machine's healthy workers
    // meet): a worker that has not listened must still get the full allowance.
    const gw = await start({ ...stallEnv(dir), HYPERWAY_WORKER_HEARTBEAT_TIMEOUT: '5000' });
    const first = (await gw.status()).workers[1];
    writeFileSync(join(dir, 'hang-next-start'), '');
    process.kill(first.pid, 'SIGKILL');
    const hung = await waitFor('the replacement to hang before listening', () => stalledPid(dir, 'hung-at-start'), { timeoutMs: 15_000 });
    const t0 = Date.now();
    assert.ok(isAlive(hung));
    const during = await gw.admin('/status');
    assert.equal(during.status, 503, `a worker that has not listened is not ready\n${gw.output()}`);
    assert.equal((await request(`${gw.proxyUrl}/s/meanwhile`)).status, 200, 'the other worker keeps serving');

    await waitFor('the hung worker to be killed', () => !isAlive(hung), { timeoutMs: STARTUP_ALLOWANCE_MS + 30_000, intervalMs: 200 })
      .catch((e: Error) => assert.fail(`${e.message}\n${gw.output()}`));
    const took = Date.now() - t0;
    // From the test's first sight of the hang, not the fork: allow for the boot time before it.
    assert.ok(took >= STARTUP_ALLOWANCE_MS - 10_000, `killed after ${took} ms: the startup allowance is ${STARTUP_ALLOWANCE_MS} ms, not the 5 s heartbeat timeout`);
    assert.match(gw.output(), new RegExp(`"msg":"worker heartbeat stopped; killing it","worker":1,"workerPid":${hung},"timeoutMs":${STARTUP_ALLOWANCE_MS}`));

    const replaced = await waitFor('a new worker 1 listening', async () => {
      const r = await gw.admin('/status');
      const w = r.json<{ workers: { pid: number; restarts: number; state: string }[] }>().workers[1];
      return r.status === 200 && w.pid !== hung ? w : undefined;
    }, { timeoutMs: 20_000 });
    assert.equal(replaced.restarts, 2, `replaced after the SIGKILL and again after the hang\n${gw.output()}`);
    assert.notEqual(replaced.pid, first.pid);
    await gw.status(); // records the new pid, for the helper's sweep
    assert.equal((await request(`${gw.proxyUrl}/s/after`)).status, 200);
  });

  it('a worker whose event loop is stuck at shutdown is killed after the drain deadline and the primary exits', { timeout: 60_000 }, async () => {
    const dir = stallDir();
    const gw = await start({ ...stallEnv(dir), HYPERWAY_DRAIN_TIMEOUT: '1000' });
    const pids = (await gw.status()).workers.map((w) => w.pid);
    // A request in flight longer than drain_timeout as well, on whichever worker takes it.
    const slow: Promise<HttpResult | Error> = request(`${gw.proxyUrl}/s/slow`, { headers: { 'x-echo-delay': '30000' }, timeoutMs: 40_000 })
      .catch((e: Error) => e);
    await waitFor('the upstream to receive the slow request', () => echo.requests.some((r) => r.url === '/slow'));
    process.kill(pids[1], 'SIGUSR2');
    await waitFor('worker 1 to block its event loop', () => stalledPid(dir, 'stuck') === pids[1]);

    const r = await signalAndWait(gw, 'SIGTERM', 20_000);
    assert.ok(r !== null, `the primary did not exit within 20 s\n${gw.output()}`);
    assert.equal(r.code, 0, gw.output());
    // The stuck worker cannot drain: it is killed only after the drain time it was given.
    assert.ok(r.ms >= 1000, `exited after ${r.ms} ms, before the 1000 ms drain timeout`);
    for (const pid of pids) assert.equal(isAlive(pid), false, `worker ${pid} outlived the primary`);
    const outcome = await slow;
    assert.ok(outcome instanceof Error || outcome.status !== 200, 'the cut-off request cannot have succeeded');
  });

  it('a SIGSTOPped worker does not hold up shutdown: it is continued, drains and exits', { timeout: 60_000 }, async () => {
    // A drain timeout far above the bound below: only SIGCONT lets the stopped worker exit in time.
    const gw = await start({ HYPERWAY_DRAIN_TIMEOUT: '30000' });
    const pids = (await gw.status()).workers.map((w) => w.pid);
    process.kill(pids[1], 'SIGSTOP');
    await waitFor('worker 1 to stop', () => procState(pids[1]) === 'T');
    const r = await signalAndWait(gw, 'SIGTERM', 15_000);
    assert.ok(r !== null, `the primary did not exit within 15 s with a stopped worker\n${gw.output()}`);
    assert.equal(r.code, 0, gw.output());
    for (const pid of pids) assert.equal(isAlive(pid), false, `worker ${pid} outlived the primary`);
    assert.doesNotMatch(gw.output(), /worker exited; replacing it/);
  });

  it('workers exit when the primary is SIGKILLed (their IPC channel closes)', { timeout: 60_000 }, async () => {
    const gw = await start();
    const primary = gw.child.pid as number;
    const pids = (await gw.status()).workers.map((w) => w.pid);
    assert.equal((await request(`${gw.proxyUrl}/s/x`)).status, 200);
    const r = await signalAndWait(gw, 'SIGKILL', 10_000);
    assert.ok(r !== null);
    try {
      // No requests in flight: nothing to drain, so they go as soon as they see the disconnect.
      await waitFor('every worker to exit', () => pids.every((p) => !isAlive(p)), { timeoutMs: 10_000 })
        .catch((e: Error) => assert.fail(`${e.message}: alive ${pids.filter(isAlive).join(', ')}`));
    } finally {
      // A SIGKILLed primary cannot remove its shared-memory segment: remove the one this test made.
      for (const f of existsSync('/dev/shm') ? readdirSync('/dev/shm') : []) {
        if (f.startsWith(`hyperway.${primary}.`)) unlinkSync(join('/dev/shm', f));
      }
    }
  });
});
