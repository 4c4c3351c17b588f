import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { resolveSettings } from '../../../src/primary/config';
import { DEFAULT_SETTINGS } from '../../../src/shared/settings';
import { doc, lines, load, problems } from './helpers';

test('no block and no env: the defaults', () => {
  assert.deepEqual(resolveSettings(undefined, {}), { settings: { ...DEFAULT_SETTINGS }, problems: [], warnings: [] });
});

test('the hyperway block maps snake_case to Settings', () => {
  const { settings, problems: ps } = resolveSettings(
    {
      proxy_listen: '0.0.0.0:9000 reuseport backlog=16384, 0.0.0.0:9001 reuseport',
      admin_listen: '[::1]:9001',
      workers: 'auto',
      log_level: 'debug',
      trusted_ips: ['10.0.0.0/8', '::1'],
      real_ip_header: 'X-Forwarded-For',
      real_ip_recursive: 'on',
      allow_debug_header: true,
      headers: 'Server_Tokens, X-Kong-Upstream-Status',
      headers_upstream: 'off',
      error_default_type: 'application/json',
      upstream_keepalive_pool_size: 64,
      upstream_keepalive_max_requests: 100,
      upstream_keepalive_idle_timeout: 30,
      drain_timeout: 5000,
      worker_heartbeat_timeout: 3000,
      max_request_headers: 200,
      large_client_header_buffers: '2 16k',
      target_slots: 128,
      send_timeout: '30s',
    },
    {},
  );
  assert.deepEqual(ps, []);
  assert.deepEqual(settings, {
    // Settings this test does not set (DB mode's …) keep their defaults.
    ...DEFAULT_SETTINGS,
    proxyListen: { host: '0.0.0.0', port: 9000 },
    adminListen: { host: '::1', port: 9001 },
    proxyListens: [{ host: '0.0.0.0', port: 9000 }, { host: '0.0.0.0', port: 9001 }],
    adminListens: [{ host: '::1', port: 9001 }],
    workers: 0,
    logLevel: 'debug',
    trustedIps: ['10.0.0.0/8', '::1'],
    realIpHeader: 'x-forwarded-for',
    realIpRecursive: true,
    allowDebugHeader: true,
    headers: ['server_tokens', 'x-kong-upstream-status'],
    headersUpstream: [],
    errorDefaultType: 'application/json',
    upstreamKeepalivePoolSize: 64,
    upstreamKeepaliveMaxRequests: 100,
    upstreamKeepaliveIdleTimeout: 30,
    drainTimeout: 5000,
    workerHeartbeatTimeout: 3000,
    largeClientHeaderBuffers: { count: 2, size: 16384 },
    maxRequestHeaders: 200,
    statusListen: null,
    metricsSeries: 1024,
    prometheusKong2Metrics: false,
    rateLimitingTableSize: 65536,
    targetSlots: 128,
    sendTimeout: 30_000,
    dnsResolver: [],
    dnsOrder: ['LAST', 'SRV', 'A', 'CNAME'],
    dnsStaleTtl: 3600,
    dnsNotFoundTtl: 30,
    dnsErrorTtl: 1,
    dnsNoSync: false,
    dnsHostsfile: '/etc/hosts',
    circuitBreakerTableSize: 1024,
  });
});

test('status_listen is off by default and takes a listen address; metrics settings parse', () => {
  const { settings } = resolveSettings({ status_listen: '127.0.0.1:8007 reuseport backlog=16384', metrics_series: 16, prometheus_kong2_metrics: 'on' }, {});
  assert.deepEqual(settings.statusListen, { host: '127.0.0.1', port: 8007 });
  assert.equal(settings.metricsSeries, 16);
  assert.equal(settings.prometheusKong2Metrics, true);
  assert.equal(resolveSettings({}, {}).settings.statusListen, null);
  const off = resolveSettings({ status_listen: 'off' }, {});
  assert.deepEqual([off.settings.statusListen, off.problems], [null, []]);
  assert.deepEqual(lines(resolveSettings({ status_listen: 'nowhere', metrics_series: -1 }, {}).problems), [
    "hyperway.status_listen: invalid listen address 'nowhere': expected <ip>:<port>, e.g. 0.0.0.0:8000",
    'hyperway.metrics_series: value should be between 0 and 65536',
  ]);
});

test('env overrides the file; HYPERWAY_ wins over KONG_', () => {
  const { settings } = resolveSettings(
    { proxy_listen: '0.0.0.0:9000', workers: 2, log_level: 'info' },
    { HYPERWAY_PROXY_LISTEN: '127.0.0.1:7000', KONG_PROXY_LISTEN: '127.0.0.1:6000', KONG_NGINX_WORKER_PROCESSES: '4', KONG_LOG_LEVEL: 'warn', KONG_LUA_MAX_REQ_HEADERS: '50' },
  );
  assert.deepEqual(settings.proxyListen, { host: '127.0.0.1', port: 7000 });
  assert.equal(settings.workers, 4);
  assert.equal(settings.logLevel, 'warn');
  assert.equal(settings.maxRequestHeaders, 50);
  assert.equal(resolveSettings({}, { HYPERWAY_WORKERS: '3', HYPERWAY_LOG_LEVEL: 'error' }).settings.workers, 3);
});

test('bad values are problems naming hyperway.<name> or the env var', () => {
  const { problems: ps } = resolveSettings(
    { proxy_listen: 'off', workers: -1, real_ip_recursive: 'maybe', trusted_ips: '10.0.0.0/33', headers: ['via', 'nope'], nginx_worker_processes: 2, typo: 1 },
    { HYPERWAY_LOG_LEVEL: 'loud' },
  );
  assert.deepEqual(lines(ps), [
    "hyperway.nginx_worker_processes: unknown field: use 'workers'",
    'hyperway.typo: unknown field',
    "hyperway.proxy_listen: 'off' is not supported for proxy_listen: Hyperway needs this listener",
    'hyperway.workers: value should be between 0 and 1024 (or "auto" for one worker per core)',
    'env HYPERWAY_LOG_LEVEL: expected one of: debug, info, notice, warn, error',
    "hyperway.trusted_ips: invalid IP address or CIDR: '10.0.0.0/33'",
    'hyperway.real_ip_recursive: expected on, off, true or false',
    "hyperway.headers: invalid value 'nope': expected one of: server_tokens, latency_tokens, x-kong-upstream-latency, x-kong-proxy-latency, via, server, x-kong-upstream-status, x-kong-admin-latency, x-kong-response-latency, x-kong-request-id, off",
  ]);
});

test('the hyperway block in a declarative file reaches the snapshot; its problems have lines', () => {
  const r = load(doc('hyperway:\n  proxy_listen: 127.0.0.1:8080\n'), { HYPERWAY_ADMIN_LISTEN: '127.0.0.1:8081' });
  assert.deepEqual(r.snapshot.settings.proxyListen, { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(r.snapshot.settings.adminListen, { host: '127.0.0.1', port: 8081 });
  const ps = problems(doc('hyperway:\n  workers: many\n'), { HYPERWAY_PROXY_LISTEN: 'nonsense' });
  assert.deepEqual(ps, [
    { path: 'env HYPERWAY_PROXY_LISTEN', message: "invalid listen address 'nonsense': expected <ip>:<port>, e.g. 0.0.0.0:8000" },
    { path: 'hyperway.workers', message: 'expected an integer (or "auto" for one worker per core)', line: 3, column: 12 },
  ]);
});

test('a config whose only problems are settings fails with HW_ERR_SETTINGS_INVALID', () => {
  assert.throws(() => load(doc('services: []\n'), { HYPERWAY_WORKERS: 'x' }), (e: { code: string }) => e.code === 'HW_ERR_SETTINGS_INVALID');
  assert.throws(() => load(doc('services: [1]\n'), { HYPERWAY_WORKERS: 'x' }), (e: { code: string }) => e.code === 'HW_ERR_CONFIG_INVALID');
});

test("Kong's listen strings: every plain entry; proxy_listen and admin_listen ssl entries served, other ssl/http2 entries skipped with a warning; proxy_protocol an error; admin_listen off; Kong log levels", () => {
  // Kong's Docker image defaults.
  const docker = resolveSettings({}, { KONG_PROXY_LISTEN: '0.0.0.0:8000, 0.0.0.0:8443 ssl', KONG_ADMIN_LISTEN: '127.0.0.1:8001, 127.0.0.1:8444 ssl' });
  assert.deepEqual(docker.problems, []);
  assert.deepEqual(docker.settings.proxyListens, [{ host: '0.0.0.0', port: 8000 }]);
  assert.deepEqual(docker.settings.proxySslListens, [{ host: '0.0.0.0', port: 8443 }]);
  assert.deepEqual(docker.settings.adminListens, [{ host: '127.0.0.1', port: 8001 }]);
  assert.deepEqual(docker.settings.adminSslListens, [{ host: '127.0.0.1', port: 8444 }], 'the Admin API serves its ssl entry');
  assert.deepEqual(lines(docker.warnings), []);
  const many = resolveSettings({ proxy_listen: '0.0.0.0:8000 reuseport backlog=16384, [::]:8000 deferred bind, 0.0.0.0:8443 http2 ssl reuseport' }, {});
  assert.deepEqual(many.problems, []);
  assert.deepEqual(many.settings.proxyListens, [{ host: '0.0.0.0', port: 8000 }, { host: '::', port: 8000 }]);
  assert.deepEqual(many.settings.proxyListen, { host: '0.0.0.0', port: 8000 });
  assert.deepEqual(lines(many.warnings), [
    'hyperway.proxy_listen: backlog=16384 on 0.0.0.0:8000 ignored; deferred bind on [::]:8000 ignored',
  ]);
  const { problems: ps } = resolveSettings({ proxy_listen: '0.0.0.0:8443 http2 ssl reuseport', status_listen: '0.0.0.0:8100 turbo' }, { KONG_ADMIN_LISTEN: '127.0.0.1:8001 proxy_protocol' });
  assert.deepEqual(lines(ps), [
    'hyperway.proxy_listen: an ssl entry needs a plain HTTP entry beside it (Hyperway serves TLS next to plain HTTP, e.g. 0.0.0.0:8000, 0.0.0.0:8443 ssl)',
    "env KONG_ADMIN_LISTEN: proxy_protocol listeners are not supported yet: '127.0.0.1:8001 proxy_protocol' (the PROXY header would be read as a request)",
    "hyperway.status_listen: invalid listen flag 'turbo' in '0.0.0.0:8100 turbo'",
  ]);
  for (const r of [resolveSettings({ admin_listen: 'off' }, {}), resolveSettings({}, { KONG_ADMIN_LISTEN: 'off' })]) {
    assert.deepEqual([r.problems, r.warnings], [[], []]);
    assert.deepEqual(r.settings.adminListens, []);
  }
  for (const [given, level] of [['crit', 'error'], ['alert', 'error'], ['EMERG', 'error'], ['warn', 'warn']]) {
    assert.deepEqual(resolveSettings({ log_level: given }, {}), { settings: { ...DEFAULT_SETTINGS, logLevel: level }, problems: [], warnings: [] });
  }
});

test('a bad file value is reported even when the environment overrides it', () => {
  const r = resolveSettings({ workers: 'many', log_level: 'info' }, { HYPERWAY_WORKERS: '2', KONG_LOG_LEVEL: 'debug' });
  assert.equal(r.settings.workers, 2);
  assert.equal(r.settings.logLevel, 'debug');
  assert.deepEqual(lines(r.problems), ['hyperway.workers: expected an integer (or "auto" for one worker per core)']);
});

test('large_client_header_buffers takes nginx\'s form, from the file or KONG_NGINX_HTTP_LARGE_CLIENT_HEADER_BUFFERS', () => {
  assert.deepEqual(resolveSettings({}, {}).settings.largeClientHeaderBuffers, { count: 4, size: 8192 }, "nginx's default, 4 8k");
  assert.deepEqual(resolveSettings({}, { KONG_NGINX_HTTP_LARGE_CLIENT_HEADER_BUFFERS: '4 1m' }).settings.largeClientHeaderBuffers, { count: 4, size: 1048576 });
  assert.deepEqual(resolveSettings({ large_client_header_buffers: '8 4096' }, {}).settings.largeClientHeaderBuffers, { count: 8, size: 4096 });
  for (const bad of ['8k', '4 8g', '0 8k', '4 512', '4 2m', '8 1m', 'four 8k']) {
    const { problems } = resolveSettings({ large_client_header_buffers: bad }, {});
    assert.equal(problems.length, 1, bad);
    assert.match(problems[0].message, /large_client_header_buffers|number|size|expected/, bad);
  }
});

test("send_timeout takes nginx's time form, from the file or KONG_NGINX_HTTP_SEND_TIMEOUT", () => {
  assert.equal(resolveSettings({}, {}).settings.sendTimeout, 60_000, "nginx's default, 60s");
  assert.equal(resolveSettings({ send_timeout: '500ms' }, {}).settings.sendTimeout, 500);
  assert.equal(resolveSettings({ send_timeout: 2 }, {}).settings.sendTimeout, 2000, 'a bare number is seconds, as in nginx');
  assert.equal(resolveSettings({}, { KONG_NGINX_HTTP_SEND_TIMEOUT: '1m' }).settings.sendTimeout, 60_000);
  assert.equal(resolveSettings({ send_timeout: 0 }, {}).settings.sendTimeout, 0, '0 turns it off');
  for (const bad of ['soon', '-1s', '10d', '9999999h']) {
    const { problems } = resolveSettings({ send_timeout: bad }, {});
    assert.deepEqual(lines(problems).length, 1, bad);
    assert.match(problems[0].path, /send_timeout/, bad);
  }
  assert.deepEqual(lines(resolveSettings({ nginx_http_send_timeout: '5s' }, {}).problems), ["hyperway.nginx_http_send_timeout: unknown field: use 'send_timeout'"]);
});

test('admin_listen ssl entries: served alone or beside plain ones, under the same loopback rule; admin_ssl_cert pairs with its key', () => {
  const only = resolveSettings({ admin_listen: '127.0.0.1:8444 http2 ssl reuseport backlog=16384' }, {});
  assert.deepEqual([only.problems, only.settings.adminListens, only.settings.adminSslListens], [[], [], [{ host: '127.0.0.1', port: 8444 }]]);
  assert.deepEqual(only.settings.adminListen, { host: '127.0.0.1', port: 8444 });
  const remote = resolveSettings({}, { KONG_ADMIN_LISTEN: '127.0.0.1:8001, 0.0.0.0:8444 ssl' });
  assert.equal(remote.problems.length, 1);
  assert.match(remote.problems[0].message, /would listen on 0\.0\.0\.0:8444, beyond loopback/, 'TLS does not replace the token');
  assert.deepEqual(resolveSettings({}, { KONG_ADMIN_LISTEN: '0.0.0.0:8444 ssl', HYPERWAY_ADMIN_TOKEN: 'a-token-of-16-chars-or-more' }).problems, []);
  const pair = resolveSettings({ admin_ssl_cert: ['/a.crt', '/b.crt'], admin_ssl_cert_key: '/a.key' }, {});
  assert.deepEqual(lines(pair.problems), ['hyperway.admin_ssl_cert: admin_ssl_cert names 2 file(s) and admin_ssl_cert_key 1: give one key per certificate']);
  assert.deepEqual(resolveSettings({}, { KONG_ADMIN_SSL_CERT: '/a.crt', KONG_ADMIN_SSL_CERT_KEY: '/a.key' }).settings.adminSslCert, ['/a.crt']);
});

test('WebSocket limits: Hyperway settings with nginx sizes and times, bounded to what uWS takes', () => {
  const d = resolveSettings({}, {}).settings;
  assert.deepEqual([d.websocketMaxMessageSize, d.websocketIdleTimeout, d.websocketUpstreamBufferLimit], [16 * 1024 * 1024, 120_000, 32 * 1024 * 1024]);
  const s = resolveSettings({ websocket_max_message_size: '64k', websocket_idle_timeout: '8s' }, { HYPERWAY_WEBSOCKET_UPSTREAM_BUFFER_LIMIT: '1m' });
  assert.deepEqual(s.problems, []);
  assert.deepEqual([s.settings.websocketMaxMessageSize, s.settings.websocketIdleTimeout, s.settings.websocketUpstreamBufferLimit], [65536, 8000, 1048576]);
  assert.equal(resolveSettings({ websocket_idle_timeout: 0 }, {}).settings.websocketIdleTimeout, 0, '0: never');
  assert.equal(resolveSettings({ websocket_idle_timeout: '16m' }, {}).settings.websocketIdleTimeout, 960_000);
  assert.equal(resolveSettings({ websocket_idle_timeout: '961s' }, {}).problems.length, 1, 'over 960 s uWS 20.30 aborts the worker: refused at load');
  assert.deepEqual(lines(resolveSettings({ websocket_idle_timeout: '5s', websocket_max_message_size: 100, websocket_upstream_buffer_limit: '65m' }, {}).problems), [
    'hyperway.websocket_max_message_size: value should be between 1k and 64m',
    'hyperway.websocket_idle_timeout: value should be 0 (never) or between 8s and 960s (uWS\'s range)',
    'hyperway.websocket_upstream_buffer_limit: value should be between 0 and 64m',
  ]);
});
