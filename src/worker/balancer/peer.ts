import type { Pool } from 'undici';

/** One address the gateway can send a request to, resolved once per snapshot. */
export interface Peer {
  host: string;
  port: number;
  /** Host header sent upstream when preserve_host is off: host, plus `:port` unless it is the scheme default. */
  hostHeader: string;
  pool: Pool;
  /** Row in the shared target table (shared/target-table.ts); -1 = untracked (a plain service host). */
  slot: number;
  /**
   * Count this peer's tries in the table's shared in-flight words: only where a balancer reads
   * them (least-connections), since every worker writing one word costs a contended cache line.
   */
  countsLoad: boolean;
  /** The upstream's passive checks, or null when its health checks are off (nothing to report). */
  passive: PassiveStatuses | null;
}

/**
 * Per status code 0..999: STATUS_HEALTHY, STATUS_UNHEALTHY or 0 (ignored), from the upstream's
 * passive.healthy / passive.unhealthy http_statuses, built once per snapshot.
 */
export type PassiveStatuses = Uint8Array;
export const STATUS_HEALTHY = 1;
export const STATUS_UNHEALTHY = 2;

/** A balancer hands out peers; null = no peer available (Kong: 503). */
export interface Balancer {
  next(): Peer | null;
}
