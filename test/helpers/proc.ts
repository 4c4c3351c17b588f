import { readFileSync } from 'node:fs';

/** A process counts as alive unless it is gone or a zombie (killed but not yet reaped). */
export function isAlive(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

/** Resident set size in KiB from /proc/<pid>/status (VmRSS), or null if the process is gone. */
export function rssKb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Samples the RSS of `pids` every `intervalMs` until stopped; `stop()` gives the peak per pid (KiB). */
export function sampleRss(pids: number[], intervalMs = 100): { stop(): Map<number, number> } {
  const peak = new Map<number, number>(pids.map((p) => [p, rssKb(p) ?? 0]));
  const tick = (): void => {
    for (const p of pids) {
      const kb = rssKb(p);
      if (kb !== null && kb > (peak.get(p) ?? 0)) peak.set(p, kb);
    }
  };
  const timer = setInterval(tick, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return peak;
    },
  };
}
