/**
 * Interleaved rounds (every row measured once per round): medians, and ratios taken within one
 * round so that two rows compare numbers measured minutes apart on the same machine state.
 */
import { runWrk } from './load-wrk';
import { cpuMsBetween, sampleCpu } from './proc-stat';
import type { Target } from './target';

export interface RoundSample {
  key: string;
  round: number;
}

/** The middle value; for an even count, the mean of the two middle ones; NaN for none. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median over rounds of f(row a) / f(row b) in the same round; NaN when no round has both. */
export function sameRoundRatio<S extends RoundSample>(samples: readonly S[], rounds: number, a: string, b: string, f: (s: S) => number): number {
  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const x = samples.find((s) => s.key === a && s.round === round);
    const y = samples.find((s) => s.key === b && s.round === round);
    if (x && y) ratios.push(f(x) / f(y));
  }
  return median(ratios.filter(Number.isFinite));
}

/** One row measured once: wrk's figures and the target's CPU per request. */
export interface WrkSample extends RoundSample {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerReq: number;
  non2xx: number;
  errors: number;
}

export interface RowSpec {
  key: string;
  round: number;
  url: string;
  headers: Record<string, string>;
  connections: number;
  durationS: number;
  /** Seconds of unmeasured load first (JIT, pools, caches). */
  warmupS: number;
}

/** Warm-up, then one measured wrk run against `target` with its process tree's CPU sampled around it; printed as it lands. */
export async function measureRow(spec: RowSpec, target: Pick<Target, 'pids'>, loadCpu: string, scratchDir: string): Promise<WrkSample> {
  const load = { url: spec.url, connections: spec.connections, pipelining: 1, headers: spec.headers };
  await runWrk({ ...load, durationS: spec.warmupS }, loadCpu, scratchDir);
  const before = sampleCpu(target.pids());
  const r = await runWrk({ ...load, durationS: spec.durationS }, loadCpu, scratchDir);
  const after = sampleCpu(target.pids());
  const s: WrkSample = {
    key: spec.key,
    round: spec.round,
    rps: r.requests / r.durationS,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    cpuUsPerReq: (cpuMsBetween(before, after) * 1000) / Math.max(r.requests, 1),
    non2xx: r.non2xx,
    errors: r.errors,
  };
  console.log(`round ${s.round} ${s.key.padEnd(11)} ${s.rps.toFixed(0).padStart(7)} req/s  p50 ${s.p50Ms.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms  ${s.cpuUsPerReq.toFixed(1)} CPU-µs/req  non-2xx ${s.non2xx}`);
  return s;
}
