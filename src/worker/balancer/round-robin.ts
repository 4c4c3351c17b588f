/**
 * Kong's round-robin balancer (kong/runloop/balancer/round_robin.lua): a wheel in which each
 * target appears weight/gcd times, shuffled once; each pick takes the next position, skipping
 * targets the shared table marks unusable. Weight 0 = no traffic.
 *
 * Unlike Kong, whose wheel and pointer are per nginx worker, the wheel is shuffled with a seed
 * derived from the upstream's id (identical in every worker) and the pointer is one word of the
 * shared target table (target-table.ts CURSOR) advanced with Atomics.add, so N workers together
 * walk one wheel: any run of wheel-length consecutive picks, whichever workers make them, splits
 * exactly by weight (two equal targets alternate). An upstream without target-table slots
 * keeps a per-worker pointer. A retry takes the next position, as in Kong.
 */
import type { BalanceContext, Peer } from './peer';
import { UpstreamBalancer } from './base';
import { advanceCursor, usable } from './health';
import { seededRandom, xxhash32 } from './xxhash32';

export class RoundRobin extends UpstreamBalancer {
  readonly #wheel: Peer[];
  /** Slot whose CURSOR word is the shared pointer, or -1 (per-worker pointer). */
  readonly #cursorSlot: number;
  #local = 0;

  /**
   * `seed`: the upstream id (any string the same in every worker); `cursorSlot`: the upstream's
   * lowest target-table slot, or -1.
   */
  constructor(peers: readonly Peer[], weights: readonly number[], seed: string, cursorSlot = -1, threshold = 0) {
    super(peers, weights, threshold);
    let g = 0;
    for (const w of weights) if (w > 0) g = gcd(g, w);
    const wheel: Peer[] = [];
    for (let i = 0; i < peers.length; i++) {
      const slots = weights[i] > 0 ? weights[i] / g : 0;
      for (let s = 0; s < slots; s++) wheel.push(peers[i]);
    }
    const random = seededRandom(xxhash32(seed));
    for (let i = wheel.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = wheel[i];
      wheel[i] = wheel[j];
      wheel[j] = t;
    }
    this.#wheel = wheel;
    this.#cursorSlot = cursorSlot;
  }

  protected choose(_ctx: BalanceContext): Peer | null {
    const wheel = this.#wheel;
    const n = wheel.length;
    if (n === 0) return null;
    // Each skipped position is a step of the shared pointer too (Kong's pointer moves past
    // unusable entries), so the other targets keep their ratio while one is out.
    let at = 0;
    for (let k = 0; k < n; k++) {
      at = this.#advance() % n;
      const p = wheel[at];
      if (usable(p)) return p;
    }
    // Other workers' steps interleave with ours: n shared steps need not have seen every
    // position. One local turn of the wheel decides.
    for (let k = 1; k <= n; k++) {
      const p = wheel[(at + k) % n];
      if (usable(p)) return p;
    }
    return null;
  }

  #advance(): number {
    if (this.#cursorSlot >= 0) {
      const c = advanceCursor(this.#cursorSlot);
      if (c >= 0) return c;
    }
    const c = this.#local;
    this.#local = c + 1 === 0x7fffffff ? 0 : c + 1;
    return c;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
