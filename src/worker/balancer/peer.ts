import type { Dispatcher } from 'undici';
import type { RequestContext } from '../server/context';
import type { Counter } from '../../shared/target-table';

/** What a peer sends through: the one method the Exchange calls. */
export interface UpstreamDispatcher {
  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  /** The own client (upstream-h1/): a streamed request body goes as the RequestBody itself, not a Readable. */
  readonly takesChunks?: boolean;
}

/** One address the gateway can send a request to, resolved once per snapshot. */
export interface Peer {
  host: string;
  port: number;
  /** Host header sent upstream when preserve_host is off: host, plus `:port` unless it is the scheme default. */
  hostHeader: string;
  /** undici's Pool or the own client's (upstream-h1/): both take undici's dispatch contract. */
  pool: UpstreamDispatcher;
  /** Row in the shared target table (shared/target-table.ts); -1 = untracked (a plain service host). */
  slot: number;
  /**
   * Count this peer's tries in the table's shared in-flight words: only where a balancer reads
   * them (least-connections), since every worker writing one word costs a contended cache line.
   */
  countsLoad: boolean;
  /** The upstream's passive checks, or null when its health checks are off (nothing to report). */
  passive: PassiveStatuses | null;
  /** Position of the peer's target in the upstream's target list (0 for a plain service host). */
  index: number;
}

/**
 * Per status code 0..999: STATUS_HEALTHY, STATUS_UNHEALTHY or 0 (ignored), from the upstream's
 * passive.healthy / passive.unhealthy http_statuses, built once per snapshot.
 */
export type PassiveStatuses = Uint8Array;
export const STATUS_HEALTHY = 1;
export const STATUS_UNHEALTHY = 2;

/**
 * What a balancer may read and keep on the request between its tries (Kong's balancer
 * "handle"): the proxy's Exchange implements it, so a pick allocates nothing.
 */
export interface BalanceContext extends RequestContext {
  /** Bit (peer.index & 31) set for each peer a try of this request failed on. */
  failedPeers: number;
  /** consistent-hashing: the request's point on the continuum once computed, else -1. */
  hashPoint: number;
  /** consistent-hashing on a cookie the client did not send: the Set-Cookie value for the response. */
  balancerCookie: string | null;
}

/** How one try ended, as release() reads it (the Exchange implements it: no object per try). */
export interface TryOutcome {
  /** The upstream's status once its head arrived, else 0. */
  readonly tryStatus: number;
  /** Without a status: COUNTER.TCP or COUNTER.TIMEOUT, or -1 (nothing to report: the client went away). */
  readonly tryFailure: Counter | -1;
  /** Milliseconds from dispatch to the end of the try. */
  readonly tryLatency: number;
}

/**
 * A balancer hands out peers: `pick` starts a try (null = no peer available, Kong's 503) and
 * `release` MUST be called exactly once for every peer `pick` returned, when that try ends.
 */
export interface Balancer {
  pick(ctx: BalanceContext): Peer | null;
  release(peer: Peer, outcome: TryOutcome): void;
}
