import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

test('http-log: Kong 3.x defaults, queue included', () => {
  const { snapshot } = load(doc('plugins:\n  - name: http-log\n    config:\n      http_endpoint: http://collector.test:9000/logs\n'));
  assert.deepEqual(snapshot.plugins[0].config, {
    http_endpoint: 'http://collector.test:9000/logs',
    method: 'POST',
    content_type: 'application/json',
    timeout: 10000,
    keepalive: 60000,
    retry_count: null,
    queue_size: null,
    flush_timeout: null,
    headers: null,
    queue: {
      max_batch_size: 1,
      max_coalescing_delay: 1,
      max_entries: 10000,
      max_bytes: null,
      max_retry_time: 60,
      initial_retry_delay: 0.01,
      max_retry_delay: 60,
      concurrency_limit: 1,
    },
    custom_fields_by_lua: null,
  });
});

test('http-log: the pre-3.3 keys still set the queue (Kong shorthands)', () => {
  const { snapshot } = load(doc('plugins:\n  - name: http-log\n    config:\n      http_endpoint: http://c.test/\n      queue_size: 50\n      flush_timeout: 2\n'));
  const q = snapshot.plugins[0].config.queue as Record<string, unknown>;
  assert.equal(q.max_batch_size, 50);
  assert.equal(q.max_coalescing_delay, 2);
});

test('http-log: every invalid field is reported with its path', () => {
  assert.deepEqual(
    lines(problems(doc('plugins:\n  - name: http-log\n    config:\n      http_endpoint: ftp://c.test/\n      method: GET\n      headers:\n        "bad header": x\n      queue:\n        max_batch_size: 0\n        concurrency_limit: 2\n'))),
    [
      "plugins[0].config.http_endpoint: unsupported scheme 'ftp' (http or https)",
      'plugins[0].config.method: expected one of: POST, PUT, PATCH',
      "plugins[0].config.headers.bad header: bad header name 'bad header', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
      'plugins[0].config.queue.max_batch_size: value should be between 1 and 1000000',
      'plugins[0].config.queue.concurrency_limit: expected one of: -1, 1',
    ],
  );
  assert.deepEqual(lines(problems(doc('plugins:\n  - name: http-log\n'))), ['plugins[0].config.http_endpoint: required field missing']);
});
