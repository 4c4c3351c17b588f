/**
 * Kong's round-robin balancer (kong/runloop/balancer/round_robin.lua): a wheel in which each
 * peer appears weight/gcd times, shuffled once when built; `next()` steps a pointer, skipping
 * peers the shared target table marks unhealthy. Over one full turn of the wheel the split is
 * exactly proportional to the weights of the healthy peers. Weight 0 = no traffic.
 *
 * `healthchecks.threshold` (percent): when the healthy peers' share of the total weight is not
 * above it, the whole upstream is unhealthy and `next()` answers null (Kong's 503).
 */
import type { Balancer, Peer } from './peer';
import { usable } from './health';

export class RoundRobin implements Balancer {
  readonly #wheel: Peer[];
  #pointer = 0;
  /** Distinct peers with weight > 0, and their weights, for the threshold test. */
  readonly #peers: Peer[] = [];
  readonly #weights: number[] = [];
  readonly #totalWeight: number;
  readonly #threshold: number;

  constructor(peers: readonly Peer[], weights: readonly number[], random: () => number = Math.random, threshold = 0) {
    let g = 0;
    let total = 0;
    for (const w of weights) if (w > 0) g = gcd(g, w);
    const wheel: Peer[] = [];
    for (let i = 0; i < peers.length; i++) {
      const slots = weights[i] > 0 ? weights[i] / g : 0;
      for (let s = 0; s < slots; s++) wheel.push(peers[i]);
      if (weights[i] > 0) {
        this.#peers.push(peers[i]);
        this.#weights.push(weights[i]);
        total += weights[i];
      }
    }
    for (let i = wheel.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = wheel[i];
      wheel[i] = wheel[j];
      wheel[j] = t;
    }
    this.#wheel = wheel;
    this.#pointer = wheel.length > 0 ? Math.floor(random() * wheel.length) : 0;
    this.#totalWeight = total;
    this.#threshold = threshold;
  }

  next(): Peer | null {
    const wheel = this.#wheel;
    const n = wheel.length;
    if (n === 0) return null;
    if (this.#threshold > 0 && !this.#healthyEnough()) return null;
    for (let i = 0; i < n; i++) {
      const p = wheel[this.#pointer];
      this.#pointer = this.#pointer + 1 === n ? 0 : this.#pointer + 1;
      if (usable(p)) return p;
    }
    return null;
  }

  /** Kong (balancers.lua): healthy while available weight / total weight × 100 > threshold. */
  #healthyEnough(): boolean {
    let available = 0;
    for (let i = 0; i < this.#peers.length; i++) if (usable(this.#peers[i])) available += this.#weights[i];
    return (available / this.#totalWeight) * 100 > this.#threshold;
  }
}

/** A plain service host: always the same peer. */
export class SinglePeer implements Balancer {
  readonly #peer: Peer;
  constructor(peer: Peer) {
    this.#peer = peer;
  }
  next(): Peer {
    return this.#peer;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
