/**
 * The upstream of the stack and latency benches: bench/upstream.ts's 64-byte answer on `/`, plus
 * sized bodies and a sink for uploads, so one upstream process serves every payload row.
 *   GET /        64 bytes (BODY: the targets' readiness check expects it)
 *   GET /1k      1 KiB
 *   GET /64k     64 KiB
 *   POST <any>   reads the whole request body, answers its length in 64 bytes ("65536", space-padded)
 * Usage: node dist/bench/lib/payload-upstream.js <port>; prints {"port", "impl"} once listening.
 */
import { join } from 'node:path';
import { loadUws, type HttpResponse } from '../../src/worker/server/uws';
import { pinned } from './cpu-plan';
import { freePort, httpGet, spawnCaptured, stopProcess, waitFor } from './processes';
import { processTree } from './proc-stat';
import { REPO_ROOT } from './target';
import type { UpstreamProcess } from './upstream-process';
import { BODY } from '../upstream';

export const SIZES: Record<string, number> = { '/1k': 1024, '/64k': 64 * 1024 };

function serve(port: number): void {
  const loaded = loadUws();
  const bodies = new Map<string, Buffer>(Object.entries(SIZES).map(([p, n]) => [p, Buffer.alloc(n, 'x')]));
  const small = Buffer.from(BODY);
  const drained = (res: HttpResponse, n: number): void => {
    res.cork(() => res.writeStatus('200 OK').writeHeader('Content-Type', 'text/plain').end(String(n).padEnd(64)));
  };
  loaded.uws
    .App()
    .any('/*', (res, req) => {
      if (req.getMethod() === 'post' || req.getMethod() === 'put') {
        let aborted = false;
        let n = 0;
        res.onAborted(() => (aborted = true));
        res.onData((chunk, isLast) => {
          n += chunk.byteLength;
          if (isLast && !aborted) drained(res, n);
        });
        return;
      }
      const body = bodies.get(req.getUrl()) ?? small;
      res.cork(() => res.writeStatus('200 OK').writeHeader('Content-Type', 'text/plain').end(body));
    })
    .listen('127.0.0.1', port, (token) => {
      if (!token) {
        process.stderr.write(`payload upstream: cannot listen on ${port}\n`);
        process.exit(1);
      }
      process.stdout.write(JSON.stringify({ port, impl: `uws ${loaded.source}@${loaded.version}` }) + '\n');
    });
}

/** Starts this file as its own pinned process. */
export async function startPayloadUpstream(cpu: string): Promise<UpstreamProcess> {
  const port = await freePort();
  const [cmd, args] = pinned(cpu, process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'lib', 'payload-upstream.js'), String(port)]);
  const proc = spawnCaptured(cmd, args);
  const url = `http://127.0.0.1:${port}/`;
  await waitFor('payload upstream', proc, async () => ((await httpGet(url)).status === 200 ? true : undefined), 10000);
  const line = proc.output().split('\n').find((l) => l.startsWith('{"port"'));
  const impl = line ? (JSON.parse(line) as { impl: string }).impl : 'uws';
  const root = proc.child.pid!;
  return { port, url, impl, pid: root, pids: () => processTree(root), stop: () => stopProcess(proc.child) };
}

if (require.main === module) {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port <= 0) {
    process.stderr.write('usage: node dist/bench/lib/payload-upstream.js <port>\n');
    process.exit(2);
  }
  serve(port);
  process.on('SIGTERM', () => process.exit(0));
}
