/** What every benchmarked server looks like to the harness. */
import { resolve } from 'node:path';
import type { CpuPlan } from './cpu-plan';

/** Repository root, from dist/bench/lib/*.js. */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

export interface Target {
  /** Row label, e.g. "hyperway 1 worker". */
  name: string;
  /** Stable key for ratios: direct | hyperway-1 | hyperway-all | nginx-1 | nginx-auto. */
  key: string;
  url: string;
  plan: CpuPlan;
  /** Hyperway's primary or nginx's master: its share of the CPU is reported on its own. */
  rootPid: number;
  /** Every pid whose CPU time is charged to this target (re-read before each sample). */
  pids(): number[];
  /** Worker-process count actually running (Hyperway from /status, nginx from the process tree). */
  workers: number;
  stop(): Promise<void>;
}
