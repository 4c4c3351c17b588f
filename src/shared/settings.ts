/**
 * Gateway settings: the `hyperway:` block of the config file, overridden by HYPERWAY_<NAME>
 * and KONG_<NAME> environment variables. Names follow kong.conf where kong.conf has the property.
 * Resolved once by the primary (primary/config/settings.ts) and shipped to workers in the Snapshot.
 */
import type { LogLevel } from '../lib/log';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface Settings {
  /** `proxy_listen`: where workers accept client traffic (default 0.0.0.0:8000). */
  proxyListen: ListenAddress;
  /** `admin_listen`: the primary's Admin API (default 127.0.0.1:8001). */
  adminListen: ListenAddress;
  /** Every plain entry of `proxy_listen` (the first is proxyListen); workers listen on each. */
  proxyListens: ListenAddress[];
  /** The `ssl` entries of `proxy_listen`: workers serve TLS there (uWS SSLApp). */
  proxySslListens: ListenAddress[];
  /**
   * `ssl_cert` / `ssl_cert_key`: files of the default certificate (clients without SNI or with a
   * name no `snis` entry has). Empty: the primary generates a self-signed one, as Kong does.
   */
  sslCert: string[];
  sslCertKey: string[];
  /** `ssl_protocols` (default TLSv1.2 TLSv1.3): the only two uWS serves. */
  sslProtocols: string[];
  /** `ssl_cipher_suite` (default intermediate): modern | intermediate | old | custom. */
  sslCipherSuite: string;
  /** `ssl_ciphers`: the OpenSSL cipher list when ssl_cipher_suite is custom. */
  sslCiphers: string | null;
  /** Every plain entry of `admin_listen`; empty when `admin_listen: off` (no Admin API). */
  adminListens: ListenAddress[];
  /** The `ssl` entries of `admin_listen` (Kong's default has `127.0.0.1:8444 http2 ssl`): served with node's TLS. */
  adminSslListens: ListenAddress[];
  /** `admin_ssl_cert` / `admin_ssl_cert_key`: the Admin API's certificate. Empty: a self-signed one, as Kong does. */
  adminSslCert: string[];
  adminSslCertKey: string[];
  /** `websocket_max_message_size` (default 16m): the largest WebSocket message either side may send; larger → 1009. */
  websocketMaxMessageSize: number;
  /** `websocket_idle_timeout` (default 120 s, in ms): a client that neither sends nor answers uWS's ping for this long is closed. */
  websocketIdleTimeout: number;
  /** `websocket_upstream_buffer_limit` (default 32m): client bytes the upstream has not taken, at most; beyond → 1008. */
  websocketUpstreamBufferLimit: number;
  /** `admin_token`: when set, every Admin API request must carry it in `Kong-Admin-Token`. */
  adminToken: string | null;
  /** `admin_allow_unauthenticated_remote` (default off): serve the Admin API beyond loopback without a token. */
  adminAllowUnauthenticatedRemote: boolean;
  /** `workers`: worker processes; 0 or "auto" = one per core. */
  workers: number;
  /** `log_level`: debug | info | notice | warn | error. */
  logLevel: LogLevel;
  /** `trusted_ips`: CIDRs whose X-Forwarded-* and real-IP headers are believed. */
  trustedIps: string[];
  /** `real_ip_header` (default X-Real-IP), lowercased. */
  realIpHeader: string;
  /** `real_ip_recursive` (default off). */
  realIpRecursive: boolean;
  /** `allow_debug_header` (default off): honour `Kong-Debug: 1`. */
  allowDebugHeader: boolean;
  /** `headers`: which Kong headers go downstream (server_tokens, latency_tokens, x-kong-request-id, X-Kong-Upstream-Status …). */
  headers: string[];
  /** `headers_upstream` (default x-kong-request-id). */
  headersUpstream: string[];
  /** `error_default_type` (default text/plain) for nginx-level errors (502/503/504 …). */
  errorDefaultType: string;
  /** `upstream_keepalive_pool_size` (default 512): idle connections kept per target. */
  upstreamKeepalivePoolSize: number;
  /** `upstream_keepalive_max_requests` (default 10000). */
  upstreamKeepaliveMaxRequests: number;
  /** `upstream_keepalive_idle_timeout` in seconds (default 60). */
  upstreamKeepaliveIdleTimeout: number;
  /** `drain_timeout` in ms (default 10000): how long SIGTERM waits for requests in flight. */
  drainTimeout: number;
  /** `worker_heartbeat_timeout` in ms (default 10000): a worker silent that long is replaced. */
  workerHeartbeatTimeout: number;
  /** `max_request_headers` (Kong's lua_max_req_headers, default 100). */
  maxRequestHeaders: number;
  /** `status_listen` (default off): a listener of the primary serving /status and /metrics. */
  statusListen: ListenAddress | null;
  /** `metrics_series` (default 1024): request-metric series each worker can hold (restart only). */
  metricsSeries: number;
  /** `prometheus_kong2_metrics` (default off): also export Kong 2.x's kong_latency, kong_http_status, kong_bandwidth. */
  prometheusKong2Metrics: boolean;
  /**
   * nginx `large_client_header_buffers` (Kong: `nginx_http_large_client_header_buffers`, default
   * `4 8k`): a request line longer than `size` is 414, a header line longer than `size` or a head
   * longer than `count * size` is 400.
   */
  largeClientHeaderBuffers: { count: number; size: number };
  /** `rate_limiting_table_size` (default 65536): slots of the shared counter table of policy local. */
  rateLimitingTableSize: number;
  /** `target_slots` (default 4096): upstream targets whose health the shared table tracks (restart only). */
  targetSlots: number;
  /**
   * nginx `send_timeout` in ms (Kong: `nginx_http_send_timeout`, default 60 s): a client that
   * takes no bytes of a proxied response for that long is disconnected; 0 = never.
   */
  sendTimeout: number;
  /**
   * nginx `client_body_timeout` in ms (Kong: `nginx_http_client_body_timeout`, default 60 s): the
   * longest gap between two reads of a request body; then 408 and close, the upstream try aborted. 0 = never.
   */
  clientBodyTimeout: number;
  /** nginx `client_header_timeout` in ms (default 60 s): accepted; uWS bounds the head itself (README). */
  clientHeaderTimeout: number;
  /** nginx `keepalive_timeout` in ms (default 75 s): 0 = `Connection: close` on every response; else uWS's own idle cut acts (README). */
  keepaliveTimeout: number;
  /** Kong's `nginx_events_worker_connections` (`auto` = 0 here): connections per worker, where the uWS build can count them. */
  workerConnections: number;
  /**
   * nginx `client_body_buffer_size` in bytes (Kong: `nginx_http_client_body_buffer_size`, default
   * 8k): with a route's `request_buffering`, a body held before the upstream is contacted stays
   * in memory up to this size and spills to an unlinked temp file beyond it.
   */
  clientBodyBufferSize: number;
  /**
   * nginx `proxy_buffer_size` in bytes (Kong: `nginx_proxy_proxy_buffer_size`, Kong's default
   * 160k): the largest upstream response head; a larger one is a 502 (undici's maxHeaderSize).
   */
  proxyBufferSize: number;
  /**
   * `upstream_client` (Hyperway's own, default hyperway): the HTTP/1.1 client for plain http and
   * grpc upstreams, `hyperway` (worker/upstream-h1/) or `undici`; https and grpcs stay on undici.
   */
  upstreamClient: 'undici' | 'hyperway';
  /** `dns_resolver`: nameservers as `ip[:port]` (Consul: 127.0.0.1:8600); empty = those of /etc/resolv.conf. */
  dnsResolver: string[];
  /** `dns_order` (default LAST,SRV,A,CNAME): record types tried in turn, uppercase; AAAA may be added. */
  dnsOrder: string[];
  /** `dns_stale_ttl` in seconds (default 3600): how long the last good answer is served after it expired while lookups fail. */
  dnsStaleTtl: number;
  /** `dns_not_found_ttl` in seconds (default 30): retry interval after NXDOMAIN or no records. */
  dnsNotFoundTtl: number;
  /** `dns_error_ttl` in seconds (default 1): retry interval when no nameserver answers. */
  dnsErrorTtl: number;
  /** `dns_no_sync` (default off): accepted for Kong compatibility; one primary resolves each name once anyway. */
  dnsNoSync: boolean;
  /** `dns_hostsfile` (default /etc/hosts): names resolved from this file before DNS. */
  dnsHostsfile: string;
  /** `circuit_breaker_table_size` (default 1024): breakers (plugin instance × service) the shared table holds (restart only). */
  circuitBreakerTableSize: number;
  /** `database`: `off` (kong.yml and the Admin API's state file) or `postgres` (Kong's DB mode). */
  database: 'off' | 'postgres';
  /** `pg_host`, `pg_port`, `pg_user`, `pg_password`, `pg_database`: the Postgres of DB mode (the primary's only). */
  pgHost: string;
  pgPort: number;
  pgUser: string;
  pgPassword: string;
  pgDatabase: string;
  /** `pg_schema` (default: the search_path's, public): where Hyperway's tables live. */
  pgSchema: string;
  /** `pg_ssl`, `pg_ssl_verify` (default off): TLS to Postgres, and whether its certificate is checked. */
  pgSsl: boolean;
  pgSslVerify: boolean;
  /** `pg_timeout` in ms (default 5000): connect and query timeout. */
  pgTimeout: number;
  /** `pg_max_concurrent_queries` (default 0 = Hyperway's pool of 4): connections of the primary's pool. */
  pgMaxConcurrentQueries: number;
  /** `db_update_frequency` in seconds (default 5): the version check that backs up LISTEN/NOTIFY. */
  dbUpdateFrequency: number;
  /** `db_cache_file` (default: in the OS temp dir, named after the database): the last snapshot, for a start while Postgres is down. */
  dbCacheFile: string;
}

export type { LogLevel } from '../lib/log';

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  proxyListen: { host: '0.0.0.0', port: 8000 },
  adminListen: { host: '127.0.0.1', port: 8001 },
  proxyListens: [{ host: '0.0.0.0', port: 8000 }],
  proxySslListens: [],
  sslCert: [],
  sslCertKey: [],
  sslProtocols: ['TLSv1.2', 'TLSv1.3'],
  sslCipherSuite: 'intermediate',
  sslCiphers: null,
  adminListens: [{ host: '127.0.0.1', port: 8001 }],
  adminSslListens: [],
  adminSslCert: [],
  adminSslCertKey: [],
  websocketMaxMessageSize: 16 * 1024 * 1024,
  websocketIdleTimeout: 120_000,
  websocketUpstreamBufferLimit: 32 * 1024 * 1024,
  adminToken: null,
  adminAllowUnauthenticatedRemote: false,
  workers: 0,
  logLevel: 'notice',
  trustedIps: [],
  realIpHeader: 'x-real-ip',
  realIpRecursive: false,
  allowDebugHeader: false,
  headers: ['server_tokens', 'latency_tokens', 'x-kong-request-id'],
  headersUpstream: ['x-kong-request-id'],
  errorDefaultType: 'text/plain',
  upstreamKeepalivePoolSize: 512,
  upstreamKeepaliveMaxRequests: 10000,
  upstreamKeepaliveIdleTimeout: 60,
  drainTimeout: 10000,
  workerHeartbeatTimeout: 10000,
  maxRequestHeaders: 100,
  statusListen: null,
  metricsSeries: 1024,
  prometheusKong2Metrics: false,
  largeClientHeaderBuffers: { count: 4, size: 8192 },
  rateLimitingTableSize: 65536,
  targetSlots: 4096,
  sendTimeout: 60_000,
  clientBodyTimeout: 60_000,
  clientHeaderTimeout: 60_000,
  keepaliveTimeout: 75_000,
  workerConnections: 0,
  clientBodyBufferSize: 8192,
  proxyBufferSize: 160 * 1024,
  upstreamClient: 'hyperway',
  dnsResolver: [],
  dnsOrder: ['LAST', 'SRV', 'A', 'CNAME'],
  dnsStaleTtl: 3600,
  dnsNotFoundTtl: 30,
  dnsErrorTtl: 1,
  dnsNoSync: false,
  dnsHostsfile: '/etc/hosts',
  circuitBreakerTableSize: 1024,
  database: 'off',
  pgHost: '127.0.0.1',
  pgPort: 5432,
  pgUser: 'kong',
  pgPassword: '',
  pgDatabase: 'kong',
  pgSchema: '',
  pgSsl: false,
  pgSslVerify: false,
  pgTimeout: 5000,
  pgMaxConcurrentQueries: 0,
  dbUpdateFrequency: 5,
  dbCacheFile: '',
} satisfies Settings);

/** `host:port`, with IPv6 hosts bracketed. */
export function formatAddress(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
