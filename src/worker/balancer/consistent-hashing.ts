/**
 * Kong's consistent-hashing balancer (kong/runloop/balancer/consistent_hashing.lua): the
 * request's key (hash-key.ts) picks a point on the upstream's continuum (continuum.ts); the
 * target owning it takes the request, or, when it is unusable or of weight 0, the next placed
 * target walking on counter-clockwise. The point is computed once per request and kept for its
 * retries (Kong's handle.hashValue), so a retry goes to the same target unless that target was
 * marked unusable meanwhile: as in Kong, consistent hashing does not move a key to another
 * target because one try failed.
 */
import type { BalanceContext, Peer } from './peer';
import { UpstreamBalancer } from './base';
import { usable } from './health';
import type { Continuum } from './continuum';
import { hashKey, type HashRule } from './hash-key';

export class ConsistentHashing extends UpstreamBalancer {
  readonly #continuum: Continuum;
  readonly #rule: HashRule;

  /** `continuum`: built once per upstream and snapshot from the same targets, in the same order, as `peers`. */
  constructor(peers: readonly Peer[], weights: readonly number[], continuum: Continuum, rule: HashRule, threshold = 0) {
    super(peers, weights, threshold);
    this.#continuum = continuum;
    this.#rule = rule;
  }

  protected choose(ctx: BalanceContext): Peer | null {
    const c = this.#continuum;
    if (c.placed === 0) return null;
    let point = ctx.hashPoint;
    if (point < 0) {
      point = c.pointOf(hashKey(ctx, this.#rule));
      ctx.hashPoint = point;
    }
    return this.walk(point);
  }

  /** The first usable target at or below `point` on the continuum. */
  walk(point: number): Peer | null {
    const { below, owner, placed, points } = this.#continuum;
    const peers = this.peers;
    let at = below[point];
    for (let k = 0; k < placed; k++) {
      const p = peers[owner[at]];
      if (usable(p)) return p;
      at = below[at === 0 ? points - 1 : at - 1];
    }
    return null;
  }
}
