/**
 * The Postgres entity store (Kong's DB mode). Reads every entity into memory at start and on
 * every change announced by another node; Admin API reads never query the database. commit()
 * writes the difference in one transaction, bumps the config version and NOTIFYs every node.
 */
import type { Pool, PoolClient } from 'pg';
import { ENTITY_ORDER, emptyEntitySet, type EntityRecord, type EntitySet } from '../config';
import { MemoryEntities } from '../store/memory';
import type { EntityStore, EntityView } from '../store/types';
import { NOTIFY_CHANNEL } from './schema';
import { HeldEntities } from '../store/held';

/** What the database holds at one version. */
export interface DbContent {
  entities: EntitySet;
  version: number;
}

/** Every entity and the version, from one consistent snapshot of the database. */
export async function readAll(pool: Pool): Promise<DbContent> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const version = Number((await c.query<{ version: string }>('SELECT version FROM hyperway_config_version WHERE id = 1')).rows[0]?.version ?? 0);
    const entities = emptyEntitySet();
    for (const entity of ENTITY_ORDER) {
      const rows = await c.query<{ entity: EntityRecord }>(`SELECT entity FROM "${entity}" ORDER BY ord`);
      entities[entity] = rows.rows.map((r) => r.entity);
    }
    await c.query('COMMIT');
    return { entities, version };
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

/** Marks errors of an unreachable database (as opposed to a constraint the change broke). */
export class DatabaseUnavailable extends Error {
  readonly unavailable = true;
}

export class PgStore extends HeldEntities implements EntityStore {
  #version: number;
  readonly #pool: Pool;
  readonly #where: string;
  #reachable = true;
  /** Told after a commit that found changes of another node it did not hold (it must reload). */
  onBehind: (() => void) | null = null;
  /** Told what this node wrote (the local cache follows it). */
  onCommitted: ((content: DbContent) => void) | null = null;

  constructor(pool: Pool, content: DbContent, settingsBlock: unknown, where: string) {
    super(new MemoryEntities(content.entities, settingsBlock));
    this.#pool = pool;
    this.#version = content.version;
    this.#where = where;
  }

  /** Named in validation problems and error messages (the writer calls it the state file). */
  get stateFile(): string {
    return this.#where;
  }

  /** The database version the entities in memory come from. */
  get version(): number {
    return this.#version;
  }

  get reachable(): boolean {
    return this.#reachable;
  }

  set reachable(up: boolean) {
    this.#reachable = up;
  }

  /** Why writes are refused now (the writer answers 503), or null. */
  unavailable(): string | null {
    return this.#reachable ? null : `the database (${this.#where}) is unreachable`;
  }

  /** `entities` as a declarative document with this node's `hyperway:` block. */
  documentOf(entities: EntitySet): Record<string, unknown> {
    return new MemoryEntities(entities, this.current.settingsBlock).toDeclarative();
  }

  /** Takes what another node wrote (already validated and rolled out here). */
  replace(content: DbContent): void {
    this.current = new MemoryEntities(content.entities, this.current.settingsBlock);
    this.#version = content.version;
  }

  async commit(entities: EntitySet): Promise<void> {
    let c: PoolClient;
    try {
      c = await this.#pool.connect();
    } catch (e) {
      this.#reachable = false;
      throw new DatabaseUnavailable(`cannot reach ${this.#where}: ${(e as Error).message}`);
    }
    let base: number;
    let version: number;
    try {
      await c.query('BEGIN');
      base = Number((await c.query<{ version: string }>('SELECT version FROM hyperway_config_version WHERE id = 1 FOR UPDATE')).rows[0].version);
      if (!(await writeDiff(c, this.current, entities))) {
        // Nothing differs: no new version, nothing for the other nodes to read.
        await c.query('ROLLBACK');
        this.current = new MemoryEntities(entities, this.current.settingsBlock);
        if (base !== this.#version) this.onBehind?.();
        return;
      }
      version = Number((await c.query<{ version: string }>('UPDATE hyperway_config_version SET version = version + 1 WHERE id = 1 RETURNING version')).rows[0].version);
      await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, String(version)]);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      const err = e as Error;
      if (uniqueViolation(err)) {
        // Another node committed the same name or key first: this node's view is behind.
        this.onBehind?.();
        throw Object.assign(new Error(`${this.#where}: ${err.message}`), { conflict: conflictKey(err) });
      }
      if (!lostDatabase(err)) throw new Error(`${this.#where}: ${err.message}`); // a foreign-key rule, a bad value
      this.#reachable = false;
      throw new DatabaseUnavailable(`${this.#where}: ${err.message}`);
    } finally {
      c.release();
    }
    this.current = new MemoryEntities(entities, this.current.settingsBlock);
    this.onCommitted?.({ entities, version });
    if (base === this.#version) {
      this.#version = version;
    } else {
      // Another node changed the database since this one last read it: what is in memory lacks
      // that change, so keep the older version and let the sync read everything again.
      this.onBehind?.();
    }
  }
}

/** Deletes (referrers first), then inserts or updates (referenced first) what differs; false when nothing did. */
async function writeDiff(c: PoolClient, current: EntityView, next: EntitySet): Promise<boolean> {
  let changed = false;
  for (const entity of [...ENTITY_ORDER].reverse()) {
    const keep = new Set(next[entity].map((r) => r.id));
    const gone = current.list(entity).filter((r) => !keep.has(r.id)).map((r) => r.id);
    if (gone.length > 0) {
      await c.query(`DELETE FROM "${entity}" WHERE id = ANY($1::uuid[])`, [gone]);
      changed = true;
    }
  }
  for (const entity of ENTITY_ORDER) {
    const ids: string[] = [];
    const docs: string[] = [];
    for (const rec of next[entity]) {
      const old = current.get(entity, rec.id);
      // jsonb does not keep key order: compare with sorted keys.
      if (old !== undefined && canonical(old) === canonical(rec)) continue;
      ids.push(rec.id);
      docs.push(JSON.stringify(rec));
    }
    if (ids.length === 0) continue;
    changed = true;
    await c.query(
      `INSERT INTO "${entity}" (id, entity) SELECT * FROM unnest($1::uuid[], $2::jsonb[]) ON CONFLICT (id) DO UPDATE SET entity = excluded.entity`,
      [ids, docs],
    );
  }
  return changed;
}

/**
 * Whether an error says the database is gone (no connection, shutting down, out of resources),
 * as opposed to one about the change: socket errors (ECONNREFUSED …) and "Connection terminated"
 * carry no SQLSTATE; classes 08, 53 and 57 are the server's.
 */
/** Postgres refused a row for a unique rule (SQLSTATE 23505). */
export function uniqueViolation(e: Error & { code?: unknown }): boolean {
  return e.code === '23505';
}

/**
 * The key Postgres reports (`Key (name)=(x) already exists.`), as Kong's 409 names it: columns
 * ending in `_id` are the entity's references (`upstream_id` → `upstream`).
 */
export function conflictKey(e: Error & { detail?: unknown }): Record<string, string> {
  const m = typeof e.detail === 'string' ? /^Key \((.+)\)=\((.*)\) already exists\.?$/.exec(e.detail) : null;
  if (m === null) return {};
  const cols = m[1].split(', ').map((c) => c.replace(/^"|"$/g, '').replace(/_id$/, ''));
  const values = m[2].split(', ');
  return cols.length === values.length ? Object.fromEntries(cols.map((c, i) => [c, values[i]])) : {};
}

export function lostDatabase(e: Error & { code?: unknown }): boolean {
  const code = e.code;
  // No SQLSTATE class starts with E: EPIPE, ECONNRESET … are the socket's.
  if (typeof code !== 'string' || code.startsWith('E') || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith('08') || code.startsWith('53') || code.startsWith('57');
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
}
