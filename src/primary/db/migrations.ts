/**
 * Kong's `migrations` commands on Hyperway's schema. Each migration runs in its own transaction
 * under an advisory lock, so two nodes running `bootstrap` or `up` at once apply it once;
 * `hyperway_migrations` records what ran.
 */
import type { ClientBase } from 'pg';
import { quoteIdent } from './pool';
import { BASE_SCHEMA_SQL, TLS_SCHEMA_SQL } from './schema';

export interface Migration {
  name: string;
  up: string;
}

/** In order; a released migration never changes (add a new one). */
export const MIGRATIONS: readonly Migration[] = [
  { name: '000_base_hyperway', up: BASE_SCHEMA_SQL },
  { name: '001_tls_entities', up: TLS_SCHEMA_SQL },
];

/** Any constant: serialises migrations of every node on this database. */
const LOCK_KEY = 0x48595057; // "HYPW"

const MIGRATIONS_TABLE = 'CREATE TABLE IF NOT EXISTS hyperway_migrations (name text PRIMARY KEY, executed_at timestamptz NOT NULL DEFAULT now())';

export interface MigrationState {
  executed: string[];
  pending: string[];
  /** Whether the schema was ever bootstrapped (the migrations table exists). */
  bootstrapped: boolean;
}

export async function migrationState(c: ClientBase, schema: string): Promise<MigrationState> {
  const t = await c.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${schema === '' ? '' : quoteIdent(schema) + '.'}hyperway_migrations`]);
  if (t.rows[0].t === null) return { executed: [], pending: MIGRATIONS.map((m) => m.name), bootstrapped: false };
  const done = new Set((await c.query<{ name: string }>('SELECT name FROM hyperway_migrations ORDER BY name')).rows.map((r) => r.name));
  return { executed: [...done], pending: MIGRATIONS.filter((m) => !done.has(m.name)).map((m) => m.name), bootstrapped: true };
}

/** Applies every migration not yet recorded; returns the names applied (none: up to date). */
export async function runMigrations(c: ClientBase, schema: string): Promise<string[]> {
  if (schema !== '') await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  const applied: string[] = [];
  for (const m of MIGRATIONS) {
    await c.query('BEGIN');
    try {
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      await c.query(MIGRATIONS_TABLE);
      const done = await c.query('SELECT 1 FROM hyperway_migrations WHERE name = $1', [m.name]);
      if (done.rowCount === 0) {
        await c.query(m.up);
        await c.query('INSERT INTO hyperway_migrations (name) VALUES ($1)', [m.name]);
        applied.push(m.name);
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }
  return applied;
}
