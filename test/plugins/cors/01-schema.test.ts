// cors config through the real config loader: Kong 3.10's defaults, every invalid field with its path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

const plugin = (config: string): string => doc(`plugins:\n  - name: cors\n    config:\n${config}`);

test('defaults are Kong 3.10 schema.lua\'s', () => {
  const { snapshot } = load(doc('plugins:\n  - name: cors\n'));
  assert.deepEqual(snapshot.plugins[0].config, {
    origins: null,
    headers: null,
    exposed_headers: null,
    methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'],
    max_age: null,
    credentials: false,
    private_network: false,
    preflight_continue: false,
    allow_origin_absent: true,
  });
  assert.deepEqual(snapshot.plugins[0].protocols, ['http', 'https']);
});

test('origins take *, flat values and regexes', () => {
  const { snapshot } = load(plugin('      origins: ["*", "example.com", "http://a.test:8080", ".*\\\\.example(?:-foo)?\\\\.com"]\n      max_age: 3600\n'));
  assert.deepEqual(snapshot.plugins[0].config.origins, ['*', 'example.com', 'http://a.test:8080', '.*\\.example(?:-foo)?\\.com']);
  assert.equal(snapshot.plugins[0].config.max_age, 3600);
});

test('every invalid field is reported with its path', () => {
  assert.deepEqual(
    lines(problems(plugin(
      '      origins: [".*.example.com", "invalid_**regex"]\n' +
      '      methods: [GET, FAKE]\n' +
      '      headers: x\n' +
      '      max_age: soon\n' +
      '      credentials: "yes"\n' +
      '      preflight_continue: 1\n' +
      '      private_network: []\n' +
      '      allow_origin_absent: nope\n' +
      '      origin: "*"\n',
    ))),
    [
      "plugins[0].config.origins[1]: 'invalid_**regex' is not a valid regex",
      'plugins[0].config.methods[1]: expected one of: GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS, TRACE, CONNECT',
      'plugins[0].config.headers: expected an array',
      'plugins[0].config.max_age: expected a number',
      'plugins[0].config.credentials: expected a boolean',
      'plugins[0].config.preflight_continue: expected a boolean',
      'plugins[0].config.private_network: expected a boolean',
      'plugins[0].config.allow_origin_absent: expected a boolean',
      'plugins[0].config.origin: unknown field',
    ],
  );
});

test('cors cannot be scoped to a consumer (no_consumer)', () => {
  const ps = problems(doc('consumers:\n  - username: alice\nplugins:\n  - name: cors\n    consumer: alice\n'));
  assert.deepEqual(lines(ps), ["plugins[0].consumer: plugin 'cors' cannot be applied to a consumer"]);
});
