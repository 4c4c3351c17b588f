/**
 * A real redis-server for a test, on a free loopback port, without persistence; stop() and
 * start() again on the same port let tests take Redis away and bring it back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from './ports';
import { waitFor } from './wait';

export interface RedisServer {
  port: number;
  /** (Re)starts the server on `port`; resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops it (SIGKILL: gone at once, as a crashed Redis is); resolves once the process exited. */
  stop(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open and nothing answers, as a hung Redis. */
  pause(): void;
  resume(): void;
  /** A command through a short-lived client (`redis.call('GET', key)`). */
  call(...args: (string | number)[]): Promise<unknown>;
  close(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hyperway-redis-'));
  let child: ChildProcess | null = null;
  let output = '';

  async function ping(): Promise<boolean> {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      c.disconnect();
    }
  }

  const server: RedisServer = {
    port,
    async start() {
      output = '';
      const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
      p.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
      child = p;
      try {
        await waitFor(`redis-server on ${port}`, () => {
          if (p.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
          return ping();
        }, { timeoutMs: 10_000 });
      } catch (err) {
        p.kill('SIGKILL');
        throw err;
      }
    },
    async stop() {
      const p = child;
      child = null;
      if (p === null || p.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGKILL');
      });
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async call(...args) {
      const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
      try {
        return await c.call(String(args[0]), ...args.slice(1).map(String));
      } finally {
        c.disconnect();
      }
    },
    async close() {
      server.resume();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
