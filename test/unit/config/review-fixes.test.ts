/** Loader fixes from review: YAML 1.1 booleans, 1.1/2.1 path migration, entity edge cases. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { doc, lines, load, problems } from './helpers';

test('YAML 1.1 booleans (lyaml) are accepted in boolean fields, unquoted only', () => {
  const r = load(doc('routes:\n  - paths: [/a]\n    strip_path: no\n    preserve_host: yes\n  - paths: [/b]\n    strip_path: Off\n    preserve_host: ON\n    request_buffering: n\n    response_buffering: FALSE\nservices:\n  - host: a.test\n    enabled: y\n'));
  const [a, b] = r.snapshot.routes;
  assert.deepEqual([a.stripPath, a.preserveHost], [false, true]);
  assert.deepEqual([b.stripPath, b.preserveHost, b.requestBuffering, b.responseBuffering], [false, true, false, false]);
  assert.equal(r.snapshot.services[0].enabled, true);
  // Other fields keep YAML 1.2 strings: `no` is a name, `12:30` is not a number.
  assert.equal(load(doc('services:\n  - host: a.test\n    name: no\n    tags: [12:30]\n')).snapshot.services[0].name, 'no');
  assert.deepEqual(lines(problems(doc('routes:\n  - paths: [/a]\n    strip_path: "yes"\n    preserve_host: maybe\n'))), [
    'routes[0].strip_path: expected a boolean',
    'routes[0].preserve_host: expected a boolean',
  ]);
});

test('_format_version 1.1/2.1: route paths are migrated as Kong 3.x does, one warning each', () => {
  const r = load('_format_version: "2.1"\nroutes:\n  - paths: [/plain, "/users/\\\\d+$", /a/./b]\nservices:\n  - host: a.test\n    routes:\n      - paths: ["/x%2e%41(y)"]\n');
  assert.deepEqual(r.snapshot.routes.map((x) => x.paths), [['/plain', '~/users/\\d+$', '/a/b'], ['~/x\\.A(y)']]);
  assert.deepEqual(
    r.warnings.map((w) => [w.path, w.line, w.message]),
    [
      ['routes[0].paths[1]', 3, `path '/users/\\d+$' was migrated to '~/users/\\d+$' (_format_version "2.1" paths are rewritten as Kong 3.x does; write '~/users/\\d+$' and use _format_version "3.0")`],
      ['routes[0].paths[2]', 3, `path '/a/./b' was migrated to '/a/b' (_format_version "2.1" paths are rewritten as Kong 3.x does; write '/a/b' and use _format_version "3.0")`],
      ['services[0].routes[0].paths[0]', 7, `path '/x%2e%41(y)' was migrated to '~/x\\.A(y)' (_format_version "2.1" paths are rewritten as Kong 3.x does; write '~/x\\.A(y)' and use _format_version "3.0")`],
    ],
  );
  // 3.0 files are taken as written: the same regex without `~` is a literal prefix path, as in
  // Kong 3.x (validate_path_with_regexes refuses only bad %-escapes and non-normalized paths).
  assert.deepEqual(load(doc('routes:\n  - paths: ["/users/\\\\d+$"]\n')).snapshot.routes[0].paths, ['/users/\\d+$']);
});

test('two invalid targets in one upstream: no uniqueness violation for undefined', () => {
  assert.deepEqual(lines(problems(doc('upstreams:\n  - name: u\n    targets:\n      - target: "bad host"\n      - target: "bad host"\n'))), [
    'upstreams[0].targets[0].target: Invalid target; not a valid hostname or ip address',
    'upstreams[0].targets[1].target: Invalid target; not a valid hostname or ip address',
  ]);
});

test('consistent-hashing with an explicit hash_on: none becomes round-robin, with a warning', () => {
  const r = load(doc('services:\n  - host: u\nupstreams:\n  - name: u\n    algorithm: consistent-hashing\n    hash_on: none\n'));
  assert.equal(r.snapshot.upstreams[0].algorithm, 'round-robin');
  assert.deepEqual(lines(r.warnings), ["upstreams[0].algorithm: algorithm 'consistent-hashing' becomes 'round-robin' because hash_on is 'none'"]);
});

test('unsupported entity lists given as null are accepted like empty ones', () => {
  assert.equal(load(doc('vaults:\ncertificates: null\nservices:\n  - host: a.test\n')).snapshot.services.length, 1);
  assert.deepEqual(lines(problems(doc('vaults:\n  - name: env\n'))), ["vaults: 'vaults' entities are not supported by Hyperway yet"]);
});
