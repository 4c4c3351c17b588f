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
 */
/** `K` names the entry's own field that holds its index in this set (-1 while outside): an
 * object can sit in sets of different kinds at once, one field each. */
export class IndexedSet<K extends string, T extends Record<K, number>> {
  readonly #items: T[] = [];
  readonly #key: K;

  constructor(key: K) {
    this.#key = key;
  }

  get size(): number {
    return this.#items.length;
  }

  /** The entry at `i` (0 ≤ i < size). */
  at(i: number): T {
    return this.#items[i];
  }

  add(t: T): void {
    const k = this.#key;
    if (t[k] >= 0) return;
    (t as Record<K, number>)[k] = this.#items.length;
    this.#items.push(t);
  }

  delete(t: T): void {
    const k = this.#key;
    const i = t[k];
    if (i < 0) return;
    (t as Record<K, number>)[k] = -1;
    const last = this.#items.pop() as T;
    if (last !== t) {
      this.#items[i] = last;
      (last as Record<K, number>)[k] = i;
    }
  }
}
