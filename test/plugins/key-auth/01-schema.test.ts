// key-auth's config through the real loader (Kong's spec/03-plugins/09-key-auth/01-api_spec schema cases).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

const BASE = 'services:\n  - name: s\n    host: a.test\n    routes:\n      - name: r\n        paths: [/]\nconsumers:\n  - username: alice\n';

function plugin(config: string): string {
  return doc(`${BASE}plugins:\n  - name: key-auth\n    route: r\n${config}`);
}

test("key-auth loads with Kong 3.10's defaults", () => {
  const { snapshot } = load(plugin(''));
  assert.deepEqual(snapshot.plugins[0].config, {
    key_names: ['apikey'],
    hide_credentials: false,
    anonymous: null,
    key_in_header: true,
    key_in_query: true,
    key_in_body: false,
    run_on_preflight: true,
    realm: null,
  });
});

test('key-auth keeps the values given', () => {
  const { snapshot } = load(
    plugin('    config:\n      key_names: [X-API-Key, api_key]\n      hide_credentials: true\n      anonymous: alice\n      key_in_header: false\n      key_in_query: false\n      key_in_body: true\n      run_on_preflight: false\n      realm: api\n'),
  );
  assert.deepEqual(snapshot.plugins[0].config, {
    key_names: ['X-API-Key', 'api_key'],
    hide_credentials: true,
    anonymous: 'alice',
    key_in_header: false,
    key_in_query: false,
    key_in_body: true,
    run_on_preflight: false,
    realm: 'api',
  });
});

test('every invalid key-auth field is reported with its path', () => {
  const ps = problems(
    plugin("    config:\n      key_names: [apikey, 'bad name']\n      hide_credentials: maybe\n      anonymous: 5\n      key_in_body: []\n      run_on_preflight: 'yes'\n      realm: ''\n      keys: [x]\n"),
  );
  assert.deepEqual(lines(ps), [
    "plugins[0].config.key_names[1]: bad header name 'bad name', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
    'plugins[0].config.hide_credentials: expected a boolean',
    'plugins[0].config.anonymous: expected a string',
    'plugins[0].config.key_in_body: expected a boolean',
    'plugins[0].config.run_on_preflight: expected a boolean',
    'plugins[0].config.realm: length must be at least 1',
    'plugins[0].config.keys: unknown field',
  ]);
  assert.deepEqual(lines(problems(plugin('    config:\n      key_names: apikey\n'))), ['plugins[0].config.key_names: expected an array']);
});

test('key-auth cannot be scoped to a consumer (Kong: no_consumer)', () => {
  assert.deepEqual(lines(problems(doc(`${BASE}plugins:\n  - name: key-auth\n    consumer: alice\n`))), [
    "plugins[0].consumer: plugin 'key-auth' cannot be applied to a consumer",
  ]);
});
