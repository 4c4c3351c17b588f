/** Regex paths: Kong's anchoring and the literal-prefix index must never hide a match. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../../src/worker/router';
import { compilePathRegex } from '../../../src/worker/router/build';
import { regexLiteralPrefix } from '../../../src/worker/router/regex-literal';
import { hit, route } from './factory';

const LITERALS: [string, string][] = [
  ['~/users/\\d+', '/users/'],
  ['~/users/(?<id>\\d+)', '/users/'],
  ['~/ab?c', '/a'],
  ['~/ab*', '/a'],
  ['~/ab+', '/a'],
  ['~/ab{2}', '/a'],
  ['~/a.b', '/a'],
  ['~/a\\.b', '/a.b'],
  ['~/a|/b', ''],
  ['~(?i)/abc', ''],
  ['~^/x', ''],
  ['~/v\\d', '/v'],
  ['~[/]x', ''],
];

for (const [path, literal] of LITERALS) {
  test(`literal prefix of ${path} is ${JSON.stringify(literal)}`, () => {
    assert.equal(regexLiteralPrefix(compilePathRegex(path)), literal);
  });
}

const MATCHES: [string, string, boolean][] = [
  ['~/ab?c', '/ac', true],
  ['~/ab?c', '/abc', true],
  ['~/ab*', '/a', true],
  ['~/ab{2}', '/abb', true],
  ['~/ab{2}', '/ab', false],
  ['~/a.b', '/axb', true],
  ['~/a\\.b', '/axb', false],
  ['~/a\\.b', '/a.b/c', true],
  // Kong prepends `^` to the text: only the first alternative is anchored
  ['~/a|/b', '/x/b', true],
  ['~/a|/b', '/x/a', false],
  ['~(?i)/abc', '/ABC', true],
  ['~/v\\d/x', '/v2/x', true],
  ['~/v\\d/x', '/vv/x', false],
  ['~/caf\u00e9/\\d', '/caf\u00e9/1', true],
];

for (const [path, request, expected] of MATCHES) {
  test(`${path} ${expected ? 'matches' : 'does not match'} ${request}`, () => {
    // a catch-all prefix route below it shows a regex miss falls through instead of hiding it
    const router = new Router([route({ paths: ['/'] }), route({ paths: [path] })]);
    assert.equal(hit(router, { path: request }), expected ? 1 : 0);
  });
}

test('several regexes of one route: the first matching one reports prefix and captures', () => {
  const router = new Router([route({ paths: ['~/(?<a>x)/y', '~/(?<b>x)'] })]);
  const m = router.match('GET', '', '/x/y', [], 80)!;
  assert.equal(m.prefix, '/x/y');
  assert.equal(m.captures!.groups!.a, 'x');
  const n = router.match('GET', '', '/x/z', [], 80)!;
  assert.equal(n.prefix, '/x');
  assert.equal(n.captures!.groups!.b, 'x');
});
