import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { checkConfigFile, loadConfigFile, loadConfigText } from '../../../src/primary/config';
import { uuidv5 } from '../../../src/primary/config/uuid';
import { doc, FIXTURES, lines, load, problems } from './helpers';

test('_format_version is required, must be a quoted string and one of 1.1, 2.1, 3.0', () => {
  assert.deepEqual(lines(problems('services: []\n')), [
    '_format_version: required field missing (a declarative config starts with _format_version: "3.0")',
  ]);
  assert.deepEqual(lines(problems('_format_version: 3.0\n')), ['_format_version: expected a string (quote it: _format_version: "3")']);
  assert.deepEqual(lines(problems('_format_version: "2.0"\n')), ['_format_version: expected one of: 1.1, 2.1, 3.0']);
  for (const v of ['1.1', '2.1', '3.0']) assert.equal(load(`_format_version: "${v}"\n`).snapshot.services.length, 0);
});

test('_transform, _comment and _ignore are accepted at the top level and inside entities', () => {
  const r = load(doc('_transform: true\n_comment: hi\n_ignore: [1, 2]\nservices:\n  - name: s\n    host: a.test\n    _comment: x\n    _ignore: [{any: thing}]\n'));
  assert.equal(r.snapshot.services[0].host, 'a.test');
});

test('unknown fields are errors at the top level and inside entities', () => {
  assert.deepEqual(lines(problems(doc('servces: []\nservices:\n  - host: a.test\n    hots: [x]\n'))), [
    'servces: unknown field',
    'services[0].hots: unknown field',
  ]);
});

test('Kong entities Hyperway does not serve are reported, empty lists are fine', () => {
  assert.equal(load(doc('certificates: []\n')).snapshot.routes.length, 0);
  assert.deepEqual(lines(problems(doc('vaults:\n  - name: x\n'))), ["vaults: 'vaults' entities are not supported by Hyperway yet"]);
});

test('nested routes, plugins, targets and credentials take their parent from the nesting', () => {
  const { snapshot } = load(
    doc(`services:
  - name: s1
    host: a.test
  - name: s2
    host: up.internal
    routes:
      - name: r1
        paths: [/x]
upstreams:
  - name: up.internal
    targets:
      - target: 10.0.0.1
consumers:
  - username: alice
    keyauth_credentials:
      - key: k1
    acls:
      - group: g
`),
  );
  assert.equal(snapshot.routes[0].service, 1);
  assert.equal(snapshot.services[1].upstream, 0);
  assert.equal(snapshot.services[0].upstream, -1);
  assert.deepEqual(snapshot.upstreams[0].targets.map((t) => t.target), ['10.0.0.1:8000']);
});

test('a nested child must not repeat its parent key', () => {
  assert.deepEqual(lines(problems(doc('services:\n  - name: s\n    host: a.test\n    routes:\n      - service: s\n        paths: [/]\n'))), [
    'services[0].routes[0].service: value must be null (nested under a service, it takes its service from there)',
  ]);
});

test('top-level children reference parents by id or by name', () => {
  const id = '0f0c6d1a-5d6b-4c2e-9d1b-4a1f4c3f2b1a';
  const { snapshot } = load(
    doc(`services:
  - id: ${id}
    host: a.test
  - name: byname
    host: b.test
routes:
  - service: ${id}
    paths: [/a]
  - service: byname
    paths: [/b]
  - service: { id: ${id} }
    paths: [/c]
  - paths: [/serviceless]
`),
  );
  assert.deepEqual(snapshot.routes.map((r) => r.service), [0, 1, 0, -1]);
  assert.equal(snapshot.services[0].id, id);
});

test('duplicate names and ids are uniqueness violations', () => {
  assert.deepEqual(lines(problems(doc('services:\n  - name: s\n    host: a.test\n  - name: s\n    host: b.test\nconsumers:\n  - custom_id: c\n  - custom_id: c\n'))), [
    "services[1].name: uniqueness violation: 'services' entity with name set to 's' already declared (first at services[0])",
    "consumers[1].custom_id: uniqueness violation: 'consumers' entity with custom_id set to 'c' already declared (first at consumers[0])",
  ]);
});

test('a key repeated several times names its first entry each time, in file order, among other keys', () => {
  const consumers = ['a', 'b', 'a', 'c', 'b', 'a'].map((u) => `  - username: ${u}\n`).join('');
  assert.deepEqual(lines(problems(doc(`consumers:\n${consumers}`))), [
    "consumers[2].username: uniqueness violation: 'consumers' entity with username set to 'a' already declared (first at consumers[0])",
    "consumers[4].username: uniqueness violation: 'consumers' entity with username set to 'b' already declared (first at consumers[1])",
    "consumers[5].username: uniqueness violation: 'consumers' entity with username set to 'a' already declared (first at consumers[0])",
  ]);
});

test('problems found after the walk name nested entries by their full path in the file', () => {
  const text = doc(`services:
  - name: s
    host: a.test
    routes:
      - { name: r0, paths: [/a] }
      - name: r1
        paths: [/b]
        plugins:
          - { name: cors }
          - { name: cors }
consumers:
  - username: u0
    keyauth_credentials: [{ key: k1 }, { key: k2 }]
  - username: u1
    keyauth_credentials: [{ key: k2 }]
`);
  assert.deepEqual(lines(problems(text)), [
    "services[0].routes[1].plugins[1].name: uniqueness violation: 'plugins' entity with name set to 'cors' for the same route, service and consumer already declared (first at services[0].routes[1].plugins[0])",
    "consumers[1].keyauth_credentials[0].key: uniqueness violation: 'keyauth_credentials' entity with key set to 'k2' already declared (first at consumers[0].keyauth_credentials[1])",
  ]);
});

test('ids are UUIDv5 and deterministic; generated ids differ per name', () => {
  // RFC 4122 appendix vector: www.example.com in the DNS namespace.
  assert.equal(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  const text = doc('services:\n  - name: a\n    host: a.test\n  - name: b\n    host: b.test\n');
  const one = load(text).snapshot.services.map((s) => s.id);
  const two = load(text).snapshot.services.map((s) => s.id);
  assert.deepEqual(one, two);
  assert.notEqual(one[0], one[1]);
  assert.match(one[0], /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('YAML syntax errors are HW_ERR_CONFIG_YAML with line and column', () => {
  assert.throws(
    () => loadConfigText('_format_version: "3.0"\nservices:\n  - name: a\n   host: [x\n', 'bad.yml', {}, 1),
    (e: { code: string; problems: { line?: number }[] }) => e.code === 'HW_ERR_CONFIG_YAML' && e.problems.length > 0 && e.problems.every((p) => typeof p.line === 'number'),
  );
});

test("duplicate YAML keys load with a warning each, the last value winning (Kong's parser)", () => {
  const r = loadConfigText('_format_version: "3.0"\nservices:\n  - name: a\n    url: http://x\n    name: b\n_format_version: "3.0"\n', 'dup.yml', {}, 1);
  assert.deepEqual(r.entities.services.map((s) => s.name), ['b']);
  assert.deepEqual(r.warnings.map((w) => [w.message, w.line]), [["duplicate key 'name': the last value wins", 5], ["duplicate key '_format_version': the last value wins", 6]]);
});

test('an unreadable file is HW_ERR_CONFIG_READ; check reports it as a problem', () => {
  const missing = path.join(FIXTURES, 'does-not-exist.yml');
  assert.throws(() => loadConfigFile(missing, {}, 1), (e: { code: string }) => e.code === 'HW_ERR_CONFIG_READ');
  const r = checkConfigFile(missing, {});
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0].message, /cannot read config file/);
});

test('an empty file is one clear problem', () => {
  assert.deepEqual(lines(problems('')), [': expected a declarative config, the file is empty']);
});

test('JSON files load as YAML', () => {
  const { snapshot } = loadConfigFile(path.join(FIXTURES, 'minimal.json'), {}, 7);
  assert.equal(snapshot.version, 7);
  assert.equal(snapshot.services[0].name, 'json-svc');
  assert.equal(snapshot.routes[0].service, 0);
});
