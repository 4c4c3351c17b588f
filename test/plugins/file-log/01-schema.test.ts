import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

test('file-log: path is required; reopen defaults to false', () => {
  const { snapshot } = load(doc('plugins:\n  - name: file-log\n    config:\n      path: /tmp/kong.log\n'));
  assert.deepEqual(snapshot.plugins[0].config, { path: '/tmp/kong.log', reopen: false, custom_fields_by_lua: null });
  assert.deepEqual(lines(problems(doc('plugins:\n  - name: file-log\n'))), ['plugins[0].config.path: required field missing']);
});

test('file-log: bad file names and Lua fields are reported with their paths', () => {
  assert.deepEqual(
    lines(problems(doc('plugins:\n  - name: file-log\n    config:\n      path: "/tmp/a*b"\n      reopen: maybe\n'))),
    ['plugins[0].config.path: not a valid filename', 'plugins[0].config.reopen: expected a boolean'],
  );
  assert.deepEqual(
    lines(problems(doc('plugins:\n  - name: file-log\n    config:\n      path: /tmp/x.log\n      custom_fields_by_lua:\n        foo: return 1\n'))),
    ['plugins[0].config.custom_fields_by_lua: Lua expressions cannot run in Hyperway (no Lua sandbox); remove custom_fields_by_lua'],
  );
});
