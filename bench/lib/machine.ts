/** The machine a result was measured on, for the header of a recorded result. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname, loadavg, release, totalmem } from 'node:os';
import { loadUws } from './uws-load';

export interface Machine {
  hostname: string;
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  uws: string;
  /** 1-minute load average when the run started: > ~0.3 means something else was busy. */
  loadAvg1: number;
}

export function describeMachine(): Machine {
  let cpuModel = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch {
    // not Linux: keep "unknown"
  }
  const uws = loadUws();
  return {
    hostname: hostname(),
    nproc: availableParallelism(),
    cpuModel,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    uws: 'error' in uws ? `none loadable (${uws.error})` : uws.build,
    loadAvg1: loadavg()[0],
  };
}

/** File-name-safe machine tag: BENCH_MACHINE, else "<hostname>-<n>cpu". */
export function machineTag(m: Machine): string {
  const raw = process.env.BENCH_MACHINE ?? `${m.hostname}-${m.nproc}cpu`;
  return raw.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'machine';
}

function firstLine(cmd: string, args: string[]): string | null {
  try {
    // wrk -v exits 1 and nginx -v prints to stderr, so read both streams whatever the status.
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0].replace(/\s+Copyright.*$/, '');
    return text || null;
  } catch {
    return null;
  }
}

export interface ToolVersions {
  autocannon: string;
  wrk: string | null;
  nginx: string | null;
  taskset: boolean;
}

export function toolVersions(wrk: string | null, nginx: string | null, taskset: boolean): ToolVersions {
  const autocannon = (require('autocannon/package.json') as { version: string }).version;
  return {
    autocannon,
    wrk: wrk ? firstLine(wrk, ['-v']) : null,
    nginx: nginx ? firstLine(nginx, ['-v']) : null,
    taskset,
  };
}
