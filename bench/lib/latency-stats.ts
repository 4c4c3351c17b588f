/** What the latency bench reads out of one constant-rate run. */
import type { RateOutcome } from './rate-gen';

/** The p-th percentile (ms) of a sparse µs histogram (latency-histogram's, p99.9-safe rank). */
import { percentileMs as percentile } from './latency-histogram';
export { percentile };

export interface LatencySummary {
  rate: number;
  achievedRate: number;
  p50: number;
  p99: number;
  p999: number;
  /** p99 measured from the due time (includes waiting for a connection and timer batching). */
  correctedP99: number;
  lagP99: number;
  /** Share of one core the generator used over its run. */
  genShare: number;
  errors: number;
  /** Share of the due requests that found every connection busy (the target fell behind). */
  queuedShare: number;
  /** Connections the target closed mid-run (replaced by the generator). */
  reconnects: number;
  /** The generator kept the rate: ≥ 99% of the due requests completed and p99 lag under `maxLagMs`. */
  kept: boolean;
}

export function summarize(o: RateOutcome, maxLagMs = 5): LatencySummary {
  const lagP99 = percentile(o.lag, 99);
  return {
    rate: o.rate,
    achievedRate: o.achievedRate,
    p50: percentile(o.service, 50),
    p99: percentile(o.service, 99),
    p999: percentile(o.service, 99.9),
    correctedP99: percentile(o.corrected, 99),
    lagP99,
    genShare: o.wallMs > 0 ? o.cpuMs / o.wallMs : NaN,
    errors: o.errors + o.non2xx,
    queuedShare: o.due > 0 ? o.queued / o.due : 0,
    reconnects: o.reconnects,
    kept: o.completed >= 0.99 * o.due && lagP99 < maxLagMs,
  };
}

/** Latency a hop adds over the direct upstream at the same rate, per percentile (ms; may be < 0 from noise). */
export function added(hop: LatencySummary, direct: LatencySummary): { p50: number; p99: number; p999: number } {
  return { p50: hop.p50 - direct.p50, p99: hop.p99 - direct.p99, p999: hop.p999 - direct.p999 };
}

/** Rates for `loads` (fractions of `peak`), whole requests per second, at least 1. */
export function ratesFor(peak: number, loads: readonly number[]): number[] {
  return loads.map((l) => Math.max(1, Math.round(peak * l)));
}
