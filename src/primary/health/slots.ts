/**
 * Target-table slot assignment: the primary gives each target a row keyed by upstream name +
 * target (`host:port`), so a reload that keeps a target keeps its health and counters. A
 * hostname target resolved into addresses (primary/dns/) has a row per address, keyed by
 * upstream + target + address, so re-resolving to the same addresses keeps their health too.
 * Rows of targets a snapshot no longer has are freed and reset before anyone else gets them.
 */
import type { Snapshot, TargetSnap } from '../../shared/snapshot';
import { resetSlot } from '../../shared/target-table';
import { log } from '../../lib/log';
import { snapshotWith } from '../../shared/snapshot-bulk';

export class SlotMap {
  readonly #table: Int32Array | null;
  readonly #capacity: number;
  readonly #byKey = new Map<string, number>();
  readonly #free: number[] = [];
  #next = 0;
  #warned = false;

  constructor(table: Int32Array | null, capacity: number) {
    this.#table = table;
    this.#capacity = table === null ? 0 : capacity;
  }

  /** The snapshot with every target's `slot` filled in (a new object: snapshots are not mutated). */
  assign(snapshot: Snapshot): Snapshot {
    const key = (upstream: string, t: TargetSnap): string =>
      t.hostName === undefined ? `${upstream.toLowerCase()}\0${t.target}` : `${upstream.toLowerCase()}\0${t.target}\0${t.host}|${t.port}`;
    // Free what the snapshot dropped first, so its new targets can have those rows.
    const seen = new Set<string>();
    for (const u of snapshot.upstreams) for (const t of u.targets) seen.add(key(u.name, t));
    for (const [k, slot] of this.#byKey) {
      if (seen.has(k)) continue;
      this.#byKey.delete(k);
      this.#free.push(slot);
    }
    let missing = 0;
    const upstreams = snapshot.upstreams.map((u) => ({
      ...u,
      targets: u.targets.map((t) => {
        const k = key(u.name, t);
        let slot = this.#byKey.get(k);
        if (slot === undefined) {
          slot = this.#take();
          if (slot >= 0) this.#byKey.set(k, slot);
          else missing++;
        }
        return { ...t, slot };
      }),
    }));
    if (missing > 0 && !this.#warned) {
      this.#warned = true;
      log('warn', 'target table full: targets beyond target_slots take traffic without health checks', { targetSlots: this.#capacity, untracked: missing });
    }
    return snapshotWith(snapshot, { upstreams });
  }

  #take(): number {
    const slot = this.#free.length > 0 ? (this.#free.pop() as number) : this.#next < this.#capacity ? this.#next++ : -1;
    if (slot >= 0 && this.#table !== null) resetSlot(this.#table, slot);
    return slot;
  }
}
