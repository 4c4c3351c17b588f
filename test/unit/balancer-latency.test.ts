// Latency: Kong's EWMA per target (per worker), two random candidates and the lower
// ewma / weight, untried targets first, retries avoiding failed targets, averages kept over a
// snapshot rebuild with new targets starting at the average.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Latency, LatencyState, beginLatencyBuild, endLatencyBuild, latencyState } from '../../src/worker/balancer/latency';
import type { BalanceContext, Peer } from '../../src/worker/balancer/peer';

function peers(n: number): Peer[] {
  return Array.from({ length: n }, (_, index): Peer => ({ host: `t${index}`, port: 80, hostHeader: `t${index}`, pool: null as never, slot: -1, countsLoad: false, passive: null, index }));
}
const ctx = (): BalanceContext => ({ failedPeers: 0, hashPoint: -1, balancerCookie: null }) as unknown as BalanceContext;

function serve(b: Latency, ms: Record<string, number>): string {
  const p = b.pick(ctx()) as Peer;
  b.release(p, { tryStatus: 200, tryFailure: -1, tryLatency: ms[p.host] });
  return p.host;
}

test('untried targets go first; then the slow target is passed over while the fast one answers', () => {
  const ps = peers(2);
  const b = new Latency(ps, [100, 100], new LatencyState(['a', 'b'], undefined));
  const first = [serve(b, { t0: 80, t1: 2 }), serve(b, { t0: 80, t1: 2 })];
  assert.deepEqual(first.sort(), ['t0', 't1'], 'each target tried once (score 0 until it answered)');
  const next = Array.from({ length: 50 }, () => serve(b, { t0: 80, t1: 2 }));
  assert.equal(next.filter((h) => h === 't0').length, 0, 'the 80 ms target gets nothing while the 2 ms one answers');
});

test('the score is ewma / weight: a heavier target takes the traffic at equal latency', () => {
  const b = new Latency(peers(2), [100, 400], new LatencyState(['a', 'b'], undefined));
  serve(b, { t0: 10, t1: 10 });
  serve(b, { t0: 10, t1: 10 });
  const hosts = Array.from({ length: 20 }, () => serve(b, { t0: 10, t1: 12 }));
  assert.equal(hosts.filter((h) => h === 't1').length, 20);
});

test('retries avoid the targets this request failed on; weight 0 is never picked; none left: no peer', () => {
  const ps = peers(3);
  const b = new Latency(ps, [100, 100, 0], new LatencyState(['a', 'b', 'z'], undefined));
  const c = ctx();
  const p1 = b.pick(c) as Peer;
  b.release(p1, { tryStatus: 0, tryFailure: 2, tryLatency: 1 });
  c.failedPeers |= 1 << p1.index;
  const p2 = b.pick(c) as Peer;
  assert.notEqual(p2, p1);
  assert.notEqual(p2.host, 't2');
  b.release(p2, { tryStatus: 0, tryFailure: 2, tryLatency: 1 });
  c.failedPeers |= 1 << p2.index;
  assert.equal(b.pick(c), null);
});

test('a rebuilt snapshot keeps each staying target\'s average; a new target starts at the average of the others', () => {
  beginLatencyBuild();
  const s1 = latencyState('up-1', ['a:80', 'b:80']);
  assert.equal(latencyState('up-1', ['a:80', 'b:80']), s1, 'one state per upstream per build');
  endLatencyBuild();
  const b = new Latency(peers(2), [100, 100], s1);
  serve(b, { t0: 10, t1: 30 });
  serve(b, { t0: 10, t1: 30 });
  beginLatencyBuild();
  const s2 = latencyState('up-1', ['b:80', 'c:80']);
  endLatencyBuild();
  assert.equal(s2.ewma[0], s1.ewma[1], 'b keeps its average');
  assert.ok(Math.abs(s2.ewma[1] - s1.ewma[1]) < 1e-9, 'c starts at the average of those that stayed (b alone)');
});
