// request-termination config through the real config loader: Kong 3.10's defaults, field checks and
// its custom_validator's messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

const plugin = (config: string): string => doc(`plugins:\n  - name: request-termination\n    config:\n${config}`);

test('defaults are Kong 3.10 schema.lua\'s', () => {
  const { snapshot } = load(doc('plugins:\n  - name: request-termination\n'));
  assert.deepEqual(snapshot.plugins[0].config, { status_code: 503, message: null, content_type: null, body: null, echo: false, trigger: null });
  assert.deepEqual(snapshot.plugins[0].protocols, ['http', 'https']);
});

test('a body with its content type, or a message, or echo with a trigger', () => {
  assert.deepEqual(load(plugin('      status_code: 200\n      body: "<h1>hi</h1>"\n      content_type: text/html\n')).snapshot.plugins[0].config.body, '<h1>hi</h1>');
  assert.equal(load(plugin('      status_code: 418\n      message: "I\'m a teapot"\n')).snapshot.plugins[0].config.message, "I'm a teapot");
  assert.equal(load(plugin('      echo: true\n      trigger: X-Debug\n')).snapshot.plugins[0].config.trigger, 'X-Debug');
});

test('field checks: status range, types, trigger as a header name', () => {
  assert.deepEqual(
    lines(problems(plugin('      status_code: 99\n      echo: maybe\n      trigger: "x debug"\n      message: 4\n'))),
    [
      'plugins[0].config.status_code: value should be between 100 and 599',
      'plugins[0].config.echo: expected a boolean',
      "plugins[0].config.trigger: bad header name 'x debug', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
      'plugins[0].config.message: expected a string',
    ],
  );
  assert.deepEqual(lines(problems(plugin('      status_code: 600\n'))), ['plugins[0].config.status_code: value should be between 100 and 599']);
});

test("Kong's custom_validator: message vs body/content_type, content_type needs a body, echo excludes a body", () => {
  assert.deepEqual(lines(problems(plugin('      message: a\n      body: b\n'))), ['plugins[0].config: message cannot be used with content_type or body']);
  assert.deepEqual(lines(problems(plugin('      message: a\n      content_type: text/plain\n'))), ['plugins[0].config: message cannot be used with content_type or body']);
  assert.deepEqual(lines(problems(plugin('      content_type: text/plain\n'))), ['plugins[0].config: content_type requires a body']);
  assert.deepEqual(lines(problems(plugin('      echo: true\n      body: b\n'))), ['plugins[0].config: echo cannot be used with content_type and body']);
});
