/**
 * Hyperway as a bench target: `node dist/src/main.js start --config <tmp>/kong.yml`, pinned, with
 * proxy/admin listen addresses and worker count from the environment; ready when the Admin API's
 * GET /status answers 200 and a proxied request returns the upstream's body.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinned } from './cpu-plan';
import { freePort, httpGet, spawnCaptured, waitFor, waitForBody } from './processes';
import { REPO_ROOT, targetWhenReady, type Target, type TargetLabel } from './target';

/** The CLI entry: BENCH_HYPERWAY_ENTRY, else dist/src/main.js (package.json's bin). */
export function hyperwayEntry(): string | null {
  const candidates = [process.env.BENCH_HYPERWAY_ENTRY, join(REPO_ROOT, 'dist', 'src', 'main.js')];
  return candidates.find((f): f is string => !!f && existsSync(f)) ?? null;
}

export function hyperwayBuilt(): boolean {
  return hyperwayEntry() !== null;
}

export function kongConfig(upstreamPort: number): string {
  return [
    '_format_version: "3.0"',
    'services:',
    '  - name: bench-upstream',
    `    url: http://127.0.0.1:${upstreamPort}`,
    '    routes:',
    '      - name: bench-root',
    '        paths: [/]',
    '',
  ].join('\n');
}

interface StatusBody {
  workers?: Array<{ pid?: number }>;
}

export interface HyperwayOptions extends TargetLabel {
  upstreamPort: number;
  workers: number;
  scratchDir: string;
  /** The body the upstream returns, to prove requests really go through the proxy. */
  expectBody: string;
  /** Declarative config text instead of the one-route default (must route `/`). */
  config?: string;
  /** The CLI entry to run instead of hyperwayEntry() (another build, for before/after rows). */
  entry?: string;
  /** Node flags before the entry (`--cpu-prof`: forked workers inherit them). */
  nodeArgs?: string[];
  /** Settings for this target only (HYPERWAY_UPSTREAM_CLIENT …), over the bench's environment. */
  env?: Record<string, string>;
}

export async function startHyperway(opts: HyperwayOptions): Promise<Target> {
  const configFile = join(opts.scratchDir, `${opts.key}.kong.yml`);
  writeFileSync(configFile, opts.config ?? kongConfig(opts.upstreamPort));
  const [proxyPort, adminPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`,
    HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
    HYPERWAY_WORKERS: String(opts.workers),
    HYPERWAY_LOG_LEVEL: 'warn',
    ...opts.env,
  };
  const entry = opts.entry ?? hyperwayEntry();
  if (!entry) throw new Error('Hyperway is not built (no dist/src/main.js)');
  const [cmd, args] = pinned(opts.plan.target, process.execPath, [...(opts.nodeArgs ?? []), entry, 'start', '--config', configFile]);
  const proc = spawnCaptured(cmd, args, env);
  const url = `http://127.0.0.1:${proxyPort}/`;
  return targetWhenReady(proc, opts, url, async () => {
    const status = await waitFor('hyperway /status', proc, async () => {
      const reply = await httpGet(`http://127.0.0.1:${adminPort}/status`);
      if (reply.status !== 200) return undefined;
      const body = JSON.parse(reply.body) as StatusBody;
      // Workers register asynchronously; wait until all of them are up.
      return (body.workers?.length ?? 0) >= opts.workers ? body : undefined;
    });
    await waitForBody('hyperway proxy', proc, url, opts.expectBody);
    return status.workers?.length ?? 0;
  }, 15000);
}
