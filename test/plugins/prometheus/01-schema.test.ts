import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

test('prometheus: every metrics family is off by default (Kong 3.x)', () => {
  const { snapshot } = load(doc('plugins:\n  - name: prometheus\n'));
  assert.deepEqual(snapshot.plugins[0].config, {
    per_consumer: false, status_code_metrics: false, ai_metrics: false, latency_metrics: false,
    bandwidth_metrics: false, upstream_health_metrics: false,
  });
});

test('prometheus: the seed-3 config loads as written, scoped to a consumer too', () => {
  const { snapshot } = load(doc(
    'consumers:\n  - username: alice\nplugins:\n  - name: prometheus\n    consumer: alice\n    config:\n      per_consumer: true\n'
    + '      status_code_metrics: true\n      latency_metrics: true\n      bandwidth_metrics: true\n      upstream_health_metrics: true\n',
  ));
  const c = snapshot.plugins[0].config;
  assert.equal(c.per_consumer, true);
  assert.equal(c.upstream_health_metrics, true);
  assert.equal(snapshot.plugins[0].consumer, 0);
});

test('prometheus: bad values and unknown fields are reported with their paths', () => {
  assert.deepEqual(
    lines(problems(doc('plugins:\n  - name: prometheus\n    config:\n      per_consumer: yes-please\n      latency_metrics: 1\n      buckets: [1, 2]\n'))),
    [
      'plugins[0].config.per_consumer: expected a boolean',
      'plugins[0].config.latency_metrics: expected a boolean',
      'plugins[0].config.buckets: unknown field',
    ],
  );
});
