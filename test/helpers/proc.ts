import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';

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

/** The process group of `pid` (field 5 of /proc/<pid>/stat), or null if it is gone or a zombie. */
function groupOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid pgrp …`: comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' ? null : Number(pgrp);
  } catch {
    return null;
  }
}

/** Live (non-zombie) processes of process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => groupOf(pid) === pgid);
}

/** Sends `signal` to every process of group `pgid`; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGCONT first, so a SIGSTOPped member does not sit out the kill with pending signals. */
export function killGroup(pgid: number): void {
  signalGroup(pgid, 'SIGCONT');
  signalGroup(pgid, 'SIGKILL');
}

/**
 * Process groups this test process started (each child spawned `detached`, so it leads a group of
 * its own and its children join it), with what to clean after them. Killed on exit, on SIGINT and
 * on SIGTERM: an interrupted or crashed test run leaves no gateway, worker or stopped upstream.
 */
const groups = new Map<number, () => void>();
let hooked = false;

function killTracked(): void {
  for (const [pgid, cleanup] of groups) {
    killGroup(pgid);
    try {
      cleanup();
    } catch {
      // best effort: the process is exiting
    }
  }
  groups.clear();
}

/** Kills group `pgid` when the test process ends unless untrackGroup() came first; `cleanup` runs after the kill (synchronously). */
export function trackGroup(pgid: number, cleanup: () => void = () => undefined): void {
  groups.set(pgid, cleanup);
  if (hooked) return;
  hooked = true;
  process.once('exit', killTracked);
  for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15]] as const) {
    process.once(sig, () => {
      killTracked();
      process.exit(128 + n);
    });
  }
}

export function untrackGroup(pgid: number): void {
  groups.delete(pgid);
}

/** Kills the group and waits (bounded) until none of its processes is left. */
export async function killGroupAndWait(pgid: number, timeoutMs = 5000): Promise<void> {
  killGroup(pgid);
  const deadline = Date.now() + timeoutMs;
  while (groupMembers(pgid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** `HYPERWAY_SHM` in the environment of a process of ours (a worker names its segment there). */
export function shmNameOf(pid: number): string | undefined {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    return env.find((kv) => kv.startsWith('HYPERWAY_SHM='))?.slice('HYPERWAY_SHM='.length);
  } catch {
    return undefined;
  }
}

/**
 * Segments named after primary `pid` (`hyperway.<pid>.*`) created at or after `sinceMs`: the ones
 * a primary we started made (pids repeat across containers sharing /dev/shm, so the time matters).
 */
export function segmentsOfPrimary(pid: number, sinceMs = 0): string[] {
  let entries: string[];
  try {
    entries = readdirSync('/dev/shm');
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.startsWith(`hyperway.${pid}.`))
    .filter((e) => {
      try {
        return statSync(`/dev/shm/${e}`).ctimeMs >= sinceMs;
      } catch {
        return false;
      }
    })
    .map((e) => `/${e}`);
}

/** Unlinks segments by name (`/hyperway.…`); missing ones are fine. */
export function removeSegments(names: Iterable<string>): void {
  for (const n of names) {
    if (/^\/hyperway\.[^/]+$/.test(n)) rmSync(`/dev/shm${n}`, { force: true });
  }
}

/** The last `limit` characters a child wrote to stdout and stderr, for failure messages. */
export function tailOutput(child: { stdout: NodeJS.ReadableStream | null; stderr: NodeJS.ReadableStream | null }, limit = 65536): () => string {
  let out = '';
  const collect = (c: Buffer): void => {
    out = (out + c.toString()).slice(-limit);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return () => out;
}
