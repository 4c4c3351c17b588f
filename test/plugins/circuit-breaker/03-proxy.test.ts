// circuit-breaker through the real gateway (2 worker processes) and real upstreams: the breaker
// opens after failure_threshold failures summed over both workers, answers 503 without touching
// the upstream, lets exactly half_open_requests trials through after reset_timeout, closes on
// their success and reopens on a failure; connect errors and timeouts open it too. Counts are
// taken at the upstream.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { request, type HttpResult } from '../../helpers/http-client';
import { closedPort, listenLocal } from '../../helpers/ports';
import { startGateway, type Gateway } from '../../helpers/start-gateway';
import { startFaultServer, type FaultServer } from '../../helpers/upstream';
import { delay, waitFor } from '../../helpers/wait';

/** An upstream the test steers: answers 200 or 500, or holds each response until released. */
interface Flaky {
  port: number;
  mode: 'ok' | '500' | 'hold';
  /** Requests that reached it. */
  hits: number;
  held: ServerResponse[];
  /** Resolves at the next request that reaches it. */
  nextHit(): Promise<'hit'>;
  release(status: number): void;
  close(): Promise<void>;
}

async function startFlaky(): Promise<Flaky> {
  let waiters: Array<(v: 'hit') => void> = [];
  const f: Flaky = {
    port: 0,
    mode: 'ok',
    hits: 0,
    held: [],
    nextHit: () => new Promise((r) => waiters.push(r)),
    release(status) {
      for (const res of f.held.splice(0)) res.writeHead(status, { 'content-type': 'text/plain' }).end(`released ${status}`);
    },
    close: () => new Promise((r) => {
      f.release(200);
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
  const server: Server = createServer((req, res) => {
    f.hits++;
    const w = waiters;
    waiters = [];
    for (const r of w) r('hit');
    req.resume();
    req.on('end', () => {
      if (f.mode === 'hold') f.held.push(res);
      else res.writeHead(f.mode === 'ok' ? 200 : 500, { 'content-type': 'text/plain' }).end(f.mode);
    });
  });
  f.port = await listenLocal(server);
  return f;
}

interface BreakerBody { message: string; circuit_state: string }

function assertRefused(r: HttpResult, state: 'OPEN' | 'HALF_OPEN'): void {
  assert.equal(r.status, 503, r.text);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  assert.deepEqual(r.json<BreakerBody>(), { message: 'Service temporarily unavailable', circuit_state: state });
}

describe('circuit-breaker, 2 workers', () => {
  let flaky: Flaky;
  let hang: FaultServer;
  let gw: Gateway;
  let services: object[];

  before(async () => {
    flaky = await startFlaky();
    hang = await startFaultServer('hang');
    const down = await closedPort();
    services = [
          // Services on one upstream, so that each test has a breaker of its own.
          ...['a', 'b', 'c', 'r'].map((x) => ({
            name: `flaky-${x}`,
            url: `http://127.0.0.1:${flaky.port}`,
            plugins: [{ name: 'circuit-breaker', config: { failure_threshold: x === 'a' ? 16 : 2, reset_timeout: x === 'r' ? 60 : 1, half_open_requests: 2 } }],
            routes: [{ name: `flaky-${x}`, paths: [`/flaky-${x}`] }],
          })),
          {
            name: 'down',
            url: `http://127.0.0.1:${down}`,
            retries: 0,
            routes: [
              { name: 'down', paths: ['/down'], plugins: [{ name: 'circuit-breaker', config: { failure_threshold: 3 } }] },
              { name: 'down-uncounted', paths: ['/down-uncounted'], plugins: [{ name: 'circuit-breaker', config: { failure_threshold: 1, count_connect_errors: false } }] },
            ],
          },
          {
            name: 'slow',
            url: `http://127.0.0.1:${hang.port}`,
            retries: 0,
            read_timeout: 300,
            routes: [{ name: 'slow', paths: ['/slow'], plugins: [{ name: 'circuit-breaker', config: { failure_threshold: 2 } }] }],
          },
    ];
    // notice: the 'closed' transition is logged at that level.
    gw = await startGateway({ workers: 2, config: { _format_version: '3.0', services }, env: { HYPERWAY_LOG_LEVEL: 'notice' } });
  });
  after(async () => {
    await gw?.stop();
    await flaky?.close();
    await hang?.close();
  });

  const get = (path: string): Promise<HttpResult> => request(`${gw.proxyUrl}${path}`);

  /** The gateway's log lines `msg` about the breaker of service `name` (each transition is logged once, by the worker that made it). */
  async function transitions(msg: string, name: string): Promise<number> {
    const id = (await gw.admin(`/services/${name}`)).json<{ id: string }>().id;
    return gw.output().split('\n').filter((l) => l.includes(`"msg":"${msg}"`) && l.includes(`"service_id":"${id}"`)).length;
  }

  /**
   * While OPEN, sends a request every 50 ms until one reaches the upstream (reset_timeout is
   * over): that is the first trial, held there. Returns its pending result (in a box: an async
   * function's promise would wait for it).
   */
  async function firstTrial(path: string): Promise<{ result: Promise<HttpResult> }> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const pending = get(path);
      const first = await Promise.race([pending, flaky.nextHit()]);
      if (first === 'hit') return { result: pending };
      assertRefused(first, 'OPEN');
      assert.ok(Date.now() < deadline, 'no trial within 10 s of a 1 s reset_timeout');
      await delay(50);
    }
  }

  /** 20 concurrent requests in HALF_OPEN with one trial out: one more trial is let through and held, 19 are refused. */
  async function secondTrialAndRefusals(path: string): Promise<{ result: Promise<HttpResult> }> {
    const results: Array<HttpResult | null> = new Array(20).fill(null);
    const all = results.map((_, i) => get(path).then((r) => (results[i] = r)));
    const answered = (): HttpResult[] => results.filter((r): r is HttpResult => r !== null);
    await waitFor('19 answers and 2 trials held at the upstream', () => answered().length === 19 && flaky.held.length === 2, { timeoutMs: 10_000 });
    for (const r of answered()) assertRefused(r, 'HALF_OPEN');
    return { result: all[results.indexOf(null)] };
  }

  /** Two upstream 500s open the breaker of `path` (failure_threshold 2); then it refuses. */
  async function open(path: string): Promise<void> {
    flaky.mode = '500';
    assert.deepEqual([(await get(path)).status, (await get(path)).status], [500, 500]);
    assertRefused(await get(path), 'OPEN');
  }

  it('opens after failure_threshold upstream 500s summed over both workers; then 503 without touching the upstream', async () => {
    const before = (await gw.status()).workers.map((w) => w.requests);
    flaky.mode = '500';
    for (let i = 0; i < 16; i++) assert.equal((await get('/flaky-a')).status, 500);
    assert.equal(flaky.hits, 16);
    const during = (await gw.status()).workers.map((w) => w.requests);
    assert.ok(during.every((n, i) => n > (before[i] ?? 0)), `both workers took part in the failures (${before} → ${during})`);
    // Both workers now refuse: 20 concurrent requests on fresh connections.
    flaky.mode = 'ok';
    const rs = await Promise.all(Array.from({ length: 20 }, () => get('/flaky-a')));
    for (const r of rs) assertRefused(r, 'OPEN');
    assert.equal(flaky.hits, 16, 'no request reached the upstream while OPEN');
    const afterBurst = (await gw.status()).workers.map((w) => w.requests);
    assert.ok(afterBurst.every((n, i) => n > during[i]), `both workers refused (${during} → ${afterBurst})`);
    await waitFor('the opening logged', async () => (await transitions('circuit-breaker: opened', 'flaky-a')) > 0);
    assert.equal(await transitions('circuit-breaker: opened', 'flaky-a'), 1, 'opened once, by one worker');
  });

  it('after reset_timeout exactly half_open_requests trials reach the upstream; a failed trial reopens it', async () => {
    await open('/flaky-b');
    flaky.mode = 'hold';
    const hitsBefore = flaky.hits;
    const trial1 = await firstTrial('/flaky-b');
    const trial2 = await secondTrialAndRefusals('/flaky-b');
    assert.equal(flaky.hits, hitsBefore + 2, 'exactly 2 trials reached the upstream');
    flaky.release(500);
    assert.equal((await trial1.result).status, 500);
    assert.equal((await trial2.result).status, 500);
    const rs = await Promise.all(Array.from({ length: 10 }, () => get('/flaky-b')));
    for (const r of rs) assertRefused(r, 'OPEN');
    assert.equal(flaky.hits, hitsBefore + 2, 'reopened: nothing more reached the upstream');
    await waitFor('the reopening logged', async () => (await transitions('circuit-breaker: a trial failed, open again', 'flaky-b')) > 0);
    assert.equal(await transitions('circuit-breaker: a trial failed, open again', 'flaky-b'), 1, 'two failed trials, one reopening');
  });

  it('after reset_timeout, successful trials close it and traffic flows again', async () => {
    await open('/flaky-c');
    flaky.mode = 'hold';
    const hitsBefore = flaky.hits;
    const trial1 = await firstTrial('/flaky-c');
    const trial2 = await secondTrialAndRefusals('/flaky-c');
    assert.equal(flaky.hits, hitsBefore + 2);
    flaky.mode = 'ok';
    flaky.release(200);
    assert.equal((await trial1.result).status, 200);
    assert.equal((await trial2.result).status, 200);
    const rs = await Promise.all(Array.from({ length: 20 }, () => get('/flaky-c')));
    assert.deepEqual(rs.map((r) => r.status), new Array(20).fill(200));
    assert.equal(flaky.hits, hitsBefore + 22);
    await waitFor('the closing logged', async () => (await transitions('circuit-breaker: closed', 'flaky-c')) > 0);
    assert.equal(await transitions('circuit-breaker: closed', 'flaky-c'), 1);
  });

  it('connect errors (a closed port) open it: 3 × 502, then 503 OPEN; with count_connect_errors off they never do', async () => {
    const rs: number[] = [];
    for (let i = 0; i < 3; i++) rs.push((await get('/down')).status);
    assert.deepEqual(rs, [502, 502, 502]);
    for (let i = 0; i < 5; i++) assertRefused(await get('/down'), 'OPEN');
    const uncounted: number[] = [];
    for (let i = 0; i < 5; i++) uncounted.push((await get('/down-uncounted')).status);
    assert.deepEqual(uncounted, [502, 502, 502, 502, 502]);
  });

  it('timeouts open it: 2 × 504, then 503 OPEN and no new upstream connection', async () => {
    assert.equal((await get('/slow')).status, 504);
    assert.equal((await get('/slow')).status, 504);
    assert.equal(hang.connections(), 2);
    for (let i = 0; i < 5; i++) assertRefused(await get('/slow'), 'OPEN');
    assert.equal(hang.connections(), 2);
  });

  it('a reload keeps the breaker\'s state: still OPEN after the config changed around it', async () => {
    await open('/flaky-r');
    const hits = flaky.hits;
    const next = [{ name: 'extra', url: `http://127.0.0.1:${flaky.port}`, routes: [{ name: 'extra', paths: ['/extra'] }] }, ...services].reverse();
    writeFileSync(gw.configPath, stringify({ _format_version: '3.0', services: next }));
    const version = (await gw.status()).config_version;
    gw.child.kill('SIGHUP');
    await waitFor('both workers on the new config', async () => (await gw.status()).workers.every((w) => w.config_version === version + 1), { timeoutMs: 10_000 });
    flaky.mode = 'ok';
    assert.equal((await get('/extra')).status, 200);
    const rs = await Promise.all(Array.from({ length: 10 }, () => get('/flaky-r')));
    for (const r of rs) assertRefused(r, 'OPEN');
    assert.equal(flaky.hits, hits + 1, 'only /extra reached the upstream');
  });
});
