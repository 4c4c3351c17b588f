import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

test('request-transformer: every list defaults to empty', () => {
  const { snapshot } = load(doc('plugins:\n  - name: request-transformer\n'));
  const parts = { body: [], headers: [], querystring: [] };
  assert.deepEqual(snapshot.plugins[0].config, {
    http_method: null,
    remove: parts,
    rename: parts,
    replace: { ...parts, uri: null },
    add: parts,
    append: parts,
  });
});

test('request-transformer: malformed pairs, header names, methods and Lua templates are reported', () => {
  const text = doc([
    'plugins:',
    '  - name: request-transformer',
    '    config:',
    '      http_method: post',
    '      remove:',
    '        headers: ["bad header"]',
    '      add:',
    '        headers: ["x-ok:1", "novalue"]',
    '        querystring: ["q:$(headers.x or \'d\')"]',
    '',
  ].join('\n'));
  assert.deepEqual(lines(problems(text)), [
    'plugins[0].config.http_method: invalid value: must be an uppercase HTTP method',
    'plugins[0].config.remove.headers[0]: invalid header name',
    "plugins[0].config.add.headers[1]: invalid value: expected 'header-name:value'",
  ]);
  const lua = doc('plugins:\n  - name: request-transformer\n    config:\n      add:\n        querystring: ["q:$(headers.x or \'d\')"]\n');
  assert.deepEqual(lines(problems(lua)), [
    "plugins[0].config.add.querystring[0]: template '$(headers.x or 'd')' is not supported: only $(headers.name), $(query_params.name) and $(uri_captures.name) forms",
  ]);
});
