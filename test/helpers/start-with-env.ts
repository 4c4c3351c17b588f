import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { CLI_PATH, gatewayEnv } from './start-gateway';
import { killGroupAndWait, tailOutput, trackGroup, untrackGroup } from './proc';
import { waitFor } from './wait';

/**
 * A gateway started with exactly the environment and arguments a test gives (no listen
 * addresses of startGateway's choosing): for the tests of listen strings, admin_listen, tokens
 * and the config-file lookup. Leads a process group of its own, killed with it.
 */
export interface EnvGateway {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<number | null>;
  /** Polls `probe` until it is truthy; fails early (with the output) if the gateway exits. */
  until<T>(what: string, probe: () => T | Promise<T>, timeoutMs?: number): Promise<NonNullable<T>>;
  /** SIGTERM, then the group; resolves with the exit code (null when it had to be killed). */
  stop(): Promise<number | null>;
}

/** `cli`: another build's main.js (a copy the test made), CLI_PATH by default. */
export function startWithEnv(args: string[], env: NodeJS.ProcessEnv, cli = CLI_PATH): EnvGateway {
  const child = spawn(process.execPath, [cli, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: gatewayEnv(env) });
  const pid = child.pid;
  if (pid === undefined) throw new Error('spawn failed');
  trackGroup(pid);
  const output = tailOutput(child);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stopping: Promise<number | null> | undefined;
  return {
    child,
    pid,
    output,
    exited,
    until(what, probe, timeoutMs = 20000) {
      return waitFor(what, async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gateway exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
        return probe();
      }, { timeoutMs, intervalMs: 100 }).catch((e: Error) => {
        throw new Error(`${e.message}\n--- gateway output ---\n${output()}`);
      });
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 15000)))]);
        clearTimeout(timer);
        await killGroupAndWait(pid);
        untrackGroup(pid);
        return code === 'timeout' ? null : code;
      })();
      return stopping;
    },
  };
}

/** TCP ports process `pid` listens on (from /proc: its socket inodes in state LISTEN). */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set(fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  }).filter((l) => l.startsWith('socket:[')).map((l) => l.slice(8, -1)));
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && f[3] === '0A' && inodes.has(f[9])) ports.push(parseInt(f[1].slice(f[1].lastIndexOf(':') + 1), 16));
    }
  }
  return ports.sort((a, b) => a - b);
}
