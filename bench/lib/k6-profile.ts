/**
 * Reads the stage targets and thresholds out of k6/load.ts so bench/k6-scenarios.ts replays exactly
 * what the k6 script declares (k6 scripts cannot be imported into the Node build). Throws if the
 * script's shape changes so the two cannot silently drift apart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './target';

export const K6_SCRIPT = join(REPO_ROOT, 'k6', 'load.ts');

export interface Threshold {
  metric: 'http_req_duration' | 'http_req_failed';
  /** As written in k6, e.g. "p(95)<500" or "rate<0.01". */
  expr: string;
}

export interface K6Profile {
  /** Non-zero stage targets in order (the ramp-down stage to 0 is dropped). */
  stageTargets: number[];
  thresholds: Threshold[];
}

export function parseK6Profile(source: string): K6Profile {
  const stages = /stages:\s*\[([\s\S]*?)\]/.exec(source);
  if (!stages) throw new Error('k6 script: no `stages: [...]` found');
  const stageTargets = [...stages[1].matchAll(/target:\s*(\d+)/g)].map((m) => Number(m[1])).filter((t) => t > 0);
  const thresholds: Threshold[] = [];
  for (const metric of ['http_req_duration', 'http_req_failed'] as const) {
    const m = new RegExp(`${metric}:\\s*\\[([^\\]]*)\\]`).exec(source);
    for (const e of m ? m[1].matchAll(/'([^']+)'|"([^"]+)"/g) : []) thresholds.push({ metric, expr: e[1] ?? e[2] });
  }
  if (stageTargets.length === 0 || thresholds.length === 0) throw new Error('k6 script: stages or thresholds not found');
  return { stageTargets, thresholds };
}

export function readK6Profile(file = K6_SCRIPT): K6Profile {
  return parseK6Profile(readFileSync(file, 'utf8'));
}

export interface Observed {
  /** Percentile (0–100) of request duration in ms. */
  percentileMs(p: number): number;
  failedRate: number;
}

/** Evaluates one k6 threshold expression; returns the observed value and whether it passes. */
export function evaluate(t: Threshold, obs: Observed): { value: number; pass: boolean } {
  const m = /^\s*(p\((\d+(?:\.\d+)?)\)|avg|rate|med)\s*(<=|<|>=|>)\s*([\d.]+)\s*$/.exec(t.expr);
  if (!m) throw new Error(`unsupported threshold ${t.metric}: ${t.expr}`);
  const [, agg, pct, op, limitText] = m;
  if (agg === 'avg') throw new Error(`unsupported aggregation avg in ${t.expr}`);
  const value = agg === 'rate' ? obs.failedRate : obs.percentileMs(agg === 'med' ? 50 : pct ? Number(pct) : 50);
  const limit = Number(limitText);
  const pass = op === '<' ? value < limit : op === '<=' ? value <= limit : op === '>' ? value > limit : value >= limit;
  return { value, pass };
}
