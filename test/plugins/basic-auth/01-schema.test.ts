// basic-auth's config through the real loader (Kong's spec/03-plugins/10-basic-auth schema cases).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

const BASE = 'services:\n  - name: s\n    host: a.test\n    routes:\n      - name: r\n        paths: [/]\nconsumers:\n  - username: alice\n';

function plugin(config: string): string {
  return doc(`${BASE}plugins:\n  - name: basic-auth\n    route: r\n${config}`);
}

test("basic-auth loads with Kong 3.10's defaults (realm 'service')", () => {
  const { snapshot } = load(plugin(''));
  assert.deepEqual(snapshot.plugins[0].config, { anonymous: null, hide_credentials: false, realm: 'service' });
});

test('basic-auth keeps the values given', () => {
  const { snapshot } = load(plugin('    config:\n      anonymous: alice\n      hide_credentials: true\n      realm: internal\n'));
  assert.deepEqual(snapshot.plugins[0].config, { anonymous: 'alice', hide_credentials: true, realm: 'internal' });
});

test('every invalid basic-auth field is reported with its path', () => {
  const ps = problems(plugin("    config:\n      anonymous: [alice]\n      hide_credentials: 1\n      realm: ''\n      header_type: basic\n"));
  assert.deepEqual(lines(ps), [
    'plugins[0].config.anonymous: expected a string',
    'plugins[0].config.hide_credentials: expected a boolean',
    'plugins[0].config.realm: length must be at least 1',
    'plugins[0].config.header_type: unknown field',
  ]);
});

test('basic-auth cannot be scoped to a consumer (Kong: no_consumer)', () => {
  assert.deepEqual(lines(problems(doc(`${BASE}plugins:\n  - name: basic-auth\n    consumer: alice\n`))), [
    "plugins[0].consumer: plugin 'basic-auth' cannot be applied to a consumer",
  ]);
});
