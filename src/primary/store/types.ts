/**
 * The entity store: the validated entities (Kong's field names, ids, created_at/updated_at, tags)
 * behind every Admin API answer. A store never validates: every change becomes a declarative
 * document (`toDeclarative()`) that goes through the same validation and compile as kong.yml.
 * The file-backed store is the first; a Postgres store (Kong's DB mode) implements the same
 * interface later.
 */
import type { EntityName, EntityRecord, EntitySet } from '../config';

export type { EntityName, EntityRecord, EntitySet };

/** One consistent set of entities, read and changed in place. */
export interface EntityView {
  list(entity: EntityName): readonly EntityRecord[];
  get(entity: EntityName, id: string): EntityRecord | undefined;
  /** Inserts, or replaces the record with the same id in place (list order is kept). */
  put(entity: EntityName, rec: EntityRecord): void;
  delete(entity: EntityName, id: string): void;
  /** Removes every record of `entity` that `pick` selects, in one pass (a cascade's children). */
  deleteWhere(entity: EntityName, pick: (rec: EntityRecord) => boolean): void;
  /** A `_format_version: "3.0"` document with every entity at the top level, loadable as a file. */
  toDeclarative(): Record<string, unknown>;
}

export interface EntityStore extends EntityView {
  /** A private copy to change; the store itself changes only on commit. */
  draft(): EntityView;
  /** Makes `entities` (as validated from a draft) the store's content and persists them. */
  commit(entities: EntitySet): Promise<void>;
}
