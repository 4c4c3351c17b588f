/**
 * Installs a missing bench tool through apt (Debian/Ubuntu), as the issue asks for wrk: only as
 * root (or with passwordless sudo), non-interactive, time-limited; a failure is a skipped row with
 * the reason, never a failed run. BENCH_NO_INSTALL=1 turns it off.
 */
import { spawnSync } from 'node:child_process';
import { getuid } from 'node:process';
import { which } from './cpu-plan';

function apt(prefix: string[], args: string[]): { ok: boolean; out: string } {
  const [cmd, ...rest] = [...prefix, 'apt-get', ...args];
  const r = spawnSync(cmd, rest, { encoding: 'utf8', timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** The tool's path, installing `pkg` when it is missing; or a reason it is not there. */
export function ensureTool(bin: string, pkg: string): { path: string } | { missing: string } {
  const found = which(bin);
  if (found) return { path: found };
  if (process.env.BENCH_NO_INSTALL === '1') return { missing: `${bin} not installed (BENCH_NO_INSTALL=1; apt-get install ${pkg})` };
  if (which('apt-get') === null) return { missing: `${bin} not installed and no apt-get (install ${pkg})` };
  const prefix = getuid?.() === 0 ? [] : which('sudo') !== null ? ['sudo', '-n'] : null;
  if (prefix === null) return { missing: `${bin} not installed; not root and no sudo (apt-get install ${pkg})` };
  console.log(`installing ${pkg} (apt-get install -y ${pkg}) …`);
  let r = apt(prefix, ['install', '-y', '--no-install-recommends', pkg]);
  if (!r.ok) {
    apt(prefix, ['update']);
    r = apt(prefix, ['install', '-y', '--no-install-recommends', pkg]);
  }
  const after = which(bin);
  if (after) return { path: after };
  return { missing: `${bin}: apt-get install ${pkg} failed: ${r.out.trim().split('\n').slice(-1)[0] ?? ''}` };
}
