/**
 * policy: local — this node's counters in the shared-memory table (shared/rate-limit-table.ts),
 * exact across worker processes: increment, then check, and undo when over.
 */
import { rateLimitTable, type RateLimitTable } from '../../../shared/rate-limit-table';
import { log } from '../../../lib/log';
import type { Limit, Outcome } from './types';

const FULL_LOG_MS = 10_000;
let lastFullLog = 0;

/** The table is swept from every worker; cheap (a read per slot) and it keeps tags from aliasing. */
const SWEEP_MS = 5_000;
let sweeper: NodeJS.Timeout | null = null;

/** The node's table (null when the segment has none); the first use starts this worker's sweeper. */
export function localTable(): RateLimitTable | null {
  const t = rateLimitTable();
  if (t !== null && sweeper === null) {
    sweeper = setInterval(() => t.sweep(Date.now()), SWEEP_MS);
    sweeper.unref();
  }
  return t;
}

/**
 * Counts one request for every limit (in `used`, the counts before it) and returns the index of
 * the limit it exceeds (not counted then), or -1. Never blocks for lack of room: a key that finds
 * no slot passes uncounted, and that is logged once per interval.
 */
export function checkLocal(key: readonly [number, number], limits: readonly Limit[], nowMs: number, used: number[]): Outcome {
  const t = localTable();
  if (t === null) return { stop: -1, known: false };
  let stop = -1;
  let counted = 0;
  for (let i = 0; i < limits.length; i++) {
    const c = t.add(key, limits[i].code, nowMs, 1);
    if (c < 0) {
      used[i] = 0;
      noRoom(t);
      continue;
    }
    counted |= 1 << i;
    used[i] = c - 1;
    if (c > limits[i].limit && stop < 0) stop = i;
  }
  if (stop >= 0) {
    // A blocked request is not counted (Kong): undo every increment it made.
    for (let i = 0; i < limits.length; i++) if (counted & (1 << i)) t.add(key, limits[i].code, nowMs, -1);
  }
  return { stop, known: true };
}

function noRoom(t: RateLimitTable): void {
  const now = Date.now();
  if (now - lastFullLog < FULL_LOG_MS) return;
  lastFullLog = now;
  log('warn', 'rate-limiting: the local counter table is full; requests of new keys pass uncounted (raise hyperway.rate_limiting_table_size)', {
    capacity: t.capacity,
    uncounted_total: t.fullMisses(),
  });
}
