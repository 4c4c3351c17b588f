/** Route path checks agree with the worker: prefix normalization and regex translation. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { normalizePath as workerNormalize } from '../../../src/worker/router/normalize';
import { normalizePath } from '../../../src/lib/uri-normalize';
import { Router } from '../../../src/worker/router';
import { translateRegex } from '../../../src/primary/config/regex';
import { doc, lines, load, problems } from './helpers';

const routes = (body: string) => doc(`routes:\n${body}`);

test('prefix paths are normalized as the worker normalizes requests', () => {
  assert.equal(workerNormalize, normalizePath);
  assert.deepEqual(lines(problems(routes('  - paths: [/cat%20dog, /caf%c3%a9, /a%2fb, /x%00]\n'))), [
    "routes[0].paths[0]: non-normalized path, consider use '/cat dog' instead",
    "routes[0].paths[1]: non-normalized path, consider use '/café' instead",
    "routes[0].paths[2]: non-normalized path, consider use '/a%2Fb' instead",
    "routes[0].paths[3]: invalid path: '/x%00' (%00 can never match a request)",
  ]);
  assert.deepEqual(load(routes('  - paths: [/a%2Fb, /a%3Fb]\n')).snapshot.routes[0].paths, ['/a%2Fb', '/a%3Fb']);
});

test('Rust/PCRE regex syntax is translated into the Snapshot', () => {
  const paths = ['~/(?i:ab)', '~/x\\z', '~/y[[:digit:]]+\\Z', '~/p(?i)q', '~/m(?i:n)o', '~/c[[:^space:]a-c]', '~/(?i)up(?P<id>\\d+)'];
  const r = load(routes(`  - paths: [${paths.map((p) => `'${p}'`).join(', ')}]\n`));
  assert.deepEqual(r.snapshot.routes[0].paths, [
    '~(?i)/ab', '~/x$', '~/y[0-9]+$', '~/p[qQ]', '~/m(?:[nN])o', '~/c[\\Sa-c]', '~(?i)/up(?P<id>\\d+)',
  ]);
  assert.deepEqual(translateRegex('(?i)/a(?-i)b'), { text: '/[aA]b', ci: false });
  assert.deepEqual(translateRegex('\\Aab\\A'), { text: 'ab^', ci: false });
  // The router compiles the Snapshot text and matches as the Rust regex would.
  const each = paths.map((p) => new Router([{ ...r.snapshot.routes[0], paths: [r.snapshot.routes[0].paths![paths.indexOf(p)]] }]));
  const hits = (i: number, path: string): boolean => each[i].match('GET', 'a.test', path, [], 8000) !== null;
  assert.deepEqual(each.map((x) => x.skipped), paths.map(() => []));
  assert.deepEqual([hits(0, '/AB'), hits(1, '/x'), hits(1, '/xy'), hits(2, '/y12'), hits(3, '/pQ'), hits(3, '/PQ')], [true, true, false, true, true, false]);
  assert.deepEqual([hits(4, '/mNo'), hits(4, '/mNO'), hits(5, '/c!'), hits(6, '/UP12')], [true, false, true, true]);
});

test('regexes the Rust engine rejects are errors saying why', () => {
  assert.deepEqual(lines(problems(routes('  - paths: ["~/a(?=b)", "~/a(?<!b)c", "~/(a)\\\\1", "~/(?s)a", "~/\\\\p{L}", "~/[a&&b]"]\n'))), [
    "routes[0].paths[0]: invalid regex: '/a(?=b)' (lookahead is not supported by the router (Rust regex))",
    "routes[0].paths[1]: invalid regex: '/a(?<!b)c' (lookbehind is not supported by the router (Rust regex))",
    "routes[0].paths[2]: invalid regex: '/(a)\\1' (backreferences are not supported by the router (Rust regex))",
    "routes[0].paths[3]: invalid regex: '/(?s)a' (inline flag 's' is not supported (only (?i) can be translated))",
    "routes[0].paths[4]: invalid regex: '/\\p{L}' (Unicode classes (\\p, \\P) are not supported)",
    "routes[0].paths[5]: invalid regex: '/[a&&b]' (character class set operations are not supported)",
  ]);
});

test('header regexes reach the router as plain JS', () => {
  const r = load(routes('  - headers:\n      x-v: ["~*(?i)^v(?P<n>[[:digit:]])$"]\n'));
  assert.deepEqual(r.snapshot.routes[0].headers, { 'x-v': ['~*^v(?<n>[0-9])$'] });
  assert.deepEqual(new Router(r.snapshot.routes).skipped, []);
});
