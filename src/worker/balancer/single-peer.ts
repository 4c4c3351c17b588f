import type { Balancer, Peer, TryOutcome } from './peer';
import { tryEnded, tryStarted } from './health';

/** A plain service host: always the same peer. */
export class SinglePeer implements Balancer {
  readonly #peer: Peer;
  constructor(peer: Peer) {
    this.#peer = peer;
  }
  pick(): Peer {
    tryStarted(this.#peer);
    return this.#peer;
  }
  release(peer: Peer, outcome: TryOutcome): void {
    tryEnded(peer, outcome.tryStatus, outcome.tryFailure);
  }
}
