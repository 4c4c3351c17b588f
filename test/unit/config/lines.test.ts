import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { formatProblems } from '../../../src/lib/errors';
import { checkConfigFile, loadConfigFile } from '../../../src/primary/config';
import { doc, FIXTURES, problems } from './helpers';

test('a file with three mistakes gives three problems, in file order, with lines and columns', () => {
  const file = path.join(FIXTURES, 'three-mistakes.kong.yml');
  const { problems: ps } = checkConfigFile(file, {});
  assert.deepEqual(ps, [
    { path: 'services[0].retries', message: 'value should be between 0 and 32767', line: 6, column: 14 },
    { path: 'services[0].routes[0].paths[1]', message: 'should start with: / (fixed path) or ~/ (regex path)', line: 11, column: 13 },
    { path: 'upstreams[0].targets[0].wieght', message: 'unknown field', line: 17, column: 9 },
  ]);
  assert.throws(
    () => loadConfigFile(file, {}, 1),
    (e: { code: string; message: string }) =>
      e.code === 'HW_ERR_CONFIG_INVALID' && e.message === formatProblems(file, ps) && e.message.includes(`${file}:11:13: services[0].routes[0].paths[1]:`),
  );
});

test('a missing field points at the record that lacks it', () => {
  const [p] = problems(doc('services:\n  - name: a\n    port: 80\n'));
  assert.deepEqual(p, { path: 'services[0].host', message: 'required field missing', line: 3, column: 5 });
});

test('an unknown field points at its key; a bad value at the value', () => {
  const ps = problems(doc('routes:\n  - paths: [/a]\n    strip_paths: true\n    preserve_host: "no"\n'));
  assert.deepEqual(ps.map((p) => [p.path, p.line, p.column]), [
    ['routes[0].strip_paths', 4, 5],
    ['routes[0].preserve_host', 5, 20],
  ]);
});

test('flow-style and deep nodes are located too', () => {
  const ps = problems(doc('services:\n  - {name: a, host: a.test, routes: [{paths: ["/ok", "x"]}]}\n'));
  assert.deepEqual(ps.map((p) => [p.path, p.line, p.column]), [['services[0].routes[0].paths[1]', 3, 54]]);
});
