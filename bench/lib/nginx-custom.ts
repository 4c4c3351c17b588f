/**
 * nginx with a bench-specific edit of target-nginx.ts's config (worker count, connection limits,
 * keepalive_timeout, reuseport): the memory and worker-kill benches need settings the throughput
 * rows do not. Same scratch-prefix rules: never touches /etc/nginx or /var/log/nginx.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinned } from './cpu-plan';
import { freePort, spawnCaptured, stopProcess, waitForBody } from './processes';
import { processTree } from './proc-stat';
import type { Target } from './target';
import { nginxConfig, nginxPath, type NginxOptions } from './target-nginx';

export interface NginxEdit {
  workers: number;
  workerConnections: number;
  /** nginx's keepalive_timeout for client connections, seconds. */
  keepaliveTimeoutS: number;
  reuseport: boolean;
  /** nginx's keepalive_requests (its default, 1000, when absent): requests per client connection. */
  keepaliveRequests?: number;
}

/** target-nginx.ts's config with `edit` applied; throws if a line it rewrites has moved. */
export function editedNginxConfig(dir: string, port: number, upstreamPort: number, edit: NginxEdit): string {
  const base = nginxConfig(dir, port, upstreamPort, '1');
  const swaps: Array<[string, string]> = [
    ['worker_processes 1;', `worker_processes ${edit.workers};\nworker_rlimit_nofile ${edit.workerConnections * 2 + 1024};`],
    ['events { worker_connections 4096; }', `events { worker_connections ${edit.workerConnections}; }`],
    ['access_log off;', `access_log off;\n  keepalive_timeout ${edit.keepaliveTimeoutS}s;${edit.keepaliveRequests ? `\n  keepalive_requests ${edit.keepaliveRequests};` : ''}`],
    [`listen 127.0.0.1:${port};`, `listen 127.0.0.1:${port}${edit.reuseport ? ' reuseport' : ''};`],
  ];
  let conf = base;
  for (const [from, to] of swaps) {
    if (!conf.includes(from)) throw new Error(`nginx-custom: "${from}" not in target-nginx.ts's config any more`);
    conf = conf.replace(from, to);
  }
  return conf;
}

export async function startNginxEdited(opts: Omit<NginxOptions, 'workers'>, edit: NginxEdit): Promise<Target> {
  const bin = nginxPath();
  if (!bin) throw new Error('nginx not installed');
  const dir = join(opts.scratchDir, opts.key);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, editedNginxConfig(dir, port, opts.upstreamPort, edit));
  const [cmd, args] = pinned(opts.plan.target, bin, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')]);
  const proc = spawnCaptured(cmd, args);
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitForBody('nginx', proc, url, opts.expectBody);
    const root = proc.child.pid!;
    return {
      key: opts.key, name: opts.name, url, plan: opts.plan, workers: processTree(root).length - 1, rootPid: root,
      pids: () => processTree(root),
      stop: () => stopProcess(proc.child),
    };
  } catch (err) {
    await stopProcess(proc.child);
    throw err;
  }
}
