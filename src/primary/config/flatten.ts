/**
 * The validated model as Kong's entities: one flat list per entity, each record with its id,
 * defaults filled in and every foreign key written as `{ id }` (or null), the shape Kong's Admin
 * API answers with. The entity store keeps these; `toDeclarative()` of them loads again as is.
 * The records are the model's own, completed in place (no copy of 200,000 records): flatten a
 * model last, once the snapshot (which only reads it) is compiled.
 */
import { ENTITY_DEFS, ENTITY_ORDER, type EntityName } from './entities';
import type { ResolvedEntry } from './references';
import type { Model } from './validate';

export type EntityRecord = Record<string, unknown> & { id: string };
export type EntitySet = Record<EntityName, EntityRecord[]>;

export function emptyEntitySet(): EntitySet {
  return Object.fromEntries(ENTITY_ORDER.map((e) => [e, []])) as unknown as EntitySet;
}

/** Takes the model's records over: the model is not to be used afterwards. */
export function flattenModel(model: Model): EntitySet {
  const out = emptyEntitySet();
  for (const entity of ENTITY_ORDER) {
    const foreign = Object.entries(ENTITY_DEFS[entity].foreign);
    const list = out[entity];
    for (const e of model.entries[entity] as ResolvedEntry[]) {
      const rec = e.rec;
      for (const [field, target] of foreign) {
        const idx = e.resolved?.[field] ?? -1;
        const id = idx >= 0 ? model.entries[target!][idx]?.rec.id : undefined;
        rec[field] = typeof id === 'string' ? { id } : null;
      }
      list.push(rec as EntityRecord);
    }
  }
  return out;
}
