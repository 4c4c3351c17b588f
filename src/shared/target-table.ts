/**
 * The target table: per upstream target, its health and the counters the health checks need,
 * in the shared segment's REGION.TARGETS, so every worker balances on the same view.
 *
 *   region word 0          1                 2              3 .. 15
 *   +----------------+-----------------+--------------+----------+
 *   | slot capacity  | TABLE_VERSION   | worker rows  | (spare)  |
 *   +----------------+-----------------+--------------+----------+
 *   word 16: target slot 0, then slot 1 …, SLOT_WORDS (16 words = one 64-byte line) each:
 *
 *   0 STATE       health (bits 0-3: HEALTH) | who set it (bits 4-7: SOURCE); 0 = healthy
 *   1 IN_FLIGHT   tries on this target now (workers add 1 per try and take it back; least-connections peers only)
 *   2 P_SUCCESSES 3 P_HTTP  4 P_TCP  5 P_TIMEOUTS   passive counters (proxied traffic)
 *   6 GENERATION  bumped on every transition and every (re)assignment of the slot
 *   7 A_SUCCESSES 8 A_HTTP  9 A_TCP 10 A_TIMEOUTS   active counters (the primary's probes)
 *   11 CURSOR      round-robin's shared cursor, in the upstream's lowest slot only (below)
 *   12 .. 15      spare
 *
 *   CURSOR: an upstream's round-robin wheel is the same in every worker, and every worker takes
 *   its next position with one Atomics.add on word 11 of the upstream's lowest slot (a slot
 *   belongs to one upstream, and the lowest is the same in every worker on the same snapshot),
 *   so N workers together walk the wheel once, by weight. Only round-robin touches it; nothing
 *   resets it: its value is only where the walk goes on from.
 *
 *   after the slots: one row per worker id, one word per slot: that worker's share of IN_FLIGHT.
 *   A worker's replacement (same id) takes a dead worker's share back out of IN_FLIGHT before it
 *   serves (reclaimInFlight), so a crash never leaves a target looking busy for ever.
 *
 * Who writes what: the primary assigns slots (primary/health/slots.ts: keyed by upstream name +
 * target, so a reload keeps them) and is the only writer of STATE and GENERATION. Workers read
 * STATE with one Atomics.load per candidate peer, add to IN_FLIGHT, and keep the passive counters
 * with Kong's semantics (lua-resty-healthcheck `incr_counter`): a success zeroes the failure
 * counters, a failure zeroes the success counter, nothing is counted in the direction the target
 * already is. The counters are shared, so N workers reach a threshold together; the primary
 * reads them (primary/health/index.ts) and flips STATE once one reaches its threshold.
 * Concurrent zeroing and adding may lose an event under a race, as Kong's shm counters may.
 */

export const TABLE_HEADER_WORDS = 16;
export const SLOT_WORDS = 16;
export const TABLE_VERSION = 2;

export const HEALTH = { HEALTHY: 0, UNHEALTHY: 1, DNS_ERROR: 2 } as const;
export type Health = (typeof HEALTH)[keyof typeof HEALTH];
export const SOURCE = { NONE: 0, ACTIVE: 1, PASSIVE: 2, ADMIN: 3 } as const;
export type Source = (typeof SOURCE)[keyof typeof SOURCE];

export const W = {
  STATE: 0, IN_FLIGHT: 1,
  P_SUCCESSES: 2, P_HTTP: 3, P_TCP: 4, P_TIMEOUTS: 5,
  GENERATION: 6,
  A_SUCCESSES: 7, A_HTTP: 8, A_TCP: 9, A_TIMEOUTS: 10,
  CURSOR: 11,
} as const;

/** Offsets of one checker's four counters from its SUCCESSES word: successes, http, tcp, timeouts. */
export const COUNTER = { SUCCESS: 0, HTTP: 1, TCP: 2, TIMEOUT: 3 } as const;
export type Counter = (typeof COUNTER)[keyof typeof COUNTER];

/** Words the region needs for `slots` targets and `workers` worker ids. */
export function tableWords(slots: number, workers = 0): number {
  return slots > 0 ? TABLE_HEADER_WORDS + slots * (SLOT_WORDS + workers) : 0;
}

/** Primary, at start: stamp the header on a zeroed region sized by tableWords(…, workers). */
export function initTable(t: Int32Array, workers = 0): void {
  Atomics.store(t, 0, Math.floor((t.length - TABLE_HEADER_WORDS) / (SLOT_WORDS + workers)));
  Atomics.store(t, 1, TABLE_VERSION);
  Atomics.store(t, 2, workers);
}

/** Word index of worker `w`'s in-flight share of slot 0 (its row), or -1 when the table has no row for it. */
export function workerRow(t: Int32Array, w: number): number {
  const slots = Atomics.load(t, 0);
  return w >= 0 && w < Atomics.load(t, 2) ? TABLE_HEADER_WORDS + slots * SLOT_WORDS + w * slots : -1;
}

/** A worker, before it serves: takes what a previous worker of its id left in flight out of the shared counts. */
export function reclaimInFlight(t: Int32Array, w: number): number {
  const row = workerRow(t, w);
  if (row < 0) return 0;
  let reclaimed = 0;
  const slots = Atomics.load(t, 0);
  for (let s = 0; s < slots; s++) {
    const v = Atomics.load(t, row + s);
    if (v === 0) continue;
    Atomics.sub(t, base(s) + W.IN_FLIGHT, v);
    Atomics.store(t, row + s, 0);
    reclaimed += v;
  }
  return reclaimed;
}

export function capacity(t: Int32Array): number {
  return Atomics.load(t, 0);
}

/** Word index of a slot's first word. */
export function base(slot: number): number {
  return TABLE_HEADER_WORDS + slot * SLOT_WORDS;
}

export function healthOf(t: Int32Array, slot: number): Health {
  return (Atomics.load(t, base(slot) + W.STATE) & 15) as Health;
}

export function sourceOf(t: Int32Array, slot: number): Source {
  return ((Atomics.load(t, base(slot) + W.STATE) >> 4) & 15) as Source;
}

export function generationOf(t: Int32Array, slot: number): number {
  return Atomics.load(t, base(slot) + W.GENERATION);
}

/** Primary (and the Admin API in it): a transition. Both checkers' counters start over. */
export function setHealth(t: Int32Array, slot: number, health: Health, source: Source): void {
  const b = base(slot);
  for (let w: number = W.P_SUCCESSES; w <= W.A_TIMEOUTS; w++) if (w !== W.GENERATION) Atomics.store(t, b + w, 0);
  Atomics.store(t, b + W.STATE, health | (source << 4));
  Atomics.add(t, b + W.GENERATION, 1);
}

/** Primary: a slot handed to a new target starts healthy with zero counters (in-flight kept: old tries still end). */
export function resetSlot(t: Int32Array, slot: number): void {
  setHealth(t, slot, HEALTH.HEALTHY, SOURCE.NONE);
}

/**
 * Kong's counter step for one event, on the counters starting at `first` (W.P_SUCCESSES or
 * W.A_SUCCESSES). Returns the counter's new value, or 0 when nothing was counted (the target
 * already is where the event points).
 */
export function count(t: Int32Array, slot: number, first: number, which: Counter): number {
  const b = base(slot);
  const unhealthy = (Atomics.load(t, b + W.STATE) & 15) !== HEALTH.HEALTHY;
  if (which === COUNTER.SUCCESS) {
    // A success on a healthy target only clears its failures (mostly_healthy → healthy).
    for (let c = 1; c <= 3; c++) if (Atomics.load(t, b + first + c) !== 0) Atomics.store(t, b + first + c, 0);
    return unhealthy ? Atomics.add(t, b + first, 1) + 1 : 0;
  }
  if (Atomics.load(t, b + first) !== 0) Atomics.store(t, b + first, 0);
  return unhealthy ? 0 : Atomics.add(t, b + first + which, 1) + 1;
}

export function counterValue(t: Int32Array, slot: number, first: number, which: Counter): number {
  return Atomics.load(t, base(slot) + first + which);
}

export function addInFlight(t: Int32Array, slot: number, delta: number): void {
  Atomics.add(t, base(slot) + W.IN_FLIGHT, delta);
}

export function inFlight(t: Int32Array, slot: number): number {
  return Atomics.load(t, base(slot) + W.IN_FLIGHT);
}

/** Kong's names for the Admin API. */
export function healthName(h: Health): 'HEALTHY' | 'UNHEALTHY' | 'DNS_ERROR' {
  return h === HEALTH.HEALTHY ? 'HEALTHY' : h === HEALTH.UNHEALTHY ? 'UNHEALTHY' : 'DNS_ERROR';
}

export function sourceName(s: Source): 'none' | 'active' | 'passive' | 'admin' {
  return s === SOURCE.ACTIVE ? 'active' : s === SOURCE.PASSIVE ? 'passive' : s === SOURCE.ADMIN ? 'admin' : 'none';
}
