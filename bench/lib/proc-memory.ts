/** Memory of a process from /proc (VmRSS) and, when preloaded, from bench/lib/heap-probe.ts. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** VmRSS in bytes; null when the process is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export interface HeapReport {
  pid: number;
  /** Epoch ms the process wrote it. */
  at: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** The last heap report `pid` wrote into `dir`, or null (no probe, not written yet, gone). */
export function heapReport(dir: string, pid: number): HeapReport | null {
  try {
    return JSON.parse(readFileSync(join(dir, `${pid}.json`), 'utf8')) as HeapReport;
  } catch {
    return null;
  }
}

/** The soft limit on open files (RLIMIT_NOFILE) of a process, null when unreadable. */
export function fdLimit(pid: number | 'self'): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : null;
  } catch {
    return null;
  }
}
