/**
 * Sums the workers' metric blocks (shared/metrics-table.ts) at scrape time, plus a retired base:
 * the last values of every worker that was replaced. The supervisor announces a fork into a slot
 * ('spawning') before it clears the slot; the collector then folds that block (and the slot's
 * request count) into the base and clears the block, so a counter never goes backwards when a
 * worker dies. Series stay keyed by entity id here; names are resolved by registry.ts.
 */
import os from 'node:os';
import type { Segment } from '../../shared/shm';
import type { Settings } from '../../shared/settings';
import { readSlot } from '../../shared/counter-slab';
import { clearMetricsBlock, readMetricsBlock, routeValueCount, type MetricsLayout } from '../../shared/metrics-table';

/** Region layout from the settings (read once at start: the segment cannot grow). */
export function metricsLayout(settings: Settings): MetricsLayout {
  const blocks = settings.workers > 0 ? settings.workers : os.availableParallelism();
  return { blocks, statusRows: settings.metricsSeries, routeRows: settings.metricsSeries, kong2: settings.prometheusKong2Metrics };
}

export interface StatusSum { service: string | null; route: string | null; consumer: string | null; code: number; source: number; count: number }
export interface RouteSum { service: string | null; route: string | null; consumer: string | null; values: Float64Array }

export interface MetricsSums {
  status: Map<string, StatusSum>;
  routes: Map<string, RouteSum>;
  dropped: number;
  /** Requests per worker id, replaced workers included. */
  workerRequests: number[];
}

const key = (s: string | null, r: string | null, c: string | null): string => `${s ?? ''}|${r ?? ''}|${c ?? ''}`;

export class MetricsCollector {
  readonly #seg: Segment;
  readonly #workers: number;
  readonly #retired: MetricsSums;

  constructor(seg: Segment, workers: number) {
    this.#seg = seg;
    this.#workers = workers;
    this.#retired = { status: new Map(), routes: new Map(), dropped: 0, workerRequests: new Array<number>(workers).fill(0) };
  }

  /** The slot is about to get a new worker: keep what the old one counted, then zero its block. */
  retire(worker: number): void {
    this.#add(this.#retired, worker);
    this.#retired.workerRequests[worker] += readSlot(this.#seg, worker).requests;
    clearMetricsBlock(this.#seg, worker);
  }

  /** Retired base + every live block, by entity ids. */
  sums(): MetricsSums {
    const out: MetricsSums = {
      status: new Map([...this.#retired.status].map(([k, v]) => [k, { ...v }])),
      routes: new Map([...this.#retired.routes].map(([k, v]) => [k, { ...v, values: v.values.slice() }])),
      dropped: this.#retired.dropped,
      workerRequests: this.#retired.workerRequests.slice(),
    };
    for (let w = 0; w < this.#workers; w++) {
      this.#add(out, w);
      out.workerRequests[w] += readSlot(this.#seg, w).requests;
    }
    return out;
  }

  #add(into: MetricsSums, worker: number): void {
    const block = readMetricsBlock(this.#seg, worker);
    into.dropped += block.dropped;
    for (const s of block.status) {
      const k = `${key(s.service, s.route, s.consumer)}|${s.code}|${s.source}`;
      const cur = into.status.get(k);
      if (cur === undefined) into.status.set(k, { ...s });
      else cur.count += s.count;
    }
    const n = routeValueCount(this.#seg);
    for (const r of block.routes) {
      const k = key(r.service, r.route, r.consumer);
      let cur = into.routes.get(k);
      if (cur === undefined) into.routes.set(k, (cur = { service: r.service, route: r.route, consumer: r.consumer, values: new Float64Array(n) }));
      for (let i = 0; i < n; i++) cur.values[i] += r.values[i];
    }
  }
}
