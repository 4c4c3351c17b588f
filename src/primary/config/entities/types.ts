/** What every entity module provides to the declarative walker (validate.ts). */
import type { Field } from '../schema';
import type { Path, Problems } from '../problems';

export type EntityName =
  | 'services'
  | 'routes'
  | 'upstreams'
  | 'targets'
  | 'consumers'
  | 'plugins'
  | 'keyauth_credentials'
  | 'basicauth_credentials'
  | 'jwt_secrets'
  | 'acls'
  | 'certificates'
  | 'ca_certificates'
  | 'snis';

export interface EntityDef {
  name: EntityName;
  /** Singular, for messages ("route"). */
  singular: string;
  fields: Record<string, Field>;
  /** Kong's endpoint_key: the field a top-level reference may use instead of the id. */
  endpointKey?: string;
  /** Whether the endpoint key is unique across the whole file (targets: only per upstream). */
  endpointKeyUnique?: boolean;
  /** Kong's cache_key, used for deterministic ids when there is no endpoint key. */
  cacheKey?: readonly string[];
  /** Foreign field → referenced entity. */
  foreign: Readonly<Partial<Record<string, EntityName>>>;
  /** Foreign fields that must be set (a target needs an upstream). */
  requiredForeign?: readonly string[];
  /** Child collections that may be nested inside a record of this entity. */
  children: readonly EntityName[];
  /**
   * Validates one record (foreign and child keys already removed) and returns the cleaned copy.
   * Entity checks (Kong's entity_checks, shorthands) live here.
   */
  validate(raw: Record<string, unknown>, path: Path, pr: Problems, skip: ReadonlySet<string>): Record<string, unknown> | undefined;
}

/** A reference to another entity: the enclosing record, or a string (id or endpoint key) written at top level. */
export type Ref = { parent: number } | { value: string; path: Path };

export interface Entry {
  entity: EntityName;
  /** Position in its entity's flat list. */
  index: number;
  /**
   * The entry this one is nested under (`consumers[3]` for `consumers[3].acls[0]`), or null at the
   * top level. With `at`, what entryPath() builds the entry's path from: 220,000 path arrays kept
   * in the entries were ~10 MB of a load's survivors, read only to report a problem.
   */
  under: Entry | null;
  /** The entry's position in the array of the file it was written in. */
  at: number;
  rec: Record<string, unknown>;
  refs: Record<string, Ref | null>;
  /** True when `rec.id` was generated (not written by the user): left out of the config hash. */
  idGenerated?: boolean;
  /** Set by references.ts (ResolvedEntry): each foreign key's index in its entity's list, or -1. */
  resolved?: Record<string, number>;
}

/** `['consumers', 3, 'acls', 0]`: where the entry is written (the file's arrays are named by their entity). */
export function entryPath(e: Entry): Path {
  const out: Array<string | number> = e.under === null ? [] : (entryPath(e.under) as Array<string | number>);
  out.push(e.entity, e.at);
  return out;
}
