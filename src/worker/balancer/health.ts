/**
 * The worker's side of target health: the shared target table (attached once at start), the
 * health test the balancers run per candidate, and the passive reports of each try's outcome.
 * Nothing here allocates: it runs on every request.
 */
import type { Segment } from '../../shared/shm';
import { REGION, region } from '../../shared/shm';
import { COUNTER, HEALTH, TABLE_HEADER_WORDS, SLOT_WORDS, W, addInFlight, count, reclaimInFlight, workerRow, type Counter } from '../../shared/target-table';
import { STATUS_HEALTHY, STATUS_UNHEALTHY, type Peer, type PassiveStatuses } from './peer';
import type { HealthchecksConf } from '../../shared/healthchecks';
import { checksOn } from '../../shared/healthchecks';

let table: Int32Array | null = null;
/** This worker's in-flight row (shared/target-table.ts), or -1. */
let row = -1;

/**
 * Worker start: the table every balancer reads (without it every peer counts as healthy), and
 * this worker id's in-flight row, emptied of what a crashed predecessor left in it.
 */
export function attachTargetTable(segment: Segment, workerId: number): void {
  table = region(segment, REGION.TARGETS);
  if (table === null) return;
  row = workerRow(table, workerId);
  reclaimInFlight(table, workerId);
}

/** One Atomics.load: may this peer take traffic now? */
export function usable(p: Peer): boolean {
  return p.slot < 0 || table === null || (Atomics.load(table, TABLE_HEADER_WORDS + p.slot * SLOT_WORDS + W.STATE) & 15) === HEALTH.HEALTHY;
}

/**
 * Round-robin's shared cursor (target-table.ts CURSOR) in `slot`: its value before this step,
 * as an unsigned count, or -1 when there is no table (the caller keeps its own cursor).
 */
export function advanceCursor(slot: number): number {
  return table === null ? -1 : Atomics.add(table, TABLE_HEADER_WORDS + slot * SLOT_WORDS + W.CURSOR, 1) >>> 0;
}

/** Tries in flight on `p` across all workers (0 when untracked). */
export function load(p: Peer): number {
  return p.slot < 0 || table === null ? 0 : Atomics.load(table, TABLE_HEADER_WORDS + p.slot * SLOT_WORDS + W.IN_FLIGHT);
}

/** A try starts on `p`. */
export function tryStarted(p: Peer): void {
  if (p.slot < 0 || table === null || !p.countsLoad) return;
  addInFlight(table, p.slot, 1);
  if (row >= 0) Atomics.add(table, row + p.slot, 1);
}

/**
 * A try on `p` ended: with the upstream's status (> 0), or with a failure counter (`failure`
 * COUNTER.TCP / COUNTER.TIMEOUT), or with nothing to report (-1: the client went away).
 */
export function tryEnded(p: Peer, status: number, failure: Counter | -1): void {
  const t = table;
  if (p.slot < 0 || t === null) return;
  if (p.countsLoad) {
    addInFlight(t, p.slot, -1);
    if (row >= 0) Atomics.sub(t, row + p.slot, 1);
  }
  const passive = p.passive;
  if (passive === null) return;
  if (status > 0) {
    // Kong reports an upstream's 504 as a timeout, like its own.
    if (status === 504) {
      count(t, p.slot, W.P_SUCCESSES, COUNTER.TIMEOUT);
      return;
    }
    const kind = status < passive.length ? passive[status] : 0;
    if (kind === STATUS_HEALTHY) count(t, p.slot, W.P_SUCCESSES, COUNTER.SUCCESS);
    else if (kind === STATUS_UNHEALTHY) count(t, p.slot, W.P_SUCCESSES, COUNTER.HTTP);
  } else if (failure !== -1) {
    count(t, p.slot, W.P_SUCCESSES, failure);
  }
}

/** Once per upstream and snapshot: the passive status lookup, or null when checks are off. */
export function passiveStatuses(hc: HealthchecksConf | null | undefined): PassiveStatuses | null {
  if (hc == null || !checksOn(hc)) return null;
  const s = new Uint8Array(1000);
  // A status in both lists counts as healthy, as lua-resty-healthcheck checks that list first.
  for (const c of hc.passive.unhealthy.http_statuses) if (c >= 0 && c < 1000) s[c] = STATUS_UNHEALTHY;
  for (const c of hc.passive.healthy.http_statuses) if (c >= 0 && c < 1000) s[c] = STATUS_HEALTHY;
  return s;
}
