/**
 * One measured run of the stack bench: wrk against a target with the target's process tree, the
 * upstream's and wrk's own CPU sampled around it, and the busy share of the proxy's core and of
 * the load core, so a run bounded by the generator or the upstream instead of the proxy is flagged.
 */
import { performance } from 'node:perf_hooks';
import { busyShare, readCores } from './core-busy';
import { cpuMsBetween, sampleCpu } from './proc-stat';
import type { WrkSample } from './rounds';
import type { Target } from './target';
import { runWrkScripted, type WrkRun } from './load-wrk';

export interface StackSample extends WrkSample {
  payload: string;
  row: string;
  requests: number;
  wallS: number;
  /** wrk's and the upstream's CPU per request, µs. */
  loadCpuUsPerReq: number;
  upstreamCpuUsPerReq: number;
  /** Shares (0–1) of one core over the run: the proxy tree, wrk, the upstream; whole-core busy of the proxy's and the load cores. */
  proxyShare?: number;
  proxyCoreTasks?: number;
  loadShare: number;
  upstreamShare: number;
  proxyCoreBusy: number;
  loadCoreBusy: number;
  /** Why this run's RPS may be the generator's or the upstream's limit, not the proxy's; '' when none. */
  flag: string;
}

export interface Busy {
  /** The proxy tree's share of one core, and the share of the proxy core processes used (irq and softirq left out). */
  proxyShare?: number;
  proxyCoreTasks?: number;
  loadShare: number;
  upstreamShare: number;
  loadCoreBusy: number;
  proxyCoreBusy: number;
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

/**
 * A run is flagged when wrk or the upstream used ≥ `threshold` of a core, or the core they run on
 * was ≥ `threshold` busy: the proxy may have had headroom left, so its RPS is a lower bound (its
 * CPU per request still holds). The flag says whether the proxy's core was saturated too.
 */
export function saturationFlag(b: Busy, threshold = 0.9): string {
  const why: string[] = [];
  // Processes other than the proxy ran on its core (a noisy machine): the proxy did not have it to itself.
  const others = b.proxyShare !== undefined && b.proxyCoreTasks !== undefined ? b.proxyCoreTasks - b.proxyShare : 0;
  const other = others >= 0.1 ? `; other processes took ${pct(others)} of the proxy core` : '';
  if (b.loadShare >= threshold) why.push(`wrk ${pct(b.loadShare)}`);
  if (b.upstreamShare >= threshold) why.push(`upstream ${pct(b.upstreamShare)}`);
  if (b.loadCoreBusy >= threshold) why.push(`load core ${pct(b.loadCoreBusy)}`);
  if (why.length === 0) return other.slice(2);
  return `${why.join(', ')} busy; proxy core ${pct(b.proxyCoreBusy)}${b.proxyCoreBusy >= threshold ? ' (both saturated)' : ''}${other}`;
}

export interface StackRun {
  key: string;
  row: string;
  payload: string;
  round: number;
  wrk: WrkRun;
  warmupS: number;
  /** Cores of the proxy and of wrk (+ upstream when they share). */
  proxyCpus: string;
  loadCpus: string;
  threshold: number;
}

export async function measureStackRow(run: StackRun, target: Pick<Target, 'pids'>, upstreamPids: () => number[]): Promise<StackSample> {
  if (run.warmupS > 0) await runWrkScripted({ ...run.wrk, durationS: run.warmupS }, run.loadCpus);
  const cores0 = readCores();
  const t0 = sampleCpu(target.pids());
  const u0 = sampleCpu(upstreamPids());
  const w0 = performance.now();
  const r = await runWrkScripted(run.wrk, run.loadCpus);
  const wallMs = performance.now() - w0;
  const t1 = sampleCpu(target.pids());
  const u1 = sampleCpu(upstreamPids());
  const cores1 = readCores();
  const n = Math.max(r.requests, 1);
  const proxyMs = cpuMsBetween(t0, t1);
  const upMs = cpuMsBetween(u0, u1);
  const busy: Busy = {
    proxyShare: proxyMs / wallMs,
    proxyCoreTasks: busyShare(cores0, cores1, run.proxyCpus, true),
    loadShare: r.loadCpuMs / wallMs,
    upstreamShare: upMs / wallMs,
    loadCoreBusy: busyShare(cores0, cores1, run.loadCpus),
    proxyCoreBusy: busyShare(cores0, cores1, run.proxyCpus),
  };
  return {
    key: run.key,
    row: run.row,
    payload: run.payload,
    round: run.round,
    rps: r.requests / r.durationS,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    cpuUsPerReq: (proxyMs * 1000) / n,
    non2xx: r.non2xx,
    errors: r.errors,
    requests: r.requests,
    wallS: wallMs / 1000,
    loadCpuUsPerReq: (r.loadCpuMs * 1000) / n,
    upstreamCpuUsPerReq: (upMs * 1000) / n,
    ...busy,
    flag: saturationFlag(busy, run.threshold),
  };
}

/**
 * Extra Hyperway rows from the environment: BENCH_HYPERWAY_ENV_<NAME>="K=V K2=V2" adds a row
 * `hyperway-<name>` (lower case, `_` → `-`) started with those variables on top of the run's
 * (startHyperway's `env`).
 */
export function extraHyperwayRows(env: NodeJS.ProcessEnv): Array<{ key: string; env: Record<string, string> }> {
  const out: Array<{ key: string; env: Record<string, string> }> = [];
  for (const [name, value] of Object.entries(env)) {
    const m = /^BENCH_HYPERWAY_ENV_([A-Za-z0-9_]+)$/.exec(name);
    if (!m || value === undefined) continue;
    const vars: Record<string, string> = {};
    for (const pair of value.trim().split(/\s+/).filter(Boolean)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`${name}: "${pair}" is not NAME=value`);
      vars[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    out.push({ key: `hyperway-${m[1].toLowerCase().replace(/_/g, '-')}`, env: vars });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}
