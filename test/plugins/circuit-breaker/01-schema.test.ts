// circuit-breaker config through the real config loader: defaults, each invalid field reported
// with its path (and line), scopes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

const plugin = (config: string): string => doc(`plugins:\n  - name: circuit-breaker\n    config:\n${config}`);
const config = (yaml: string): Record<string, unknown> => load(plugin(yaml)).snapshot.plugins[0].config;
const FIVE_HUNDREDS = Array.from({ length: 100 }, (_, i) => 500 + i);

test('defaults: 5 failures in 60 s open it for 30 s, one trial, every 5xx and the gateway\'s own 502/503/504 count', () => {
  assert.deepEqual(load(doc('plugins:\n  - name: circuit-breaker\n')).snapshot.plugins[0].config, {
    failure_threshold: 5,
    window: 60,
    reset_timeout: 30,
    half_open_requests: 1,
    failure_statuses: FIVE_HUNDREDS,
    count_connect_errors: true,
    count_timeouts: true,
  });
});

test('values as given: fractional seconds, a status list (repeats dropped), the gateway errors off', () => {
  assert.deepEqual(config('      failure_threshold: 3\n      window: 2.5\n      reset_timeout: 0.5\n      half_open_requests: 4\n      failure_statuses: [500, 503, 503, 429]\n      count_connect_errors: false\n      count_timeouts: false\n'), {
    failure_threshold: 3,
    window: 2.5,
    reset_timeout: 0.5,
    half_open_requests: 4,
    failure_statuses: [500, 503, 429],
    count_connect_errors: false,
    count_timeouts: false,
  });
  assert.deepEqual(config('      failure_statuses: []\n').failure_statuses, [], 'only the gateway\'s own errors count');
});

test('every invalid field is reported with its path and line', () => {
  const ps = problems(plugin([
    '      failure_threshold: 0',
    '      window: -1',
    '      reset_timeout: 100000',
    '      half_open_requests: 256',
    '      failure_statuses: [500, 600, x]',
    '      count_connect_errors: sometimes',
    '      count_timeouts: 1',
    '      color: red',
    '',
  ].join('\n')));
  assert.deepEqual(lines(ps), [
    'plugins[0].config.failure_threshold: value should be between 1 and 1048575',
    'plugins[0].config.window: value must be greater than 0 and at most 86400',
    'plugins[0].config.reset_timeout: value must be greater than 0 and at most 86400',
    'plugins[0].config.half_open_requests: value should be between 1 and 255',
    'plugins[0].config.failure_statuses[1]: value should be between 100 and 599',
    'plugins[0].config.failure_statuses[2]: expected an integer',
    'plugins[0].config.count_connect_errors: expected a boolean',
    'plugins[0].config.count_timeouts: expected a boolean',
    'plugins[0].config.color: unknown field',
  ]);
  assert.deepEqual(ps.map((p) => p.line), [5, 6, 7, 8, 9, 9, 10, 11, 12]);
  assert.deepEqual(lines(problems(plugin('      failure_threshold: 2.5\n      window: x\n      failure_statuses: 500\n'))), [
    'plugins[0].config.failure_threshold: expected an integer',
    'plugins[0].config.window: expected a number',
    'plugins[0].config.failure_statuses: expected a set',
  ]);
});

test('scoped to a service, a route or nothing (global); never to a consumer', () => {
  const base = 'services:\n  - name: s\n    host: a.test\n    routes:\n      - name: r\n        paths: [/]\nconsumers:\n  - username: alice\n';
  const snap = load(doc(`${base}plugins:\n  - name: circuit-breaker\n    service: s\n  - name: circuit-breaker\n    route: r\n  - name: circuit-breaker\n`)).snapshot;
  assert.deepEqual(snap.plugins.map((p) => [p.service, p.route]), [[0, -1], [-1, 0], [-1, -1]]);
  assert.deepEqual(lines(problems(doc(`${base}plugins:\n  - name: circuit-breaker\n    consumer: alice\n`))), [
    "plugins[0].consumer: plugin 'circuit-breaker' cannot be applied to a consumer",
  ]);
});
