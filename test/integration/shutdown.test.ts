// Graceful shutdown through startGateway (the primary alone is signalled; its workers share the
// test runner's process group). The signal is sent here, not by gw.stop(): stop() SIGKILLs any
// worker still alive after the primary, which would hide a worker outliving it.
// SIGINT and SIGQUIT are covered in signals.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, type HttpResult } from '../helpers/http-client';
import { refused } from '../helpers/ports';
import { startHeldUpstream, type HeldUpstream } from '../helpers/held-upstream';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { isAlive } from '../helpers/proc';
import { waitFor } from '../helpers/wait';

/** Resolves with the primary's exit code once it exits, or fails after `ms`. */
async function primaryExit(gw: Gateway, ms: number): Promise<number | null> {
  const { child } = gw;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    new Promise<number | null>((r) => child.once('exit', (c) => r(c))),
    new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms))),
  ]);
  clearTimeout(timer);
  assert.notEqual(code, 'timeout', `the primary did not exit within ${ms} ms:\n${gw.output()}`);
  return code as number | null;
}

/**
 * Checked right after the primary's exit, before any cleanup: the primary waits for its workers,
 * so they are gone at once; the short wait only covers their reaping by init.
 */
async function assertWorkersGone(gw: Gateway, pids: number[]): Promise<void> {
  await waitFor(`workers ${pids.join(', ')} to exit with the primary`, () => pids.every((p) => !isAlive(p)), {
    timeoutMs: 1000,
    intervalMs: 20,
  }).catch((e: Error) => assert.fail(`${e.message}; still alive: ${pids.filter(isAlive).join(', ')}\n${gw.output()}`));
}

describe('graceful shutdown', () => {
  let up: HeldUpstream;
  const gateways: Gateway[] = [];

  before(async () => {
    up = await startHeldUpstream();
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    await up?.close();
  });

  async function start(env: Record<string, string>): Promise<{ gw: Gateway; workerPids: number[] }> {
    const gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'held', url: `http://127.0.0.1:${up.port}`, routes: [{ name: 's', paths: ['/s'] }] }],
      },
      env,
    });
    gateways.push(gw);
    const workerPids = (await gw.status()).workers.map((w) => w.pid);
    assert.equal(workerPids.length, 2);
    return { gw, workerPids };
  }

  /** Sends a request the upstream holds until released; resolves once the upstream has it. */
  async function heldRequest(gw: Gateway, tag: string): Promise<{ pending: Promise<HttpResult> }> {
    const pending = request(`${gw.proxyUrl}/s/${tag}`, { timeoutMs: 30000 });
    pending.catch(() => undefined);
    await waitFor(`upstream to receive ${tag}`, () => up.seen.includes(`/${tag}`));
    // Wrapped: an async function returning the promise itself would wait for it to settle.
    return { pending };
  }

  it('SIGTERM: stops accepting, finishes the request in flight, exits 0, workers exit with it', { timeout: 30000 }, async () => {
    const { gw, workerPids } = await start({ HYPERWAY_DRAIN_TIMEOUT: '20000' });
    const tag = 'held-term';
    const { pending } = await heldRequest(gw, tag);
    let settled = false;
    void pending.finally(() => (settled = true)).catch(() => undefined);
    gw.child.kill('SIGTERM');
    await waitFor('the proxy port to refuse new connections', () => refused(gw.proxyPort), { timeoutMs: 5000 });
    // Still draining: nothing has answered the held request, and the primary waits for it.
    assert.equal(settled, false, 'the request in flight must not be cut');
    assert.equal(gw.child.exitCode, null, 'the primary must wait for the request in flight');
    up.release(`/${tag}`);
    const res = await pending;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, `/${tag}`);
    assert.equal(await primaryExit(gw, 10000), 0, gw.output());
    await assertWorkersGone(gw, workerPids);
  });

  it('gives up on requests that outlast HYPERWAY_DRAIN_TIMEOUT, then exits 0 with its workers', { timeout: 30000 }, async () => {
    const { gw, workerPids } = await start({ HYPERWAY_DRAIN_TIMEOUT: '1000' });
    const { pending } = await heldRequest(gw, 'held-drain');
    const t0 = Date.now();
    gw.child.kill('SIGTERM');
    const code = await primaryExit(gw, 15000);
    const took = Date.now() - t0;
    // Bounds with room for a loaded machine: the drain is waited for, then abandoned.
    assert.ok(took >= 900, `exited after ${took} ms, before the 1000 ms drain timeout`);
    assert.ok(took < 8000, `exited after ${took} ms with a 1000 ms drain timeout`);
    assert.equal(code, 0, gw.output());
    await assertWorkersGone(gw, workerPids);
    const outcome = await pending.then(
      (r) => `status ${r.status}`,
      (e: Error) => `error ${e.message}`,
    );
    assert.notEqual(outcome, 'status 200', 'the cut-off request cannot have succeeded');
  });
});
