// IndexedSet: the array-backed set the deadline sweeps use instead of a JS Set (see its header).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IndexedSet } from '../../../src/lib/indexed-set';

interface Entry {
  name: string;
  readIndex: number;
  stallIndex: number;
}
const entry = (name: string): Entry => ({ name, readIndex: -1, stallIndex: -1 });
/** Two kinds of set, as the read and send deadline sweeps have: one index field each. */
class ReadSet extends IndexedSet<Entry> {
  protected indexOf(e: Entry): number {
    return e.readIndex;
  }
  protected setIndex(e: Entry, i: number): void {
    e.readIndex = i;
  }
}
class StallSet extends IndexedSet<Entry> {
  protected indexOf(e: Entry): number {
    return e.stallIndex;
  }
  protected setIndex(e: Entry, i: number): void {
    e.stallIndex = i;
  }
}
const names = (s: ReadSet): string[] => {
  const out: string[] = [];
  for (let i = 0; i < s.size; i++) out.push(s.at(i).name);
  return out.sort();
};

test('add is idempotent, delete moves the last entry into the freed index and keeps every index true', () => {
  const s = new ReadSet();
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(entry);
  for (const e of [a, b, c, d, b]) s.add(e);
  assert.equal(s.size, 4);
  s.delete(b);
  assert.equal(b.readIndex, -1);
  assert.deepEqual(names(s), ['a', 'c', 'd']);
  assert.equal(s.at(d.readIndex), d, 'd moved into b\'s index');
  s.delete(b); // not in the set: nothing happens
  s.delete(d); // the last one
  s.delete(a);
  assert.deepEqual(names(s), ['c']);
  assert.equal(c.readIndex, 0);
  s.add(a);
  assert.equal(s.at(a.readIndex), a);
});

test('an entry can sit in two sets of different kinds at once, one index field each', () => {
  const reads = new ReadSet();
  const stalls = new StallSet();
  const [a, b] = [entry('a'), entry('b')];
  reads.add(a);
  reads.add(b);
  stalls.add(b);
  assert.deepEqual([b.readIndex, b.stallIndex], [1, 0]);
  reads.delete(a);
  assert.deepEqual([b.readIndex, b.stallIndex], [0, 0]);
  stalls.delete(b);
  assert.equal(reads.at(0), b);
  assert.equal(stalls.size, 0);
});

test('random adds and deletes agree with a JS Set', () => {
  const s = new ReadSet();
  const model = new Set<Entry>();
  const pool = Array.from({ length: 50 }, (_, i) => entry(`e${i}`));
  let seed = 7;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let step = 0; step < 5000; step++) {
    const e = pool[rand(pool.length)];
    if (rand(2) === 0) {
      s.add(e);
      model.add(e);
    } else {
      s.delete(e);
      model.delete(e);
    }
    assert.equal(s.size, model.size);
  }
  for (const e of pool) assert.equal(e.readIndex >= 0, model.has(e));
  for (let i = 0; i < s.size; i++) assert.equal(s.at(i).readIndex, i);
});
