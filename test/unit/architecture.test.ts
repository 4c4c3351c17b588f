// The tree's import rules (README "Architecture", shared/STYLE.md §3.1), checked on the sources:
// primary/ and worker/ never import each other; shared/ imports neither; lib/ imports nothing
// from src/ outside lib/; worker code never loads the config validator or a plugin schema, directly
// or through any chain of runtime imports (type-only imports load nothing and are left out there).
//
// Imports are listed by the TypeScript parser, not a regex: whatever the quotes, and whether the
// import is static, dynamic (`import()`), a `require()`, `import x = require()` or type-only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as ts from 'typescript';

const SRC = path.resolve(__dirname, '..', '..', '..', 'src');

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

interface ImportList {
  /** Module specifiers written as string literals, in source order. */
  specifiers: string[];
  /** `import(…)` / `require(…)` whose argument is computed: the call's source text. */
  computed: string[];
}

const literal = (n: ts.Node | undefined): string | undefined =>
  n !== undefined && (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) ? n.text : undefined;

/** Every module a TypeScript source refers to, by any import form. */
function listImports(text: string, fileName = 'x.ts'): ImportList {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: ImportList = { specifiers: [], computed: [] };
  const add = (spec: ts.Node | undefined, whole: ts.Node): void => {
    const s = literal(spec);
    if (s !== undefined) out.specifiers.push(s);
    else out.computed.push(whole.getText(sf));
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) {
      if (n.moduleSpecifier) add(n.moduleSpecifier, n);
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      add(n.moduleReference.expression, n);
    } else if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) {
      add(n.arguments[0], n);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) {
      add(n.argument.literal, n);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Every relative import of a file, resolved to a path under src/ (without extension). */
function imports(file: string): { resolved: string[]; computed: string[] } {
  const { specifiers, computed } = listImports(fs.readFileSync(file, 'utf8'), file);
  return {
    resolved: specifiers.filter((s) => s.startsWith('.')).map((s) => path.relative(SRC, path.resolve(path.dirname(file), s))),
    computed,
  };
}

const RULES: Array<[from: string, forbidden: RegExp, why: string]> = [
  ['primary/', /^worker\//, 'primary/ must not import worker/'],
  ['worker/', /^primary\//, 'worker/ must not import primary/'],
  ['shared/', /^(primary|worker)\//, 'shared/ is the boundary: no policy from either side'],
  ['lib/', /^(?!lib\/)/, 'lib/ is a leaf: it imports nothing from src/'],
  ['worker/', /^primary\/config\//, 'workers never load the config validator'],
];

/** Computed specifiers escape the rules, so each one is named here with its reason. */
const COMPUTED_ALLOWED = new Set([
  'worker/server/uws.ts: require(binary)', // the uWS native addon, by absolute path
]);

test('import boundaries hold across src/', () => {
  const all = files(SRC);
  assert.ok(all.length > 40, 'sources found');
  const violations: string[] = [];
  for (const f of all) {
    const rel = path.relative(SRC, f);
    const { resolved, computed } = imports(f);
    for (const imp of resolved) {
      for (const [from, forbidden, why] of RULES) {
        if (rel.startsWith(from) && forbidden.test(imp)) violations.push(`${rel} → ${imp}: ${why}`);
      }
    }
    for (const c of computed) {
      if (!COMPUTED_ALLOWED.has(`${rel}: ${c}`)) violations.push(`${rel}: ${c}: computed module specifier (the rules cannot see it)`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the rule checker sees a violation when there is one', () => {
  const [, forbidden] = RULES[0];
  assert.ok(forbidden.test(path.relative(SRC, path.resolve(SRC, 'primary', '../worker/runtime'))));
});

test('the import lister sees every import form, whatever the quotes', () => {
  const text = [
    `import a from "./double";`,
    `import { b } from './single';`,
    `import type { C } from "./type-only";`,
    `import './side-effect';`,
    `export { d } from "./re-export";`,
    `export * from './star';`,
    `import e = require("./import-equals");`,
    `const f = require("./require-double");`,
    'const g = require(`./template`);',
    `async function h(): Promise<void> { await import("./dynamic"); }`,
    `let i: typeof import('./import-type');`,
    `const j = (name: string) => require(name);`,
    `const k = () => import('./' + 'x');`,
    `// import z from './in-a-comment';`,
    `const s = "require('./in-a-string')";`,
  ].join('\n');
  const r = listImports(text);
  assert.deepEqual(r.specifiers, [
    './double', './single', './type-only', './side-effect', './re-export', './star',
    './import-equals', './require-double', './template', './dynamic', './import-type',
  ]);
  assert.deepEqual(r.computed, ['require(name)', "import('./' + 'x')"]);
});

/**
 * The modules a file loads when it runs: type-only imports and `import('…')` types are erased by
 * the compiler and load nothing, so they are left out here.
 */
function runtimeImports(file: string): string[] {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const typeOnly = (clause: ts.ImportClause | undefined): boolean => {
    if (clause === undefined) return false;
    if (clause.isTypeOnly) return true;
    const b = clause.namedBindings;
    return clause.name === undefined && b !== undefined && ts.isNamedImports(b) && b.elements.length > 0 && b.elements.every((e) => e.isTypeOnly);
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && !typeOnly(n.importClause)) {
      const s = literal(n.moduleSpecifier);
      if (s !== undefined) out.push(s);
    } else if (ts.isExportDeclaration(n) && !n.isTypeOnly && n.moduleSpecifier) {
      const s = literal(n.moduleSpecifier);
      if (s !== undefined) out.push(s);
    } else if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) {
      const s = literal(n.arguments[0]);
      if (s !== undefined) out.push(s);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out.filter((s) => s.startsWith('.')).map((s) => path.relative(SRC, path.resolve(path.dirname(file), s)));
}

/** Every src/ module (without extension) a worker process loads, starting from its entry. */
function workerClosure(entry = 'worker/index'): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const mod = todo.pop() as string;
    if (seen.has(mod)) continue;
    seen.add(mod);
    const file = [path.join(SRC, `${mod}.ts`), path.join(SRC, mod, 'index.ts')].find((f) => fs.existsSync(f));
    if (file === undefined) continue;
    const base = path.relative(SRC, file).replace(/\.ts$/, '').replace(/\/index$/, '');
    for (const dep of runtimeImports(file)) todo.push(dep.replace(/\/index$/, ''));
    seen.add(base);
  }
  return seen;
}

test('a worker process never loads the config validator or a plugin schema, however indirectly', () => {
  const loaded = workerClosure();
  assert.ok(loaded.has('plugins/handlers') && loaded.has('worker/pipeline/run-context'), 'the closure reaches the plugin handlers');
  const forbidden = [...loaded].filter((m) => m.startsWith('primary/') || /^plugins\/[^/]+\/schema$/.test(m) || m === 'plugins' || m === 'plugins/schema-types');
  assert.deepEqual(forbidden, []);
});
