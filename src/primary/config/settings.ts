/**
 * Gateway settings (kong-reference h): the `hyperway:` block of the config file, overridden by
 * HYPERWAY_<NAME>, then KONG_<NAME>, environment variables (HYPERWAY_ wins).
 */
import type { ConfigProblem } from '../../lib/errors';
import { DEFAULT_SETTINGS, formatAddress, type Settings } from '../../shared/settings';
import { isRecord, pathToString, Problems, type Path } from './problems';
import * as v from './settings-values';

interface SettingSpec {
  /** Spelling in the `hyperway:` block and in HYPERWAY_<NAME>. */
  name: string;
  key: keyof Settings;
  /** kong.conf property read from KONG_<NAME>, when Kong has one. */
  kong?: string;
  parse(value: unknown): v.Parsed<Settings[keyof Settings]>;
}

const KONG_HEADERS = [
  'server_tokens', 'latency_tokens', 'x-kong-upstream-latency', 'x-kong-proxy-latency', 'via', 'server',
  'x-kong-upstream-status', 'x-kong-admin-latency', 'x-kong-response-latency', 'x-kong-request-id',
];

const spec = <K extends keyof Settings>(name: string, key: K, parse: (x: unknown) => v.Parsed<Settings[K]>, kong: string | null = name): SettingSpec => ({
  name,
  key,
  kong: kong ?? undefined,
  parse: parse as (x: unknown) => v.Parsed<Settings[keyof Settings]>,
});

export const SETTING_SPECS: readonly SettingSpec[] = [
  // proxyListen / adminListen are the first entries of these lists (resolveSettingsInto).
  spec('proxy_listen', 'proxyListens', (x) => v.parseListens(x, 'proxy_listen', false, true)),
  spec('proxy_listen', 'proxySslListens', v.parseSslListens),
  spec('ssl_cert', 'sslCert', v.parseList),
  spec('ssl_cert_key', 'sslCertKey', v.parseList),
  spec('ssl_protocols', 'sslProtocols', v.parseSslProtocols),
  spec('ssl_cipher_suite', 'sslCipherSuite', (x) => v.parseOneOf(x, ['modern', 'intermediate', 'old', 'custom'])),
  spec('ssl_ciphers', 'sslCiphers', (x) => (typeof x === 'string' && x.trim() !== '' ? { ok: true, value: x.trim() } : { ok: false, error: 'expected an OpenSSL cipher list' })),
  spec('admin_listen', 'adminListens', (x) => v.parseListens(x, 'admin_listen', true, true, true)),
  spec('admin_listen', 'adminSslListens', v.parseSslListens),
  spec('admin_ssl_cert', 'adminSslCert', v.parseList),
  spec('admin_ssl_cert_key', 'adminSslCertKey', v.parseList),
  spec('admin_token', 'adminToken', v.parseToken, null),
  spec('admin_allow_unauthenticated_remote', 'adminAllowUnauthenticatedRemote', v.parseBool, null),
  spec('workers', 'workers', v.parseWorkers, 'nginx_worker_processes'),
  spec('log_level', 'logLevel', v.parseLogLevel),
  spec('trusted_ips', 'trustedIps', v.parseCidrs),
  spec('real_ip_header', 'realIpHeader', v.parseHeaderName),
  spec('real_ip_recursive', 'realIpRecursive', v.parseBool),
  spec('allow_debug_header', 'allowDebugHeader', v.parseBool),
  spec('headers', 'headers', (x) => v.parseChoiceList(x, KONG_HEADERS)),
  spec('headers_upstream', 'headersUpstream', (x) => v.parseChoiceList(x, ['x-kong-request-id'])),
  spec('error_default_type', 'errorDefaultType', (x) => v.parseOneOf(x, ['text/plain', 'application/json', 'application/xml', 'text/html'])),
  spec('upstream_keepalive_pool_size', 'upstreamKeepalivePoolSize', (x) => v.parseInt_(x, 0, 2 ** 31 - 1)),
  spec('upstream_keepalive_max_requests', 'upstreamKeepaliveMaxRequests', (x) => v.parseInt_(x, 0, 2 ** 31 - 1)),
  spec('upstream_keepalive_idle_timeout', 'upstreamKeepaliveIdleTimeout', (x) => v.parseNumber(x, 0, 2 ** 31 - 1)),
  // Timers take at most 2^31-1 ms; the supervisor adds a grace period to the drain timeout.
  spec('drain_timeout', 'drainTimeout', (x) => v.parseInt_(x, 0, 24 * 3600 * 1000), null),
  // Workers beat every 250 ms: below 1 s a busy but healthy worker would be killed.
  spec('worker_heartbeat_timeout', 'workerHeartbeatTimeout', (x) => v.parseInt_(x, 1000, 24 * 3600 * 1000), null),
  spec('max_request_headers', 'maxRequestHeaders', (x) => v.parseInt_(x, 1, 1000), 'lua_max_req_headers'),
  spec('status_listen', 'statusListen', (x) => (x === 'off' || x === false ? { ok: true, value: null } : v.parseListen(x, 'status_listen'))),
  spec('metrics_series', 'metricsSeries', (x) => v.parseInt_(x, 0, 65536), null),
  spec('prometheus_kong2_metrics', 'prometheusKong2Metrics', v.parseBool, null),
  spec('large_client_header_buffers', 'largeClientHeaderBuffers', v.parseHeaderBuffers, 'nginx_http_large_client_header_buffers'),
  // 16 bytes a slot; the segment is sized once at start (restart to change it).
  spec('rate_limiting_table_size', 'rateLimitingTableSize', (x) => v.parseInt_(x, 1024, 64 * 1024 * 1024), null),
  // 64 bytes of shared memory per slot: 1M slots = 64 MiB.
  spec('target_slots', 'targetSlots', (x) => v.parseInt_(x, 1, 1 << 20), null),
  spec('send_timeout', 'sendTimeout', v.parseNginxTime, 'nginx_http_send_timeout'),
  spec('client_body_timeout', 'clientBodyTimeout', v.parseNginxTime, 'nginx_http_client_body_timeout'),
  spec('client_header_timeout', 'clientHeaderTimeout', v.parseNginxTime, 'nginx_http_client_header_timeout'),
  spec('keepalive_timeout', 'keepaliveTimeout', v.parseNginxTime, 'nginx_http_keepalive_timeout'),
  // `auto` (Kong's default) leaves the count to the open-files limit: nothing is counted.
  spec('nginx_events_worker_connections', 'workerConnections', (x) => (x === 'auto' ? { ok: true, value: 0 } : v.parseInt_(x, 1, 2 ** 31 - 1))),
  spec('client_body_buffer_size', 'clientBodyBufferSize', v.parseNginxSize, 'nginx_http_client_body_buffer_size'),
  // undici refuses a maxHeaderSize of 0; below 1k ordinary responses would fail.
  spec('proxy_buffer_size', 'proxyBufferSize', (x) => {
    const r = v.parseNginxSize(x);
    return r.ok && r.value < 1024 ? { ok: false, error: 'value should be between 1k and 64m' } : r;
  }, 'nginx_proxy_proxy_buffer_size'),
  // WebSocket limits: Kong OSS has no settings for them (nginx relays frames as bytes), so the
  // names are Hyperway's. uWS reads them when a worker creates its apps: restart only.
  spec('websocket_max_message_size', 'websocketMaxMessageSize', (x) => atLeast(v.parseNginxSize(x), 1024, '1k and 64m'), null),
  spec('websocket_idle_timeout', 'websocketIdleTimeout', (x) => {
    // uWS takes whole seconds, 0 (never) or 8 … 960: outside that, 20.30 aborts the worker process.
    const r = v.parseNginxTime(x);
    return r.ok && r.value !== 0 && (r.value < 8000 || r.value > 960_000) ? { ok: false, error: 'value should be 0 (never) or between 8s and 960s (uWS\'s range)' } : r;
  }, null),
  spec('websocket_upstream_buffer_limit', 'websocketUpstreamBufferLimit', (x) => atLeast(v.parseNginxSize(x), 1024, '1k and 64m'), null),
  spec('upstream_client', 'upstreamClient', (x) => v.parseOneOf(x, ['undici', 'hyperway']) as v.Parsed<'undici' | 'hyperway'>, null),
  spec('dns_resolver', 'dnsResolver', v.parseNameservers),
  spec('dns_order', 'dnsOrder', v.parseDnsOrder),
  spec('dns_stale_ttl', 'dnsStaleTtl', (x) => v.parseNumber(x, 0, 365 * 24 * 3600)),
  spec('dns_not_found_ttl', 'dnsNotFoundTtl', (x) => v.parseNumber(x, 0, 365 * 24 * 3600)),
  spec('dns_error_ttl', 'dnsErrorTtl', (x) => v.parseNumber(x, 0, 365 * 24 * 3600)),
  spec('dns_no_sync', 'dnsNoSync', v.parseBool),
  spec('dns_hostsfile', 'dnsHostsfile', (x) => (typeof x === 'string' && x.trim() !== '' ? { ok: true, value: x.trim() } : { ok: false, error: 'expected a file path' })),
  // 32 bytes of shared memory per breaker; slots are never freed before a restart.
  spec('circuit_breaker_table_size', 'circuitBreakerTableSize', (x) => v.parseInt_(x, 1, 1 << 20), null),
  // Kong's DB mode (primary/db): read at start; a reload keeps the running connection.
  spec('database', 'database', (x) => v.parseOneOf(x, ['off', 'postgres']) as v.Parsed<'off' | 'postgres'>),
  spec('pg_host', 'pgHost', v.parseText),
  spec('pg_port', 'pgPort', (x) => v.parseInt_(x, 1, 65535)),
  spec('pg_user', 'pgUser', v.parseText),
  spec('pg_password', 'pgPassword', v.parseText),
  spec('pg_database', 'pgDatabase', v.parseText),
  spec('pg_schema', 'pgSchema', v.parseText),
  spec('pg_ssl', 'pgSsl', v.parseBool),
  spec('pg_ssl_verify', 'pgSslVerify', v.parseBool),
  spec('pg_timeout', 'pgTimeout', (x) => v.parseInt_(x, 1, 24 * 3600 * 1000)),
  spec('pg_max_concurrent_queries', 'pgMaxConcurrentQueries', (x) => v.parseInt_(x, 0, 1000)),
  spec('db_update_frequency', 'dbUpdateFrequency', (x) => v.parseNumber(x, 0.1, 24 * 3600)),
  spec('db_cache_file', 'dbCacheFile', v.parseText, null),
];

function atLeast(r: v.Parsed<number>, min: number, range: string): v.Parsed<number> {
  return r.ok && r.value < min ? { ok: false, error: `value should be between ${range}` } : r;
}

/** kong.conf names users may write in the block, pointing at Hyperway's spelling. */
const HINTS: Record<string, string> = {
  nginx_worker_processes: "unknown field: use 'workers'",
  lua_max_req_headers: "unknown field: use 'max_request_headers'",
  nginx_http_large_client_header_buffers: "unknown field: use 'large_client_header_buffers'",
  nginx_http_send_timeout: "unknown field: use 'send_timeout'",
  nginx_http_client_body_timeout: "unknown field: use 'client_body_timeout'",
  nginx_http_client_header_timeout: "unknown field: use 'client_header_timeout'",
  nginx_http_keepalive_timeout: "unknown field: use 'keepalive_timeout'",
  nginx_http_client_body_buffer_size: "unknown field: use 'client_body_buffer_size'",
  nginx_proxy_proxy_buffer_size: "unknown field: use 'proxy_buffer_size'",
};

/** Same as resolveSettings but reports into `pr` with raw paths, so load.ts can add lines. */
export function resolveSettingsInto(block: unknown, env: NodeJS.ProcessEnv, pr: Problems): Settings {
  const settings: Settings = structuredClone(DEFAULT_SETTINGS) as Settings;
  let fileValues: Record<string, unknown> = {};
  if (block !== undefined && block !== null) {
    if (!isRecord(block)) pr.err(['hyperway'], 'expected a record');
    else fileValues = block;
  }
  let adminPath: Path = ['hyperway', 'admin_listen'];
  const known = new Set(SETTING_SPECS.map((s) => s.name));
  for (const k of Object.keys(fileValues)) {
    if (!known.has(k)) pr.err(['hyperway', k], HINTS[k] ?? 'unknown field', 'key');
  }
  for (const s of SETTING_SPECS) {
    // The file's value is checked even when the environment overrides it: a bad value must not
    // lie in wait for the day the variable is unset.
    const sources = [envSource(s, env), fileSource(s, fileValues)].filter((x) => x !== null);
    sources.forEach((source, i) => {
      const r = s.parse(source.value);
      const at = source.path.length === 1 ? 'none' : 'value';
      if (!r.ok) {
        pr.err(source.path, r.error, at);
      } else if (i === 0) {
        (settings as unknown as Record<string, unknown>)[s.key] = r.value;
        if (r.warning) pr.warn(source.path, r.warning, at);
        if (s.key === 'adminListens') adminPath = source.path;
      }
    });
  }
  settings.proxyListen = settings.proxyListens[0];
  const tlsPath: Path = ['hyperway', 'ssl_cert'];
  if (settings.sslCert.length !== settings.sslCertKey.length) {
    pr.err(tlsPath, `ssl_cert names ${settings.sslCert.length} file(s) and ssl_cert_key ${settings.sslCertKey.length}: give one key per certificate`);
  } else if (settings.sslCert.length > 1) {
    pr.warn(tlsPath, 'uWebSockets.js serves one default certificate: only the first ssl_cert / ssl_cert_key pair is used');
  }
  if (settings.sslCipherSuite === 'custom' && settings.sslCiphers === null) {
    pr.err(['hyperway', 'ssl_cipher_suite'], 'ssl_cipher_suite custom needs ssl_ciphers (an OpenSSL cipher list)');
  }
  // With admin_listen off there is no Admin API; adminListen keeps a value for code that prints it.
  settings.adminListen = settings.adminListens[0] ?? settings.adminSslListens[0] ?? DEFAULT_SETTINGS.adminListen;
  const adminTlsPath: Path = ['hyperway', 'admin_ssl_cert'];
  if (settings.adminSslCert.length !== settings.adminSslCertKey.length) {
    pr.err(adminTlsPath, `admin_ssl_cert names ${settings.adminSslCert.length} file(s) and admin_ssl_cert_key ${settings.adminSslCertKey.length}: give one key per certificate`);
  }
  // The token rule is the same over TLS: TLS hides the token on the wire, it does not replace it.
  const remote = [...settings.adminListens, ...settings.adminSslListens].filter((a) => !isLoopback(a.host));
  if (remote.length > 0 && settings.adminToken === null && !settings.adminAllowUnauthenticatedRemote) {
    pr.err(adminPath, `the Admin API would listen on ${remote.map(formatAddress).join(', ')}, beyond loopback, where anyone who reaches it can change the gateway: ` +
      'set admin_token (HYPERWAY_ADMIN_TOKEN; clients send it in Kong-Admin-Token), or admin_allow_unauthenticated_remote: true to serve it without one, or listen on 127.0.0.1',
    adminPath.length === 1 ? 'none' : 'value');
  }
  return settings;
}

/** Loopback addresses (and `localhost`): only processes of this host reach them. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

interface Source {
  value: unknown;
  path: Path;
}

function envSource(s: SettingSpec, env: NodeJS.ProcessEnv): Source | null {
  const names = [`HYPERWAY_${s.name.toUpperCase()}`];
  if (s.kong) names.push(`KONG_${s.kong.toUpperCase()}`);
  for (const n of names) {
    const val = env[n];
    if (val !== undefined && val !== '') return { value: val, path: [`env ${n}`] };
  }
  return null;
}

function fileSource(s: SettingSpec, file: Record<string, unknown>): Source | null {
  const fv = file[s.name];
  if (fv === undefined || fv === null) return null;
  return { value: fv, path: ['hyperway', s.name] };
}

/** Settings only (the `hyperway:` block + env), used before any worker starts. */
export function resolveSettings(block: unknown, env: NodeJS.ProcessEnv): { settings: Settings; problems: ConfigProblem[]; warnings: ConfigProblem[] } {
  const pr = new Problems();
  const settings = resolveSettingsInto(block, env, pr);
  const plain = (p: { path: Path; message: string }): ConfigProblem => ({ path: pathToString(p.path), message: p.message });
  return { settings, problems: pr.errors.map(plain), warnings: pr.warnings.map(plain) };
}
