import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { request, type HttpResult } from './http-client';
import { freePorts } from './ports';
import { groupMembers, isAlive, killGroup, killGroupAndWait, removeSegments, segmentsOfPrimary, shmNameOf, tailOutput, trackGroup, untrackGroup } from './proc';
import { delay, waitFor } from './wait';

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
  /** Added to the clean environment the gateway starts with (see gatewayEnv). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /**
   * Starts tried when the gateway cannot listen on the ports picked for it (another process took
   * one meanwhile); each try picks fresh ports. 1 when opts.env sets the listen addresses.
   */
  listenAttempts?: number;
  /**
   * A directory the caller created and removes: kong.yml is written there and the directory is
   * kept after stop (a restart test starts a second gateway on the same files).
   */
  configDir?: string;
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
  /**
   * Signals the primary and resolves with its exit code (null if it had to be SIGKILLed). Then
   * kills whatever is left of the gateway's process group and removes its shared-memory segment.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /**
   * Processes of the gateway (its process group, and every worker pid seen) still alive 3 s after
   * the primary exited in the last stop(), before stop() killed them: workers that outlived it.
   */
  stragglers: number[];
  /** The shared-memory segment the gateway's workers attach to (`/hyperway.<pid>.<hex>`), once known. */
  segment: string | undefined;
}

/** The variables of the test process a gateway or CLI under test inherits: nothing that configures Hyperway. */
const INHERITED_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'NODE_V8_COVERAGE'];

/**
 * The environment for a gateway or CLI under test: a clean one (a KONG_* or HYPERWAY_* variable
 * of the machine running the tests must not change the gateway under test), plus `extra`.
 * HYPERWAY_TEST_UWS=<package> selects the uWS build under test (passed on as HYPERWAY_UWS);
 * HYPERWAY_TEST_UPSTREAM_CLIENT the upstream client (passed on as HYPERWAY_UPSTREAM_CLIENT).
 */
export function gatewayEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of INHERITED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
  if (process.env.HYPERWAY_TEST_UWS) env.HYPERWAY_UWS = process.env.HYPERWAY_TEST_UWS;
  // HYPERWAY_TEST_UPSTREAM_CLIENT=hyperway runs a suite against the own upstream client (issue 21).
  if (process.env.HYPERWAY_TEST_UPSTREAM_CLIENT) env.HYPERWAY_UPSTREAM_CLIENT = process.env.HYPERWAY_TEST_UPSTREAM_CLIENT;
  return { ...env, ...extra };
}

/** What a gateway prints when it cannot bind a port it was given. */
const LISTEN_FAILED = /HW_ERR_LISTEN_FAILED|EADDRINUSE|cannot listen on/;

class ListenFailed extends Error {}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const pinned = Object.keys(opts.env ?? {}).some((k) => /^(HYPERWAY|KONG)_(PROXY|ADMIN)_LISTEN$/.test(k));
  const attempts = pinned ? 1 : Math.max(1, opts.listenAttempts ?? 3);
  const failures: string[] = [];
  for (let i = 1; ; i++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (!(err instanceof ListenFailed) || i >= attempts) {
        const earlier = failures.length > 0 ? `\n--- earlier attempts could not listen ---\n${failures.join('\n')}` : '';
        throw new Error(`${(err as Error).message}${earlier}`);
      }
      failures.push((err as Error).message);
    }
  }
}

async function startOnce(opts: GatewayOptions): Promise<Gateway> {
  const dir = opts.configDir ?? mkdtempSync(join(tmpdir(), 'hyperway-it-'));
  const ownsDir = opts.configDir === undefined;
  const configPath = join(dir, 'kong.yml');
  writeFileSync(configPath, typeof opts.config === 'string' ? opts.config : stringify(opts.config));
  const [proxyPort, adminPort] = (await freePorts(2)) as [number, number];
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [CLI_PATH, 'start', '--config', configPath], {
    env: gatewayEnv({
      HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`,
      HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
      HYPERWAY_WORKERS: String(opts.workers ?? 2),
      HYPERWAY_LOG_LEVEL: 'warn',
      ...opts.env,
    }),
    // Leader of a process group of its own, which its workers join: killed as one.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pgid = child.pid;
  if (pgid === undefined) {
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    throw await new Promise<Error>((r) => child.once('error', r));
  }
  const output = tailOutput(child);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const pids = new Set<number>();

  // The primary removes its segment on a clean exit; after a SIGKILL it is left behind.
  const segments = (): string[] => [...new Set([...(gw.segment ? [gw.segment] : []), ...segmentsOfPrimary(pgid, spawnedAt - 1000)])];
  trackGroup(pgid, () => {
    removeSegments(segments());
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
  });

  const status = async (): Promise<GatewayStatus> => {
    const body = (await request(`${adminUrl}/status`, { timeoutMs: 3000 })).json<GatewayStatus>();
    for (const w of body.workers ?? []) {
      pids.add(w.pid);
      gw.segment ??= shmNameOf(w.pid);
    }
    return body;
  };
  const leftovers = (): number[] => [...new Set([...groupMembers(pgid), ...[...pids].filter(isAlive)])];

  let stopping: Promise<number | null> | undefined;
  const gw: Gateway = {
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    adminUrl,
    proxyPort,
    adminPort,
    configPath,
    child,
    workerPids: pids,
    stragglers: [],
    segment: undefined,
    status,
    admin: (path) => request(`${adminUrl}${path}`, { timeoutMs: 3000 }),
    output,
    stop(signal = 'SIGTERM', timeoutMs = 15000) {
      // A second stop (a test's, then its after hook's) waits for the first.
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        let timer: NodeJS.Timeout | undefined;
        const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
        clearTimeout(timer);
        if (code === 'timeout') {
          killGroup(pgid);
          await exited;
        }
        // Workers must not outlive the primary: give them a moment, note who did, then make sure.
        await waitFor('workers to exit', () => leftovers().length === 0, { timeoutMs: 3000 }).catch(() => undefined);
        gw.stragglers = leftovers();
        for (const p of gw.stragglers) {
          killQuietly(p, 'SIGCONT');
          killQuietly(p, 'SIGKILL');
        }
        await killGroupAndWait(pgid);
        await waitFor('stragglers to die', () => gw.stragglers.every((p) => !isAlive(p)), { timeoutMs: 5000 }).catch(() => undefined);
        untrackGroup(pgid);
        removeSegments(segments());
        if (ownsDir) rmSync(dir, { recursive: true, force: true });
        return code === 'timeout' ? null : code;
      })();
      return stopping;
    },
  };

  try {
    const outcome = await waitFor(
      'GET /status to answer 200',
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) return 'exited';
        return (await request(`${adminUrl}/status`, { timeoutMs: 1000 })).status === 200 ? 'ready' : undefined;
      },
      { timeoutMs: opts.readyTimeoutMs ?? 20000, intervalMs: 100 },
    );
    if (outcome === 'exited') {
      const code = await exited;
      // Output still in the pipes arrives before 'close'.
      await Promise.race([new Promise((r) => child.once('close', r)), delay(1000)]);
      const msg = `gateway exited with code ${code} before it was ready`;
      throw LISTEN_FAILED.test(output()) ? new ListenFailed(msg) : new Error(msg);
    }
    await status();
  } catch (err) {
    await gw.stop('SIGKILL', 3000);
    const wrapped = `${(err as Error).message}\n--- gateway output ---\n${output()}`;
    throw err instanceof ListenFailed ? new ListenFailed(wrapped) : new Error(wrapped);
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
  /** Processes of the CLI's group still alive once the primary had exited (then killed): workers it left. */
  stragglers: number[];
}

/**
 * Runs the CLI to completion (`check`, or a `start` that must fail): exit code, both streams and
 * the pid. `env` is added to the clean environment of gatewayEnv(). The CLI leads a process group
 * of its own: once the primary has exited (or at the timeout) the whole group is killed, so a
 * worker it left is never left running. `onSpawn` gets the child as soon as it is spawned (to
 * signal it while it starts).
 */
export function runCli(args: string[], timeoutMs = 15000, env: NodeJS.ProcessEnv = {}, onSpawn?: (child: ChildProcess) => void): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const spawnedAt = Date.now();
    const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: gatewayEnv(env), detached: true });
    const pgid = child.pid;
    if (pgid === undefined) {
      child.once('error', reject);
      return;
    }
    trackGroup(pgid);
    onSpawn?.(child);
    let settled = false;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      settled = true;
      void (async () => {
        await killGroupAndWait(pgid);
        untrackGroup(pgid);
        // The test fails anyway; the segment of a primary killed this way would stay behind.
        removeSegments(segmentsOfPrimary(pgid, spawnedAt - 1000));
        reject(new Error(`hyperway ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stderr}`));
      })();
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const done = async (): Promise<void> => {
        if (settled) return;
        settled = true;
        const stragglers = groupMembers(pgid);
        await killGroupAndWait(pgid);
        untrackGroup(pgid);
        resolvePromise({ code, signal, stdout, stderr, pid: pgid, stragglers });
      };
      // Output still in the pipes arrives before 'close'; a worker that outlived the primary keeps
      // the pipes open, so do not wait for it forever.
      const grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        void done();
      }, 1000);
      child.once('close', () => {
        clearTimeout(grace);
        void done();
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
