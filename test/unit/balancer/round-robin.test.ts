import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoundRobin } from '../../../src/worker/balancer/round-robin';
import type { Peer } from '../../../src/worker/balancer/peer';

function peer(host: string): Peer {
  return { host, port: 80, hostHeader: host, pool: null as never, slot: -1, countsLoad: false, passive: null };
}

test('a full turn of the wheel splits exactly by weight; weight 0 gets nothing', () => {
  const a = peer('a'), b = peer('b'), c = peer('c');
  const rr = new RoundRobin([a, b, c], [300, 100, 0]);
  const counts = new Map<string, number>();
  for (let i = 0; i < 4 * 10; i++) {
    const p = rr.next() as Peer;
    counts.set(p.host, (counts.get(p.host) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(counts), { a: 30, b: 10 });
});

test('no targets, or all weight 0: no peer', () => {
  assert.equal(new RoundRobin([], []).next(), null);
  assert.equal(new RoundRobin([peer('a')], [0]).next(), null);
});

test('equal weights alternate within each turn', () => {
  const rr = new RoundRobin([peer('a'), peer('b')], [100, 100]);
  const seen = [rr.next(), rr.next()].map((p) => (p as Peer).host).sort();
  assert.deepEqual(seen, ['a', 'b']);
});
