/** Starts bench/upstream.ts as its own pinned process. */
import { join } from 'node:path';
import { pinned } from './cpu-plan';
import { freePort, spawnCaptured, stopProcess, waitFor, httpGet } from './processes';
import { processTree } from './proc-stat';
import { REPO_ROOT } from './target';

export interface UpstreamProcess {
  port: number;
  url: string;
  impl: string;
  pid: number;
  pids(): number[];
  stop(): Promise<void>;
}

export async function startUpstream(cpu: string, impl = process.env.BENCH_UPSTREAM ?? 'uws'): Promise<UpstreamProcess> {
  const port = await freePort();
  const [cmd, args] = pinned(cpu, process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'upstream.js'), String(port), impl]);
  const proc = spawnCaptured(cmd, args);
  const url = `http://127.0.0.1:${port}/`;
  await waitFor('upstream', proc, async () => ((await httpGet(url)).status === 200 ? true : undefined), 10000);
  const line = proc.output().split('\n').find((l) => l.startsWith('{"port"'));
  const reported = line ? (JSON.parse(line) as { impl: string }).impl : impl;
  const root = proc.child.pid!;
  return { port, url, impl: reported, pid: root, pids: () => processTree(root), stop: () => stopProcess(proc.child) };
}
