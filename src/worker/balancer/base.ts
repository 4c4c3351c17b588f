/**
 * What every upstream balancer shares: the try accounting (in-flight and passive reports, once
 * per try) and Kong's health threshold (balancers.lua updateStatus): the upstream is healthy
 * while its usable weight is more than `healthchecks.threshold` percent of its total weight, and
 * an unhealthy upstream gets no peer (503), whichever algorithm picks.
 */
import type { Balancer, BalanceContext, Peer, TryOutcome } from './peer';
import { tryEnded, tryStarted, usable } from './health';

export abstract class UpstreamBalancer implements Balancer {
  /** Every target's peer by target index (weight 0 included: it is never picked). */
  protected readonly peers: readonly Peer[];
  protected readonly weights: readonly number[];
  readonly #totalWeight: number;
  readonly #threshold: number;

  constructor(peers: readonly Peer[], weights: readonly number[], threshold: number) {
    this.peers = peers;
    this.weights = weights;
    let total = 0;
    for (const w of weights) if (w > 0) total += w;
    this.#totalWeight = total;
    this.#threshold = threshold;
  }

  pick(ctx: BalanceContext): Peer | null {
    if (this.#threshold > 0 && !this.#healthyEnough()) return null;
    const p = this.choose(ctx);
    if (p !== null) tryStarted(p);
    return p;
  }

  release(peer: Peer, outcome: TryOutcome): void {
    tryEnded(peer, outcome.tryStatus, outcome.tryFailure);
  }

  /** The algorithm: a usable peer of weight > 0, or null. */
  protected abstract choose(ctx: BalanceContext): Peer | null;

  #healthyEnough(): boolean {
    let available = 0;
    const peers = this.peers;
    for (let i = 0; i < peers.length; i++) if (this.weights[i] > 0 && usable(peers[i])) available += this.weights[i];
    return this.#totalWeight > 0 && (available / this.#totalWeight) * 100 > this.#threshold;
  }
}
