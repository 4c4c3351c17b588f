import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

test('response-transformer: defaults, and json_types limited to Kong\'s three', () => {
  const { snapshot } = load(doc('plugins:\n  - name: response-transformer\n'));
  const values = { json: [], json_types: [], headers: [] };
  assert.deepEqual(snapshot.plugins[0].config, {
    remove: { json: [], headers: [] },
    rename: { json: [], headers: [] },
    replace: values,
    add: values,
    append: values,
  });
  assert.deepEqual(lines(problems(doc('plugins:\n  - name: response-transformer\n    config:\n      add:\n        json: ["k"]\n        json_types: [object]\n'))), [
    "plugins[0].config.add.json[0]: invalid value: expected 'name:value'",
    'plugins[0].config.add.json_types[0]: expected one of: boolean, number, string',
  ]);
});
