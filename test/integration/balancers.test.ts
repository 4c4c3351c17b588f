/**
 * One behaviour suite for every balancer algorithm (README "Balancers"), through the real gateway
 * with 2 workers against real upstreams on 127.0.0.1: distribution by weight across both workers,
 * weight 0, a single target, unhealthy targets skipped (Admin API override), all unhealthy → 503,
 * a target added and one removed through the Admin API (the reply comes once every worker has the
 * change). Each algorithm has its own upstreams and target servers; the targets count what they
 * serve, so every assertion is a count. Round-robin also shows its shared cursor (consecutive
 * requests alternate between two equal targets whichever worker takes them), consistent-hashing
 * the stability of its keys and the cookie it sets.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { request, type HttpResult } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { closedPort, listenLocal } from '../helpers/ports';
import { waitFor } from '../helpers/wait';
import { startHealthTarget, type HealthTarget } from '../helpers/health-target';

const ALGORITHMS = ['round-robin', 'least-connections', 'consistent-hashing', 'latency'] as const;
type Algorithm = (typeof ALGORITHMS)[number];
const SHORT: Record<Algorithm, string> = { 'round-robin': 'rr', 'least-connections': 'lc', 'consistent-hashing': 'ch', latency: 'lat' };
const NO_PEER = 'failure to get a peer from the ring-balancer';

/** An upstream target that answers its name, counts what it serves, and can hold requests unanswered. */
class Target {
  readonly name: string;
  port = 0;
  served = 0;
  hold = false;
  /** Answer after this long (the latency balancer's slow target). */
  delayMs = 0;
  readonly held: ServerResponse[] = [];
  readonly server: Server;
  constructor(name: string) {
    this.name = name;
    this.server = createServer((req, res) => {
      req.resume();
      this.served++;
      if (this.hold) this.held.push(res);
      else if (this.delayMs > 0) setTimeout(() => res.end(this.name), this.delayMs);
      else res.end(this.name);
    });
  }
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }
  release(): void {
    for (const r of this.held.splice(0)) r.end(this.name);
  }
}

interface Targets {
  /** The live target next to a refusing port (retries). */
  live: Target;
  w: { a: Target; b: Target; z: Target };
  one: Target;
  h: [Target, Target];
  r: [Target, Target, Target];
}

describe('balancers: one behaviour suite for every algorithm, 2 workers', () => {
  let gw: Gateway;
  let slowTarget: Target;
  let fastTarget: Target;
  const sets = new Map<Algorithm, Targets>();
  const all: Target[] = [];
  const t = (name: string): Target => {
    const x = new Target(name);
    all.push(x);
    return x;
  };

  before(async () => {
    for (const alg of ALGORITHMS) {
      const s = SHORT[alg];
      sets.set(alg, {
        live: t(`${s}-live`),
        w: { a: t(`${s}-a`), b: t(`${s}-b`), z: t(`${s}-z`) },
        one: t(`${s}-one`),
        h: [t(`${s}-h1`), t(`${s}-h2`)],
        r: [t(`${s}-r1`), t(`${s}-r2`), t(`${s}-r3`)],
      });
    }
    const slow = t('lat-slow');
    const fast = t('lat-fast');
    slowTarget = slow;
    fastTarget = fast;
    const cookie = t('ch-cookie-1');
    const cookie2 = t('ch-cookie-2');
    for (const x of all) x.port = await listenLocal(x.server);
    const dead = await closedPort();
    const services: object[] = [];
    const upstreams: object[] = [];
    for (const alg of ALGORITHMS) {
      const s = SHORT[alg];
      const set = sets.get(alg) as Targets;
      const hashing = alg === 'consistent-hashing' ? { hash_on: 'header', hash_on_header: 'x-key' } : {};
      const add = (name: string, targets: Array<{ target: string; weight?: number }>): void => {
        upstreams.push({ name: `${s}-${name}-up`, algorithm: alg, ...hashing, targets });
        services.push({ name: `${s}-${name}`, host: `${s}-${name}-up`, port: 80, routes: [{ name: `${s}-${name}`, paths: [`/${s}/${name}`] }] });
      };
      add('w', [{ target: set.w.a.address, weight: 200 }, { target: set.w.b.address, weight: 100 }, { target: set.w.z.address, weight: 0 }]);
      add('one', [{ target: set.one.address }]);
      add('retry', [{ target: `127.0.0.1:${dead}` }, { target: set.live.address }]);
      add('h', set.h.map((x) => ({ target: x.address })));
      add('r', set.r.slice(0, 2).map((x) => ({ target: x.address })));
    }
    upstreams.push({ name: 'lat-slow-up', algorithm: 'latency', targets: [{ target: slow.address }, { target: fast.address }] });
    services.push({ name: 'lat-slow', host: 'lat-slow-up', port: 80, routes: [{ name: 'lat-slow', paths: ['/lat/slow'] }] });
    upstreams.push({ name: 'ch-cookie-up', algorithm: 'consistent-hashing', hash_on: 'cookie', hash_on_cookie: 'lb', hash_on_cookie_path: '/app', targets: [{ target: cookie.address }, { target: cookie2.address }] });
    services.push({ name: 'ch-cookie', host: 'ch-cookie-up', port: 80, routes: [{ name: 'ch-cookie', paths: ['/ch/cookie'] }] });
    gw = await startGateway({ config: { _format_version: '3.0', services, upstreams }, workers: 2 });
  });

  after(async () => {
    await gw?.stop();
    for (const x of all) {
      x.release();
      x.server.closeAllConnections();
    }
    await Promise.all(all.map((x) => new Promise((r) => x.server.close(r))));
  });

  const get = (path: string, key?: string, headers: Record<string, string> = {}): Promise<HttpResult> =>
    request(`${gw.proxyUrl}${path}`, { headers: key === undefined ? headers : { ...headers, 'x-key': key }, timeoutMs: 5000 });

  /** Sequential requests; returns the body (target name) of each, asserting 200s. */
  async function serve(path: string, n: number, keyOf?: (i: number) => string): Promise<string[]> {
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await get(path, keyOf?.(i));
      assert.equal(r.status, 200, `${path} #${i}: ${r.text}`);
      names.push(r.text);
    }
    return names;
  }

  const tally = (names: string[]): Record<string, number> => {
    const c: Record<string, number> = {};
    for (const n of names) c[n] = (c[n] ?? 0) + 1;
    return c;
  };

  async function workerRequests(): Promise<number[]> {
    return (await gw.status()).workers.map((w) => w.requests);
  }

  async function setHealth(upstream: string, target: Target, state: 'healthy' | 'unhealthy'): Promise<void> {
    const r = await request(`${gw.adminUrl}/upstreams/${upstream}/targets/${target.address}/${state}`, { method: 'PUT' });
    assert.equal(r.status, 204, r.text);
  }

  for (const alg of ALGORITHMS) {
    const s = SHORT[alg];
    // Consistent-hashing spreads keys, not requests: each request carries its own key.
    const keyed = alg === 'consistent-hashing' ? (i: number): string => `key-${i}` : undefined;

    describe(alg, () => {
      it('distribution by weight across both workers; weight 0 gets nothing', { timeout: 20000 }, async () => {
        const { a, b, z } = (sets.get(alg) as Targets).w;
        const before = await workerRequests();
        if (alg === 'least-connections') {
          // Requests held at the targets stay in flight: each pick sees every earlier one, whichever
          // worker made it, and (in flight + 1) / weight gives exactly 2:1.
          a.hold = b.hold = z.hold = true;
          const pending: Array<Promise<HttpResult>> = [];
          for (let i = 0; i < 30; i++) {
            const seen = a.served + b.served + z.served;
            pending.push(get(`/${s}/w`));
            await waitFor(`request ${i} held`, () => a.served + b.served + z.served > seen, { timeoutMs: 5000, intervalMs: 5 });
          }
          assert.deepEqual([a.served, b.served, z.served], [20, 10, 0]);
          a.hold = b.hold = z.hold = false;
          for (const x of [a, b, z]) x.release();
          assert.deepEqual(new Set((await Promise.all(pending)).map((r) => r.status)), new Set([200]));
          // Every try was released exactly once: nothing is left in flight, so each sequential
          // request scores 1/200 against 1/100 and goes to the heavier target.
          assert.deepEqual(tally(await serve(`/${s}/w`, 10)), { [a.name]: 10 });
        } else {
          const n = alg === 'consistent-hashing' ? 300 : 30;
          const names = await serve(`/${s}/w`, n, keyed);
          const c = tally(names);
          assert.equal(c[z.name], undefined, 'weight 0: no traffic');
          if (alg === 'round-robin') {
            // Ten whole turns of the shared wheel (weights 200:100 → 2 + 1 positions).
            assert.deepEqual(c, { [a.name]: 20, [b.name]: 10 });
          } else if (alg === 'consistent-hashing') {
            const share = (c[a.name] ?? 0) / n;
            assert.ok(share > 0.5 && share < 0.83, `weight 200 of 300 takes about two thirds of the keys: ${JSON.stringify(c)}`);
            // Both workers built the same continuum: every key lands where it landed before.
            const again = await serve(`/${s}/w`, n, keyed);
            assert.deepEqual(again, names, 'each key goes to the same target, whichever worker takes it');
          } else {
            // latency: a target never tried scores 0, so each worker tries both before it compares.
            assert.ok((c[a.name] ?? 0) >= 1 && (c[b.name] ?? 0) >= 1, JSON.stringify(c));
            assert.equal((c[a.name] ?? 0) + (c[b.name] ?? 0), n);
          }
        }
        const served = (await workerRequests()).map((v, i) => v - before[i]);
        assert.ok(served.every((v) => v > 0), `both workers served (${served.join(', ')})`);
      });

      it('a single target takes everything', { timeout: 10000 }, async () => {
        const one = (sets.get(alg) as Targets).one;
        assert.deepEqual(tally(await serve(`/${s}/one`, 10, keyed)), { [one.name]: 10 });
      });

      it(alg === 'consistent-hashing'
        ? 'a retry keeps the key\'s target (Kong): keys on the refusing target get 502, the others 200'
        : 'a retry goes to another target: a refusing target costs no request', { timeout: 15000 }, async () => {
        const live = (sets.get(alg) as Targets).live;
        const statuses: number[] = [];
        for (let i = 0; i < 20; i++) {
          const r = await get(`/${s}/retry`, keyed?.(i));
          statuses.push(r.status);
          if (r.status === 200) assert.equal(r.text, live.name);
        }
        if (alg !== 'consistent-hashing') {
          assert.deepEqual(tally(statuses.map(String)), { 200: 20 });
          return;
        }
        const c = tally(statuses.map(String));
        assert.ok((c['502'] ?? 0) > 0 && (c['200'] ?? 0) > 0, JSON.stringify(c));
        for (let i = 0; i < 20; i++) assert.equal((await get(`/${s}/retry`, keyed?.(i))).status, statuses[i], `key-${i} answers as before`);
      });

      it('an unhealthy target is skipped; all unhealthy: 503; healthy again: back in', { timeout: 15000 }, async () => {
        const [h1, h2] = (sets.get(alg) as Targets).h;
        const up = `${s}-h-up`;
        await setHealth(up, h1, 'unhealthy');
        assert.deepEqual(tally(await serve(`/${s}/h`, 20, keyed)), { [h2.name]: 20 });
        await setHealth(up, h2, 'unhealthy');
        for (let i = 0; i < 4; i++) {
          const r = await get(`/${s}/h`, keyed?.(i));
          assert.equal(r.status, 503);
          assert.equal(r.json().message, NO_PEER);
        }
        await setHealth(up, h1, 'healthy');
        await setHealth(up, h2, 'healthy');
        // (latency then keeps the faster of the two, so only the one back is asserted)
        const c = tally(await serve(`/${s}/h`, 20, keyed));
        assert.ok((c[h1.name] ?? 0) > 0, `the target back in takes traffic again: ${JSON.stringify(c)}`);
      });

      it('a target added, then one removed, through the Admin API', { timeout: 20000 }, async () => {
        const [r1, r2, r3] = (sets.get(alg) as Targets).r;
        const up = `${s}-r-up`;
        if (alg === 'round-robin') {
          // The shared cursor: two equal targets alternate request by request, whichever worker
          // takes each (a cursor per worker would repeat a target whenever the worker changes).
          const before = await workerRequests();
          const names = await serve(`/${s}/r`, 20);
          for (let i = 1; i < names.length; i++) assert.notEqual(names[i], names[i - 1], `alternates: ${names.join(' ')}`);
          const served = (await workerRequests()).map((v, i) => v - before[i]);
          assert.ok(served.every((v) => v > 0), `both workers served (${served.join(', ')})`);
        }
        const added = await request(`${gw.adminUrl}/upstreams/${up}/targets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: r3.address }) });
        assert.equal(added.status, 201, added.text);
        const n = alg === 'consistent-hashing' ? 150 : 30;
        const withThree = await serve(`/${s}/r`, n, keyed);
        const c = tally(withThree);
        if (alg === 'round-robin') assert.deepEqual(c, { [r1.name]: 10, [r2.name]: 10, [r3.name]: 10 });
        else assert.ok((c[r3.name] ?? 0) > 0, `the added target takes traffic: ${JSON.stringify(c)}`);
        const removed = await request(`${gw.adminUrl}/upstreams/${up}/targets/${r1.address}`, { method: 'DELETE' });
        assert.equal(removed.status, 204, removed.text);
        const r1Before = r1.served;
        const withTwo = await serve(`/${s}/r`, n, keyed);
        assert.equal(r1.served, r1Before, 'the removed target gets nothing');
        if (alg === 'consistent-hashing') {
          // Keys that were not on the removed target stay where they were.
          let kept = 0;
          withThree.forEach((was, i) => {
            if (was === r1.name) return;
            assert.equal(withTwo[i], was, `key-${i} stays on ${was}`);
            kept++;
          });
          assert.ok(kept > 0 && kept < n, `some keys were on the removed target, some not (${kept} of ${n} kept)`);
        } else if (alg === 'round-robin') {
          assert.deepEqual(tally(withTwo), { [r2.name]: n / 2, [r3.name]: n / 2 });
        } else if (alg === 'least-connections') {
          const c2 = tally(withTwo);
          assert.ok((c2[r2.name] ?? 0) > 0 && (c2[r3.name] ?? 0) > 0, `equal targets share: ${JSON.stringify(c2)}`);
        }
      });
    });
  }

  it('latency: once each worker has tried both targets, the slow one gets nothing', { timeout: 15000 }, async () => {
    slowTarget.delayMs = 150;
    const c = tally(await serve('/lat/slow', 30));
    assert.ok(slowTarget.served <= 2, `the 150 ms target served at most one request per worker: ${JSON.stringify(c)}`);
    assert.equal(fastTarget.served, 30 - slowTarget.served);
  });

  it('consistent-hashing on a cookie: a client without it gets Set-Cookie (Kong\'s attributes) and sticks to one target with it', { timeout: 10000 }, async () => {
    const first = await get('/ch/cookie');
    assert.equal(first.status, 200);
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    const m = /^lb=([0-9a-f-]{36}); Path=\/app; Same-Site=Lax; HttpOnly$/.exec(setCookie);
    assert.ok(m, `Set-Cookie: ${setCookie}`);
    const names = new Set<string>([first.text]);
    for (let i = 0; i < 10; i++) {
      const r = await get('/ch/cookie', undefined, { cookie: `lb=${m[1]}` });
      assert.equal(r.headers['set-cookie'], undefined, 'no new cookie when the client sends one');
      names.add(r.text);
    }
    assert.equal(names.size, 1, `one target for the cookie: ${[...names].join(', ')}`);
  });
});

/**
 * The first scenario: three targets behind one round-robin upstream, 2 workers, load from
 * several clients at once; one target stops (connections cut, connects refused). Passive checks
 * (tcp_failures 3, counted by both workers together) take it out; from then on no request fails.
 * Active checks, which probe only unhealthy targets here, bring it back once it listens again.
 * Retries are 0 so that every request sent to the stopped target shows as a failure.
 */
describe('a target that stops under load', () => {
  let gw: Gateway;
  let targets: HealthTarget[];

  before(async () => {
    targets = [await startHealthTarget('k1'), await startHealthTarget('k2'), await startHealthTarget('k3')];
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'kill', host: 'kill-up', port: 80, retries: 0, routes: [{ name: 'kill', paths: ['/kill'] }] }],
        upstreams: [{
          name: 'kill-up',
          healthchecks: {
            active: { http_path: '/health', healthy: { interval: 0, successes: 1 }, unhealthy: { interval: 0.2, tcp_failures: 1 } },
            passive: { unhealthy: { tcp_failures: 3, http_failures: 0, timeouts: 3 } },
          },
          targets: targets.map((x) => ({ target: `127.0.0.1:${x.port}` })),
        }],
      },
      workers: 2,
    });
  });

  after(async () => {
    await gw?.stop();
    await Promise.all((targets ?? []).map((x) => x.stop()));
  });

  async function healthOf(x: HealthTarget): Promise<string> {
    const body = (await request(`${gw.adminUrl}/upstreams/kill-up/health`)).json<{ data: Array<{ target: string; health: string }> }>();
    return body.data.find((d) => d.target === `127.0.0.1:${x.port}`)?.health ?? 'missing';
  }

  it('passive checks take it out after a few failures; afterwards nothing fails; active checks bring it back', { timeout: 30000 }, async () => {
    const [, , k3] = targets;
    let stop = false;
    let phase: 'before' | 'after' = 'before';
    const failures = { before: 0, after: 0 };
    const ok = { before: 0, after: 0 };
    const client = async (): Promise<void> => {
      while (!stop) {
        const p = phase;
        const r = await request(`${gw.proxyUrl}/kill`, { timeoutMs: 5000 }).catch(() => null);
        if (r !== null && r.status === 200) ok[p]++;
        else failures[p]++;
      }
    };
    const clients = [client(), client(), client(), client()];
    try {
      await waitFor('load flowing', () => ok.before > 20, { timeoutMs: 5000, intervalMs: 10 });
      await k3.stop();
      await waitFor('k3 taken out by passive checks', async () => (await healthOf(k3)) === 'UNHEALTHY', { timeoutMs: 10000, intervalMs: 20 });
      phase = 'after';
      await waitFor('120 requests after k3 went out', () => ok.after + failures.after >= 120, { timeoutMs: 15000, intervalMs: 10 });
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    assert.ok(failures.before >= 1, 'the stopped target cost some requests before it was out');
    assert.equal(failures.after, 0, `no request failed once the target was out (${ok.after} answered)`);
    const servedBefore = k3.served.get(200) ?? 0;
    await k3.start();
    await waitFor('k3 back by active checks', async () => (await healthOf(k3)) === 'HEALTHY', { timeoutMs: 10000, intervalMs: 50 });
    for (let i = 0; i < 12; i++) assert.equal((await request(`${gw.proxyUrl}/kill`)).status, 200);
    assert.equal((k3.served.get(200) ?? 0) - servedBefore, 4, 'back in the shared wheel: one request in three');
  });
});
