/**
 * Circuit breakers that every worker process of the node shares: REGION.BREAKERS of the segment
 * (shm.ts), one slot per (circuit-breaker plugin instance, service). Every transition is one
 * compare-exchange on the slot's STATE word, so exactly one worker opens or closes a breaker and
 * exactly `half_open_requests` trials pass per half-open round, whatever the number of workers.
 *
 *   word 0       1 .. 15     16                 16 + 8·capacity
 *   +---------+-----------+-------+-------+-- … --+-------+
 *   | full    | reserved  | slot0 | slot1 |       | slotN |
 *   | misses  |           |       |       |       |       |
 *   +---------+-----------+-------+-------+-- … --+-------+
 *
 *   one slot (8 words, 32 bytes: two slots per cache line)
 *   +------+-------+---------------------------------+-----------+-------+------+---------------------+
 *   | HASH | CHECK | STATE                           | SINCE_GEN | SINCE | pad  | WINDOW (64 bits)    |
 *   | key  | 2nd   | gen 14 | ok 8 | taken 8 | st 2  | gen whose | ms    |      | start ms 42 | count |
 *   | hash | hash  | bits 18-31 …            bits 0-1| SINCE is  | mod 2³²|     |             20 bits |
 *   +------+-------+---------------------------------+-----------+-------+------+---------------------+
 *   st: 0 CLOSED, 1 OPEN, 2 HALF_OPEN; taken: trials let through in this half-open round (and not
 *   given back); ok: trials of the round that succeeded; gen: bumped by every transition.
 *
 * - CLOSED: every request passes. A failure adds one to WINDOW with one 64-bit compare-exchange
 *   (a window starts at its first failure and lasts `window`; a failure after it starts a new
 *   one), so the count is exact across workers: the failure that makes it reach the threshold
 *   opens the breaker (CAS CLOSED(g) → OPEN(g+1)). Successes change nothing.
 * - OPEN: requests are refused until `reset_timeout` has passed since SINCE; then the first
 *   request moves it to HALF_OPEN(g+1) with itself as the first trial.
 * - HALF_OPEN: a request passes as a trial while taken < half_open_requests (CAS taken+1), else
 *   it is refused. A trial carries its round's gen: a failure reopens (OPEN(g+1), SINCE = now),
 *   a success adds to ok and the last one needed closes (CLOSED(g+1), WINDOW emptied), a trial
 *   without an outcome (it never reached the upstream, its client went away) gives its place
 *   back. An outcome whose gen is not the current one is stale and changes nothing. A round whose
 *   trials are all out for longer than the stuck limit (a worker died with a trial in flight)
 *   starts again with a new gen.
 * - SINCE is written by the worker that won the transition, after it: SINCE_GEN says which gen
 *   it belongs to, and a reader that finds another gen there treats the state as just entered.
 *   Milliseconds mod 2³² wrap after 49 days: an OPEN breaker nobody asked for that long may wait
 *   up to one more reset_timeout, never less.
 * - Slots are keyed by two independent 32-bit hashes of `<plugin id>:<service id>` (open
 *   addressing, linear probing). A claim moves HASH from 0 (empty) to -1 (being claimed), writes
 *   CHECK, then publishes HASH; a claim is never undone and slots are never freed, so probe chains
 *   never break and no lock is needed. Plugin ids are stable across reloads (Kong's generated
 *   ids are derived from the instance's name and scope), so a reload keeps each breaker's state.
 * - Full: no free slot for a new breaker. It is not enforced (its requests pass) and word 0
 *   counts those lookups; the caller logs it. Traffic is never blocked for lack of room.
 */
import { hashKey } from './rate-limit-table';

export const TABLE_HEADER_WORDS = 16;
export const SLOT_WORDS = 8;
const FULL = 0;
const HASH = 0;
const CHECK = 1;
const STATE = 2;
const SINCE_GEN = 3;
const SINCE = 4;
/** Word offset of the 64-bit WINDOW in a slot (8-byte aligned: slots and the header are). */
const WINDOW = 6;

export const BREAKER = { CLOSED: 0, OPEN: 1, HALF_OPEN: 2 } as const;
export type BreakerState = (typeof BREAKER)[keyof typeof BREAKER];

/** admit()'s answers besides a trial's gen (>= 0). */
export const PASS = -1;
export const REFUSE_OPEN = -2;
export const REFUSE_HALF_OPEN = -3;

/** A trial's outcome. */
export const OUTCOME = { NONE: 0, SUCCESS: 1, FAILURE: 2 } as const;
export type Outcome = (typeof OUTCOME)[keyof typeof OUTCOME];

/** lookup()'s answers besides a slot's word offset. */
export const NO_ROOM = -1;
export const BUSY = -2;

/** Largest half_open_requests (8 bits of STATE) and failure_threshold (20 bits of WINDOW). */
export const MAX_TRIALS = 255;
export const MAX_THRESHOLD = (1 << 20) - 1;
const GEN_MASK = (1 << 14) - 1;
const COUNT_MASK = BigInt(MAX_THRESHOLD);
const COUNT_BITS = 20n;
/** Looks at a slot being claimed by another process before giving up on this request. */
const CLAIM_SPINS = 100_000;

const stOf = (s: number): number => s & 3;
const takenOf = (s: number): number => (s >>> 2) & 255;
const okOf = (s: number): number => (s >>> 10) & 255;
const genOf = (s: number): number => s >>> 18;
const pack = (st: number, taken: number, ok: number, gen: number): number => (st | (taken << 2) | (ok << 10) | ((gen & GEN_MASK) << 18)) | 0;
/** Milliseconds mod 2³², as a word. */
const ms32 = (nowMs: number): number => (nowMs % 4294967296) | 0;

/** Words a table of `capacity` breakers takes (the primary sizes REGION.BREAKERS with this). */
export function tableWords(capacity: number): number {
  return capacity > 0 ? TABLE_HEADER_WORDS + SLOT_WORDS * capacity : 0;
}

/** A breaker as read at one moment (tests, diagnostics). */
export interface BreakerView {
  state: BreakerState;
  gen: number;
  taken: number;
  ok: number;
  failures: number;
}

export class BreakerTable {
  readonly words: Int32Array;
  readonly wide: BigInt64Array;
  readonly capacity: number;

  /** `words`: the region (or any Int32Array of tableWords(capacity) words on an 8-byte boundary, for tests). */
  constructor(words: Int32Array) {
    if (words.byteOffset % 8 !== 0) throw new RangeError('breaker table: words must start on an 8-byte boundary');
    this.words = words;
    this.wide = new BigInt64Array(words.buffer, words.byteOffset, words.length >> 1);
    this.capacity = Math.floor((words.length - TABLE_HEADER_WORDS) / SLOT_WORDS);
  }

  /** Lookups that found no room for a new breaker, since the table was created (all processes). */
  fullMisses(): number {
    return Atomics.load(this.words, FULL) >>> 0;
  }

  /**
   * The word offset of the breaker of `key` (`<plugin id>:<service id>`), claimed on first use;
   * NO_ROOM when the table is full, BUSY when another process is claiming a slot on its chain
   * right now (rare: try again with the next request).
   */
  lookup(key: string): number {
    const [h, h2] = hashKey(key);
    const h1 = h === -1 ? 1 : h; // -1 marks a claim in progress
    const w = this.words;
    const cap = this.capacity;
    let i = (h1 >>> 0) % cap;
    for (let n = 0; n < cap; n++) {
      const at = TABLE_HEADER_WORDS + i * SLOT_WORDS;
      for (let spins = 0; ; spins++) {
        const cur = Atomics.load(w, at + HASH);
        if (cur === h1 && Atomics.load(w, at + CHECK) === h2) return at;
        if (cur === 0) {
          if (Atomics.compareExchange(w, at + HASH, 0, -1) !== 0) continue; // lost the race: look again
          Atomics.store(w, at + CHECK, h2);
          Atomics.store(w, at + HASH, h1);
          return at;
        }
        if (cur !== -1) break; // another key's slot
        if (spins >= CLAIM_SPINS) return BUSY;
      }
      i = i + 1 === cap ? 0 : i + 1;
    }
    Atomics.add(w, FULL, 1);
    return NO_ROOM;
  }

  /**
   * May a request through the breaker at `at` go to the upstream? PASS (closed), a trial's gen
   * (>= 0: half-open, report its outcome with trialEnded), REFUSE_OPEN or REFUSE_HALF_OPEN.
   * `stuckMs`: a round whose trials are all out for longer starts again.
   */
  admit(at: number, nowMs: number, resetMs: number, trials: number, stuckMs: number): number {
    const w = this.words;
    for (;;) {
      const s = Atomics.load(w, at + STATE);
      const st = stOf(s);
      if (st === BREAKER.CLOSED) return PASS;
      const gen = genOf(s);
      if (st === BREAKER.OPEN) {
        if (this.#elapsed(at, gen, nowMs) < resetMs) {
          // SINCE may already be the next state's: answer only for the state we read.
          if (Atomics.load(w, at + STATE) !== s) continue;
          return REFUSE_OPEN;
        }
        if (this.#enter(at, s, BREAKER.HALF_OPEN, 1, gen + 1, nowMs)) return (gen + 1) & GEN_MASK;
        continue;
      }
      const taken = takenOf(s);
      if (taken < trials) {
        if (Atomics.compareExchange(w, at + STATE, s, pack(BREAKER.HALF_OPEN, taken + 1, okOf(s), gen)) === s) return gen;
        continue;
      }
      if (this.#elapsed(at, gen, nowMs) < stuckMs) {
        if (Atomics.load(w, at + STATE) !== s) continue;
        return REFUSE_HALF_OPEN;
      }
      if (this.#enter(at, s, BREAKER.HALF_OPEN, 1, gen + 1, nowMs)) return (gen + 1) & GEN_MASK;
    }
  }

  /**
   * A failure of a request let through while CLOSED: counted in the window; true when it made
   * the count reach `threshold` and this call opened the breaker. Ignored unless CLOSED.
   */
  failure(at: number, nowMs: number, threshold: number, windowMs: number): boolean {
    const w = this.words;
    if (stOf(Atomics.load(w, at + STATE)) !== BREAKER.CLOSED) return false;
    const wide = this.wide;
    const wi = (at + WINDOW) >> 1;
    let count: number;
    for (;;) {
      const cur = Atomics.load(wide, wi);
      const start = Number(cur >> COUNT_BITS);
      const n = Number(cur & COUNT_MASK);
      const fresh = n === 0 || nowMs - start >= windowMs || nowMs < start;
      count = fresh ? 1 : Math.min(n + 1, MAX_THRESHOLD);
      const next = (BigInt(fresh ? nowMs : start) << COUNT_BITS) | BigInt(count);
      if (Atomics.compareExchange(wide, wi, cur, next) === cur) break;
    }
    if (count < threshold) return false;
    for (;;) {
      const s = Atomics.load(w, at + STATE);
      if (stOf(s) !== BREAKER.CLOSED) return false;
      if (this.#enter(at, s, BREAKER.OPEN, 0, genOf(s) + 1, nowMs)) {
        Atomics.store(wide, wi, 0n);
        return true;
      }
    }
  }

  /**
   * The outcome of a trial admitted with `gen`. Returns the state it left the breaker in, or -1
   * when the trial was stale (its round is over) and changed nothing.
   */
  trialEnded(at: number, gen: number, outcome: Outcome, nowMs: number, trials: number): number {
    const w = this.words;
    for (;;) {
      const s = Atomics.load(w, at + STATE);
      if (stOf(s) !== BREAKER.HALF_OPEN || genOf(s) !== gen) return -1;
      const taken = takenOf(s);
      const ok = okOf(s);
      if (outcome === OUTCOME.FAILURE) {
        if (this.#enter(at, s, BREAKER.OPEN, 0, gen + 1, nowMs)) return BREAKER.OPEN;
      } else if (outcome === OUTCOME.NONE) {
        if (taken <= ok) return -1; // nothing out to give back (cannot happen for a counted trial)
        if (Atomics.compareExchange(w, at + STATE, s, pack(BREAKER.HALF_OPEN, taken - 1, ok, gen)) === s) return BREAKER.HALF_OPEN;
      } else if (ok + 1 >= trials) {
        // Emptied before closing: while HALF_OPEN no failure is counted, so none is lost.
        Atomics.store(this.wide, (at + WINDOW) >> 1, 0n);
        if (Atomics.compareExchange(w, at + STATE, s, pack(BREAKER.CLOSED, 0, 0, gen + 1)) === s) return BREAKER.CLOSED;
      } else if (Atomics.compareExchange(w, at + STATE, s, pack(BREAKER.HALF_OPEN, taken, ok + 1, gen)) === s) {
        return BREAKER.HALF_OPEN;
      }
    }
  }

  /** The breaker at `at` as it is now. */
  view(at: number, nowMs: number, windowMs: number): BreakerView {
    const s = Atomics.load(this.words, at + STATE);
    const cur = Atomics.load(this.wide, (at + WINDOW) >> 1);
    const start = Number(cur >> COUNT_BITS);
    const n = Number(cur & COUNT_MASK);
    return {
      state: stOf(s) as BreakerState,
      gen: genOf(s),
      taken: takenOf(s),
      ok: okOf(s),
      failures: n > 0 && nowMs - start < windowMs ? n : 0,
    };
  }

  /** One CAS from `s` into a state that starts now; SINCE follows for whoever won it. */
  #enter(at: number, s: number, st: BreakerState, taken: number, gen: number, nowMs: number): boolean {
    const w = this.words;
    const g = gen & GEN_MASK;
    if (Atomics.compareExchange(w, at + STATE, s, pack(st, taken, 0, g)) !== s) return false;
    Atomics.store(w, at + SINCE, ms32(nowMs));
    Atomics.store(w, at + SINCE_GEN, g);
    return true;
  }

  /** Milliseconds since the state of `gen` began; 0 while its winner has not written SINCE yet. */
  #elapsed(at: number, gen: number, nowMs: number): number {
    const w = this.words;
    if (Atomics.load(w, at + SINCE_GEN) !== gen) return 0;
    return (ms32(nowMs) - Atomics.load(w, at + SINCE)) >>> 0;
  }
}

// ---- the worker's table ------------------------------------------------------------------------

let shared: BreakerTable | null = null;

/** Worker start: the table over REGION.BREAKERS (null when the region is absent). */
export function attachBreakerTable(words: Int32Array | null): BreakerTable | null {
  shared = words === null || words.length < tableWords(1) ? null : new BreakerTable(words);
  return shared;
}

/** The table attached in this process, or null. */
export function breakerTable(): BreakerTable | null {
  return shared;
}
