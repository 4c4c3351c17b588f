/**
 * Which cores the target, the upstream and the load generator are pinned to.
 * The upstream takes the last core. The load generator prefers a core used by neither the target
 * nor the upstream, then one not used by the target; only when the target spans every core does it
 * share with the target. On a 2-core machine the proxy rows therefore run target on cpu 0 and
 * upstream + load generator together on cpu 1: `overlaps` says so, and the report prints it.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export type TargetSpan = 'upstream' | 'one' | 'all';

export interface CpuPlan {
  /** taskset -c list for the target's processes. */
  target: string;
  upstream: string;
  loadgen: string;
  overlaps: string[];
}

export function cpuCount(): number {
  return availableParallelism();
}

export function upstreamCpu(n = cpuCount()): number {
  return n - 1;
}

export function planCpus(span: TargetSpan, n = cpuCount()): CpuPlan {
  const up = upstreamCpu(n);
  const all = [...Array(n).keys()];
  const target = span === 'upstream' ? [up] : span === 'one' ? [0] : all;
  const free = all.filter((c) => !target.includes(c) && c !== up);
  const notTarget = all.filter((c) => !target.includes(c));
  const loadgen = free[0] ?? notTarget[0] ?? up;
  const overlaps: string[] = [];
  if (target.includes(loadgen)) overlaps.push(`load generator shares cpu ${loadgen} with the target`);
  if (span !== 'upstream' && loadgen === up) overlaps.push(`load generator shares cpu ${up} with the upstream`);
  if (span !== 'upstream' && target.includes(up)) overlaps.push(`target shares cpu ${up} with the upstream`);
  return { target: listOf(target), upstream: String(up), loadgen: String(loadgen), overlaps };
}

function listOf(cpus: number[]): string {
  if (cpus.length > 1 && cpus[cpus.length - 1] - cpus[0] === cpus.length - 1) return `${cpus[0]}-${cpus[cpus.length - 1]}`;
  return cpus.join(',');
}

let tasksetPath: string | null | undefined;

/** Whether `taskset` (util-linux) can be used; without it nothing is pinned. */
export function hasTaskset(): boolean {
  if (tasksetPath === undefined) tasksetPath = which('taskset');
  return tasksetPath !== null;
}

/** `cmd args` prefixed with `taskset -c cpus` when taskset is available. */
export function pinned(cpus: string, cmd: string, args: string[]): [string, string[]] {
  return hasTaskset() ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];
}

export function which(bin: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}
