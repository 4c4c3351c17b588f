/**
 * One undici Pool per (origin, connect timeout), kept across config snapshots so a reload does
 * not drop warm keep-alive connections. Pools no snapshot references any more are closed
 * gracefully (requests in flight finish first).
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { Pool } from 'undici';
import type { Settings } from '../../shared/settings';

/** A service's upstream TLS, PEMs resolved (runtime.ts): null = Kong's default, no verification. */
export interface UpstreamTls {
  verify: boolean;
  verifyDepth: number | null;
  ca: string[];
  cert: string | null;
  key: string | null;
}

/** What keys a pool by its TLS options: a digest, so equal options share warm connections. */
function tlsKey(tls: UpstreamTls | null): string {
  if (tls === null) return '';
  return createHash('sha256').update(JSON.stringify(tls)).digest('hex').slice(0, 32);
}

/**
 * undici connect options: Kong's proxy_ssl_verify off unless tls_verify; the CA store is the
 * service's ca_certificates, else the system's; SNI is the upstream host when it is a name.
 * tls_verify_depth is accepted but not enforced: node's TLS has no chain-depth option.
 */
function connectOptions(host: string, connectTimeout: number, tls: UpstreamTls | null): Record<string, unknown> {
  const servername = isIP(host) === 0 ? host : undefined;
  if (tls === null) return { timeout: connectTimeout, rejectUnauthorized: false, servername };
  const o: Record<string, unknown> = { timeout: connectTimeout, rejectUnauthorized: tls.verify, servername };
  if (tls.ca.length > 0) o.ca = tls.ca;
  if (tls.cert !== null && tls.key !== null) {
    o.cert = tls.cert;
    o.key = tls.key;
  }
  return o;
}


export class UpstreamPools {
  readonly #pools = new Map<string, Pool>();
  #inUse = new Set<string>();

  /** Marks the start of a snapshot build: pools not requested again until `sweep()` close. */
  begin(): void {
    this.#inUse = new Set();
  }

  get(protocol: string, host: string, port: number, connectTimeout: number, settings: Settings, tls: UpstreamTls | null = null): Pool {
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const origin = `${protocol === 'https' || protocol === 'grpcs' ? 'https' : 'http'}://${hostPart}:${port}`;
    const key = `${origin}|${connectTimeout}|${settings.upstreamKeepaliveIdleTimeout}|${settings.upstreamKeepaliveMaxRequests}|${tlsKey(tls)}`;
    this.#inUse.add(key);
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new Pool(origin, {
        pipelining: 1,
        keepAliveTimeout: settings.upstreamKeepaliveIdleTimeout * 1000,
        keepAliveMaxTimeout: settings.upstreamKeepaliveIdleTimeout * 1000,
        maxRequestsPerClient: settings.upstreamKeepaliveMaxRequests,
        // Kong (nginx proxy_ssl_verify off) does not verify upstream certificates unless tls_verify is set.
        connect: connectOptions(host, connectTimeout, tls),
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
