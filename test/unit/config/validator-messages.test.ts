// The validator messages no other test reached (issue 13): each through the same entry point as
// the other config tests (loadConfigText via helpers.ts), asserting the field path and the text.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { doc, lines, load, problems } from './helpers';

const SVC = 'services:\n  - name: s\n    url: http://127.0.0.1:9\n';

/** The warnings, less the unused-upstream notice these small documents all get. */
function warnings(text: string): string[] {
  return lines(load(text).warnings).filter((w) => !/is not used by any service/.test(w));
}

test('plugins: the Enterprise ordering field and a config that is not a record', () => {
  assert.deepEqual(lines(problems(doc('plugins:\n  - name: key-auth\n    ordering: {before: {access: [key-auth]}}\n'))), [
    "plugins[0].ordering: unknown field: 'ordering' (dynamic plugin ordering) is a Kong Enterprise feature",
  ]);
  for (const config of ['[1, 2]', '"text"', '5']) {
    assert.deepEqual(lines(problems(doc(`plugins:\n  - name: key-auth\n    config: ${config}\n`))), ['plugins[0].config: expected a record'], config);
  }
});

test('routes: the expressions-router fields and enabled have hints', () => {
  const route = (field: string): string => doc(`${SVC}    routes:\n      - name: r\n        paths: [/a]\n        ${field}\n`);
  assert.deepEqual(lines(problems(route('priority: 5'))), [
    "services[0].routes[0].priority: unknown field: 'priority' needs router_flavor = expressions; use regex_priority",
  ]);
  assert.deepEqual(lines(problems(route('enabled: false'))), [
    'services[0].routes[0].enabled: unknown field: routes have no enabled flag in Kong 3.x (disable the service instead)',
  ]);
});

test("routes: path_handling 'v1' loads with a warning and runs as v0", () => {
  const text = doc(`${SVC}    routes:\n      - name: r\n        paths: [/a]\n        path_handling: v1\n`);
  assert.deepEqual(warnings(text), [
    "services[0].routes[0].path_handling: path_handling 'v1' is ignored by the traditional_compatible router (Kong 3.x default): this route behaves as 'v0'",
  ]);
});

test('upstreams: a bad cookie name; hash_fallback naming nothing', () => {
  assert.deepEqual(lines(problems(doc('upstreams:\n  - name: u\n    hash_on: cookie\n    hash_on_cookie: "bad cookie"\n'))), [
    'upstreams[0].hash_on_cookie: invalid cookie name',
  ]);
  assert.deepEqual(
    lines(problems(doc('upstreams:\n  - name: u\n    hash_on: ip\n    hash_fallback: header\n    hash_fallback_header: null\n  - name: v\n    hash_on: ip\n    hash_fallback: query_arg\n'))),
    [
      "upstreams[0].hash_fallback_header: required field missing (hash_fallback is 'header')",
      "upstreams[1].hash_fallback_query_arg: required field missing (hash_fallback is 'query_arg')",
    ],
  );
});

test('upstreams: the algorithm shorthands and client_certificate are warnings that say what happens', () => {
  const w = warnings(
    doc(
      'upstreams:\n' +
        '  - name: a\n    algorithm: least-connections\n    hash_on: ip\n' +
        '  - name: b\n    algorithm: round-robin\n    hash_on: header\n    hash_on_header: x-user\n' +
        '  - name: c\n    client_certificate: {id: 00000000-0000-4000-8000-000000000001}\n',
    ),
  );
  assert.deepEqual(w, [
    "upstreams[0].hash_on: hash_on is ignored with algorithm 'least-connections' (it only applies to consistent-hashing)",
    "upstreams[1].algorithm: algorithm 'round-robin' becomes 'consistent-hashing' because hash_on is 'header'",
    "upstreams[2].client_certificate: 'client_certificate' is not implemented by Hyperway yet and is ignored",
  ]);
});

test('services: url shorthands that do not parse, a url that is not a string', () => {
  const svc = (url: string): string => doc(`services:\n  - name: s\n    url: ${url}\n`);
  assert.deepEqual(lines(problems(svc('"http://"'))), ["services[0].url: invalid url: 'http://'"]);
  assert.deepEqual(lines(problems(svc('"http://h:80x"'))), ["services[0].url: invalid url: 'http://h:80x'"]);
  assert.deepEqual(lines(problems(svc('"http://h:70000/"'))), ["services[0].url: invalid url: 'http://h:70000/' (port must be between 0 and 65535)"]);
  // Reported once, against url: not again as a missing host.
  assert.deepEqual(lines(problems(svc('5'))), ['services[0].url: expected a string']);
});

test('services: TLS fields on an https service load; tls_verify_depth with a warning (not enforced)', () => {
  const w = warnings(doc('services:\n  - name: s\n    url: https://example.com\n    tls_verify: true\n    tls_verify_depth: 2\n'));
  assert.deepEqual(w, [
    "services[0].tls_verify_depth: 'tls_verify_depth' is not enforced by Hyperway (node's TLS has no chain-depth limit): the chain is verified to a trusted CA whatever its length",
  ]);
});

test('targets: port 0', () => {
  assert.deepEqual(lines(problems(doc('upstreams:\n  - name: u\n    targets:\n      - target: 127.0.0.1:0\n'))), [
    'upstreams[0].targets[0].target: Invalid target; port must be between 1 and 65535',
  ]);
});

test('settings: listen, number, list, header-name and one-of values of the wrong shape', () => {
  const ps = problems(
    doc(
      'hyperway:\n' +
        '  proxy_listen: 8000\n' +
        '  trusted_ips: 10\n' +
        '  real_ip_header: "X Real IP"\n' +
        '  headers_upstream: [via]\n' +
        '  error_default_type: application/pdf\n' +
        '  upstream_keepalive_idle_timeout: soon\n' +
        '  worker_heartbeat_timeout: 999\n' +
        '  max_request_headers: 0\n',
    ),
  );
  assert.deepEqual(lines(ps), [
    "hyperway.proxy_listen: expected a string such as '0.0.0.0:8000'",
    'hyperway.trusted_ips: expected a list or a comma-separated string',
    'hyperway.real_ip_header: expected a header name',
    "hyperway.headers_upstream: invalid value 'via': expected one of: x-kong-request-id, off",
    'hyperway.error_default_type: expected one of: text/plain, application/json, application/xml, text/html',
    'hyperway.upstream_keepalive_idle_timeout: expected a number',
    'hyperway.worker_heartbeat_timeout: value should be between 1000 and 86400000',
    'hyperway.max_request_headers: value should be between 1 and 1000',
  ]);
  // Each with the line of its value, as every other file problem has.
  assert.deepEqual(ps.map((p) => p.line), [3, 4, 5, 6, 7, 8, 9, 10]);
});

test('settings: a list with a non-string entry; out-of-range numbers; the same from the environment', () => {
  assert.deepEqual(lines(problems(doc('hyperway:\n  trusted_ips: ["10.0.0.0/8", [1]]\n  upstream_keepalive_idle_timeout: -1\n  drain_timeout: 86400001\n'))), [
    'hyperway.trusted_ips: expected a list of strings',
    'hyperway.upstream_keepalive_idle_timeout: value should be between 0 and 2147483647',
    'hyperway.drain_timeout: value should be between 0 and 86400000',
  ]);
  const env = { HYPERWAY_UPSTREAM_KEEPALIVE_IDLE_TIMEOUT: 'x', KONG_REAL_IP_HEADER: 'a:b', HYPERWAY_ERROR_DEFAULT_TYPE: 'json' };
  assert.deepEqual(lines(problems(doc('services: []\n'), env)), [
    'env KONG_REAL_IP_HEADER: expected a header name',
    'env HYPERWAY_ERROR_DEFAULT_TYPE: expected one of: text/plain, application/json, application/xml, text/html',
    'env HYPERWAY_UPSTREAM_KEEPALIVE_IDLE_TIMEOUT: expected a number',
  ]);
});
