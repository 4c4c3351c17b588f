/**
 * A real Postgres for a test file: initdb in a temporary directory (as the `postgres` user:
 * initdb and postgres refuse to run as root), a server on a free loopback port without fsync,
 * in a process group of its own tracked by proc.ts so an interrupted run leaves nothing behind.
 * Tests share the server and each creates its own database (createDatabase), so none touches what
 * another made. stop() and start() again on the same port take the database away and bring it back.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './ports';
import { killGroupAndWait, trackGroup, untrackGroup } from './proc';
import { waitFor } from './wait';

const BIN = process.env.HYPERWAY_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const PG_USER = 'postgres';

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  /** (Re)starts the server on `port`; resolves once it accepts connections. */
  start(): Promise<void>;
  /**
   * Stops it at once (immediate shutdown: every connection is cut without a checkpoint, as a
   * crashed database); resolves when it is gone. The postmaster's exit removes its shared memory.
   */
  stop(): Promise<void>;
  /** A fresh database for one test (`hw_<n>`). */
  createDatabase(): Promise<string>;
  /** A query on `database` through a short-lived client. */
  query<T = Record<string, unknown>>(database: string, sql: string, params?: unknown[]): Promise<T[]>;
  /** KONG_PG_* for a gateway or CLI using `database`. */
  env(database: string): Record<string, string>;
  close(): Promise<void>;
}

/** The `postgres` user's uid/gid, or null when Postgres cannot run here (the tests skip). */
function postgresIds(): { uid: number; gid: number } | null {
  if (!existsSync(join(BIN, 'initdb'))) return null;
  const id = spawnSync('id', ['-u', PG_USER], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', PG_USER], { encoding: 'utf8' });
  if (id.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export function postgresAvailable(): boolean {
  return postgresIds() !== null && (process.getuid?.() === 0 || process.getuid?.() === postgresIds()?.uid);
}

export async function startPostgres(): Promise<PostgresServer> {
  const ids = postgresIds();
  if (ids === null) throw new Error(`Postgres is not installed in ${BIN} (apt-get install postgresql)`);
  const root = mkdtempSync(join(tmpdir(), 'hyperway-pg-'));
  const data = join(root, 'data');
  const sock = join(root, 'sock');
  mkdirSync(data);
  mkdirSync(sock);
  for (const p of [root, data, sock]) chownSync(p, ids.uid, ids.gid);
  const asPostgres = { uid: ids.uid, gid: ids.gid, env: { PATH: process.env.PATH, HOME: root, LANG: 'C' } };
  const init = spawnSync(join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', PG_USER, '--no-sync', '-E', 'UTF8'], { ...asPostgres, encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  }
  const port = await freePort();
  let child: ChildProcess | null = null;
  let output = '';
  let databases = 0;

  const connect = async (database: string): Promise<Client> => {
    const c = new Client({ host: '127.0.0.1', port, user: PG_USER, database, connectionTimeoutMillis: 2000 });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };

  const server: PostgresServer = {
    host: '127.0.0.1',
    port,
    user: PG_USER,
    async start() {
      output = '';
      const p = spawn(join(BIN, 'postgres'), ['-D', data, '-p', String(port), '-k', sock, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'max_connections=100',
        // fsync off is safe for a server that crashes but not its machine; synchronous_commit stays
        // on, or an immediate shutdown right after a commit would lose it.
        // Dynamic shared memory as files in the data directory, removed with it whatever happens.
        '-c', 'dynamic_shared_memory_type=mmap'], {
        ...asPostgres,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const collect = (d: Buffer): void => {
        output = (output + d.toString()).slice(-4000);
      };
      p.stdout?.on('data', collect);
      p.stderr?.on('data', collect);
      child = p;
      if (p.pid !== undefined) trackGroup(p.pid);
      try {
        await waitFor(`postgres on ${port}`, async () => {
          if (p.exitCode !== null) throw new Error(`postgres exited: ${output}`);
          const c = await connect('postgres');
          await c.end();
          return true;
        }, { timeoutMs: 20_000, intervalMs: 100 });
      } catch (err) {
        await server.stop();
        throw err;
      }
    },
    async stop() {
      const p = child;
      child = null;
      if (p === null || p.pid === undefined) return;
      untrackGroup(p.pid);
      if (p.exitCode === null) {
        const exited = new Promise<void>((r) => p.once('exit', () => r()));
        p.kill('SIGQUIT');
        let timer: NodeJS.Timeout | undefined;
        const clean = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10_000)))]);
        clearTimeout(timer);
        if (!clean) {
          await killGroupAndWait(p.pid);
          await exited;
        }
      }
    },
    async createDatabase() {
      const name = `hw_${process.pid}_${++databases}`;
      const c = await connect('postgres');
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return name;
    },
    async query(database, sql, params = []) {
      const c = await connect(database);
      try {
        return (await c.query(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
    env(database) {
      return { KONG_DATABASE: 'postgres', KONG_PG_HOST: '127.0.0.1', KONG_PG_PORT: String(port), KONG_PG_USER: PG_USER, KONG_PG_DATABASE: database };
    },
    async close() {
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
