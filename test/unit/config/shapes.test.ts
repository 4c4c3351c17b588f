import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ShapeCache } from '../../../src/primary/config/shapes';

/** What shapes.ts replaces: `{}` and one keyed store per key. */
function byStores(keys: string[], vals: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  keys.forEach((k, i) => (out[k] = vals[i]));
  return out;
}

function same(cache: ShapeCache, keys: string[], vals: unknown[]): void {
  const got = cache.build(keys, vals, keys.length);
  const want = byStores(keys, vals);
  assert.deepEqual(Object.keys(got), Object.keys(want), `key order of ${JSON.stringify(keys)}`);
  assert.deepStrictEqual(got, want);
  assert.equal(Object.getPrototypeOf(got), Object.getPrototypeOf(want));
  for (const k of keys) assert.ok(Object.prototype.hasOwnProperty.call(got, k), `own ${k}`);
}

test('a built object has the keys in order, the values and the prototype that keyed stores give', () => {
  const cache = new ShapeCache();
  same(cache, [], []);
  same(cache, ['a'], [1]);
  same(cache, ['a', 'b'], [null, { x: [1] }]);
  // The same sequence again (the cached constructor), a prefix of it, and its reverse.
  same(cache, ['a', 'b'], ['x', undefined]);
  same(cache, ['b', 'a'], [2, 1]);
  same(cache, ['a', 'b', 'c'], [1, 2, 3]);
  // Keys a constructor's source must quote, and keys of Object.prototype.
  same(cache, ['with space', 'é', 'a"b', 'back\\slash', 'line\u2028sep', '\ud800'], [1, 2, 3, 4, 5, 6]);
  same(cache, ['constructor', 'toString', 'hasOwnProperty', 'valueOf'], [1, 2, 3, 4]);
});

test('keys a constructor would store differently are built by stores, as before: array indices first, __proto__ as a store', () => {
  const cache = new ShapeCache();
  same(cache, ['b', '1', 'a', '0'], [1, 2, 3, 4]);
  same(cache, ['01', '1.5', '-1', '4294967295'], [1, 2, 3, 4]);
  const proto = { inherited: true };
  const p = cache.build(['x', '__proto__'], [1, proto], 2);
  assert.equal(Object.getPrototypeOf(p), proto);
  assert.deepEqual(Object.keys(p), ['x']);
  assert.equal(({} as Record<string, unknown>).inherited, undefined);
});

test('only the first n pairs are built; long and many sequences still build right', () => {
  const cache = new ShapeCache();
  assert.deepStrictEqual(cache.build(['a', 'b', 'c'], [1, 2, 3], 2), { a: 1, b: 2 });
  const long = Array.from({ length: 100 }, (_, i) => `k${i}`);
  same(cache, long, long.map((_, i) => i));
  // Past the cache's limit on sequences: built by stores, the same object.
  for (let i = 0; i < 700; i++) same(cache, [`x${i}`, 'y'], [i, -i]);
});
