// acl's config through the real loader (Kong's spec/03-plugins/18-acl/01-schema_spec cases).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

const BASE = 'services:\n  - name: s\n    host: a.test\n    routes:\n      - name: r\n        paths: [/]\nconsumers:\n  - username: alice\n';

function plugin(config: string): string {
  return doc(`${BASE}plugins:\n  - name: acl\n    route: r\n${config}`);
}

const ONLY_ONE = "plugins[0].config: only one of these fields must be non-empty: 'config.allow', 'config.deny'";
const AT_LEAST_ONE = "plugins[0].config: at least one of these fields must be non-empty: 'config.allow', 'config.deny'";

test('acl fills the defaults around an allow list', () => {
  const { snapshot } = load(plugin('    config:\n      allow: [admin, dev]\n'));
  assert.deepEqual(snapshot.plugins[0].config, {
    allow: ['admin', 'dev'],
    deny: null,
    hide_groups_header: false,
    always_use_authenticated_groups: false,
    include_consumer_groups: false,
  });
});

test('acl accepts a deny list, with an empty allow list counting as unset (Kong: is_nonempty)', () => {
  const { snapshot } = load(plugin('    config:\n      allow: []\n      deny: [blocked]\n      hide_groups_header: true\n      include_consumer_groups: true\n'));
  assert.deepEqual(snapshot.plugins[0].config, {
    allow: [],
    deny: ['blocked'],
    hide_groups_header: true,
    always_use_authenticated_groups: false,
    include_consumer_groups: true,
  });
});

test("acl needs exactly one of allow / deny, with Kong's two entity-check messages", () => {
  assert.deepEqual(lines(problems(plugin('    config:\n      allow: [a]\n      deny: [b]\n'))), [ONLY_ONE]);
  assert.deepEqual(lines(problems(plugin(''))), [ONLY_ONE, AT_LEAST_ONE]);
  assert.deepEqual(lines(problems(plugin('    config:\n      allow: []\n      deny: []\n'))), [ONLY_ONE, AT_LEAST_ONE]);
});

test('every invalid acl field is reported with its path', () => {
  const ps = problems(plugin("    config:\n      allow: [admin, 7, '']\n      hide_groups_header: nope\n      always_use_authenticated_groups: 0\n      whitelist: [a]\n"));
  assert.deepEqual(lines(ps), [
    'plugins[0].config.allow[1]: expected a string',
    'plugins[0].config.allow[2]: length must be at least 1',
    'plugins[0].config.hide_groups_header: expected a boolean',
    'plugins[0].config.always_use_authenticated_groups: expected a boolean',
    'plugins[0].config.whitelist: unknown field',
  ]);
});

test('acl cannot be scoped to a consumer (Kong: no_consumer)', () => {
  assert.deepEqual(lines(problems(doc(`${BASE}plugins:\n  - name: acl\n    consumer: alice\n    config:\n      allow: [a]\n`))), [
    "plugins[0].consumer: plugin 'acl' cannot be applied to a consumer",
  ]);
});
