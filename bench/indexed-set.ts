/**
 * lib/indexed-set.ts was one class generic over the entry's index field (`t[key]`, key a string
 * held by the set): a worker uses two fields (readIndex: the upstream read and client body
 * deadlines; stallIndex: send_timeout) on three entry classes, so those keyed loads and stores
 * saw two names and three maps. This times that form (`generic`, copied here as it was) against
 * monomorphic ones, all driven the same way in one process: `subclass` (the shipped IndexedSet:
 * the algorithm once, a subclass per field reads and writes it), `concrete` (the algorithm
 * written out per field) and `accessor` (one class, a get/set function pair per set).
 *
 * One operation: on each of the three sets (two with BENCH_READ_ONLY), add one entry and delete
 * another (steady state: SLOTS / 2 entries per set, deletes from the middle move the last entry).
 * Knobs: BENCH_MICRO_MS (ms per row per round, 300), BENCH_ROUNDS (9), BENCH_READ_ONLY=1 (only the
 * two readIndex sets, as in a worker that never had a response stalled: `generic` then sees one
 * field name).
 * `npx tsc -p tsconfig.json && node dist/bench/indexed-set.js`
 */
import { performance } from 'node:perf_hooks';
import { IndexedSet } from '../src/lib/indexed-set';
import { numberEnv } from './lib/knobs';
import { median } from './lib/rounds';
import { markdownTable } from './lib/report';

// Three entry classes with the two index fields, as in the worker (forward.ts's Exchange,
// client-body-deadline.ts's TimedRequestBody, stream-response.ts's response), other fields around them.
class Exchange {
  state = 0; tries = 0; host = ''; path = '/'; started = 0; peer: object | null = null;
  reads = 0; readSeen = 0; readSince = 0; readLimit = 0; readIndex = -1; readPaused = false;
}
class Body {
  queued = 0; ended = false; paused = false; received = 0;
}
class TimedBody extends Body {
  reads = 0; readSeen = 0; readSince = 0; readLimit = 0; readIndex = -1; readPaused = false;
}
class Response {
  state = 0; written = 0; pending: Buffer | null = null; backpressured = false;
  stalledSince = 0; stallIndex = -1; settled = false;
}

interface ReadEntry { readIndex: number }
interface StallEntry { stallIndex: number }

// `generic`: lib/indexed-set.ts before, keyed by a field name held in the set.
class GenericIndexedSet<K extends string, T extends Record<K, number>> {
  readonly #items: T[] = [];
  readonly #key: K;
  constructor(key: K) { this.#key = key; }
  get size(): number { return this.#items.length; }
  at(i: number): T { return this.#items[i]; }
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

// `concrete`: the algorithm written out, one class per field name.
class ReadIndexSet<T extends ReadEntry> {
  readonly #items: T[] = [];
  get size(): number { return this.#items.length; }
  at(i: number): T { return this.#items[i]; }
  add(t: T): void {
    if (t.readIndex >= 0) return;
    t.readIndex = this.#items.length;
    this.#items.push(t);
  }
  delete(t: T): void {
    const i = t.readIndex;
    if (i < 0) return;
    t.readIndex = -1;
    const last = this.#items.pop() as T;
    if (last !== t) {
      this.#items[i] = last;
      last.readIndex = i;
    }
  }
}
class StallIndexSet<T extends StallEntry> {
  readonly #items: T[] = [];
  get size(): number { return this.#items.length; }
  at(i: number): T { return this.#items[i]; }
  add(t: T): void {
    if (t.stallIndex >= 0) return;
    t.stallIndex = this.#items.length;
    this.#items.push(t);
  }
  delete(t: T): void {
    const i = t.stallIndex;
    if (i < 0) return;
    t.stallIndex = -1;
    const last = this.#items.pop() as T;
    if (last !== t) {
      this.#items[i] = last;
      last.stallIndex = i;
    }
  }
}

// `accessor`: one class, the field read and written through functions the set is made with.
class AccessorSet<T> {
  readonly #items: T[] = [];
  readonly #get: (t: T) => number;
  readonly #set: (t: T, i: number) => void;
  constructor(get: (t: T) => number, set: (t: T, i: number) => void) {
    this.#get = get;
    this.#set = set;
  }
  get size(): number { return this.#items.length; }
  at(i: number): T { return this.#items[i]; }
  add(t: T): void {
    if (this.#get(t) >= 0) return;
    this.#set(t, this.#items.length);
    this.#items.push(t);
  }
  delete(t: T): void {
    const i = this.#get(t);
    if (i < 0) return;
    this.#set(t, -1);
    const last = this.#items.pop() as T;
    if (last !== t) {
      this.#items[i] = last;
      this.#set(last, i);
    }
  }
}

// `subclass`: the shipped form.
class ReadIndexed<T extends ReadEntry> extends IndexedSet<T> {
  protected indexOf(t: T): number { return t.readIndex; }
  protected setIndex(t: T, i: number): void { t.readIndex = i; }
}
class StallIndexed<T extends StallEntry> extends IndexedSet<T> {
  protected indexOf(t: T): number { return t.stallIndex; }
  protected setIndex(t: T, i: number): void { t.stallIndex = i; }
}

interface AnySet<T> { add(t: T): void; delete(t: T): void; readonly size: number }
interface Sets { upstream: AnySet<Exchange>; clientBody: AnySet<TimedBody>; stalled: AnySet<Response> }

const SLOTS = 64;
const BATCH = 4096;

const READ_ONLY = process.env.BENCH_READ_ONLY === '1';

function variant(make: () => Sets): () => number {
  const sets = make();
  const ex = Array.from({ length: SLOTS }, () => new Exchange());
  const bodies = Array.from({ length: SLOTS }, () => new TimedBody());
  const responses = Array.from({ length: SLOTS }, () => new Response());
  const { upstream, clientBody, stalled } = sets;
  return () => {
    const t0 = performance.now();
    for (let i = 0; i < BATCH; i++) {
      const a = i & (SLOTS - 1);
      const d = (i + SLOTS / 2) & (SLOTS - 1);
      upstream.add(ex[a]);
      clientBody.add(bodies[a]);
      if (!READ_ONLY) stalled.add(responses[a]);
      upstream.delete(ex[d]);
      clientBody.delete(bodies[d]);
      if (!READ_ONLY) stalled.delete(responses[d]);
    }
    if (upstream.size + clientBody.size + stalled.size > 3 * SLOTS) throw new Error('unreachable');
    return performance.now() - t0;
  };
}

const VARIANTS: Array<[string, () => Sets]> = [
  ['generic (before: t[key])', () => ({
    upstream: new GenericIndexedSet<'readIndex', Exchange>('readIndex'),
    clientBody: new GenericIndexedSet<'readIndex', TimedBody>('readIndex'),
    stalled: new GenericIndexedSet<'stallIndex', Response>('stallIndex'),
  })],
  ['concrete (a class per field)', () => ({
    upstream: new ReadIndexSet<Exchange>(),
    clientBody: new ReadIndexSet<TimedBody>(),
    stalled: new StallIndexSet<Response>(),
  })],
  ['subclass (shipped: a subclass per field)', () => ({
    upstream: new ReadIndexed<Exchange>(),
    clientBody: new ReadIndexed<TimedBody>(),
    stalled: new StallIndexed<Response>(),
  })],
  ['accessor (get/set functions per set)', () => ({
    upstream: new AccessorSet<Exchange>((t) => t.readIndex, (t, i) => (t.readIndex = i)),
    clientBody: new AccessorSet<TimedBody>((t) => t.readIndex, (t, i) => (t.readIndex = i)),
    stalled: new AccessorSet<Response>((t) => t.stallIndex, (t, i) => (t.stallIndex = i)),
  })],
];

/** ns per operation (3 adds + 3 deletes, or 2 + 2 with BENCH_READ_ONLY) over whole batches, until `ms` of timed work. */
function measure(batch: () => number, ms: number): number {
  let timed = 0;
  let n = 0;
  while (timed < ms) {
    timed += batch();
    n += BATCH;
  }
  return (timed * 1e6) / n;
}

function main(): void {
  const ms = numberEnv('BENCH_MICRO_MS', 300, 10);
  const rounds = numberEnv('BENCH_ROUNDS', 9, 1);
  const rows = VARIANTS.map(([name, make]) => ({ name, run: variant(make), ns: [] as number[] }));
  for (const r of rows) measure(r.run, ms); // warm-up: JIT
  for (let round = 0; round < rounds; round++) {
    // Rotate the order, so no variant always runs right after the same other one.
    for (let k = 0; k < rows.length; k++) {
      const r = rows[(k + round) % rows.length];
      r.ns.push(measure(r.run, ms));
    }
    process.stderr.write(`round ${round + 1}/${rounds}\n`);
  }
  const base = rows[0].ns;
  console.log(markdownTable(['variant', 'ns/op (median)', 'raw ns/op per round', '÷ generic (median of same-round ratios)'], rows.map((r) => [
    r.name, median(r.ns).toFixed(1), r.ns.map((x) => x.toFixed(1)).join(' '), median(r.ns.map((x, i) => x / base[i])).toFixed(2),
  ])));
}

main();
