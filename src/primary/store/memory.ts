/** An EntityView over plain arrays: the file store's content and every draft. */
import { ENTITY_ORDER, emptyEntitySet, type EntityName, type EntityRecord, type EntitySet } from '../config';
import type { EntityView } from './types';

export class MemoryEntities implements EntityView {
  readonly #set: EntitySet;
  /** The `hyperway:` block (settings) the document carries; never changed through the API. */
  readonly #settingsBlock: unknown;

  constructor(set: EntitySet = emptyEntitySet(), settingsBlock?: unknown) {
    this.#set = set;
    this.#settingsBlock = settingsBlock;
  }

  get settingsBlock(): unknown {
    return this.#settingsBlock;
  }

  list(entity: EntityName): readonly EntityRecord[] {
    return this.#set[entity];
  }

  get(entity: EntityName, id: string): EntityRecord | undefined {
    const lower = id.toLowerCase();
    return this.#set[entity].find((r) => r.id.toLowerCase() === lower);
  }

  put(entity: EntityName, rec: EntityRecord): void {
    const list = this.#set[entity];
    const i = list.findIndex((r) => r.id === rec.id);
    if (i === -1) list.push(rec);
    else list[i] = rec;
  }

  delete(entity: EntityName, id: string): void {
    const list = this.#set[entity];
    const i = list.findIndex((r) => r.id === id);
    if (i !== -1) list.splice(i, 1);
  }

  deleteWhere(entity: EntityName, pick: (rec: EntityRecord) => boolean): void {
    const list = this.#set[entity];
    let kept = 0;
    for (const r of list) if (!pick(r)) list[kept++] = r;
    list.length = kept;
  }

  clone(): MemoryEntities {
    return new MemoryEntities(structuredClone(this.#set), this.#settingsBlock);
  }

  toDeclarative(): Record<string, unknown> {
    const doc: Record<string, unknown> = { _format_version: '3.0' };
    if (this.#settingsBlock !== undefined && this.#settingsBlock !== null) doc.hyperway = this.#settingsBlock;
    for (const entity of ENTITY_ORDER) {
      if (this.#set[entity].length > 0) doc[entity] = this.#set[entity].map(withoutNulls);
    }
    return doc;
  }
}

/** Nulls are "not set": leaving them out keeps the document short and loads the same. */
function withoutNulls(rec: EntityRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}
