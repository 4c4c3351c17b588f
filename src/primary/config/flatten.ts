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

/**
 * An EntitySet made by `make` when one of its lists is first read (then it is a plain object).
 * The primary's start sends the workers their snapshot first and flattens after (index.ts): on 2
 * cores the flatten (~0.1–0.2 s with its garbage for 100,000 consumers) competed with the workers'
 * decode or sat on the start's path. Serializers (msgpackr, JSON, structuredClone) read it as usual.
 */
export function lazyEntitySet(make: () => EntitySet): EntitySet {
  const out = {} as EntitySet;
  let made: EntitySet | null = null;
  const materialize = (): EntitySet => {
    if (made === null) {
      made = make();
      for (const e of ENTITY_ORDER) Object.defineProperty(out, e, { value: made[e], writable: true, enumerable: true, configurable: true });
    }
    return made;
  };
  for (const e of ENTITY_ORDER) {
    Object.defineProperty(out, e, {
      enumerable: true,
      configurable: true,
      get: () => materialize()[e],
      set: (v: EntityRecord[]) => {
        materialize();
        out[e] = v;
      },
    });
  }
  return out;
}
