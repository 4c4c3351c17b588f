/**
 * One undici Pool per (origin, connect timeout, keep-alive settings), shared by every service and
 * upstream of a snapshot that sends to that address, and kept across snapshots so a reload or a
 * DNS change does not drop warm keep-alive connections.
 *
 * Pools are reference-counted per runtime: a Runtime build takes a reference on each pool it uses
 * (begin() … get() … sweep()), and once the next build has taken its own, the previous runtime's
 * references are given back. A pool nobody references any more is closed gracefully: requests in
 * flight on it finish first. A request that began on an old runtime may still try a peer whose
 * pool was closed meanwhile (a retry right after a reload): such a dispatch goes to the live pool
 * for the same address, or to a pool opened for that one request, never to a closed pool (502).
 *
 * With `upstream_client: hyperway`, plain http (and grpc) origins get Hyperway's own HTTP/1.1
 * client (worker/upstream-h1/) under the same keys and the same reference counting; https and
 * grpcs stay on undici.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Pool } from 'undici';
import { undici } from '../../lib/optional-packages';
import type { Settings } from '../../shared/settings';
import { H1Pool, type H1PoolOptions } from '../upstream-h1/pool';
import type { UpstreamDispatcher } from '../balancer/peer';

type DispatchArgs = Parameters<Pool['dispatch']>;

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

/** What a SharedPool opens: undici's Pool, or the own client's H1Pool (undici's dispatch contract). */
interface PoolLike {
  dispatch(opts: DispatchArgs[0], handler: DispatchArgs[1]): boolean;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A pool that a newer runtime may retire while requests still hold it: a dispatch after that goes
 * to the live pool for the same key, or through a one-request pool that `open` makes. undici itself
 * is loaded with the first undici pool (lib/optional-packages.ts): a worker whose upstreams are all
 * plain HTTP on the own client never loads it.
 */
class SharedPool {
  /** The own client's: a streamed request body goes as the RequestBody itself (balancer/peer.ts). */
  readonly takesChunks: boolean;
  readonly #owner: UpstreamPools;
  readonly #key: string;
  readonly #open: () => PoolLike;
  readonly #pool: PoolLike;
  #retired = false;

  constructor(owner: UpstreamPools, key: string, open: () => PoolLike, takesChunks: boolean) {
    this.takesChunks = takesChunks;
    this.#owner = owner;
    this.#key = key;
    this.#open = open;
    this.#pool = open();
  }

  retire(): void {
    this.#retired = true;
    this.#pool.close().catch(() => undefined);
  }

  destroy(): Promise<void> {
    return this.#pool.destroy();
  }

  dispatch(opts: DispatchArgs[0], handler: DispatchArgs[1]): boolean {
    if (!this.#retired) return this.#pool.dispatch(opts, handler);
    const live = this.#owner.live(this.#key);
    if (live !== null) return live.dispatch(opts, handler);
    const once = this.#open();
    const accepted = once.dispatch(opts, handler);
    // close() waits for what is queued: the one request goes out, then its connection closes.
    once.close().catch(() => undefined);
    return accepted;
  }
}

interface Entry {
  pool: SharedPool;
  /** Runtimes (the live one, the one being built) holding this pool. */
  refs: number;
}

export class UpstreamPools {
  readonly #entries = new Map<string, Entry>();
  /** Keys the serving runtime holds. */
  #live = new Set<string>();
  /** Keys the runtime being built holds so far; null outside a build. */
  #building: Set<string> | null = null;

  /** A runtime build starts (a build that threw before sweep() gives its references back here). */
  begin(): void {
    if (this.#building !== null) this.#release(this.#building);
    this.#building = new Set();
  }

  get(protocol: string, host: string, port: number, connectTimeout: number, settings: Settings, tls: UpstreamTls | null = null): UpstreamDispatcher {
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const origin = `${protocol === 'https' || protocol === 'grpcs' ? 'https' : 'http'}://${hostPart}:${port}`;
    const own = settings.upstreamClient === 'hyperway' && !origin.startsWith('https:');
    const key = `${own ? 'h1' : 'undici'}|${origin}|${connectTimeout}|${settings.upstreamKeepaliveIdleTimeout}|${settings.upstreamKeepaliveMaxRequests}|${settings.proxyBufferSize}|${own ? settings.upstreamKeepalivePoolSize : tlsKey(tls)}`;
    let entry = this.#entries.get(key);
    if (entry === undefined && own) {
      const options: H1PoolOptions = {
        host: host.startsWith('[') ? host.slice(1, -1) : host,
        port,
        connectTimeout,
        idleTimeout: settings.upstreamKeepaliveIdleTimeout * 1000,
        maxRequests: settings.upstreamKeepaliveMaxRequests,
        maxIdle: settings.upstreamKeepalivePoolSize,
        headLimit: settings.proxyBufferSize,
      };
      // The Exchange's options and handler are the own client's contract (upstream-h1/types.ts).
      entry = { pool: new SharedPool(this, key, () => new H1Pool(options) as unknown as PoolLike, true), refs: 0 };
      this.#entries.set(key, entry);
    } else if (entry === undefined) {
      const options: Pool.Options = {
        pipelining: 1,
        keepAliveTimeout: settings.upstreamKeepaliveIdleTimeout * 1000,
        keepAliveMaxTimeout: settings.upstreamKeepaliveIdleTimeout * 1000,
        maxRequestsPerClient: settings.upstreamKeepaliveMaxRequests,
        // nginx's proxy_buffer_size: a larger response head is a 502 ("upstream sent too big header").
        maxHeaderSize: settings.proxyBufferSize,
        connect: connectOptions(host, connectTimeout, tls),
        // The gateway enforces read_timeout per request (headersTimeout/bodyTimeout in dispatch).
        headersTimeout: 0,
        bodyTimeout: 0,
      };
      entry = { pool: new SharedPool(this, key, () => new (undici().Pool)(origin, options), false), refs: 0 };
      this.#entries.set(key, entry);
    }
    const holder = this.#building ?? this.#live;
    if (!holder.has(key)) {
      holder.add(key);
      entry.refs++;
    }
    return entry.pool;
  }

  /** The build is installed: it becomes the live runtime, and the previous one's references go. */
  sweep(): void {
    const previous = this.#live;
    this.#live = this.#building ?? new Set();
    this.#building = null;
    this.#release(previous);
  }

  /** Open pools (for tests and stats). */
  get size(): number {
    return this.#entries.size;
  }

  /** The pool serving `key` now, or null when no runtime uses that address any more. */
  live(key: string): SharedPool | null {
    return this.#entries.get(key)?.pool ?? null;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#entries.values()].map((e) => e.pool);
    this.#entries.clear();
    this.#live = new Set();
    this.#building = null;
    await Promise.allSettled(all.map((p) => p.destroy()));
  }

  #release(keys: ReadonlySet<string>): void {
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry === undefined || --entry.refs > 0) continue;
      this.#entries.delete(key);
      entry.pool.retire();
    }
  }
}
