/**
 * Connections to Kong's database (DB mode): one small pool in the primary, never in a worker.
 * pg_schema goes into every session's search_path, so the SQL names tables unqualified.
 */
import { Client, Pool, type ClientConfig } from 'pg';
import type { Settings } from '../../shared/settings';

export type PgSettings = Pick<Settings, 'pgHost' | 'pgPort' | 'pgUser' | 'pgPassword' | 'pgDatabase' | 'pgSchema' | 'pgSsl' | 'pgSslVerify' | 'pgTimeout' | 'pgMaxConcurrentQueries'>;

/** The pool's size when pg_max_concurrent_queries is 0 (Kong: unlimited): writes are serialised anyway. */
const DEFAULT_POOL = 4;

export function clientConfig(s: PgSettings): ClientConfig {
  return {
    host: s.pgHost,
    port: s.pgPort,
    user: s.pgUser,
    password: s.pgPassword === '' ? undefined : s.pgPassword,
    database: s.pgDatabase,
    ssl: s.pgSsl ? { rejectUnauthorized: s.pgSslVerify } : false,
    connectionTimeoutMillis: s.pgTimeout,
    query_timeout: s.pgTimeout,
    options: s.pgSchema === '' ? undefined : `-c search_path=${quoteIdent(s.pgSchema)}`,
  };
}

export function createPool(s: PgSettings): Pool {
  const pool = new Pool({ ...clientConfig(s), max: s.pgMaxConcurrentQueries > 0 ? s.pgMaxConcurrentQueries : DEFAULT_POOL, idleTimeoutMillis: 30_000 });
  // An idle client losing its server emits on the pool: the next query reports it instead.
  pool.on('error', () => undefined);
  return pool;
}

/** One client outside the pool (LISTEN holds its connection; the CLI's commands need one). */
export async function connectClient(s: PgSettings): Promise<Client> {
  const c = new Client(clientConfig(s));
  await c.connect();
  return c;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `postgres://user@host:port/database` (no password), for messages. */
export function describeDb(s: PgSettings): string {
  return `postgres://${s.pgUser}@${s.pgHost.includes(':') ? `[${s.pgHost}]` : s.pgHost}:${s.pgPort}/${s.pgDatabase}${s.pgSchema === '' ? '' : `?schema=${s.pgSchema}`}`;
}
