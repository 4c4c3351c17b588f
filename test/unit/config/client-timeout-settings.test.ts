import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSettings } from '../../../src/primary/config';

test("client_body_timeout, client_header_timeout and keepalive_timeout take nginx's time form and defaults", () => {
  const d = resolveSettings({}, {}).settings;
  assert.deepEqual([d.clientBodyTimeout, d.clientHeaderTimeout, d.keepaliveTimeout], [60_000, 60_000, 75_000]);
  const s = resolveSettings({ client_body_timeout: '1500ms', keepalive_timeout: 0 }, { KONG_NGINX_HTTP_CLIENT_HEADER_TIMEOUT: '5s' }).settings;
  assert.deepEqual([s.clientBodyTimeout, s.clientHeaderTimeout, s.keepaliveTimeout], [1500, 5000, 0]);
  const bad = resolveSettings({ client_body_timeout: 'soon' }, {});
  assert.match(bad.problems[0].path, /client_body_timeout/);
  assert.match(resolveSettings({ nginx_http_keepalive_timeout: '5s' }, {}).problems[0].message, /use 'keepalive_timeout'/);
});

test("nginx_events_worker_connections: Kong's `auto` counts nothing (0), else a positive count", () => {
  assert.equal(resolveSettings({}, {}).settings.workerConnections, 0);
  assert.equal(resolveSettings({ nginx_events_worker_connections: 'auto' }, {}).settings.workerConnections, 0);
  assert.equal(resolveSettings({}, { KONG_NGINX_EVENTS_WORKER_CONNECTIONS: '512' }).settings.workerConnections, 512);
  assert.equal(resolveSettings({ nginx_events_worker_connections: 0 }, {}).problems.length, 1);
});
