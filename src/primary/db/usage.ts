/** The database commands' usage lines (the CLI prints them without loading pg). */
export const DB_USAGE = `  hyperway migrations bootstrap|up|list|finish [--config FILE]   Kong's database schema (database = postgres)
  hyperway config db_import FILE [--config FILE]                load a declarative file into the database
  hyperway config db_export FILE [--config FILE]                write the database's entities as a declarative file`;
