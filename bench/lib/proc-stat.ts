/**
 * CPU time of a process tree from /proc/<pid>/stat (utime + stime, in clock ticks).
 * Reading the whole tree catches every worker a target forks (Hyperway's workers, nginx's
 * worker_processes) without trusting the target to report its pids.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let clkTck: number | undefined;

/** Kernel clock ticks per second (USER_HZ), from `getconf CLK_TCK`; 100 on every common Linux. */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

interface StatFields {
  ppid: number;
  ticks: number;
}

/** Fields after the command name, which may itself contain spaces and parentheses. */
function readStat(pid: number): StatFields | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // exited
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

/** The root pid and all its live descendants. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    for (const child of children.get(pid) ?? []) stack.push(child);
  }
  return out;
}

export type CpuSample = Map<number, number>;

export function sampleCpu(pids: readonly number[]): CpuSample {
  const sample: CpuSample = new Map();
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat) sample.set(pid, stat.ticks);
  }
  return sample;
}

/**
 * CPU milliseconds spent between two samples. A pid absent from `before` started in between and
 * counts from zero; a pid absent from `after` exited and its last interval is lost (rare: only a
 * crashed worker). `only` restricts the sum to some pids.
 */
export function cpuMsBetween(before: CpuSample, after: CpuSample, only?: readonly number[]): number {
  let ticks = 0;
  for (const [pid, t] of after) if (!only || only.includes(pid)) ticks += t - (before.get(pid) ?? 0);
  return (ticks * 1000) / clockTicksPerSecond();
}
