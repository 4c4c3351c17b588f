/**
 * The primary's health checking: assigns target-table slots (slots.ts), runs the active probes
 * (prober.ts) and folds the passive counters the workers keep in the table: every FOLD_MS it
 * compares each tracked target's passive counters with its upstream's thresholds and flips the
 * target's state when one is reached. Only the primary writes a target's state.
 */
import type { Segment } from '../../shared/shm';
import { REGION, region } from '../../shared/shm';
import type { Snapshot } from '../../shared/snapshot';
import { passiveOn, type HealthchecksConf } from '../../shared/healthchecks';
import { COUNTER, HEALTH, SOURCE, W, capacity, counterValue, healthOf, initTable, setHealth } from '../../shared/target-table';
import { SlotMap } from './slots';
import { Prober } from './prober';
import { log } from '../../lib/log';

/** How often passive counters are compared with their thresholds. */
export const FOLD_MS = 20;

interface PassiveTarget {
  slot: number;
  name: string;
  upstream: string;
  hc: HealthchecksConf['passive'];
}

export class HealthChecks {
  readonly table: Int32Array | null;
  readonly #slots: SlotMap;
  readonly #prober: Prober | null;
  #passive: PassiveTarget[] = [];
  #fold: NodeJS.Timeout | null = null;

  constructor(segment: Segment) {
    this.table = region(segment, REGION.TARGETS);
    if (this.table !== null) initTable(this.table, segment.slots);
    this.#slots = new SlotMap(this.table, this.table === null ? 0 : capacity(this.table));
    this.#prober = this.table === null ? null : new Prober(this.table);
  }

  /** Start and every reload: the snapshot with slots assigned; probes and passive folding follow it. */
  prepare(snapshot: Snapshot): Snapshot {
    const next = this.#slots.assign(snapshot);
    this.#prober?.configure(next);
    this.#passive = [];
    for (const u of next.upstreams) {
      const hc = u.healthchecks as HealthchecksConf;
      if (!passiveOn(hc)) continue;
      for (const t of u.targets) if (t.slot >= 0) this.#passive.push({ slot: t.slot, name: t.target, upstream: u.name, hc: hc.passive });
    }
    if (this.#fold === null && this.table !== null) {
      this.#fold = setInterval(() => this.#foldPassive(), FOLD_MS);
      this.#fold.unref();
    }
    return next;
  }

  stop(): void {
    this.#prober?.stop();
    if (this.#fold !== null) clearInterval(this.#fold);
    this.#fold = null;
  }

  #foldPassive(): void {
    const t = this.table as Int32Array;
    for (const p of this.#passive) {
      const at = W.P_SUCCESSES;
      const health = healthOf(t, p.slot);
      // DNS_ERROR is discovery's to lift (dns/discovery.ts), once the name resolves again.
      if (health === HEALTH.DNS_ERROR) continue;
      if (health === HEALTH.HEALTHY) {
        const u = p.hc.unhealthy;
        const hit = reached(counterValue(t, p.slot, at, COUNTER.HTTP), u.http_failures) ? 'http_failures'
          : reached(counterValue(t, p.slot, at, COUNTER.TCP), u.tcp_failures) ? 'tcp_failures'
            : reached(counterValue(t, p.slot, at, COUNTER.TIMEOUT), u.timeouts) ? 'timeouts' : null;
        if (hit === null) continue;
        setHealth(t, p.slot, HEALTH.UNHEALTHY, SOURCE.PASSIVE);
        log('notice', 'target unhealthy (passive check)', { upstream: p.upstream, target: p.name, counter: hit });
      } else if (reached(counterValue(t, p.slot, at, COUNTER.SUCCESS), p.hc.healthy.successes)) {
        setHealth(t, p.slot, HEALTH.HEALTHY, SOURCE.PASSIVE);
        log('notice', 'target healthy (passive check)', { upstream: p.upstream, target: p.name });
      }
    }
  }
}

function reached(value: number, limit: number): boolean {
  return limit > 0 && value >= limit;
}
