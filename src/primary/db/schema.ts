/**
 * Hyperway's tables, one per Kong entity, with Kong's table names: the record as Kong's Admin API
 * shows it in `entity` (jsonb), the id, and generated columns for what the database enforces
 * (names and keys unique, foreign keys). Constraints are deferred to commit, so one transaction
 * may apply a whole diff in any order (swap two names, delete a consumer and its credentials).
 * `ord` keeps the order entities were created in, which lists and the declarative export keep.
 *
 * This text is migration 000's: frozen once released; later changes are new migrations.
 */
interface TableSpec {
  table: string;
  /** Generated text columns: name → JSON field. */
  text?: Record<string, string>;
  /** Foreign keys: the record's field (`{ id }`) → referenced table. */
  foreign?: Record<string, string>;
  /** Unique column sets (NULLs equal: one global plugin of a name, as Kong). */
  unique?: string[][];
}

const TABLES: readonly TableSpec[] = [
  { table: 'services', text: { name: 'name' }, unique: [['name']] },
  { table: 'routes', text: { name: 'name' }, foreign: { service: 'services' }, unique: [['name']] },
  { table: 'upstreams', text: { name: 'name' }, unique: [['name']] },
  { table: 'targets', text: { target: 'target' }, foreign: { upstream: 'upstreams' }, unique: [['upstream_id', 'target']] },
  { table: 'consumers', text: { username: 'username', custom_id: 'custom_id' }, unique: [['username'], ['custom_id']] },
  { table: 'plugins', text: { name: 'name' }, foreign: { route: 'routes', service: 'services', consumer: 'consumers' }, unique: [['name', 'route_id', 'service_id', 'consumer_id']] },
  { table: 'keyauth_credentials', text: { key: 'key' }, foreign: { consumer: 'consumers' }, unique: [['key']] },
  { table: 'basicauth_credentials', text: { username: 'username' }, foreign: { consumer: 'consumers' }, unique: [['username']] },
  { table: 'jwt_secrets', text: { key: 'key' }, foreign: { consumer: 'consumers' }, unique: [['key']] },
  { table: 'acls', text: { group: 'group' }, foreign: { consumer: 'consumers' }, unique: [['consumer_id', 'group']] },
];

/** Migration 001: the TLS entities (TLS termination came after 000). */
const TLS_TABLES: readonly TableSpec[] = [
  { table: 'certificates' },
  { table: 'ca_certificates' },
  { table: 'snis', text: { name: 'name' }, foreign: { certificate: 'certificates' }, unique: [['name']] },
];

export const ENTITY_TABLES: readonly string[] = [...TABLES, ...TLS_TABLES].map((t) => t.table);

const q = (s: string): string => `"${s}"`;
const DEFERRED = 'DEFERRABLE INITIALLY DEFERRED';

function tableSql(t: TableSpec): string {
  const cols = [
    'id uuid PRIMARY KEY',
    'entity jsonb NOT NULL',
    "ord bigint NOT NULL DEFAULT nextval('hyperway_entity_order')",
  ];
  for (const [col, field] of Object.entries(t.text ?? {})) cols.push(`${q(col)} text GENERATED ALWAYS AS (entity->>'${field}') STORED`);
  for (const [field, ref] of Object.entries(t.foreign ?? {})) {
    cols.push(`${q(`${field}_id`)} uuid GENERATED ALWAYS AS ((entity->'${field}'->>'id')::uuid) STORED REFERENCES ${q(ref)} (id) ${DEFERRED}`);
  }
  for (const u of t.unique ?? []) cols.push(`UNIQUE NULLS NOT DISTINCT (${u.map(q).join(', ')}) ${DEFERRED}`);
  return `CREATE TABLE ${q(t.table)} (\n  ${cols.join(',\n  ')}\n);\nCREATE INDEX ON ${q(t.table)} (ord);`;
}

/** Migration 000: the entity tables and the config version every node compares. */
export const BASE_SCHEMA_SQL = [
  'CREATE SEQUENCE hyperway_entity_order;',
  ...TABLES.map(tableSql),
  // One row: bumped by every change, so a node that missed a NOTIFY sees it differs.
  'CREATE TABLE hyperway_config_version (id int PRIMARY KEY CHECK (id = 1), version bigint NOT NULL);',
  'INSERT INTO hyperway_config_version (id, version) VALUES (1, 0);',
].join('\n');

/** The channel every change is announced on (payload: the new version). */
export const NOTIFY_CHANNEL = 'hyperway_config';

/** Migration 001: certificates, ca_certificates and snis. */
export const TLS_SCHEMA_SQL = TLS_TABLES.map(tableSql).join('\n');
