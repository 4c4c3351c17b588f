/**
 * `database = postgres` at start: the entities come from Postgres (kong.yml gives only the
 * `hyperway:` block, as Kong ignores declarative_config in DB mode), or, while Postgres is down,
 * from the local cache of the last configuration, with a warning. start() then keeps this node in
 * step with the database (sync.ts).
 */
import type { Pool, PoolClient } from 'pg';
import { ENTITY_ORDER, loadConfigText, type LoadedConfig } from '../config';
import type { RolloutTarget } from '../rollout';
import type { ConfigWriter } from '../store/writer';
import type { Snapshot } from '../../shared/snapshot';
import { createPool, describeDb } from './pool';
import { PgStore, readAll, type DbContent } from './pg-store';
import { migrationState } from './migrations';
import { cachePath, readCache, writeCache } from './cache';
import { DbSync } from './sync';

export interface DbMode {
  store: PgStore;
  /** What the node starts serving (validated and compiled like a file). */
  loaded: LoadedConfig;
  /** Lines for stderr. */
  notices: string[];
  start(writer: ConfigWriter, target: RolloutTarget, prepare: (next: Snapshot) => Snapshot): void;
  /** Reads the database again now (SIGHUP). */
  resync(): void;
  close(): Promise<void>;
}

export async function openDatabase(fromFile: LoadedConfig, settingsBlock: unknown, env: NodeJS.ProcessEnv): Promise<DbMode> {
  const settings = fromFile.snapshot.settings;
  const where = describeDb(settings);
  const notices: string[] = [];
  if (ENTITY_ORDER.some((e) => fromFile.entities[e].length > 0)) {
    notices.push(`hyperway: warning: database = postgres: the entities of ${fromFile.file} are ignored (load them with 'hyperway config db_import ${fromFile.file}')`);
  }
  const pool = createPool(settings);
  const cacheFile = cachePath(settings.dbCacheFile, where);
  let content: DbContent;
  let reachable = true;
  try {
    await checkSchema(pool, settings.pgSchema, where);
    content = await readAll(pool);
  } catch (e) {
    if ((e as { schema?: boolean }).schema) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    const cached = readCache(cacheFile);
    if (cached === null) {
      await pool.end().catch(() => undefined);
      throw new Error(`cannot reach the database ${where}: ${(e as Error).message} (and no cached configuration in ${cacheFile})`);
    }
    notices.push(`hyperway: warning: cannot reach the database ${where} (${(e as Error).message}); starting from the configuration cached in ${cacheFile} at ${cached.writtenAt} (database version ${cached.version}); Admin API writes answer 503 until it is back`);
    content = cached;
    reachable = false;
  }
  const store = new PgStore(pool, content, settingsBlock, where);
  store.reachable = reachable;
  const loaded = loadConfigText(JSON.stringify(store.documentOf(content.entities)), where, env, 1);
  // Snapshots travel to every worker, which never talks to the database: they need no password.
  loaded.snapshot.settings.pgPassword = '';
  if (reachable) writeCache(cacheFile, where, { entities: loaded.entities, version: content.version });
  let sync: DbSync | null = null;
  return {
    store,
    loaded,
    notices,
    start(writer, target, prepare) {
      sync = new DbSync({ settings, pool, store, writer, target, prepare, env, cacheFile });
      sync.start();
    },
    resync() {
      sync?.schedule();
    },
    async close() {
      await (sync?.close() ?? pool.end());
    },
  };
}

/** Kong refuses to start on a database that is not bootstrapped or has migrations pending: so does Hyperway. */
async function checkSchema(pool: Pool, schema: string, where: string): Promise<void> {
  const c: PoolClient = await pool.connect();
  try {
    const state = await migrationState(c, schema);
    const fail = (msg: string): never => {
      throw Object.assign(new Error(`${where}: ${msg}`), { schema: true });
    };
    if (!state.bootstrapped) fail("the database is not bootstrapped: run 'hyperway migrations bootstrap'");
    if (state.pending.length > 0) fail(`new migrations available (${state.pending.join(', ')}): run 'hyperway migrations up'`);
  } finally {
    c.release();
  }
}
