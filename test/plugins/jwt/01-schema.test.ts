/** Kong's spec/03-plugins/16-jwt/06-schema_spec and kong/plugins/jwt/schema.lua, through the real config loader. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

const BASE = 'services:\n  - name: s\n    host: a.test\n    routes:\n      - name: r\n        paths: [/]\nconsumers:\n  - username: alice\n';

test('jwt loads with Kong\'s defaults', () => {
  const { snapshot } = load(doc(`${BASE}plugins:\n  - name: jwt\n    route: r\n`));
  assert.equal(snapshot.plugins.length, 1);
  const p = snapshot.plugins[0];
  assert.deepEqual([p.name, p.route, p.protocols], ['jwt', 0, ['grpc', 'grpcs', 'http', 'https']]);
  assert.deepEqual(p.config, {
    uri_param_names: ['jwt'],
    cookie_names: [],
    header_names: ['authorization'],
    key_claim_name: 'iss',
    secret_is_base64: false,
    claims_to_verify: null,
    anonymous: null,
    run_on_preflight: true,
    maximum_expiration: 0,
    realm: null,
  });
});

test('given values are kept; sets drop repeated elements', () => {
  const { snapshot } = load(
    doc(
      `${BASE}plugins:\n  - name: jwt\n    config:\n      key_claim_name: kid\n      claims_to_verify: [exp, nbf, exp]\n` +
        '      header_names: [Authorization, X-Token]\n      uri_param_names: [token, jwt]\n      cookie_names: [crumble]\n' +
        '      maximum_expiration: 86400\n      secret_is_base64: true\n      run_on_preflight: false\n      anonymous: alice\n      realm: api\n',
    ),
  );
  assert.deepEqual(snapshot.plugins[0].config, {
    uri_param_names: ['token', 'jwt'],
    cookie_names: ['crumble'],
    header_names: ['Authorization', 'X-Token'],
    key_claim_name: 'kid',
    secret_is_base64: true,
    claims_to_verify: ['exp', 'nbf'],
    anonymous: 'alice',
    run_on_preflight: false,
    maximum_expiration: 86400,
    realm: 'api',
  });
});

test('every invalid field is reported with its path and line', () => {
  const ps = problems(
    doc(
      `${BASE}plugins:\n  - name: jwt\n    config:\n` +
        '      uri_param_names: jwt\n' +
        '      cookie_names: [1]\n' +
        '      header_names: {a: b}\n' +
        "      key_claim_name: ''\n" +
        '      secret_is_base64: "yes"\n' +
        '      claims_to_verify: [exp, iat]\n' +
        '      anonymous: 5\n' +
        '      run_on_preflight: 1\n' +
        '      maximum_expiration: 31536001\n' +
        '      realm: [x]\n' +
        '      key_names: [apikey]\n',
    ),
  );
  assert.deepEqual(lines(ps), [
    'plugins[0].config.uri_param_names: expected a set',
    'plugins[0].config.cookie_names[0]: expected a string',
    'plugins[0].config.header_names: expected a set',
    'plugins[0].config.key_claim_name: length must be at least 1',
    'plugins[0].config.secret_is_base64: expected a boolean',
    'plugins[0].config.claims_to_verify[1]: expected one of: exp, nbf',
    'plugins[0].config.anonymous: expected a string',
    'plugins[0].config.run_on_preflight: expected a boolean',
    'plugins[0].config.maximum_expiration: value should be between 0 and 31536000',
    'plugins[0].config.realm: expected a string',
    'plugins[0].config.key_names: unknown field',
  ]);
  // The document's first line is `_format_version`; the config keys start on line 13.
  assert.deepEqual(ps.map((p) => p.line), [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
  assert.deepEqual(lines(problems(doc(`${BASE}plugins:\n  - name: jwt\n    config:\n      maximum_expiration: -1\n`))), [
    'plugins[0].config.maximum_expiration: value should be between 0 and 31536000',
  ]);
});

test('maximum_expiration needs exp among claims_to_verify (Kong\'s conditional entity check)', () => {
  const msg = 'plugins[0].config.claims_to_verify: expected to contain: exp (maximum_expiration is greater than 0)';
  assert.deepEqual(lines(problems(doc(`${BASE}plugins:\n  - name: jwt\n    config:\n      maximum_expiration: 60\n`))), [msg]);
  assert.deepEqual(lines(problems(doc(`${BASE}plugins:\n  - name: jwt\n    config:\n      maximum_expiration: 60\n      claims_to_verify: [nbf]\n`))), [msg]);
  const { snapshot } = load(doc(`${BASE}plugins:\n  - name: jwt\n    config:\n      maximum_expiration: 60\n      claims_to_verify: [nbf, exp]\n`));
  assert.equal(snapshot.plugins[0].config.maximum_expiration, 60);
});

test('jwt cannot be scoped to a consumer (typedefs.no_consumer)', () => {
  assert.deepEqual(lines(problems(doc(`${BASE}plugins:\n  - name: jwt\n    consumer: alice\n`))), [
    "plugins[0].consumer: plugin 'jwt' cannot be applied to a consumer",
  ]);
  assert.deepEqual(lines(problems(doc(`${BASE.replace('  - username: alice\n', '  - username: alice\n    plugins:\n      - name: jwt\n')}`))), [
    "consumers[0].plugins[0].consumer: plugin 'jwt' cannot be applied to a consumer",
  ]);
});
