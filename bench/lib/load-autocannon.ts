/** Runs autocannon in its own pinned process (bench/load-worker.ts) and reads its JSON outcome. */
import { join } from 'node:path';
import { runJsonChild } from './processes';
import { percentileMs } from './latency-histogram';
import { REPO_ROOT } from './target';
import type { LoadOutcome, LoadSpec } from '../load-worker';

export type { LoadOutcome, LoadSpec };

/** What one load run reports, whatever the tool. */
export interface LoadResult {
  requests: number;
  durationS: number;
  errors: number;
  non2xx: number;
  p50Ms: number;
  p99Ms: number;
}

export function runLoadWorker(spec: LoadSpec, cpu: string): Promise<LoadOutcome> {
  return runJsonChild<LoadOutcome>('load-worker', cpu, join(REPO_ROOT, 'dist', 'bench', 'load-worker.js'), spec);
}

export async function runAutocannon(spec: LoadSpec, cpu: string): Promise<LoadResult> {
  const out = await runLoadWorker(spec, cpu);
  return {
    requests: out.requests,
    durationS: out.durationS,
    errors: out.errors,
    non2xx: out.non2xx,
    p50Ms: percentileMs(out.latency, 50),
    p99Ms: percentileMs(out.latency, 99),
  };
}
