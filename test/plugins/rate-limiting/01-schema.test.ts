// rate-limiting config through the real config loader: Kong 3.10's fields, defaults, entity
// checks and shorthands (spec/03-plugins/23-rate-limiting/01-schema_spec.lua).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

const plugin = (config: string): string => doc(`plugins:\n  - name: rate-limiting\n    config:\n${config}`);
const config = (yaml: string): Record<string, unknown> => load(plugin(yaml)).snapshot.plugins[0].config;

const REDIS_DEFAULTS = {
  host: null, port: 6379, timeout: 2000, connect_timeout: null, send_timeout: null, read_timeout: null,
  username: null, password: null, database: 0, ssl: false, ssl_verify: false, server_name: null,
};

test('defaults as Kong 3.10', () => {
  assert.deepEqual(config('      minute: 10\n'), {
    second: null, minute: 10, hour: null, day: null, month: null, year: null,
    limit_by: 'consumer', header_name: null, path: null, policy: 'local', fault_tolerant: true,
    redis: REDIS_DEFAULTS, hide_client_headers: false, error_code: 429,
    error_message: 'API rate limit exceeded', sync_rate: -1,
  });
});

test('at least one window, each > 0; a longer window may not have a lower limit', () => {
  assert.deepEqual(lines(problems(plugin('      limit_by: ip\n'))), [
    "plugins[0].config: at least one of these fields must be non-empty: 'config.second', 'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year'",
  ]);
  assert.deepEqual(lines(problems(plugin('      second: 0\n      hour: -1\n      minute: x\n'))), [
    'plugins[0].config.second: value must be greater than 0',
    'plugins[0].config.hour: value must be greater than 0',
    'plugins[0].config.minute: expected a number',
  ]);
  assert.deepEqual(lines(problems(plugin('      second: 20\n      minute: 10\n'))), [
    'plugins[0].config: The limit for minute(10.0) cannot be lower than the limit for second(20.0)',
  ]);
  assert.deepEqual(config('      second: 10\n      minute: 10\n      year: 1000\n').year, 1000);
});

test('limit_by choices; header and path need their field; consumer-group is refused with a reason', () => {
  assert.deepEqual(lines(problems(plugin('      minute: 1\n      limit_by: nobody\n'))), [
    'plugins[0].config.limit_by: expected one of: consumer, credential, ip, service, header, path, consumer-group',
  ]);
  assert.deepEqual(lines(problems(plugin('      minute: 1\n      limit_by: header\n'))), ['plugins[0].config.header_name: required field missing']);
  assert.deepEqual(lines(problems(plugin('      minute: 1\n      limit_by: path\n'))), ['plugins[0].config.path: required field missing']);
  assert.deepEqual(lines(problems(plugin('      minute: 1\n      limit_by: header\n      header_name: "x y"\n'))), [
    "plugins[0].config.header_name: bad header name 'x y', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
  ]);
  const [p] = problems(plugin('      minute: 1\n      limit_by: consumer-group\n'));
  assert.equal(p.path, 'plugins[0].config.limit_by');
  assert.match(p.message, /consumer groups, which Hyperway does not have/);
  assert.equal(config('      minute: 1\n      limit_by: path\n      path: /a/b\n').path, '/a/b');
});

test('policy: cluster is refused as DB-less Kong refuses it, naming redis and local', () => {
  const [p, ...rest] = problems(plugin('      minute: 1\n      policy: cluster\n'));
  assert.equal(rest.length, 0);
  assert.equal(p.path, 'plugins[0].config.policy');
  assert.match(p.message, /DB-less/);
  assert.match(p.message, /use 'redis'.*or 'local'/);
  assert.deepEqual(lines(problems(plugin('      minute: 1\n      policy: memcached\n'))), ['plugins[0].config.policy: expected one of: local, cluster, redis']);
});

test('policy: redis needs redis.host; the nested record and the flat shorthands both fill it', () => {
  assert.deepEqual(lines(problems(plugin('      minute: 1\n      policy: redis\n'))), ['plugins[0].config.redis.host: required field missing']);
  const nested = config('      minute: 1\n      policy: redis\n      redis:\n        host: 127.0.0.1\n        port: 6380\n        database: 2\n        password: pw\n');
  assert.deepEqual(nested.redis, { ...REDIS_DEFAULTS, host: '127.0.0.1', port: 6380, database: 2, password: 'pw' });
  const flat = config('      minute: 1\n      policy: redis\n      redis_host: redis.local\n      redis_port: 6390\n      redis_password: s3cret\n      redis_database: 3\n      redis_timeout: 500\n      redis_ssl: true\n      redis_ssl_verify: true\n      redis_server_name: redis.example.com\n      redis_username: u\n');
  assert.deepEqual(flat.redis, {
    ...REDIS_DEFAULTS, host: 'redis.local', port: 6390, password: 's3cret', database: 3, timeout: 500,
    ssl: true, ssl_verify: true, server_name: 'redis.example.com', username: 'u',
  });
  assert.equal('redis_host' in flat, false, 'shorthands are not kept as fields');
  assert.deepEqual(lines(problems(plugin('      minute: 1\n      redis_port: 70000\n      redis:\n        timeout: x\n'))), [
    'plugins[0].config.redis_port: value should be between 0 and 65535',
    'plugins[0].config.redis.timeout: expected an integer',
  ]);
});

test('other fields: types and the local policy\'s largest limit', () => {
  assert.deepEqual(lines(problems(plugin('      minute: 1\n      error_code: 0\n      error_message: 5\n      fault_tolerant: maybe\n      hide_client_headers: 1\n      sync_rate: x\n      color: red\n'))), [
    'plugins[0].config.error_code: value must be greater than 0',
    'plugins[0].config.error_message: expected a string',
    'plugins[0].config.fault_tolerant: expected a boolean',
    'plugins[0].config.hide_client_headers: expected a boolean',
    'plugins[0].config.sync_rate: expected a number',
    'plugins[0].config.color: unknown field',
  ]);
  const [p] = problems(plugin('      year: 100000000\n'));
  assert.equal(p.path, 'plugins[0].config.year');
  assert.match(p.message, /use policy 'redis'/);
  assert.equal(config('      year: 100000000\n      policy: redis\n      redis: {host: localhost}\n').year, 100000000);
});
