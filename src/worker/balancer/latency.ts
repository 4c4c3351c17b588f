/**
 * Kong's latency balancer (kong/runloop/balancer/latency.lua, after finagle's PeakEwma): each
 * target's response time as an exponentially weighted moving average that decays with the time
 * since it was last updated (weight exp(-Δt / 10 s)); a pick draws two distinct usable targets at
 * random ("power of two choices") and takes the one with the lower score ewma / weight, the
 * score decaying toward 0 while a target is not used, so a slow target is tried again later.
 * A target that never answered scores 0: it is tried first. As in Kong, the averages are per
 * worker; a reload keeps them for the targets that stay, and a new target starts at the average
 * of the others (Kong's slow start). A retry avoids the targets this request failed on; when
 * none is left there is no peer (Kong: "all endpoints have been retried").
 *
 * What a try reports: its time from dispatch to its end, when the upstream answered or timed
 * out. A refused connection reports no time: a target failing fast must not look fast.
 */
import { performance } from 'node:perf_hooks';
import type { BalanceContext, Peer, TryOutcome } from './peer';
import { UpstreamBalancer } from './base';
import { usable } from './health';
import { COUNTER } from '../../shared/target-table';

const DECAY_MS = 10_000;

/** One upstream's averages in this worker, by target index. */
export class LatencyState {
  readonly keys: readonly string[];
  readonly ewma: Float64Array;
  /** performance.now() of the last update; -Infinity = never (the first sample is taken whole). */
  readonly touched: Float64Array;

  constructor(keys: readonly string[], previous: LatencyState | undefined) {
    this.keys = keys;
    this.ewma = new Float64Array(keys.length);
    this.touched = new Float64Array(keys.length).fill(-Infinity);
    if (previous === undefined) return;
    let sum = 0;
    let kept = 0;
    const fresh: number[] = [];
    // The first index of each previous key, as indexOf gave: a scan per target was quadratic in
    // an upstream's targets (32,000: ~7.7 s per worker per reload).
    const before = new Map<string, number>();
    for (let j = previous.keys.length - 1; j >= 0; j--) before.set(previous.keys[j], j);
    for (let i = 0; i < keys.length; i++) {
      const j = before.get(keys[i]) ?? -1;
      if (j === -1 || previous.touched[j] === -Infinity) {
        fresh.push(i);
        continue;
      }
      this.ewma[i] = previous.ewma[j];
      this.touched[i] = previous.touched[j];
      sum += previous.ewma[j];
      kept++;
    }
    if (kept === 0) return;
    const now = performance.now();
    for (const i of fresh) {
      this.ewma[i] = sum / kept;
      this.touched[i] = now;
    }
  }
}

// Per upstream id: the averages the next snapshot carries over (see beginLatencyBuild).
let current = new Map<string, LatencyState>();
let next: Map<string, LatencyState> | null = null;

/** A snapshot build starts: states not asked for again until endLatencyBuild() are dropped. */
export function beginLatencyBuild(): void {
  next = new Map();
}

export function endLatencyBuild(): void {
  if (next !== null) current = next;
  next = null;
}

/** The upstream's state for this build (one per upstream, whichever services use it). */
export function latencyState(upstreamId: string, keys: readonly string[]): LatencyState {
  const built = next?.get(upstreamId);
  if (built !== undefined) return built;
  const state = new LatencyState(keys, current.get(upstreamId));
  (next ?? current).set(upstreamId, state);
  return state;
}

export class Latency extends UpstreamBalancer {
  readonly #state: LatencyState;

  constructor(peers: readonly Peer[], weights: readonly number[], state: LatencyState, threshold = 0) {
    super(peers, weights, threshold);
    this.#state = state;
  }

  protected choose(ctx: BalanceContext): Peer | null {
    const peers = this.peers;
    const n = peers.length;
    const failed = ctx.failedPeers;
    let m = 0;
    let only = -1;
    for (let i = 0; i < n; i++) {
      if (this.#candidate(i, failed)) {
        m++;
        only = i;
      }
    }
    if (m === 0) return null;
    if (m === 1) return peers[only];
    const r1 = Math.floor(Math.random() * m);
    let r2 = Math.floor(Math.random() * (m - 1));
    if (r2 >= r1) r2++;
    let a = -1;
    let b = -1;
    for (let i = 0, rank = 0; i < n && (a === -1 || b === -1); i++) {
      if (!this.#candidate(i, failed)) continue;
      if (rank === r1) a = i;
      else if (rank === r2) b = i;
      rank++;
    }
    const now = performance.now();
    return this.score(b, now) < this.score(a, now) ? peers[b] : peers[a];
  }

  #candidate(i: number, failed: number): boolean {
    return this.weights[i] > 0 && (failed === 0 || (failed & (1 << (this.peers[i].index & 31))) === 0) && usable(this.peers[i]);
  }

  /** Target i's average decayed to `now`, over its weight (Kong's pick_and_score). */
  score(i: number, now: number): number {
    const s = this.#state;
    const dt = now - s.touched[i];
    return (s.ewma[i] * Math.exp(-(dt > 0 ? dt : 0) / DECAY_MS)) / this.weights[i];
  }

  override release(peer: Peer, outcome: TryOutcome): void {
    super.release(peer, outcome);
    if (outcome.tryStatus === 0 && outcome.tryFailure !== COUNTER.TIMEOUT) return;
    const s = this.#state;
    const i = peer.index;
    const now = performance.now();
    const dt = now - s.touched[i];
    const w = Math.exp(-(dt > 0 ? dt : 0) / DECAY_MS);
    s.ewma[i] = s.ewma[i] * w + outcome.tryLatency * (1 - w);
    s.touched[i] = now;
  }
}
