/**
 * Per-worker counters in the shared segment. Each worker writes only its own slot; the primary
 * reads every slot for /status and metrics without asking the workers.
 *
 *   slot word  0     1       2          3         4        5        6          7        8          9 .. 15
 *   +-------+-------+-----------+---------+--------+--------+----------+--------+----------+----------+
 *   |  pid  | state | heartbeat | config  | req lo | req hi | loop lag | active | loop lag | reserved |
 *   |       |       | (ticks)   | version | uint32 | uint32 | p99 (us) | reqs   | max (us) |          |
 *   +-------+-------+-----------+---------+--------+--------+----------+--------+----------+----------+
 *
 * Open connections are not counted here: uWS.js reports no HTTP connection events, so the
 * primary reads them from the kernel (primary/admin/connections.ts).
 *
 * `heartbeat` is a tick counter the worker bumps from a timer: a worker whose event loop is stuck
 * stops bumping it, and the primary replaces it. Requests are a 64-bit count in two words because
 * Atomics has no 64-bit add on Int32Array: the worker carries into `hi` when `lo` wraps.
 */
import { HEADER_WORDS, SLOT_WORDS, type Segment } from './shm';

export const WORKER_STATE = { EMPTY: 0, STARTING: 1, LISTENING: 2, DRAINING: 3, EXITED: 4 } as const;
export const WORKER_STATE_NAME = ['empty', 'starting', 'listening', 'draining', 'exited'] as const;

const PID = 0, STATE = 1, HEARTBEAT = 2, CONFIG_VERSION = 3, REQ_LO = 4, REQ_HI = 5, LAG_P99 = 6, ACTIVE = 7, LAG_MAX = 8;

export interface SlotView {
  pid: number;
  state: number;
  heartbeat: number;
  configVersion: number;
  requests: number;
  active: number;
  /** Event-loop lag of the last second (worker/process-metrics.ts), microseconds. */
  loopLagP99Us: number;
  loopLagMaxUs: number;
}

/** A worker's handle on its own slot: every method is one or two Atomics operations. */
export class WorkerSlot {
  readonly #w: Int32Array;
  readonly #base: number;
  constructor(seg: Segment, index: number) {
    if (index < 0 || index >= seg.slots) throw new RangeError(`worker slot ${index} out of range`);
    this.#w = seg.words;
    this.#base = HEADER_WORDS + index * SLOT_WORDS;
  }
  reset(pid: number): void {
    const b = this.#base;
    for (let i = 0; i < SLOT_WORDS; i++) Atomics.store(this.#w, b + i, 0);
    Atomics.store(this.#w, b + PID, pid);
    Atomics.store(this.#w, b + STATE, WORKER_STATE.STARTING);
  }
  setState(state: number): void { Atomics.store(this.#w, this.#base + STATE, state); }
  setConfigVersion(v: number): void { Atomics.store(this.#w, this.#base + CONFIG_VERSION, v); }
  beat(): void { Atomics.add(this.#w, this.#base + HEARTBEAT, 1); }
  setLoopLag(p99Us: number, maxUs: number): void {
    Atomics.store(this.#w, this.#base + LAG_P99, Math.min(p99Us, 0x7fffffff));
    Atomics.store(this.#w, this.#base + LAG_MAX, Math.min(maxUs, 0x7fffffff));
  }
  requestStarted(): void {
    const b = this.#base;
    // Atomics.add returns the old value: -1 (0xFFFFFFFF as int32) means lo just wrapped to 0.
    if (Atomics.add(this.#w, b + REQ_LO, 1) === -1) Atomics.add(this.#w, b + REQ_HI, 1);
    Atomics.add(this.#w, b + ACTIVE, 1);
  }
  requestFinished(): void { Atomics.sub(this.#w, this.#base + ACTIVE, 1); }
  active(): number { return Atomics.load(this.#w, this.#base + ACTIVE); }
}

/** The primary's read of any slot. */
export function readSlot(seg: Segment, index: number): SlotView {
  const w = seg.words;
  const b = HEADER_WORDS + index * SLOT_WORDS;
  return {
    pid: Atomics.load(w, b + PID),
    state: Atomics.load(w, b + STATE),
    heartbeat: Atomics.load(w, b + HEARTBEAT),
    configVersion: Atomics.load(w, b + CONFIG_VERSION),
    requests: Atomics.load(w, b + REQ_HI) * 0x1_0000_0000 + (Atomics.load(w, b + REQ_LO) >>> 0),
    active: Atomics.load(w, b + ACTIVE),
    loopLagP99Us: Atomics.load(w, b + LAG_P99),
    loopLagMaxUs: Atomics.load(w, b + LAG_MAX),
  };
}

/** The primary clears a slot before it forks the worker that will own it. */
export function clearSlot(seg: Segment, index: number): void {
  const b = HEADER_WORDS + index * SLOT_WORDS;
  for (let i = 0; i < SLOT_WORDS; i++) Atomics.store(seg.words, b + i, 0);
}
