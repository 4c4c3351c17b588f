/**
 * Whole-core load from /proc/stat (every process and the kernel's softirq work for loopback
 * traffic, not only the processes the bench started), and the CPU time of this process's reaped
 * children (/proc/self/stat cutime + cstime): how the load generator's own CPU is measured, since
 * wrk and the rate generator run as short-lived children and their time lands there on exit.
 */
import { readFileSync } from 'node:fs';
import { clockTicksPerSecond } from './proc-stat';

export interface CoreTicks {
  busy: number;
  total: number;
  /** irq + softirq: kernel work not charged to any process (loopback TCP runs much of itself here). */
  irq: number;
}

/** `cpuN` lines of /proc/stat: busy = user + nice + system + irq + softirq + steal; total adds idle + iowait. */
export function parseProcStat(text: string): Map<string, CoreTicks> {
  const out = new Map<string, CoreTicks>();
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+)\s+(.+)$/.exec(line);
    if (!m) continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => f[i] ?? 0);
    const busy = user + nice + system + irq + softirq + steal;
    out.set(m[1], { busy, total: busy + idle + iowait, irq: irq + softirq });
  }
  return out;
}

export function readCores(): Map<string, CoreTicks> {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return new Map();
  }
}

/**
 * Busy share (0–1) of the cores in `cpus` (a taskset list such as "1" or "0-1"), averaged; NaN if
 * unknown. `processesOnly` leaves out irq and softirq time: what processes ran there.
 */
export function busyShare(before: Map<string, CoreTicks>, after: Map<string, CoreTicks>, cpus: string, processesOnly = false): number {
  let busy = 0;
  let total = 0;
  for (const cpu of expandCpuList(cpus)) {
    const a = before.get(String(cpu));
    const b = after.get(String(cpu));
    if (!a || !b) return NaN;
    busy += b.busy - a.busy - (processesOnly ? b.irq - a.irq : 0);
    total += b.total - a.total;
  }
  return total > 0 ? busy / total : NaN;
}

/** "0-2,5" → [0, 1, 2, 5]. */
export function expandCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (!Number.isInteger(a)) continue;
    for (let c = a; c <= (Number.isInteger(b) ? b : a); c++) out.push(c);
  }
  return out;
}

/** CPU ms of this process's children that have exited and been reaped (cutime + cstime). */
export function reapedChildrenCpuMs(): number {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); cutime is field 16, cstime 17.
  return ((Number(rest[13]) + Number(rest[14])) * 1000) / clockTicksPerSecond();
}
