/**
 * Kong's least-connections balancer (kong/runloop/balancer/least_connections.lua): the peer with
 * the lowest (requests in flight + 1) / weight. Kong keeps the counts per nginx worker; here they
 * are the shared target table's in-flight words, so every worker sees the tries of all of them.
 * Unhealthy peers and weight 0 are skipped; ties go round-robin (the scan starts one further each
 * pick). A linear scan: no heap to keep in step with counts other processes change.
 */
import type { Balancer, Peer } from './peer';
import { load, usable } from './health';

export class LeastConnections implements Balancer {
  readonly #peers: Peer[] = [];
  readonly #weights: number[] = [];
  readonly #totalWeight: number;
  readonly #threshold: number;
  #start = 0;

  constructor(peers: readonly Peer[], weights: readonly number[], threshold = 0) {
    let total = 0;
    for (let i = 0; i < peers.length; i++) {
      if (weights[i] <= 0) continue;
      this.#peers.push(peers[i]);
      this.#weights.push(weights[i]);
      total += weights[i];
    }
    this.#totalWeight = total;
    this.#threshold = threshold;
  }

  next(): Peer | null {
    const peers = this.#peers;
    const n = peers.length;
    if (n === 0) return null;
    const start = this.#start;
    this.#start = start + 1 === n ? 0 : start + 1;
    let best: Peer | null = null;
    let bestScore = Infinity;
    let available = 0;
    for (let k = 0; k < n; k++) {
      const i = start + k < n ? start + k : start + k - n;
      const p = peers[i];
      if (!usable(p)) continue;
      available += this.#weights[i];
      const score = (load(p) + 1) / this.#weights[i];
      if (score < bestScore) {
        bestScore = score;
        best = p;
      }
    }
    if (this.#threshold > 0 && (available / this.#totalWeight) * 100 <= this.#threshold) return null;
    return best;
  }
}
