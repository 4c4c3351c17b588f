import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { request, type HttpResult } from './http-client';
import { freePorts } from './ports';
import { isAlive } from './proc';
import { waitFor } from './wait';

/** dist/test/helpers/start-gateway.js → dist/src/main.js, the `hyperway` bin (HYPERWAY_TEST_CLI overrides, to test another build). */
export const CLI_PATH = process.env.HYPERWAY_TEST_CLI ?? resolve(__dirname, '../../src/main.js');

export interface WorkerStatus {
  id: number;
  pid: number;
  state: string;
  uptime: number;
  restarts: number;
  config_version: number;
  requests: number;
  connections: number;
}

export interface GatewayStatus {
  configuration_hash: string;
  config_version: number;
  server: { total_requests: number; connections_active: number };
  workers: WorkerStatus[];
}

export interface GatewayOptions {
  /** Declarative config: an object (written as YAML) or YAML text. */
  config: object | string;
  workers?: number;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export interface Gateway {
  proxyUrl: string;
  adminUrl: string;
  proxyPort: number;
  adminPort: number;
  configPath: string;
  child: ChildProcess;
  /** `GET /status` body, whatever the status code (503 while a worker is not listening). */
  status(): Promise<GatewayStatus>;
  admin(path: string): Promise<HttpResult>;
  /** What the gateway wrote to stdout/stderr so far (last 64 KiB), for failure messages. */
  output(): string;
  /** Worker pids seen in any `/status` answer so far (old ones included). */
  workerPids: Set<number>;
  /** Signals the primary and resolves with its exit code (null if it had to be SIGKILLed). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/** Gateways not yet stopped: killed with their workers if the test process ends or is interrupted. */
const live = new Set<Gateway>();

function killLive(): void {
  for (const gw of live) {
    killQuietly(gw.child.pid, 'SIGKILL');
    for (const pid of gw.workerPids) killQuietly(pid, 'SIGKILL');
  }
}
process.once('exit', killLive);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killLive();
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  });
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'hyperway-it-'));
  const configPath = join(dir, 'kong.yml');
  writeFileSync(configPath, typeof opts.config === 'string' ? opts.config : stringify(opts.config));
  const [proxyPort, adminPort] = (await freePorts(2)) as [number, number];
  const child = spawn(process.execPath, [CLI_PATH, 'start', '--config', configPath], {
    env: {
      ...process.env,
      HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`,
      HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
      HYPERWAY_WORKERS: String(opts.workers ?? 2),
      HYPERWAY_LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (c: Buffer): void => {
    out = (out + c.toString()).slice(-65536);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const pids = new Set<number>();

  const status = async (): Promise<GatewayStatus> => {
    const body = (await request(`${adminUrl}/status`, { timeoutMs: 3000 })).json<GatewayStatus>();
    for (const w of body.workers ?? []) pids.add(w.pid);
    return body;
  };

  const gw: Gateway = {
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    adminUrl,
    proxyPort,
    adminPort,
    configPath,
    child,
    workerPids: pids,
    status,
    admin: (path) => request(`${adminUrl}${path}`, { timeoutMs: 3000 }),
    output: () => out,
    async stop(signal = 'SIGTERM', timeoutMs = 15000) {
      live.delete(gw);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
      clearTimeout(timer);
      if (code === 'timeout') {
        killQuietly(child.pid, 'SIGKILL');
        await exited;
      }
      // Workers must not outlive the primary; give them a moment, then make sure.
      await waitFor('workers to exit', () => [...pids].every((p) => !isAlive(p)), { timeoutMs: 3000 }).catch(() => {
        for (const p of pids) if (isAlive(p)) killQuietly(p, 'SIGKILL');
      });
      rmSync(dir, { recursive: true, force: true });
      return code === 'timeout' ? null : code;
    },
  };
  live.add(gw);

  try {
    const outcome = await waitFor(
      'GET /status to answer 200',
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) return 'exited';
        return (await request(`${adminUrl}/status`, { timeoutMs: 1000 })).status === 200 ? 'ready' : undefined;
      },
      { timeoutMs: opts.readyTimeoutMs ?? 20000, intervalMs: 100 },
    );
    if (outcome === 'exited') throw new Error(`gateway exited with code ${await exited} before it was ready`);
    await status();
  } catch (err) {
    await gw.stop('SIGKILL', 3000);
    throw new Error(`${(err as Error).message}\n--- gateway output ---\n${out}`);
  }
  return gw;
}

export interface CliResult {
  code: number | null;
  /** Signal that ended the process, if any (null when it exited on its own). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The CLI process's pid: the primary's, for a `start` (names its `hyperway.<pid>.*` segment). */
  pid: number;
}

/** Runs the CLI to completion (`check`, or a `start` that must fail): exit code, both streams and the pid. */
export function runCli(args: string[], timeoutMs = 15000, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hyperway ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const done = (): void => resolvePromise({ code, signal, stdout, stderr, pid: child.pid ?? 0 });
      // Output still in the pipes arrives before 'close'; a worker that outlived the primary keeps
      // the pipes open, so do not wait for it forever.
      const grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        done();
      }, 1000);
      child.once('close', () => {
        clearTimeout(grace);
        done();
      });
    });
  });
}

export function killQuietly(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
