import { resolve } from 'node:path';

/** The database commands' usage lines (the CLI prints them without loading pg). */
export const DB_USAGE = `  hyperway migrations bootstrap|up|list|finish [--config FILE]   Kong's database schema (database = postgres)
  hyperway config db_import FILE [--config FILE]                load a declarative file into the database
  hyperway config db_export FILE [--config FILE]                write the database's entities as a declarative file`;

/** The empty config `hyperway start` loads in DB mode when none is given (settings from the environment). */
export const DB_MODE_CONFIG = resolve(__dirname, '..', '..', '..', '..', 'native-config', 'db-mode.yaml');

/** `database = postgres` set by HYPERWAY_DATABASE or KONG_DATABASE (HYPERWAY_ wins, as for every setting). */
export function dbModeByEnv(env: NodeJS.ProcessEnv): boolean {
  const v = env.HYPERWAY_DATABASE || env.KONG_DATABASE;
  return typeof v === 'string' && v.trim().toLowerCase() === 'postgres';
}
