// The tree's import rules (README "Architecture", shared/STYLE.md §3.1), checked on the sources:
// primary/ and worker/ never import each other; shared/ imports neither; lib/ imports nothing
// from src/ outside lib/; worker code never loads the config validator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '..', '..', '..', 'src');

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

/** Every relative import of a file, resolved to a path under src/ (without extension). */
function imports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|require\()\s*'(\.[^']+)'/g)) {
    out.push(path.relative(SRC, path.resolve(path.dirname(file), m[1])));
  }
  return out;
}

const RULES: Array<[from: string, forbidden: RegExp, why: string]> = [
  ['primary/', /^worker\//, 'primary/ must not import worker/'],
  ['worker/', /^primary\//, 'worker/ must not import primary/'],
  ['shared/', /^(primary|worker)\//, 'shared/ is the boundary: no policy from either side'],
  ['lib/', /^(?!lib\/)/, 'lib/ is a leaf: it imports nothing from src/'],
  ['worker/', /^primary\/config\//, 'workers never load the config validator'],
];

test('import boundaries hold across src/', () => {
  const all = files(SRC);
  assert.ok(all.length > 40, 'sources found');
  const violations: string[] = [];
  for (const f of all) {
    const rel = path.relative(SRC, f);
    for (const imp of imports(f)) {
      for (const [from, forbidden, why] of RULES) {
        if (rel.startsWith(from) && forbidden.test(imp)) violations.push(`${rel} → ${imp}: ${why}`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('the rule checker sees a violation when there is one', () => {
  const [, forbidden] = RULES[0];
  assert.ok(forbidden.test(path.relative(SRC, path.resolve(SRC, 'primary', '../worker/runtime'))));
});
