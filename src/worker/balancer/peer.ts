import type { Pool } from 'undici';

/** One address the gateway can send a request to, resolved once per snapshot. */
export interface Peer {
  host: string;
  port: number;
  /** Host header sent upstream when preserve_host is off: host, plus `:port` unless it is the scheme default. */
  hostHeader: string;
  pool: Pool;
}

/** A balancer hands out peers; null = no peer available (Kong: 503). */
export interface Balancer {
  next(): Peer | null;
}
