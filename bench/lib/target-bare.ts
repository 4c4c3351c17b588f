/** The bare uWS + undici prototype (bench/bare/server.ts) as a bench target, pinned like the others. */
import { join } from 'node:path';
import { pinned } from './cpu-plan';
import { freePort, spawnCaptured, waitForBody } from './processes';
import { REPO_ROOT, targetWhenReady, type Target, type TargetLabel } from './target';

export async function startBare(opts: TargetLabel & { upstreamPort: number; expectBody: string }): Promise<Target> {
  const port = await freePort();
  const entry = join(REPO_ROOT, 'dist', 'bench', 'bare', 'server.js');
  const [cmd, args] = pinned(opts.plan.target, process.execPath, [entry, String(port), `http://127.0.0.1:${opts.upstreamPort}`]);
  const proc = spawnCaptured(cmd, args);
  const url = `http://127.0.0.1:${port}/`;
  return targetWhenReady(proc, opts, url, async () => {
    await waitForBody('bare prototype', proc, url, opts.expectBody);
    return 1;
  });
}
