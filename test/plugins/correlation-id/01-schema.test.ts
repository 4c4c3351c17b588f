// correlation-id config through the real config loader: Kong 3.10's defaults, invalid fields with their paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

test('defaults are Kong 3.10 schema.lua\'s', () => {
  const { snapshot } = load(doc('plugins:\n  - name: correlation-id\n'));
  assert.deepEqual(snapshot.plugins[0].config, { header_name: 'Kong-Request-ID', generator: 'uuid#counter', echo_downstream: false });
  assert.deepEqual(snapshot.plugins[0].protocols, ['http', 'https']);
});

test('each generator is accepted', () => {
  for (const g of ['uuid', 'uuid#counter', 'tracker']) {
    const { snapshot } = load(doc(`plugins:\n  - name: correlation-id\n    config:\n      generator: "${g}"\n      header_name: X-Trace\n      echo_downstream: true\n`));
    assert.deepEqual(snapshot.plugins[0].config, { header_name: 'X-Trace', generator: g, echo_downstream: true });
  }
});

test('every invalid field is reported with its path', () => {
  assert.deepEqual(
    lines(problems(doc('plugins:\n  - name: correlation-id\n    config:\n      generator: uuid4\n      header_name: ""\n      echo_downstream: sometimes\n'))),
    [
      'plugins[0].config.generator: expected one of: uuid, uuid#counter, tracker',
      'plugins[0].config.header_name: length must be at least 1',
      'plugins[0].config.echo_downstream: expected a boolean',
    ],
  );
});
