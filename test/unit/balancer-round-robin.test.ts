// Round-robin: Kong's weighted wheel, the same in every worker (seeded by the upstream id), and
// one cursor word in the shared target table that every worker advances: two balancers over
// the same table stand for two workers.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { RoundRobin } from '../../src/worker/balancer/round-robin';
import { attachTargetTable } from '../../src/worker/balancer/health';
import type { BalanceContext, Peer } from '../../src/worker/balancer/peer';
import { createSegment, destroySegment, region, REGION, SHM_PREFIX } from '../../src/shared/shm';
import { HEALTH, SOURCE, initTable, setHealth, tableWords } from '../../src/shared/target-table';

const seg = createSegment(process.pid, 1, `${SHM_PREFIX}test-rr-${process.pid}.`, [tableWords(32, 2)]);
after(() => destroySegment(seg));
const table = region(seg, REGION.TARGETS) as Int32Array;
initTable(table, 2);
attachTargetTable(seg, 0);

const ctx = { failedPeers: 0, hashPoint: -1, balancerCookie: null } as unknown as BalanceContext;
const ended = { tryStatus: 200, tryFailure: -1 as const, tryLatency: 1 };

function peer(host: string, slot = -1, index = 0): Peer {
  return { host, port: 80, hostHeader: host, pool: null as never, slot, countsLoad: false, passive: null, index };
}

function one(rr: RoundRobin): string {
  const p = rr.pick(ctx);
  if (p === null) return 'none';
  rr.release(p, ended);
  return p.host;
}

function tally(hosts: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const h of hosts) c[h] = (c[h] ?? 0) + 1;
  return c;
}

test('a full turn of the wheel splits exactly by weight; weight 0 gets nothing', () => {
  const rr = new RoundRobin([peer('a'), peer('b'), peer('c')], [300, 100, 0], 'up');
  assert.deepEqual(tally(Array.from({ length: 40 }, () => one(rr))), { a: 30, b: 10 });
});

test('no targets, or all weight 0: no peer', () => {
  assert.equal(new RoundRobin([], [], 'up').pick(ctx), null);
  assert.equal(new RoundRobin([peer('a')], [0], 'up').pick(ctx), null);
});

test('the wheel is a function of the seed: the same upstream id gives the same order in every worker', () => {
  const peers = [peer('a'), peer('b'), peer('c'), peer('d')];
  const weights = [30, 20, 10, 40];
  const run = (seed: string): string[] => {
    const rr = new RoundRobin(peers, weights, seed);
    return Array.from({ length: 10 }, () => one(rr));
  };
  assert.deepEqual(run('9f1c-upstream'), run('9f1c-upstream'));
  const orders = new Set(['s1', 's2', 's3', 's4', 's5'].map((s) => run(s).join()));
  assert.ok(orders.size > 1, 'the order depends on the seed (not a fixed sort)');
});

test('two workers on one shared cursor interleave by weight: sequential picks alternate across them', () => {
  const peersOf = (): Peer[] => [peer('a', 0, 0), peer('b', 1, 1)];
  const w1 = new RoundRobin(peersOf(), [100, 100], 'seed-2', 0);
  const w2 = new RoundRobin(peersOf(), [100, 100], 'seed-2', 0);
  // The seed-2 walkthrough: four curls, the kernel handing them to either worker.
  const four = [one(w1), one(w2), one(w1), one(w2)];
  assert.deepEqual(tally(four), { a: 2, b: 2 }, `four picks through two workers reach both targets twice (${four.join()})`);
  assert.notEqual(four[0], four[1]);
  // Any mix of workers: every wheel turn splits by weight.
  const x1 = new RoundRobin([peer('a', 2, 0), peer('b', 3, 1), peer('c', 4, 2)], [300, 200, 100], 'mix', 2);
  const x2 = new RoundRobin([peer('a', 2, 0), peer('b', 3, 1), peer('c', 4, 2)], [300, 200, 100], 'mix', 2);
  const order = [x1, x1, x2, x1, x2, x2, x2, x1, x2, x1, x1, x2];
  assert.deepEqual(tally(order.map(one)), { a: 6, b: 4, c: 2 });
});

test('unhealthy targets are skipped on the shared wheel, the others keep their ratio; all unusable: no peer', () => {
  const make = (): RoundRobin => new RoundRobin([peer('a', 5, 0), peer('b', 6, 1), peer('c', 7, 2)], [100, 100, 200], 'skip', 5);
  const w1 = make();
  const w2 = make();
  setHealth(table, 6, HEALTH.UNHEALTHY, SOURCE.ADMIN);
  const hosts: string[] = [];
  for (let i = 0; i < 30; i++) hosts.push(one(i % 3 === 0 ? w2 : w1));
  const c = tally(hosts);
  assert.equal(c.b, undefined);
  assert.equal(c.none, undefined, 'a usable target is always found, however the workers interleave');
  assert.ok(c.c > c.a, `c (weight 200) gets more than a (100): ${JSON.stringify(c)}`);
  setHealth(table, 5, HEALTH.UNHEALTHY, SOURCE.ADMIN);
  setHealth(table, 7, HEALTH.DNS_ERROR, SOURCE.ACTIVE);
  assert.deepEqual([one(w1), one(w2)], ['none', 'none']);
  for (const s of [5, 6, 7]) setHealth(table, s, HEALTH.HEALTHY, SOURCE.ADMIN);
  assert.deepEqual(tally(Array.from({ length: 8 }, (_, i) => one(i % 2 === 0 ? w1 : w2))), { a: 2, b: 2, c: 4 });
});

test('another worker advancing the cursor between picks never makes a pick miss the usable target', () => {
  const w1 = new RoundRobin([peer('a', 8, 0), peer('b', 9, 1)], [100, 100], 'race', 8);
  setHealth(table, 8, HEALTH.UNHEALTHY, SOURCE.ADMIN);
  for (let i = 0; i < 6; i++) {
    Atomics.add(table, 16 + 8 * 16 + 11, 1); // another worker's step
    assert.equal(one(w1), 'b');
  }
  setHealth(table, 8, HEALTH.HEALTHY, SOURCE.ADMIN);
});
