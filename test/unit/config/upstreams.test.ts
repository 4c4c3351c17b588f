import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { doc, lines, load, problems } from './helpers';

const up = (body: string) => doc(`upstreams:\n${body}`);

const DEFAULT_HEALTHCHECKS = {
  active: {
    type: 'http',
    timeout: 1,
    concurrency: 10,
    http_path: '/',
    https_sni: null,
    https_verify_certificate: true,
    headers: null,
    healthy: { interval: 0, http_statuses: [200, 302], successes: 0 },
    unhealthy: { interval: 0, http_statuses: [429, 404, 500, 501, 502, 503, 504, 505], tcp_failures: 0, timeouts: 0, http_failures: 0 },
  },
  passive: {
    type: 'http',
    healthy: { http_statuses: [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308], successes: 0 },
    unhealthy: { http_statuses: [429, 500, 503], tcp_failures: 0, timeouts: 0, http_failures: 0 },
  },
  threshold: 0,
};

test('upstream defaults, with every healthcheck default filled in', () => {
  const u = load(up('  - name: backend\n')).snapshot.upstreams[0];
  assert.equal(u.algorithm, 'round-robin');
  assert.equal(u.hashOn, 'none');
  assert.equal(u.hashFallback, 'none');
  assert.equal(u.hashOnCookiePath, '/');
  assert.equal(u.slots, 10000);
  assert.equal(u.hostHeader, null);
  assert.deepEqual(u.healthchecks, DEFAULT_HEALTHCHECKS);
  assert.deepEqual(u.targets, []);
});

test('partial healthchecks keep the user values and fill the rest', () => {
  const u = load(up('  - name: backend\n    healthchecks:\n      active:\n        http_path: /health\n        healthy: {interval: 5}\n')).snapshot.upstreams[0];
  const hc = u.healthchecks as typeof DEFAULT_HEALTHCHECKS;
  assert.equal(hc.active.http_path, '/health');
  assert.deepEqual(hc.active.healthy, { interval: 5, http_statuses: [200, 302], successes: 0 });
  assert.deepEqual(hc.passive, DEFAULT_HEALTHCHECKS.passive);
});

test('healthcheck ranges and misplaced fields', () => {
  assert.deepEqual(
    lines(problems(up('  - name: backend\n    healthchecks:\n      threshold: 101\n      active:\n        interval: 5\n        concurrency: 0\n        healthy: {successes: 256, http_statuses: [99]}\n        unhealthy: {interval: -1}\n      passive:\n        type: udp\n'))),
    [
      'upstreams[0].healthchecks.threshold: value should be between 0 and 100',
      'upstreams[0].healthchecks.active.interval: unknown field: use active.healthy.interval and active.unhealthy.interval (seconds between probes of healthy and of unhealthy targets)',
      'upstreams[0].healthchecks.active.concurrency: value should be between 1 and 2147483648',
      'upstreams[0].healthchecks.active.healthy.successes: value should be between 0 and 255',
      'upstreams[0].healthchecks.active.healthy.http_statuses[0]: value should be between 100 and 999',
      'upstreams[0].healthchecks.active.unhealthy.interval: value should be between 0 and 65535',
      'upstreams[0].healthchecks.passive.type: expected one of: tcp, http, https, grpc, grpcs',
    ],
  );
});

test('name must be a hostname without port; slots 10..65536', () => {
  assert.deepEqual(lines(problems(up('  - name: 10.0.0.1\n  - name: a.test:80\n  - name: "bad name"\n  - name: ok\n    slots: 5\n'))), [
    'upstreams[0].name: Invalid name; no ip addresses allowed',
    'upstreams[1].name: Invalid name; no port allowed',
    'upstreams[2].name: Invalid name; must be a valid hostname',
    'upstreams[3].slots: value should be between 10 and 65536',
  ]);
});

test('hash_on switches the algorithm; least-connections clears hashing', () => {
  const r = load(up('  - name: a\n    hash_on: header\n    hash_on_header: X-User\n  - name: b\n    algorithm: least-connections\n    hash_on: ip\n  - name: c\n    algorithm: round-robin\n    hash_on: ip\n'));
  const [a, b, c] = r.snapshot.upstreams;
  assert.deepEqual([a.algorithm, a.hashOn, a.hashOnHeader], ['consistent-hashing', 'header', 'x-user']);
  assert.deepEqual([b.algorithm, b.hashOn], ['least-connections', 'none']);
  assert.equal(c.algorithm, 'consistent-hashing');
  assert.deepEqual(
    r.warnings.filter((w) => !w.message.includes('not used') && !w.message.includes('not implemented yet')).map((w) => w.path),
    ['upstreams[1].hash_on', 'upstreams[2].algorithm'],
  );
});

test('what loads but does not run yet says so: gRPC probes; every balancer and health checks run silently', () => {
  const r = load(up('  - name: a\n    algorithm: latency\n  - name: d\n    algorithm: least-connections\n  - name: b\n    healthchecks:\n      active:\n        healthy:\n          interval: 5\n      passive:\n        unhealthy:\n          tcp_failures: 2\n  - name: c\n    healthchecks:\n      active:\n        type: grpc\n        healthy:\n          interval: 5\n'));
  assert.deepEqual(
    r.warnings.filter((w) => !w.message.includes('not used')).map((w) => `${w.path}: ${w.message}`),
    [
      "upstreams[3].healthchecks.active.type: active checks of type 'grpc' are not implemented yet: Hyperway probes these targets with a TCP connect",
    ],
  );
});

test('hashing rules', () => {
  assert.deepEqual(
    lines(problems(up('  - name: a\n    hash_on: header\n  - name: b\n    hash_on: none\n    hash_fallback: ip\n  - name: c\n    hash_on: ip\n    hash_fallback: ip\n  - name: d\n    hash_on: header\n    hash_on_header: x-a\n    hash_fallback: header\n    hash_fallback_header: x-a\n  - name: e\n    hash_on: cookie\n'))),
    [
      "upstreams[0].hash_on_header: required field missing (hash_on is 'header')",
      "upstreams[1].hash_fallback: expected one of: none (hash_fallback must be 'none' when hash_on is 'none')",
      "upstreams[2].hash_fallback: hash_fallback must differ from hash_on ('ip')",
      "upstreams[3].hash_fallback_header: must differ from hash_on_header ('x-a')",
      "upstreams[4].hash_on_cookie: required field missing (hashing on 'cookie')",
    ],
  );
});

test('targets: default port 8000 and weight 100, weight 0..65535, nested or top level', () => {
  const { snapshot } = load(
    up('  - name: backend\n    targets:\n      - target: 10.0.0.1\n      - target: "[::1]:9000"\n        weight: 0\ntargets:\n  - target: Host.Test:81\n    upstream: backend\n    weight: 5\n'),
  );
  assert.deepEqual(
    snapshot.upstreams[0].targets.map(({ target, host, port, weight }) => ({ target, host, port, weight })),
    [
      { target: '10.0.0.1:8000', host: '10.0.0.1', port: 8000, weight: 100 },
      { target: '[::1]:9000', host: '::1', port: 9000, weight: 0 },
      { target: 'host.test:81', host: 'host.test', port: 81, weight: 5 },
    ],
  );
  assert.deepEqual(
    lines(problems(up('  - name: backend\n    targets:\n      - target: "bad host"\n      - target: a.test\n        weight: 70000\n      - target: a.test:8000\ntargets:\n  - target: b.test\n  - target: c.test\n    upstream: nope\n'))),
    [
      'upstreams[0].targets[0].target: Invalid target; not a valid hostname or ip address',
      'upstreams[0].targets[1].weight: value should be between 0 and 65535',
      "upstreams[0].targets[2].target: uniqueness violation: 'targets' entity with target set to 'a.test:8000' for the same upstream already declared (first at upstreams[0].targets[1])",
      'targets[0].upstream: required field missing (set upstream to the id or name of an upstream, or nest this entry under it)',
      "targets[1].upstream: invalid reference 'upstream: nope' (no such entry in 'upstreams')",
    ],
  );
});

test('a service whose host names an upstream is balanced by it; unused upstreams warn', () => {
  const r = load(doc('services:\n  - host: Backend\nupstreams:\n  - name: other\n  - name: backend\n'));
  assert.equal(r.snapshot.services[0].upstream, 1);
  assert.deepEqual(lines(r.warnings), ["upstreams[0].name: upstream 'other' is not used by any service (a service uses it by setting host: other)"]);
});

test("upstreams[].host_header takes a port (Kong's host_with_optional_port); a bad value is refused", () => {
  const r = load(doc('services:\n  - host: u\nupstreams:\n  - name: u\n    host_header: "example.com:8080"\n'));
  assert.equal(r.snapshot.upstreams[0].hostHeader, 'example.com:8080');
  assert.deepEqual(lines(problems(doc('upstreams:\n  - name: u\n    host_header: "bad host:1"\n'))), ['upstreams[0].host_header: invalid value: bad host:1']);
});
