// rate-limiting-advanced config through the real config loader: Kong Enterprise's fields and
// defaults as far as Hyperway implements them, seed 3's snippet, and the refusals with reasons.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';
import { pluginNameProblem, pluginStatus } from '../../../src/plugins';

const plugin = (config: string): string => doc(`plugins:\n  - name: rate-limiting-advanced\n    config:\n${config}`);
const config = (yaml: string): Record<string, unknown> => load(plugin(yaml)).snapshot.plugins[0].config;

test('an Enterprise name that Hyperway implements: accepted as implemented', () => {
  assert.equal(pluginStatus('rate-limiting-advanced').kind, 'implemented');
  assert.equal(pluginNameProblem('rate-limiting-advanced'), null);
});

test('defaults; seed 3\'s snippet loads as written', () => {
  const c = config('      limit: [1000]\n      window_size: [60]\n      window_type: sliding\n      strategy: redis\n      redis:\n        host: redis\n        port: 6379\n');
  assert.deepEqual(
    { ...c, redis: undefined },
    {
      limit: [1000], window_size: [60], window_type: 'sliding', identifier: 'consumer', header_name: null, path: null,
      namespace: null, strategy: 'redis', sync_rate: null, dictionary_name: 'kong_rate_limiting_counters',
      lock_dictionary_name: 'kong_locks', redis: undefined, hide_client_headers: false, retry_after_jitter_max: 0,
      error_code: 429, error_message: 'API rate limit exceeded', disable_penalty: false, enforce_consumer_groups: false,
      consumer_groups: null,
    },
  );
  assert.equal((c.redis as Record<string, unknown>).host, 'redis');
  assert.equal((config('      limit: [5]\n      window_size: [1]\n').redis as Record<string, unknown>).port, null, 'unset: environment, then 6379');
});

test('limits and windows: required, paired, positive, whole distinct seconds', () => {
  assert.deepEqual(lines(problems(plugin('      window_type: fixed\n'))), [
    'plugins[0].config.limit: required field missing',
    'plugins[0].config.window_size: required field missing',
  ]);
  assert.deepEqual(lines(problems(plugin('      limit: [10, 20]\n      window_size: [60]\n'))), ['plugins[0].config: You must provide the same number of windows and limits']);
  assert.deepEqual(lines(problems(plugin('      limit: [0]\n      window_size: [1.5]\n'))), [
    'plugins[0].config.limit[0]: value must be greater than 0',
    'plugins[0].config.window_size[0]: window sizes are whole seconds, at least 1',
  ]);
  assert.deepEqual(lines(problems(plugin('      limit: [1, 2]\n      window_size: [60, 60]\n'))), ['plugins[0].config.window_size: window sizes must differ']);
  assert.deepEqual(lines(problems(plugin('      limit: [1]\n      window_size: [60]\n      window_type: rolling\n'))), ['plugins[0].config.window_type: expected one of: fixed, sliding']);
});

test('strategy cluster, consumer groups, identifier fields, sync_rate are checked with reasons', () => {
  const base = '      limit: [1]\n      window_size: [60]\n';
  const [p] = problems(plugin(`${base}      strategy: cluster\n`));
  assert.equal(p.path, 'plugins[0].config.strategy');
  assert.match(p.message, /DB-less.*use 'redis'/);
  assert.deepEqual(lines(problems(plugin(`${base}      identifier: consumer-group\n`))), ['plugins[0].config.identifier: consumer groups do not exist in Hyperway']);
  assert.deepEqual(lines(problems(plugin(`${base}      identifier: header\n`))), ['plugins[0].config.header_name: required field missing']);
  assert.deepEqual(lines(problems(plugin(`${base}      identifier: path\n`))), ['plugins[0].config.path: required field missing']);
  assert.deepEqual(lines(problems(plugin(`${base}      strategy: redis\n      sync_rate: -2\n`))), ['plugins[0].config.sync_rate: expected -1 (this node only), 0 (synchronous) or a number of seconds']);
  assert.deepEqual(lines(problems(plugin('      limit: [100000000]\n      window_size: [60]\n'))).length, 1);
  assert.equal(config('      limit: [100000000]\n      window_size: [60]\n      strategy: redis\n      sync_rate: 0\n').sync_rate, 0);
});
