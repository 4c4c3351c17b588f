/**
 * fast-yaml.ts must give exactly what the yaml package's toJS gives, or give up (undefined).
 * Every case below is read both ways; `fast: true` cases must also really take the fast path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { fastYaml } from '../../../src/primary/config/fast-yaml';
import { parseConfigText } from '../../../src/primary/config/load';
import { scaleConfig } from '../../../bench/lib/scale-config';

const ROOT = join(__dirname, '../../../..');

function viaYaml(text: string): unknown {
  return parseDocument(text, { uniqueKeys: false, merge: true }).toJS({ maxAliasCount: 1000 });
}

// Read the fast way (must not give up) and compared with the yaml package.
const FAST: Record<string, string> = {
  'nested block mappings and sequences': 'a:\n  b:\n    - x\n    - y\n  c: d\ne: [1, 2]\n',
  'sequence at the key indent': 'services:\n- name: a\n  routes:\n  - paths: [/x]\n    hosts: [a.com]\n- name: b\n',
  'compact nested sequences': 'a:\n  - - 1\n    - 2\n  - - 3\n',
  'empty values are null': 'a:\nb: ~\nc: null\nd: Null\ne:\n  -\n  - x\n',
  'core schema scalars': 'i: 12\nn: -7\nz: 007\nf: 1.5\ng: -.25\nh: 1e3\nt: true\nT: True\nF: FALSE\ny: yes\no: off\nv: 1.2.3\ns: 1_000\np: "8"\n',
  'quoted scalars and escapes': 'a: "x \\"q\\" \\\\ \\n \\t \\u00e9 \\/"\nb: \'it\'\'s # no comment\'\nc: "# not a comment"\n',
  'comments everywhere': '# head\na: 1 # one\n  # indented comment\nb: [x, y] # flow\nc: "q" # quoted\nd: a#b\n',
  'flow mappings': 'plugins:\n  - { name: acl, config: { allow: [g1, "g 2"], hide_groups_header: false } }\n  - {}\n  - { name: x, config: {} , list: [] }\n',
  'urls and colons in plain scalars': 'url: http://127.0.0.1:8080/p?q=1\nlist: [http://a:1/b, "c"]\nm: { u: http://x:2 }\ntime: 12:30\n',
  'regex paths': 'paths: ["~/s/(?<id>\\\\d+)$", \'~/a/\\d+\', ~/plain/(x|y)]\n',
  'unicode and odd keys': 'é: ü\n"quoted key": 1\n\'single\': 2\nkey with spaces: v\n',
  'trailing spaces and blank lines': 'a: b   \n\n\nc:   d\n',
  'top-level sequence': '- a\n- b: c\n  d: e\n',
  'deck-style kong.yml': readFileSync(join(ROOT, 'test/fixtures/integration/valid.kong.yml'), 'utf8'),
  'seed config': readFileSync(join(ROOT, 'native-config/hyperway.yaml'), 'utf8'),
  'scale config': scaleConfig({ routes: 300, consumers: 300, upstreamPort: 9 }),
};

// The yaml package's business: the fast reader must give up (these are valid or invalid YAML alike).
const GIVE_UP: Record<string, string> = {
  anchors: 'a: &x 1\nb: *x\n',
  'merge keys': 'base: &b { x: 1 }\nc:\n  <<: *b\n',
  tags: 'a: !!str 1\n',
  'block scalars': 'a: |\n  line\n',
  'folded scalars': 'a: >\n  line\n',
  'multi-line plain scalar': 'a: one\n  two\n',
  'multi-line quoted scalar': 'a: "one\n  two"\n',
  'multi-line flow': 'a: [1,\n  2]\n',
  'duplicate keys': 'a: 1\na: 2\n',
  tabs: 'a:\t1\n',
  'CRLF line ends': 'a: 1\r\nb: 2\r\n',
  'document markers': '---\na: 1\n',
  directives: '%YAML 1.2\n---\na: 1\n',
  'octal and hex': 'a: 0o17\n',
  infinity: 'a: .inf\n',
  'big integers': 'a: 123456789012345678901\n',
  'explicit keys': '? a\n: b\n',
  'non-string keys': '1: a\n',
  'scalar on its own line': 'a:\n  text\n',
  'bad indentation': 'a:\n  b: 1\n c: 2\n',
  'mapping in a plain value': 'a: b: c\n',
  'unclosed quote': 'a: "x\n',
  'unclosed flow': 'a: [x\n',
  'JSON text': '{"a": 1}\n',
  'trailing comma': 'a: [x, ]\n',
  'unknown escape': 'a: "\\q"\n',
  'plain scalar after a flow node': 'a: [x] y\n',
  'a comment only': '# nothing\n',
  'empty text': '',
  __proto__: '__proto__: 1\n',
};

for (const [name, text] of Object.entries(FAST)) {
  test(`fast-yaml reads ${name} as the yaml package does`, () => {
    const fast = fastYaml(text);
    assert.notEqual(fast, undefined, 'the fast reader gave up');
    assert.deepStrictEqual(fast, viaYaml(text));
  });
}

for (const [name, text] of Object.entries(GIVE_UP)) {
  test(`fast-yaml leaves ${name} to the yaml package`, () => {
    assert.equal(fastYaml(text), undefined);
  });
}

test('a config read the fast way still locates a problem and answers quoted-scalar questions from the file', () => {
  const text = '_format_version: "3.0"\nservices:\n  - name: a\n    url: http://x\n    enabled: "yes"\n';
  assert.notEqual(fastYaml(text), undefined);
  const parsed = parseConfigText(text, 'x.yml');
  assert.deepEqual(parsed.locate({ path: ['services', 0, 'enabled'], message: 'm' }), { path: 'services[0].enabled', message: 'm', line: 5, column: 14 });
  assert.equal(parsed.isQuotedScalar(['services', 0, 'enabled']), true);
  assert.equal(parsed.isQuotedScalar(['services', 0, 'name']), false);
  assert.deepEqual(parsed.warnings, []);
});
