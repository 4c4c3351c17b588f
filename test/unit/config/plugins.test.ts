import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { IMPLEMENTED_PLUGINS, KONG_BUNDLED_PLUGINS, pluginNameProblem, type PluginSchema } from '../../../src/plugins';
import { doc, lines, load, problems } from './helpers';

const BASE = 'services:\n  - name: s\n    host: a.test\n    routes:\n      - name: r\n        paths: [/]\nconsumers:\n  - username: alice\n';

/** Registers a fake schema for the duration of `fn` (the table is plain data), then puts the real one back. */
function withPlugin(def: PluginSchema, fn: () => void): void {
  const table = IMPLEMENTED_PLUGINS as Record<string, PluginSchema>;
  const real = table[def.name];
  table[def.name] = def;
  try {
    fn();
  } finally {
    if (real === undefined) delete table[def.name];
    else table[def.name] = real;
  }
}

const fake: PluginSchema = {
  name: 'key-auth',
  noConsumer: true,
  fields: {
    key_names: { type: 'array', elements: { type: 'string' }, default: ['apikey'] },
    hide_credentials: { type: 'boolean', default: false },
  },
};

test('every bundled plugin is reported as not implemented yet; unknown and enterprise names differ', () => {
  assert.ok(KONG_BUNDLED_PLUGINS.includes('rate-limiting'));
  assert.deepEqual(lines(problems(doc('plugins:\n  - name: zipkin\n  - name: my-plugin\n  - name: request-transformer-advanced\n  - name: openid-connect\n'))), [
    "plugins[0].name: plugin 'zipkin' is a Kong plugin that Hyperway does not implement yet",
    "plugins[1].name: plugin 'my-plugin' not enabled; add it to the 'plugins' configuration property",
    "plugins[2].name: plugin 'request-transformer-advanced' is a Kong Enterprise plugin; Hyperway implements only open-source Kong plugins: use 'request-transformer' instead",
    "plugins[3].name: plugin 'openid-connect' is a Kong Enterprise plugin; Hyperway implements only open-source Kong plugins",
  ]);
  assert.deepEqual(lines(problems(doc('plugins:\n  - config: {}\n'))), ['plugins[0].name: required field missing']);
});

test('an implemented plugin loads with its config defaults and resolved scope', () => {
  withPlugin(fake, () => {
    assert.equal(pluginNameProblem('key-auth'), null);
    const { snapshot } = load(doc(`${BASE}plugins:\n  - name: key-auth\n    route: r\n    config:\n      key_names: [X-API-Key]\n`));
    assert.deepEqual(snapshot.plugins, [
      {
        id: snapshot.plugins[0].id,
        name: 'key-auth',
        instanceName: null,
        enabled: true,
        service: -1,
        route: 0,
        consumer: -1,
        protocols: ['grpc', 'grpcs', 'http', 'https'],
        config: { key_names: ['X-API-Key'], hide_credentials: false },
        tags: [],
      },
    ]);
  });
});

test('nested plugins take the scope of their parent, at any depth', () => {
  withPlugin(fake, () => {
    const { snapshot } = load(
      doc('services:\n  - name: s\n    host: a.test\n    plugins:\n      - name: key-auth\n    routes:\n      - name: r\n        paths: [/]\n        plugins:\n          - name: key-auth\n'),
    );
    const scopes = snapshot.plugins.map((p) => `${p.service}/${p.route}/${p.consumer}`).sort();
    assert.deepEqual(scopes, ['-1/0/-1', '0/-1/-1']);
  });
});

test('plugin config problems carry the path inside config', () => {
  withPlugin(fake, () => {
    const ps = problems(doc(`${BASE}plugins:\n  - name: key-auth\n    config:\n      key_names: X-API-Key\n`));
    assert.deepEqual(lines(ps), ['plugins[0].config.key_names: expected an array']);
    assert.deepEqual([ps[0].line, ps[0].column], [13, 18]);
  });
});

test('references must resolve; a name of another entity kind is pointed out', () => {
  assert.deepEqual(
    lines(problems(doc(`${BASE}plugins:\n  - name: zipkin\n    route: alice\n    service: nope\n    consumer: bob\n`))).slice(1),
    [
      "plugins[0].route: invalid reference 'route: alice' (no such entry in 'routes'); 'alice' is a consumer username, not a route",
      "plugins[0].service: invalid reference 'service: nope' (no such entry in 'services')",
      "plugins[0].consumer: invalid reference 'consumer: bob' (no such entry in 'consumers')",
    ],
  );
});

test('one instance per plugin name and scope; no_consumer plugins refuse a consumer', () => {
  withPlugin(fake, () => {
    assert.deepEqual(lines(problems(doc(`${BASE}plugins:\n  - name: key-auth\n  - name: key-auth\n    route: r\n  - name: key-auth\n    instance_name: second\n  - name: key-auth\n    consumer: alice\n`))), [
      "plugins[2].name: uniqueness violation: 'plugins' entity with name set to 'key-auth' for the same route, service and consumer already declared (first at plugins[0])",
      "plugins[3].consumer: plugin 'key-auth' cannot be applied to a consumer",
    ]);
  });
});

test('consumers need username or custom_id; credentials are checked and nested', () => {
  assert.deepEqual(
    lines(problems(doc('consumers:\n  - tags: [x]\n  - username: a\n    basicauth_credentials:\n      - username: u\n    jwt_secrets:\n      - algorithm: RS256\n    acls:\n      - group: g\n      - group: g\nkeyauth_credentials:\n  - key: k\n'))),
    [
      "consumers[0]: at least one of these fields must be non-empty: 'custom_id', 'username'",
      'consumers[1].basicauth_credentials[0].password: required field missing',
      "consumers[1].jwt_secrets[0].rsa_public_key: required field missing (algorithm 'RS256' needs a public key)",
      "consumers[1].acls[1].group: uniqueness violation: 'acls' entity with group set to 'g' for the same consumer already declared (first at consumers[1].acls[0])",
      'keyauth_credentials[0].consumer: required field missing (set consumer to the id or username of a consumer, or nest this entry under it)',
    ],
  );
  const { snapshot } = load(doc('consumers:\n  - username: a\n    custom_id: A1\n    keyauth_credentials: [{}]\n'));
  assert.deepEqual(snapshot.consumers.map(({ username, customId, tags }) => ({ username, customId, tags })), [{ username: 'a', customId: 'A1', tags: [] }]);
});
