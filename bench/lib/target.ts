/** What every benchmarked server looks like to the harness. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CpuPlan } from './cpu-plan';
import { processTree } from './proc-stat';
import { freePort, stopProcess, type Spawned } from './processes';

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

/** What a starter is told about the target it starts. */
export interface TargetLabel {
  key: string;
  name: string;
  plan: CpuPlan;
}

/**
 * `proc`, just spawned and serving `url`, as a Target once `ready` resolves to its worker count;
 * one that never gets ready is stopped before the error goes on. `stopGraceMs`: SIGTERM to SIGKILL.
 */
export async function targetWhenReady(proc: Spawned, label: TargetLabel, url: string, ready: () => Promise<number>, stopGraceMs?: number): Promise<Target> {
  try {
    const workers = await ready();
    const root = proc.child.pid!;
    return {
      key: label.key,
      name: label.name,
      url,
      plan: label.plan,
      workers,
      rootPid: root,
      pids: () => processTree(root),
      stop: () => stopProcess(proc.child, stopGraceMs),
    };
  } catch (err) {
    await stopProcess(proc.child);
    throw err;
  }
}

/** A scratch folder <scratchDir>/<key>, a free port, and the file `fileName` there holding `render(dir, port)`. */
export async function scratchConfig(scratchDir: string, key: string, fileName: string, render: (dir: string, port: number) => string): Promise<{ dir: string; port: number; conf: string }> {
  const dir = join(scratchDir, key);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, fileName);
  writeFileSync(conf, render(dir, port));
  return { dir, port, conf };
}
