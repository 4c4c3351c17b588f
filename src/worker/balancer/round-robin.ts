/**
 * Kong's round-robin balancer (kong/runloop/balancer/round_robin.lua): a wheel in which each
 * peer appears weight/gcd times, shuffled once when built; `next()` steps a pointer. Over one
 * full turn of the wheel the split is exactly proportional to the weights. Weight 0 = no traffic.
 */
import type { Balancer, Peer } from './peer';

export class RoundRobin implements Balancer {
  readonly #wheel: Peer[];
  #pointer = 0;

  constructor(peers: readonly Peer[], weights: readonly number[], random: () => number = Math.random) {
    let g = 0;
    for (const w of weights) if (w > 0) g = gcd(g, w);
    const wheel: Peer[] = [];
    for (let i = 0; i < peers.length; i++) {
      const slots = weights[i] > 0 ? weights[i] / g : 0;
      for (let s = 0; s < slots; s++) wheel.push(peers[i]);
    }
    for (let i = wheel.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = wheel[i];
      wheel[i] = wheel[j];
      wheel[j] = t;
    }
    this.#wheel = wheel;
    this.#pointer = wheel.length > 0 ? Math.floor(random() * wheel.length) : 0;
  }

  next(): Peer | null {
    const wheel = this.#wheel;
    if (wheel.length === 0) return null;
    const p = wheel[this.#pointer];
    this.#pointer = this.#pointer + 1 === wheel.length ? 0 : this.#pointer + 1;
    return p;
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
