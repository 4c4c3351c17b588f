/**
 * A set of objects that each keep their own index in it: add and delete are array writes (a
 * delete moves the last entry into the freed index), a walk goes by index, from the end.
 *
 * For sets that gain and lose an entry per request (the read and send deadline sweeps), in place
 * of a JS Set: with one Set.add and Set.delete per request, a worker promoted about a third of
 * its young generation to the old one and its scavenges took 10–40 ms, the p99 of every proxied
 * request (bench/results/2026-12-02-vm-2cpu-latency.md); with this array, ~1 ms and nothing
 * promoted. V8 rebuilds a Set's hash table as entries come and go and links each obsolete table
 * to its successor (for iterators still walking it); once one obsolete table is in the old
 * generation, that link keeps each newer table, and what its entries point to, alive through
 * every scavenge until the next full GC.
 *
 * Each kind of set is a subclass that reads and writes its own index field by name (indexOf,
 * setIndex): an object can sit in sets of different kinds at once, one field each. Not one class
 * keyed by a field name held in a variable: once a worker used two kinds (readIndex, stallIndex),
 * its `t[key]` loads and stores went megamorphic, and add + delete took about 3× as long
 * (bench/indexed-set.ts, bench/results/2026-12-02-vm-2cpu-indexed-set.md).
 */
export abstract class IndexedSet<T> {
  readonly #items: T[] = [];

  /** t's index in this set, -1 while outside. */
  protected abstract indexOf(t: T): number;
  protected abstract setIndex(t: T, i: number): void;

  get size(): number {
    return this.#items.length;
  }

  /** The entry at `i` (0 ≤ i < size). */
  at(i: number): T {
    return this.#items[i];
  }

  add(t: T): void {
    if (this.indexOf(t) >= 0) return;
    this.setIndex(t, this.#items.length);
    this.#items.push(t);
  }

  delete(t: T): void {
    const i = this.indexOf(t);
    if (i < 0) return;
    this.setIndex(t, -1);
    const last = this.#items.pop() as T;
    if (last !== t) {
      this.#items[i] = last;
      this.setIndex(last, i);
    }
  }
}
