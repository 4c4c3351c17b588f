/**
 * Algorithm name → balancer (Kong's `algorithm`). A service gets its own balancer (its peers
 * differ by protocol and connect timeout) over what the algorithm keeps per upstream: the
 * round-robin cursor word, the continuum (built once per upstream and snapshot, `build.continua`),
 * the latency averages.
 */
import type { UpstreamSnap } from '../../shared/snapshot';
import type { Balancer, Peer } from './peer';
import { RoundRobin } from './round-robin';
import { LeastConnections } from './least-connections';
import { ConsistentHashing } from './consistent-hashing';
import { Continuum } from './continuum';
import { hashRule } from './hash-key';
import { Latency, latencyState } from './latency';

export { SinglePeer } from './single-peer';
export { beginLatencyBuild, endLatencyBuild } from './latency';

/** What one snapshot build shares between the services of one upstream. */
export interface BalancerBuild {
  continua: Map<string, Continuum>;
}

/**
 * `peers`/`weights`: one per upstream target, in the upstream's order; `lowestSlot`: the lowest
 * target-table slot among them, or -1; `threshold`: healthchecks.threshold.
 */
export function upstreamBalancer(upstream: UpstreamSnap, peers: Peer[], weights: number[], lowestSlot: number, threshold: number, build: BalancerBuild): Balancer {
  switch (upstream.algorithm) {
    case 'least-connections':
      return new LeastConnections(peers, weights, threshold);
    case 'consistent-hashing': {
      let continuum = build.continua.get(upstream.id);
      if (continuum === undefined) {
        continuum = new Continuum(upstream.targets, upstream.slots);
        build.continua.set(upstream.id, continuum);
      }
      return new ConsistentHashing(peers, weights, continuum, hashRule(upstream), threshold);
    }
    case 'latency':
      return new Latency(peers, weights, latencyState(upstream.id, upstream.targets.map((t) => t.target)), threshold);
    default:
      return new RoundRobin(peers, weights, upstream.id, lowestSlot, threshold);
  }
}
