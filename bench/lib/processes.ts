/** Child-process and HTTP plumbing shared by the bench targets. */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { pinned } from './cpu-plan';

export interface Spawned {
  child: ChildProcess;
  /** The last few KiB of stdout + stderr, for error messages when a target fails to start. */
  output(): string;
}

const KEEP = 8192;

export function spawnCaptured(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Spawned {
  const child = spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-KEEP);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output: () => tail };
}

/**
 * Runs `node <script> <JSON of arg>` pinned to `cpu` and resolves to the last
 * stdout line parsed as JSON; a non-zero exit or no JSON line rejects with `what` and the output's
 * last `tailChars` characters (all that was kept when absent).
 */
export function runJsonChild<T>(what: string, cpu: string, script: string, arg: unknown, tailChars?: number): Promise<T> {
  const [cmd, args] = pinned(cpu, process.execPath, [script, JSON.stringify(arg)]);
  const proc = spawnCaptured(cmd, args);
  let stdout = '';
  proc.child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  return new Promise((resolve, reject) => {
    proc.child.once('error', reject);
    proc.child.once('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`${what} exited ${code}: ${tailChars === undefined ? proc.output() : proc.output().slice(-tailChars)}`));
      try {
        resolve(JSON.parse(line) as T);
      } catch (e) {
        // A throw here would be uncaught (an event handler) and skip the caller's cleanup.
        reject(new Error(`${what}: its last stdout line is not JSON (${(e as Error).message})`));
      }
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A port that was free a moment ago (the usual listen-on-0 race is acceptable for a bench). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface HttpReply {
  status: number;
  body: string;
}

export function httpGet(url: string, timeoutMs = 2000): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls `probe` until it returns a value, the child exits, or `timeoutMs` passes.
 * Throws with the child's captured output so a failed start explains itself.
 */
export async function waitFor<T>(what: string, proc: Spawned, probe: () => Promise<T | undefined>, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${what}: process exited (${proc.child.exitCode ?? proc.child.signalCode}) before ready\n${proc.output()}`);
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms (${String(last)})\n${proc.output()}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `url` answers 200 with exactly `expectBody`: requests really go through the target. */
export function waitForBody(what: string, proc: Spawned, url: string, expectBody: string): Promise<boolean> {
  return waitFor(what, proc, async () => {
    const reply = await httpGet(url);
    if (reply.status === 200 && reply.body === expectBody) return true;
    throw new Error(`${what} answered ${reply.status}: ${reply.body.slice(0, 200)}`);
  }, 10000);
}

/** Runs a bench's main(): its number is the exit code; a throw prints and exits 1. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
