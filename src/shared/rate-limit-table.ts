/**
 * Rate-limit counters that every worker process of the node updates with Atomics: REGION.RATE_LIMITS
 * of the shared segment (shm.ts). No message per request, no lock on the counting path.
 *
 *   word 0      1           2 .. 15     16                       16 + 4·capacity
 *   +--------+-----------+-----------+-------+-------+-- … --+-------+
 *   | insert | full      | reserved  | slot0 | slot1 |       | slotN |
 *   | lock   | misses    |           |       |       |       |       |
 *   +--------+-----------+-----------+-------+-------+-- … --+-------+
 *
 *   one slot (4 words, 16 bytes: four slots per cache line)
 *   +------------+-------------+-------------------------------+--------+
 *   | HASH       | CHECK       | STATE                         | SIZE   |
 *   | key hash   | 2nd hash    | tag (8 bits) | count (24 bits)| window |
 *   +------------+-------------+-------------------------------+--------+
 *   tag = (window index mod 32) << 3 | period code (1..6 calendar, 7 sliding of SIZE seconds);
 *   STATE 0 = free;  0xFF…FF = RESERVED
 *
 * - A key is (HASH, CHECK): 64 bits of two independent hashes of the key string (route, service,
 *   identifier) and the period. Open addressing, linear probing from HASH, at most MAX_PROBE slots.
 *   A slot with HASH 0 is empty and ends every probe: slots never go back to HASH 0, so a probe
 *   chain is never broken by a reclaim.
 * - Counting is one compare-exchange loop on STATE: a tag for another window means "this window
 *   has not been counted yet", so rolling the window and counting are the same atomic step, and
 *   increment-then-check lets exactly `limit` requests through per window whatever the number of
 *   processes (a blocked request undoes its increment with the same loop, on the same tag only).
 * - Only claiming a slot for a new key takes the insert lock (word 0: the holder's pid; a dead
 *   holder's lock is taken over). Under the lock the chain is scanned again, so a key is never
 *   inserted twice. A claim moves STATE from free/stale to RESERVED, writes HASH and CHECK, then
 *   publishes STATE = (current tag, 0). Counters read STATE, then the key words, and
 *   compare-exchange from the STATE read: a claim in between changes STATE, so no count lands in
 *   a slot that changed hands (a published STATE is neither free nor stale, so no ABA short of a
 *   whole window passing between two of a counter's instructions).
 * - Stale windows are reclaimed: `sweep()` (every worker, every SWEEP_MS) sets STATE to free for
 *   every slot whose tag is not its period's current window (sliding: current or previous), so an
 *   idle key gives its slot back,
 *   and a tag can never alias (a slot cannot stay idle for 32 windows without being swept, since
 *   the shortest window is one second and the sweep runs every few seconds).
 * - Full (no empty or reclaimable slot within MAX_PROBE): the request is let through and counted
 *   in word 1; the caller logs it once per interval. Traffic is never blocked for lack of room.
 *
 * Collisions: two keys share a counter only when both 32-bit hashes are equal: about n²/2⁶⁵ for n
 * live keys (1 in 8·10⁹ at a million keys).
 */

export const TABLE_HEADER_WORDS = 16;
export const SLOT_WORDS = 4;
const LOCK = 0;
const FULL = 1;
const HASH = 0;
const CHECK = 1;
const STATE = 2;
/** Window size in seconds of a sliding-window slot (period code CUSTOM); 0 otherwise. */
const SIZE = 3;
/** Period code of sliding windows of any size (their size is in the slot's SIZE word). */
const CUSTOM = 7;
/** Slots a lookup or a claim looks at from the key's home slot. */
export const MAX_PROBE = 64;
export const COUNT_BITS = 24;
const COUNT_MASK = (1 << COUNT_BITS) - 1;
/** The largest count a slot holds: the local policy refuses limits above it (schema). */
export const MAX_LOCAL_COUNT = COUNT_MASK - 1024;
const RESERVED = -1;
const FREE = 0;
/** How long a waiter spins on the insert lock before checking that its holder still lives. */
const LOCK_SPINS = 20_000;
const RETRIES = 100_000;

/** Kong's periods, shortest first; their index + 1 is the period code in a tag. */
export const PERIODS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const;
export type Period = (typeof PERIODS)[number];

/** Words a table of `capacity` slots takes (the primary sizes REGION.RATE_LIMITS with this). */
export function tableWords(capacity: number): number {
  return capacity > 0 ? TABLE_HEADER_WORDS + SLOT_WORDS * capacity : 0;
}

/** Calendar window index of `period` at `nowMs` (UTC; a minute starts at :00, a month on the 1st). */
export function windowIndex(periodCode: number, nowMs: number): number {
  switch (periodCode) {
    case 1: return Math.floor(nowMs / 1000);
    case 2: return Math.floor(nowMs / 60_000);
    case 3: return Math.floor(nowMs / 3_600_000);
    case 4: return Math.floor(nowMs / 86_400_000);
    case 5: {
      const d = new Date(nowMs);
      return d.getUTCFullYear() * 12 + d.getUTCMonth();
    }
    default: return new Date(nowMs).getUTCFullYear();
  }
}

const tagOf = (periodCode: number, window: number): number => ((window & 31) << 3) | periodCode;
const stateTag = (s: number): number => s >>> COUNT_BITS;
const stateCount = (s: number): number => s & COUNT_MASK;
const pack = (tag: number, count: number): number => ((tag << COUNT_BITS) | count) | 0;

/** Two independent 32-bit hashes (FNV-1a and a multiplicative variant) of a string. */
export function hashKey(key: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h2 = Math.imul(h2, 0xc2b2ae35);
  h2 ^= h2 >>> 16;
  // HASH 0 means empty; RESERVED is only ever a STATE value, so any other HASH is fine.
  return [h1 === 0 ? 1 : h1, h2];
}

/** Mixes a period code into a key's hashes (one string hash per request, not one per period). */
function periodHashes(base: readonly [number, number], periodCode: number): [number, number] {
  let h1 = Math.imul(base[0] ^ Math.imul(periodCode, 0x9e3779b1), 0x85ebca6b);
  h1 ^= h1 >>> 15;
  let h2 = Math.imul(base[1] + periodCode, 0xcc9e2d51);
  h2 ^= h2 >>> 13;
  return [h1 === 0 ? 1 : h1, h2];
}

export class RateLimitTable {
  readonly words: Int32Array;
  readonly capacity: number;
  readonly #pid: number;

  /** `words`: the region (or any Int32Array of tableWords(capacity) words, for tests). */
  constructor(words: Int32Array, pid = process.pid) {
    this.words = words;
    this.capacity = Math.floor((words.length - TABLE_HEADER_WORDS) / SLOT_WORDS);
    this.#pid = pid;
  }

  /** Requests let through because no slot was free, since the table was created (all processes). */
  fullMisses(): number {
    return Atomics.load(this.words, FULL) >>> 0;
  }

  /**
   * Adds `delta` (1 to count, -1 to undo) to the key's counter for the current window of the
   * period and returns the count after it, or -1 when the table had no room (not counted). An undo
   * (delta < 0) applies only to the current window: a counter that already rolled is left alone,
   * and then 0 is returned.
   */
  add(base: readonly [number, number], periodCode: number, nowMs: number, delta: number): number {
    const [h1, h2] = periodHashes(base, periodCode);
    return this.#add(h1, h2, tagOf(periodCode, windowIndex(periodCode, nowMs)), 0, nowMs, delta);
  }

  /**
   * Sliding windows (rate-limiting-advanced): the counter of window `index` of `sizeS`-second
   * windows (index = floor(now / size)). Windows of even and odd index are two keys, so the
   * previous window's count stays readable for the whole current window.
   */
  addWindow(base: readonly [number, number], sizeS: number, index: number, nowMs: number, delta: number): number {
    const [h1, h2] = periodHashes(base, 16 + sizeS * 2 + (index & 1));
    return this.#add(h1, h2, tagOf(CUSTOM, index), sizeS, nowMs, delta);
  }

  /** The count of window `index` of `sizeS`-second windows (0 when absent or rolled). */
  countWindow(base: readonly [number, number], sizeS: number, index: number): number {
    const [h1, h2] = periodHashes(base, 16 + sizeS * 2 + (index & 1));
    return this.#count(h1, h2, tagOf(CUSTOM, index));
  }

  #add(h1: number, h2: number, tag: number, sizeS: number, nowMs: number, delta: number): number {
    // A claim takes three stores; a claimer that died in between must not hang us: after
    // RETRIES looks the request is treated as "no room".
    for (let tries = 0; tries < RETRIES; tries++) {
      const slot = this.#find(h1, h2);
      if (slot === -2) continue; // a claim in progress on our chain: look again
      const at = slot >= 0 ? slot : delta > 0 ? this.#claim(h1, h2, tag, sizeS, nowMs) : -1;
      if (at < 0) {
        if (delta > 0) Atomics.add(this.words, FULL, 1);
        return delta > 0 ? -1 : 0;
      }
      const r = this.#addAt(at, h1, h2, tag, delta);
      if (r !== -2) return r;
    }
    if (delta > 0) Atomics.add(this.words, FULL, 1);
    return delta > 0 ? -1 : 0;
  }

  /** The key's count in the current window of the period (0 when absent or rolled). */
  count(base: readonly [number, number], periodCode: number, nowMs: number): number {
    const [h1, h2] = periodHashes(base, periodCode);
    return this.#count(h1, h2, tagOf(periodCode, windowIndex(periodCode, nowMs)));
  }

  #count(h1: number, h2: number, tag: number): number {
    const slot = this.#find(h1, h2);
    if (slot < 0) return 0;
    const s = Atomics.load(this.words, slot + STATE);
    return s !== RESERVED && stateTag(s) === tag ? stateCount(s) : 0;
  }

  /**
   * Frees the slots whose window is over (their keys may claim them again, or others may).
   * Returns how many were freed.
   */
  sweep(nowMs: number): number {
    const w = this.words;
    const current = PERIODS.map((_, i) => tagOf(i + 1, windowIndex(i + 1, nowMs)));
    let freed = 0;
    for (let i = 0; i < this.capacity; i++) {
      const at = TABLE_HEADER_WORDS + i * SLOT_WORDS;
      const s = Atomics.load(w, at + STATE);
      if (s === FREE || s === RESERVED) continue;
      const tag = stateTag(s);
      const code = tag & 7;
      if (code >= 1 && code <= 6 && current[code - 1] === tag) continue;
      if (code === CUSTOM && !this.#stale(s, nowMs, at)) continue;
      if (Atomics.compareExchange(w, at + STATE, s, FREE) === s) freed++;
    }
    return freed;
  }

  /** Word offset of the key's slot, -1 when absent, -2 when a claim was in progress on the chain. */
  #find(h1: number, h2: number): number {
    const w = this.words;
    const cap = this.capacity;
    let i = (h1 >>> 0) % cap;
    for (let n = 0; n < MAX_PROBE && n < cap; n++) {
      const at = TABLE_HEADER_WORDS + i * SLOT_WORDS;
      const h = Atomics.load(w, at + HASH);
      if (h === 0) return -1;
      if (h === h1 && Atomics.load(w, at + CHECK) === h2) {
        if (Atomics.load(w, at + STATE) === RESERVED) return -2;
        return at;
      }
      i = i + 1 === cap ? 0 : i + 1;
    }
    return -1;
  }

  /** One CAS loop on STATE; -2 when the slot changed hands meanwhile (look the key up again). */
  #addAt(at: number, h1: number, h2: number, tag: number, delta: number): number {
    const w = this.words;
    for (;;) {
      const s = Atomics.load(w, at + STATE);
      if (s === RESERVED) return -2;
      // The key words are read after STATE: a claim changes STATE first and publishes it last.
      if (Atomics.load(w, at + HASH) !== h1 || Atomics.load(w, at + CHECK) !== h2) return -2;
      const current = s !== FREE && stateTag(s) === tag ? stateCount(s) : 0;
      if (delta < 0 && current === 0) return 0; // rolled (or never counted): nothing to undo
      // Never COUNT_MASK: tag 0xFF with a full count would read as RESERVED.
      const next = Math.min(COUNT_MASK - 1, Math.max(0, current + delta));
      if (Atomics.compareExchange(w, at + STATE, s, pack(tag, next)) === s) return next;
    }
  }

  /** Claims a slot for a new key under the insert lock; its word offset, or -1 when full. */
  #claim(h1: number, h2: number, tag: number, sizeS: number, nowMs: number): number {
    if (!this.#lock()) return -1;
    try {
      const w = this.words;
      const cap = this.capacity;
      let i = (h1 >>> 0) % cap;
      let reusable = -1;
      for (let n = 0; n < MAX_PROBE && n < cap; n++) {
        const at = TABLE_HEADER_WORDS + i * SLOT_WORDS;
        const h = Atomics.load(w, at + HASH);
        if (h === h1 && Atomics.load(w, at + CHECK) === h2) return at; // inserted meanwhile
        if (h === 0) {
          if (reusable < 0) reusable = at;
          break;
        }
        if (reusable < 0 && this.#stale(Atomics.load(w, at + STATE), nowMs, at)) reusable = at;
        i = i + 1 === cap ? 0 : i + 1;
      }
      if (reusable < 0) return -1;
      const s = Atomics.load(w, reusable + STATE);
      // Only a sweep or a counter of the old key can race us here; either way, look again.
      if (!this.#stale(s, nowMs, reusable) && Atomics.load(w, reusable + HASH) !== 0) return -1;
      if (Atomics.compareExchange(w, reusable + STATE, s, RESERVED) !== s) return -1;
      Atomics.store(w, reusable + CHECK, h2);
      Atomics.store(w, reusable + SIZE, sizeS);
      Atomics.store(w, reusable + HASH, h1);
      Atomics.store(w, reusable + STATE, pack(tag, 0));
      return reusable;
    } finally {
      this.#unlock();
    }
  }

  /** Free, or counting a window that is over (for its own period; a sliding one also serves the next). */
  #stale(s: number, nowMs: number, at: number): boolean {
    if (s === FREE) return true;
    if (s === RESERVED) return false;
    const tag = stateTag(s);
    const code = tag & 7;
    if (code === CUSTOM) {
      const size = Atomics.load(this.words, at + SIZE);
      if (size <= 0) return true;
      const cur = Math.floor(nowMs / 1000 / size);
      return tag !== tagOf(CUSTOM, cur) && tag !== tagOf(CUSTOM, cur - 1);
    }
    if (code < 1 || code > 6) return true;
    return tagOf(code, windowIndex(code, nowMs)) !== tag;
  }

  #lock(): boolean {
    const w = this.words;
    for (let round = 0; round < 50; round++) {
      for (let n = 0; n < LOCK_SPINS; n++) {
        if (Atomics.compareExchange(w, LOCK, 0, this.#pid) === 0) return true;
      }
      const holder = Atomics.load(w, LOCK);
      if (holder !== 0 && !alive(holder)) Atomics.compareExchange(w, LOCK, holder, 0);
    }
    return false; // never block traffic on a lock: the caller treats this as "full"
  }

  #unlock(): void {
    Atomics.compareExchange(this.words, LOCK, this.#pid, 0);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---- the worker's table ------------------------------------------------------------------------

let shared: RateLimitTable | null = null;

/** Worker start: the table over REGION.RATE_LIMITS (null when the region is absent). */
export function attachRateLimitTable(words: Int32Array | null): RateLimitTable | null {
  shared = words === null || words.length < tableWords(1) ? null : new RateLimitTable(words);
  return shared;
}

/** The table attached in this process, or null. */
export function rateLimitTable(): RateLimitTable | null {
  return shared;
}
