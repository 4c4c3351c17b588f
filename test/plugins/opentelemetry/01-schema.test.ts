import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

const plugin = (config: string): string => doc(`plugins:\n  - name: opentelemetry\n    config:\n${config}`);

test('opentelemetry: Kong 3.10 defaults, the queue batching 200 spans', () => {
  const { snapshot } = load(plugin('      traces_endpoint: http://otel.test:4318/v1/traces\n'));
  const c = snapshot.plugins[0].config as Record<string, unknown>;
  assert.equal(c.traces_endpoint, 'http://otel.test:4318/v1/traces');
  assert.equal(c.header_type, 'preserve');
  assert.equal(c.sampling_rate, null);
  assert.equal(c.connect_timeout, 1000);
  assert.equal(c.send_timeout, 5000);
  assert.equal(c.read_timeout, 5000);
  assert.equal((c.queue as Record<string, unknown>).max_batch_size, 200);
  assert.equal((c.propagation as Record<string, unknown>).default_format, 'w3c');
});

test('opentelemetry: `endpoint` and the batch_* keys are Kong\'s shorthands', () => {
  const { snapshot } = load(plugin('      endpoint: http://otel.test:4318/v1/traces\n      batch_span_count: 7\n      batch_flush_delay: 2\n'));
  const c = snapshot.plugins[0].config as Record<string, unknown>;
  assert.equal(c.traces_endpoint, 'http://otel.test:4318/v1/traces');
  assert.equal((c.queue as Record<string, unknown>).max_batch_size, 7);
  assert.equal((c.queue as Record<string, unknown>).max_coalescing_delay, 2);
});

test('opentelemetry: an endpoint is required; sampling_rate is 0..1; header_type is Kong\'s list', () => {
  assert.match(lines(problems(plugin('      sampling_rate: 0.5\n'))).join('\n'), /at least one of these fields must be non-empty/);
  assert.match(lines(problems(plugin('      traces_endpoint: http://otel.test/v1/traces\n      sampling_rate: 1.5\n'))).join('\n'), /sampling_rate/);
  assert.match(lines(problems(plugin('      traces_endpoint: http://otel.test/v1/traces\n      header_type: zipkin\n'))).join('\n'), /header_type/);
  assert.match(lines(problems(plugin('      traces_endpoint: ftp://otel.test/v1/traces\n'))).join('\n'), /traces_endpoint/);
  for (const t of ['preserve', 'ignore', 'b3', 'b3-single', 'w3c', 'jaeger', 'ot', 'aws', 'gcp', 'datadog']) {
    load(plugin(`      traces_endpoint: http://otel.test/v1/traces\n      header_type: ${t}\n`));
  }
});
