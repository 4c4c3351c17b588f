/**
 * Open client connections per worker, read from the kernel: uWS.js has no HTTP connection events,
 * so the primary counts, for each worker pid, the sockets in /proc/<pid>/fd that /proc/net/tcp(6)
 * lists as ESTABLISHED on the proxy port. Control plane only (GET /status), never per request.
 */
import { promises as fs } from 'node:fs';

const ESTABLISHED = '01';

/** Socket inodes of established connections whose local port is `port`. */
async function establishedInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await fs.readFile(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== ESTABLISHED) continue;
      if (f[1].slice(f[1].lastIndexOf(':') + 1) === hexPort) inodes.add(f[9]);
    }
  }
  return inodes;
}

/** pid → established proxy connections it holds; -1 where /proc cannot be read (not Linux). */
export async function connectionsByPid(pids: readonly number[], port: number): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  let inodes: Set<string>;
  try {
    inodes = await establishedInodes(port);
  } catch {
    for (const p of pids) out.set(p, -1);
    return out;
  }
  await Promise.all(pids.map(async (pid) => {
    let n = 0;
    try {
      const fds = await fs.readdir(`/proc/${pid}/fd`);
      const links = await Promise.all(fds.map((fd) => fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
      for (const l of links) {
        if (l.startsWith('socket:[') && inodes.has(l.slice(8, -1))) n++;
      }
      out.set(pid, n);
    } catch {
      out.set(pid, -1);
    }
  }));
  return out;
}
