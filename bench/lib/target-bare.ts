/** The bare uWS + undici prototype (bench/bare/server.ts) as a bench target, pinned like the others. */
import { join } from 'node:path';
import { pinned, type CpuPlan } from './cpu-plan';
import { freePort, spawnCaptured, stopProcess, waitForBody } from './processes';
import { processTree } from './proc-stat';
import { REPO_ROOT, type Target } from './target';

export async function startBare(opts: { key: string; name: string; upstreamPort: number; plan: CpuPlan; expectBody: string }): Promise<Target> {
  const port = await freePort();
  const entry = join(REPO_ROOT, 'dist', 'bench', 'bare', 'server.js');
  const [cmd, args] = pinned(opts.plan.target, process.execPath, [entry, String(port), `http://127.0.0.1:${opts.upstreamPort}`]);
  const proc = spawnCaptured(cmd, args);
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitForBody('bare prototype', proc, url, opts.expectBody);
  } catch (err) {
    await stopProcess(proc.child);
    throw err;
  }
  const root = proc.child.pid!;
  return { key: opts.key, name: opts.name, url, plan: opts.plan, workers: 1, rootPid: root, pids: () => processTree(root), stop: () => stopProcess(proc.child) };
}
