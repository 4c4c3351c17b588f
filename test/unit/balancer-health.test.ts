// Round-robin over the shared target table: unhealthy targets are skipped, the threshold makes
// the whole upstream unhealthy, and a try's end reaches the passive counters.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { RoundRobin } from '../../src/worker/balancer/round-robin';
import { LeastConnections } from '../../src/worker/balancer/least-connections';
import { attachTargetTable, passiveStatuses, tryEnded, tryStarted } from '../../src/worker/balancer/health';
import type { BalanceContext, Peer } from '../../src/worker/balancer/peer';
import { createSegment, destroySegment, region, REGION, SHM_PREFIX } from '../../src/shared/shm';
import { COUNTER, HEALTH, SOURCE, W, addInFlight, workerRow, counterValue, inFlight, initTable, setHealth, tableWords } from '../../src/shared/target-table';
import { loadConfigText } from '../../src/primary/config';
import type { HealthchecksConf } from '../../src/shared/healthchecks';

const seg = createSegment(process.pid, 1, `${SHM_PREFIX}test-rr-health-${process.pid}.`, [tableWords(16, 2)]);
after(() => destroySegment(seg));
const table = region(seg, REGION.TARGETS) as Int32Array;
initTable(table, 2);
attachTargetTable(seg, 0);

function peer(host: string, slot: number, passive: Uint8Array | null = null, index = 0): Peer {
  return { host, port: 80, hostHeader: host, pool: null as never, slot, countsLoad: true, passive, index };
}

const ctx = { failedPeers: 0, hashPoint: -1, balancerCookie: null } as unknown as BalanceContext;
const ended = { tryStatus: 200, tryFailure: -1 as const, tryLatency: 1 };

/** n picks, each released at once (a sequential client). */
function picks(rr: RoundRobin, n: number): Record<string, number> {
  const c: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const p = rr.pick(ctx);
    if (p !== null) rr.release(p, ended);
    const k = p === null ? 'none' : p.host;
    c[k] = (c[k] ?? 0) + 1;
  }
  return c;
}

test('unhealthy targets are skipped, weight 0 stays off, all unhealthy gives null; healthy again takes traffic again', () => {
  const rr = new RoundRobin([peer('a', 0), peer('b', 1), peer('c', 2)], [100, 100, 0], 'u1');
  assert.deepEqual(picks(rr, 10), { a: 5, b: 5 });
  setHealth(table, 1, HEALTH.UNHEALTHY, SOURCE.ACTIVE);
  assert.deepEqual(picks(rr, 10), { a: 10 });
  setHealth(table, 0, HEALTH.DNS_ERROR, SOURCE.ACTIVE);
  assert.deepEqual(picks(rr, 3), { none: 3 });
  setHealth(table, 0, HEALTH.HEALTHY, SOURCE.ADMIN);
  setHealth(table, 1, HEALTH.HEALTHY, SOURCE.ADMIN);
  assert.deepEqual(picks(rr, 10), { a: 5, b: 5 });
});

test('healthchecks.threshold: the upstream is unhealthy once the healthy weight is not above threshold % of the total', () => {
  setHealth(table, 3, HEALTH.HEALTHY, SOURCE.NONE);
  setHealth(table, 4, HEALTH.HEALTHY, SOURCE.NONE);
  setHealth(table, 5, HEALTH.HEALTHY, SOURCE.NONE);
  const rr = new RoundRobin([peer('a', 3), peer('b', 4), peer('c', 5)], [50, 25, 25], 'u2', -1, 50);
  assert.equal(picks(rr, 4).none, undefined);
  setHealth(table, 4, HEALTH.UNHEALTHY, SOURCE.ACTIVE);
  assert.deepEqual(picks(rr, 6), { a: 4, c: 2 }, '75% healthy > 50%: still balancing');
  setHealth(table, 5, HEALTH.UNHEALTHY, SOURCE.ACTIVE);
  assert.deepEqual(picks(rr, 3), { none: 3 }, '50% healthy is not above 50%: no peer although a is healthy');
});

test('a try counts in flight until it ends; its status or failure reaches the passive counters by the upstream\'s lists', () => {
  const yml = '_format_version: "3.0"\nupstreams:\n  - name: u\n    healthchecks:\n      passive:\n        unhealthy: {http_failures: 5, http_statuses: [500, 200]}\n';
  const hc = loadConfigText(yml, 'inline', {}, 1).snapshot.upstreams[0].healthchecks as HealthchecksConf;
  const p = peer('a', 6, passiveStatuses(hc));
  tryStarted(p);
  tryStarted(p);
  assert.equal(inFlight(table, 6), 2);
  tryEnded(p, 500, -1);
  assert.equal(inFlight(table, 6), 1);
  assert.equal(counterValue(table, 6, W.P_SUCCESSES, COUNTER.HTTP), 1);
  tryEnded(p, 0, COUNTER.TIMEOUT);
  assert.equal(inFlight(table, 6), 0);
  assert.equal(counterValue(table, 6, W.P_SUCCESSES, COUNTER.TIMEOUT), 1);
  tryStarted(p);
  tryEnded(p, 504, -1); // an upstream's 504 counts as a timeout, as Kong reports it
  assert.equal(counterValue(table, 6, W.P_SUCCESSES, COUNTER.TIMEOUT), 2);
  tryStarted(p);
  tryEnded(p, 404, -1); // in neither list: ignored
  assert.equal(counterValue(table, 6, W.P_SUCCESSES, COUNTER.HTTP), 1);
  tryStarted(p);
  tryEnded(p, 200, -1); // in both lists: healthy wins (as lua-resty-healthcheck) and clears the failures
  assert.equal(counterValue(table, 6, W.P_SUCCESSES, COUNTER.HTTP), 0);
  assert.equal(counterValue(table, 6, W.P_SUCCESSES, COUNTER.TIMEOUT), 0);
  // Checks off: no lookup, nothing counted.
  const off = loadConfigText('_format_version: "3.0"\nupstreams:\n  - name: u\n', 'inline', {}, 1).snapshot.upstreams[0].healthchecks as HealthchecksConf;
  assert.equal(passiveStatuses(off), null);
});

test('least-connections: the lowest (in flight + 1) / weight on the shared counts; ties rotate; unhealthy and weight 0 skipped', () => {
  const [a, b, c, z] = [peer('a', 8, null, 0), peer('b', 9, null, 1), peer('c', 10, null, 2), peer('z', 11, null, 3)];
  const lc = new LeastConnections([a, b, c, z], [100, 100, 200, 0]);
  // c weighs double: it takes two tries for every one of a's and b's.
  const seen: Record<string, number> = {};
  const held: Peer[] = [];
  for (let i = 0; i < 40; i++) {
    const p = lc.pick(ctx) as Peer; // not released: the counts are the shared in-flight words
    held.push(p);
    seen[p.host] = (seen[p.host] ?? 0) + 1;
  }
  assert.deepEqual(seen, { a: 10, b: 10, c: 20 });
  for (const p of held) lc.release(p, ended);
  assert.deepEqual([a, b, c].map((p) => inFlight(table, p.slot)), [0, 0, 0], 'every release takes its try back out');
  // Ties rotate instead of always taking the first.
  const lc2 = new LeastConnections([a, b], [100, 100]);
  const once = (): string | undefined => {
    const p = lc2.pick(ctx);
    if (p !== null) lc2.release(p, ended);
    return p?.host;
  };
  assert.deepEqual(new Set([once(), once()]), new Set(['a', 'b']));
  // Another worker's tries count too: a busy a is passed over.
  addInFlight(table, a.slot, 5);
  assert.deepEqual([once(), once(), once()], ['b', 'b', 'b']);
  addInFlight(table, a.slot, -5);
  setHealth(table, b.slot, HEALTH.UNHEALTHY, SOURCE.ADMIN);
  assert.deepEqual([once(), once()], ['a', 'a']);
  setHealth(table, a.slot, HEALTH.UNHEALTHY, SOURCE.ADMIN);
  assert.equal(lc2.pick(ctx), null);
  assert.equal(new LeastConnections([z], [0]).pick(ctx), null);
});

test('a replaced worker takes its crashed predecessor\'s tries back out of the shared in-flight counts, and only those', () => {
  const p = peer('a', 12);
  tryStarted(p);
  tryStarted(p);
  // Worker 1 has one try in flight on the same target.
  addInFlight(table, 12, 1);
  Atomics.add(table, (workerRow(table, 1)) + 12, 1);
  assert.equal(inFlight(table, 12), 3);
  // Worker 0 dies with its two tries; its replacement attaches under the same id.
  attachTargetTable(seg, 0);
  assert.equal(inFlight(table, 12), 1);
  tryStarted(p);
  tryEnded(p, 200, -1);
  assert.equal(inFlight(table, 12), 1);
  assert.equal(workerRow(table, 2), -1, 'no row beyond the worker count');
  // Round-robin peers do not count load: no shared word written per try.
  const rr = { ...peer('r', 13), countsLoad: false };
  tryStarted(rr);
  assert.equal(inFlight(table, 13), 0);
  tryEnded(rr, 200, -1);
  assert.equal(inFlight(table, 13), 0);
});
