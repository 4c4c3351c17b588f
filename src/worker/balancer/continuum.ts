/**
 * Kong's consistent-hashing continuum (kong/runloop/balancer/consistent_hashing.lua, Ketama):
 * `points` positions; each target of weight w > 0 takes floor(w / total × targets × 160) of them
 * (at least one), at xxhash32("<host>::<port> <i>") % points for i = 1, 2, … (the double colon is
 * Kong's). Targets are placed sorted by host then port, and a position two targets hash to goes
 * to the first: the same continuum whatever the order they were declared in. One change from
 * Kong: the second target does not take an extra position instead (Kong moves it on to i + 1),
 * so each target's positions depend on its own name and weight only, and a target leaving frees
 * its positions without shifting any other target's (Kong's extra positions would move). A key
 * maps to its point xxhash32(key) % points and belongs to the first placed target at or below
 * that point (Kong walks counter-clockwise). A target that leaves frees only its own points:
 * keys of the others stay where they were. Same inputs, same continuum: in every worker, and
 * as in Kong.
 *
 * `below[i]` is the placed position at or below i (wrapping), precomputed, so a lookup is two
 * array reads; walking on past unusable targets follows `below` from one placed position to the next.
 */
import { xxhash32 } from './xxhash32';
import { log } from '../../lib/log';

const SERVER_POINTS = 160;
const MIN_POINTS = 1000;
const DEFAULT_POINTS = 1000;

export interface ContinuumTarget {
  host: string;
  port: number;
  weight: number;
}

export class Continuum {
  readonly points: number;
  /** Target index at each position, or -1. */
  readonly owner: Int32Array;
  /** The placed position at or below each position (wrapping), or -1 when nothing is placed. */
  readonly below: Int32Array;
  readonly placed: number;

  /** `slots`: the upstream's; Kong uses 1000 points below 1000. */
  constructor(targets: readonly ContinuumTarget[], slots: number) {
    const points = slots >= MIN_POINTS ? slots : DEFAULT_POINTS;
    this.points = points;
    const owner = new Int32Array(points).fill(-1);
    const order: number[] = [];
    let total = 0;
    for (let i = 0; i < targets.length; i++) {
      if (targets[i].weight <= 0) continue;
      order.push(i);
      total += targets[i].weight;
    }
    order.sort((a, b) => {
      const ta = targets[a], tb = targets[b];
      return ta.host < tb.host ? -1 : ta.host > tb.host ? 1 : ta.port - tb.port;
    });
    let placed = 0;
    let pointless = 0;
    for (const t of order) {
      const before = placed;
      const { host, port, weight } = targets[t];
      const entries = Math.max(1, Math.floor((weight / total) * order.length * SERVER_POINTS));
      for (let i = 1; i <= entries; i++) {
        const at = xxhash32(`${host}::${port} ${i}`) % points;
        if (owner[at] !== -1) continue;
        owner[at] = t;
        placed++;
      }
      if (placed === before) pointless++;
    }
    if (pointless > 0) log('warn', 'consistent-hashing continuum too small: some targets got no point; raise the upstream\'s slots', { points, targets: order.length, without: pointless });
    this.placed = placed;
    const below = new Int32Array(points).fill(-1);
    if (placed > 0) {
      let last = -1;
      for (let i = points - 1; i >= 0 && last === -1; i--) if (owner[i] !== -1) last = i;
      for (let i = 0; i < points; i++) {
        if (owner[i] !== -1) last = i;
        below[i] = last;
      }
    }
    this.below = below;
    this.owner = owner;
  }

  /** The key's point: Kong's get_continuum_index, 0-based. */
  pointOf(key: string): number {
    return xxhash32(key) % this.points;
  }
}
