/**
 * What every entity store shares: the content it holds now, in memory, answers every read and
 * gives each change its draft; the stores differ only in where a commit goes (file-store.ts: the
 * state file; db/pg-store.ts: Postgres).
 */
import type { EntityName, EntityRecord, EntityView } from './types';
import type { MemoryEntities } from './memory';

export abstract class HeldEntities implements EntityView {
  protected current: MemoryEntities;

  protected constructor(current: MemoryEntities) {
    this.current = current;
  }

  list(entity: EntityName): readonly EntityRecord[] {
    return this.current.list(entity);
  }

  get(entity: EntityName, id: string): EntityRecord | undefined {
    return this.current.get(entity, id);
  }

  put(entity: EntityName, rec: EntityRecord): void {
    this.current.put(entity, rec);
  }

  delete(entity: EntityName, id: string): void {
    this.current.delete(entity, id);
  }

  deleteWhere(entity: EntityName, pick: (rec: EntityRecord) => boolean): void {
    this.current.deleteWhere(entity, pick);
  }

  toDeclarative(): Record<string, unknown> {
    return this.current.toDeclarative();
  }

  draft(): EntityView {
    return this.current.clone();
  }
}
