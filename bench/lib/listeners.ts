/**
 * Which processes hold a listening socket on a port, from /proc/net/tcp(6) (state 0A) and each
 * process's fd links: the worker-kill bench's signal that a replacement worker is serving again.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const LISTEN = '0A';

function listenInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && f[3] === LISTEN && f[1].slice(f[1].lastIndexOf(':') + 1) === hexPort) inodes.add(f[9]);
    }
  }
  return inodes;
}

/** The pids among `pids` that have a listening socket on `port` open. */
export function pidsListeningOn(pids: readonly number[], port: number): number[] {
  const inodes = listenInodes(port);
  return pids.filter((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          const l = readlinkSync(`/proc/${pid}/fd/${fd}`);
          return l.startsWith('socket:[') && inodes.has(l.slice(8, -1));
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}
