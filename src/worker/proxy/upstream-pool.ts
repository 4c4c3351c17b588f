/**
 * One undici Pool per (origin, connect timeout), kept across config snapshots so a reload does
 * not drop warm keep-alive connections. Pools no snapshot references any more are closed
 * gracefully (requests in flight finish first).
 */
import { Pool } from 'undici';
import type { Settings } from '../../shared/settings';

export class UpstreamPools {
  readonly #pools = new Map<string, Pool>();
  #inUse = new Set<string>();

  /** Marks the start of a snapshot build: pools not requested again until `sweep()` close. */
  begin(): void {
    this.#inUse = new Set();
  }

  get(protocol: string, host: string, port: number, connectTimeout: number, settings: Settings): Pool {
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const origin = `${protocol === 'https' || protocol === 'grpcs' ? 'https' : 'http'}://${hostPart}:${port}`;
    const key = `${origin}|${connectTimeout}|${settings.upstreamKeepaliveIdleTimeout}|${settings.upstreamKeepaliveMaxRequests}`;
    this.#inUse.add(key);
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new Pool(origin, {
        pipelining: 1,
        keepAliveTimeout: settings.upstreamKeepaliveIdleTimeout * 1000,
        keepAliveMaxTimeout: settings.upstreamKeepaliveIdleTimeout * 1000,
        maxRequestsPerClient: settings.upstreamKeepaliveMaxRequests,
        // Kong (nginx proxy_ssl_verify off) does not verify upstream certificates unless tls_verify is set.
        connect: { timeout: connectTimeout, rejectUnauthorized: false },
        // The gateway enforces read_timeout per request (headersTimeout/bodyTimeout in dispatch).
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** Closes pools the new snapshot no longer uses. */
  sweep(): void {
    for (const [key, pool] of this.#pools) {
      if (this.#inUse.has(key)) continue;
      this.#pools.delete(key);
      pool.close().catch(() => undefined);
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.allSettled(all.map((p) => p.destroy()));
  }
}
