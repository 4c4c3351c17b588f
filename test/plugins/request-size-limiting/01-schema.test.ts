// request-size-limiting config through the real config loader: Kong 3.10's defaults and field checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

test('defaults are Kong 3.10 schema.lua\'s', () => {
  const { snapshot } = load(doc('plugins:\n  - name: request-size-limiting\n'));
  assert.deepEqual(snapshot.plugins[0].config, { allowed_payload_size: 128, size_unit: 'megabytes', require_content_length: false });
  assert.deepEqual(snapshot.plugins[0].protocols, ['http', 'https']);
});

test('each unit is accepted', () => {
  for (const unit of ['megabytes', 'kilobytes', 'bytes']) {
    const { snapshot } = load(doc(`plugins:\n  - name: request-size-limiting\n    config:\n      allowed_payload_size: 10\n      size_unit: ${unit}\n      require_content_length: true\n`));
    assert.deepEqual(snapshot.plugins[0].config, { allowed_payload_size: 10, size_unit: unit, require_content_length: true });
  }
});

test('every invalid field is reported with its path', () => {
  assert.deepEqual(
    lines(problems(doc('plugins:\n  - name: request-size-limiting\n    config:\n      allowed_payload_size: 1.5\n      size_unit: gigabytes\n      require_content_length: sure\n'))),
    [
      'plugins[0].config.allowed_payload_size: expected an integer',
      'plugins[0].config.size_unit: expected one of: megabytes, kilobytes, bytes',
      'plugins[0].config.require_content_length: expected a boolean',
    ],
  );
});
