/**
 * nginx as in target-nginx.ts (same generated config) with `client_body_buffer_size` set: with
 * nginx's default (16k) a 64 KiB upload goes through a temp file and, on loopback, stalls about
 * 40 ms per request (1.1k req/s against ~15k with the body in memory), which would measure that
 * stall instead of nginx. An empty size keeps nginx's default.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinned } from './cpu-plan';
import { freePort, spawnCaptured, stopProcess, waitForBody } from './processes';
import { processTree } from './proc-stat';
import type { Target } from './target';
import { nginxConfig, nginxPath, type NginxOptions } from './target-nginx';

/** nginxConfig() with one more http-level directive. */
export function nginxConfigWithBodyBuffer(dir: string, listenPort: number, upstreamPort: number, workers: '1' | 'auto', bodyBuffer: string): string {
  const base = nginxConfig(dir, listenPort, upstreamPort, workers);
  if (bodyBuffer === '') return base;
  if (!/^\d+[kKmM]?$/.test(bodyBuffer)) throw new Error(`client_body_buffer_size "${bodyBuffer}": expected a size such as 128k`);
  return base.replace('  access_log off;\n', `  access_log off;\n  client_body_buffer_size ${bodyBuffer};\n`);
}

export async function startNginxWithBodyBuffer(opts: NginxOptions, bodyBuffer: string): Promise<Target> {
  const bin = nginxPath();
  if (!bin) throw new Error('nginx not installed');
  const dir = join(opts.scratchDir, opts.key);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfigWithBodyBuffer(dir, port, opts.upstreamPort, opts.workers, bodyBuffer));
  const [cmd, args] = pinned(opts.plan.target, bin, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')]);
  const proc = spawnCaptured(cmd, args);
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitForBody('nginx', proc, url, opts.expectBody);
  } catch (err) {
    await stopProcess(proc.child);
    throw err;
  }
  const root = proc.child.pid!;
  return { key: opts.key, name: opts.name, url, plan: opts.plan, workers: processTree(root).length - 1, rootPid: root, pids: () => processTree(root), stop: () => stopProcess(proc.child) };
}
