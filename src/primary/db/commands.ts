/**
 * Kong's database commands:
 *   hyperway migrations bootstrap | up | list | finish
 *   hyperway config db_import FILE | db_export FILE
 * The database comes from the settings: `--config FILE`'s `hyperway:` block (or $HYPERWAY_CONFIG's)
 * and HYPERWAY_PG_* / KONG_PG_*, as for `hyperway start`.
 */
import { writeFileSync } from 'node:fs';
import { yaml } from '../../lib/optional-packages';
import { formatProblems } from '../../lib/errors';
import { loadConfigFile, loadConfigText, resolveSettings } from '../config';
import { readConfigText } from '../config/load';
import { MemoryEntities } from '../store/memory';
import type { Settings } from '../../shared/settings';
import { connectClient, createPool, describeDb } from './pool';
import { migrationState, runMigrations } from './migrations';
import { DB_USAGE } from './usage';
import { PgStore, readAll } from './pg-store';


const out = (s: string): void => void process.stdout.write(s + '\n');
const err = (s: string): void => void process.stderr.write(`hyperway: ${s}\n`);

/** Runs `argv` (`migrations …` or `config …`); resolves with the exit code. */
export async function runDbCommand(argv: string[]): Promise<number> {
  const rest: string[] = [];
  let configFile: string | null = null;
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '--config' || argv[i] === '-c') configFile = argv[++i] ?? null;
    else if (argv[i].startsWith('--config=')) configFile = argv[i].slice(9);
    else rest.push(argv[i]);
  }
  configFile ??= process.env.HYPERWAY_CONFIG ?? null;
  const settings = settingsFrom(configFile);
  if (settings === null) return 1;
  try {
    if (argv[0] === 'migrations') return await migrations(rest, settings);
    return await config(rest, settings);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('HW_ERR_')) process.stderr.write((e as Error).message + '\n');
    else err(`${describeDb(settings)}: ${(e as Error).message}`);
    return 1;
  }
}

function settingsFrom(configFile: string | null): Settings | null {
  let block: unknown;
  if (configFile !== null) {
    try {
      const doc = yaml().parse(readConfigText(configFile)) as unknown;
      block = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).hyperway : undefined;
    } catch (e) {
      err((e as Error).message);
      return null;
    }
  }
  const { settings, problems } = resolveSettings(block, process.env);
  if (problems.length > 0) {
    process.stderr.write(formatProblems(configFile ?? 'environment', problems) + '\n');
    return null;
  }
  return settings;
}

async function migrations(args: string[], s: Settings): Promise<number> {
  const sub = args[0];
  if (!['bootstrap', 'up', 'list', 'finish'].includes(sub ?? '')) {
    err(`migrations: expected bootstrap, up, list or finish\n${DB_USAGE}`);
    return 2;
  }
  const c = await connectClient(s);
  try {
    const state = await migrationState(c, s.pgSchema);
    if (sub === 'list') {
      if (!state.bootstrapped) {
        out('Database needs bootstrapping; run \'hyperway migrations bootstrap\'');
        return 3;
      }
      out(`Executed migrations:\n  hyperway: ${state.executed.join(', ')}`);
      if (state.pending.length === 0) {
        out('Database is up-to-date');
        return 0;
      }
      out(`New migrations available:\n  hyperway: ${state.pending.join(', ')}\nRun 'hyperway migrations up' to proceed`);
      return 5;
    }
    if (sub === 'finish') {
      out('No pending migrations to finish');
      return 0;
    }
    if (sub === 'bootstrap' && state.bootstrapped) {
      out(state.pending.length === 0 ? 'Database already bootstrapped' : "Database already bootstrapped; run 'hyperway migrations up' for the new migrations");
      return 0;
    }
    if (sub === 'up' && !state.bootstrapped) {
      err("Database needs bootstrapping; run 'hyperway migrations bootstrap'");
      return 1;
    }
    if (sub === 'bootstrap') out(`Bootstrapping database ${describeDb(s)}...`);
    const applied = await runMigrations(c, s.pgSchema);
    for (const m of applied) out(`hyperway migrated up to: ${m}`);
    out(applied.length === 0 ? 'Database is already up-to-date' : `${applied.length} migration${applied.length === 1 ? '' : 's'} processed\nDatabase is up-to-date`);
    return 0;
  } finally {
    await c.end();
  }
}

async function config(args: string[], s: Settings): Promise<number> {
  const [sub, file] = args;
  if ((sub !== 'db_import' && sub !== 'db_export') || file === undefined) {
    err(`config: expected db_import FILE or db_export FILE\n${DB_USAGE}`);
    return 2;
  }
  const where = describeDb(s);
  const pool = createPool(s);
  try {
    if (sub === 'db_export') {
      const { entities } = await readAll(pool);
      const text = yaml().stringify(new MemoryEntities(entities).toDeclarative());
      if (file === '-') process.stdout.write(text);
      else writeFileSync(file, text);
      return 0;
    }
    // Validated like a file first: an invalid file changes nothing.
    const imported = loadConfigFile(file, process.env, 1);
    if (imported.warnings.length > 0) process.stderr.write(formatProblems(file, imported.warnings, 'warning') + '\n');
    out('parse successful');
    // Kong's db_import adds to what is there: entities with the same id are replaced.
    const current = await readAll(pool);
    const merged = new MemoryEntities(structuredClone(current.entities));
    let count = 0;
    for (const [entity, list] of Object.entries(imported.entities)) {
      for (const rec of list) {
        merged.put(entity as keyof typeof imported.entities, rec);
        count++;
      }
    }
    const checked = loadConfigText(JSON.stringify(merged.toDeclarative()), where, process.env, 1);
    const store = new PgStore(pool, current, undefined, where);
    await store.commit(checked.entities);
    out(`import successful: ${count} entities (database version ${store.version})`);
    return 0;
  } finally {
    await pool.end();
  }
}
