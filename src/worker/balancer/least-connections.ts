/**
 * Kong's least-connections balancer (kong/runloop/balancer/least_connections.lua): the peer with
 * the lowest (requests in flight + 1) / weight. Kong keeps the counts per nginx worker; here they
 * are the shared target table's in-flight words, so every worker sees the tries of all of them.
 * Unusable peers and weight 0 are skipped; ties go round-robin (the scan starts one further each
 * pick). A retry avoids the peers this request already failed on, and when all of them failed
 * starts over with the best one (Kong drops its failed list then). A linear scan: no heap to
 * keep in step with counts other processes change.
 */
import type { BalanceContext, Peer } from './peer';
import { UpstreamBalancer } from './base';
import { load, usable } from './health';

export class LeastConnections extends UpstreamBalancer {
  #start = 0;

  constructor(peers: readonly Peer[], weights: readonly number[], threshold = 0) {
    super(peers, weights, threshold);
  }

  protected choose(ctx: BalanceContext): Peer | null {
    const peers = this.peers;
    const weights = this.weights;
    const n = peers.length;
    if (n === 0) return null;
    const start = this.#start;
    this.#start = start + 1 >= n ? 0 : start + 1;
    const failed = ctx.failedPeers;
    let best: Peer | null = null;
    let bestScore = Infinity;
    let retried: Peer | null = null;
    let retriedScore = Infinity;
    for (let k = 0; k < n; k++) {
      const i = start + k < n ? start + k : start + k - n;
      const w = weights[i];
      if (w <= 0) continue;
      const p = peers[i];
      if (!usable(p)) continue;
      const score = (load(p) + 1) / w;
      if (failed !== 0 && (failed & (1 << (p.index & 31))) !== 0) {
        if (score < retriedScore) {
          retriedScore = score;
          retried = p;
        }
      } else if (score < bestScore) {
        bestScore = score;
        best = p;
      }
    }
    return best ?? retried;
  }
}
