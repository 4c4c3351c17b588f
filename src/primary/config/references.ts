/**
 * After the walk: deterministic ids, uniqueness, references (`validate_references`) and the
 * checks that need more than one entity. Entries get `resolved[field]` = index or -1.
 */
import { randomUUID } from 'node:crypto';
import { pluginStatus } from '../../plugins';
import { ENTITY_DEFS, ENTITY_ORDER, entryPath, type EntityName, type Entry } from './entities';
import { pathToString, withArticle, type Problems } from './problems';
import { entityUuid } from './uuid';
import { checkTlsReferences } from './entities/certificates';
import { ShapeCache } from './shapes';

const resolvedShapes = new ShapeCache();

export interface ResolvedEntry extends Entry {
  resolved: Record<string, number>;
}

type Entries = Record<EntityName, Entry[]>;

function refKeyPart(entries: Entries, e: Entry, field: string): string | null {
  const ref = e.refs[field];
  if (!ref) return '';
  if ('parent' in ref) {
    const target = ENTITY_DEFS[e.entity].foreign[field]!;
    const id = entries[target][ref.parent]?.rec.id;
    return typeof id === 'string' ? id : null;
  }
  return ref.value;
}

/** Kong's `get_key_for_uuid_gen`: endpoint key, else cache key, else a random id. */
function uuidKey(entries: Entries, e: Entry): string | null {
  const def = ENTITY_DEFS[e.entity];
  const ek = def.endpointKey ? e.rec[def.endpointKey] : undefined;
  if (typeof ek === 'string') {
    if (def.endpointKeyUnique) return ek;
    // Not globally unique (targets): compose with the parent, as Kong does for cascading foreigns.
    let key = ek;
    for (const field of Object.keys(def.foreign)) {
      const part = refKeyPart(entries, e, field);
      if (part === null) return null;
      key += `:${part}`;
    }
    return key;
  }
  if (!def.cacheKey) return null;
  let ck: string = e.entity;
  for (const k of def.cacheKey) {
    if (k in def.foreign) {
      const part = refKeyPart(entries, e, k);
      if (part === null) return null;
      ck += `:${part}`;
    } else if (typeof e.rec[k] === 'string') {
      ck += `:${e.rec[k] as string}`;
    } else {
      return null;
    }
  }
  return ck;
}

export function assignIds(entries: Entries): void {
  for (const entity of ENTITY_ORDER) {
    for (const e of entries[entity]) {
      if (typeof e.rec.id === 'string') continue;
      const key = uuidKey(entries, e);
      e.rec.id = key === null ? randomUUID() : entityUuid(entity, key);
      e.idGenerated = true;
    }
  }
}

/**
 * One set insertion per key (a lookup and an insertion into a Map<key, first entry> were ~0.1 s of
 * 100,000 usernames and 100,000 keys); the first entries are looked up only once a key repeats.
 */
function dupCheck(pr: Problems, list: Entry[], field: string, keyOf: (e: Entry) => string | null, what: (k: string) => string): void {
  const seen = new Set<string>();
  let firsts: Map<string, Entry> | undefined;
  for (const e of list) {
    const k = keyOf(e);
    if (k === null) continue;
    const size = seen.size;
    seen.add(k);
    if (seen.size !== size) continue;
    firsts ??= firstByKey(list, keyOf);
    const first = firsts.get(k)!;
    pr.err([...entryPath(e), field], `uniqueness violation: '${e.entity}' entity with ${what(k)} already declared (first at ${pathToString(entryPath(first))})`);
  }
}

/** Each key's first entry in the list. */
function firstByKey(list: Entry[], keyOf: (e: Entry) => string | null): Map<string, Entry> {
  const firsts = new Map<string, Entry>();
  for (const e of list) {
    const k = keyOf(e);
    if (k !== null && !firsts.has(k)) firsts.set(k, e);
  }
  return firsts;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function checkUniqueness(entries: Entries, pr: Problems): void {
  for (const entity of ENTITY_ORDER) {
    const def = ENTITY_DEFS[entity];
    const list = entries[entity];
    // Generated ids repeat only when their keys do; those are reported below, once.
    dupCheck(pr, list, 'id', (e) => (e.idGenerated ? null : (str(e.rec.id)?.toLowerCase() ?? null)), (k) => `primary key set to '${k}'`);
    if (def.endpointKey && def.endpointKeyUnique) {
      const ek = def.endpointKey;
      dupCheck(pr, list, ek, (e) => str(e.rec[ek]), (k) => `${ek} set to '${k}'`);
    }
  }
  dupCheck(pr, entries.consumers, 'custom_id', (e) => str(e.rec.custom_id), (k) => `custom_id set to '${k}'`);
}

/**
 * A name that exists as another kind of entity is the usual mistake: say which. `keys` holds each
 * entity's endpoint keys, made when a bad reference first asks (a scan per problem made a file
 * with thousands of bad references quadratic).
 */
function describe(entity: EntityName, value: string, entries: Entries, keys: Map<EntityName, Set<unknown>>): string {
  for (const other of ENTITY_ORDER) {
    const def = ENTITY_DEFS[other];
    if (other === entity || !def.endpointKey || !def.endpointKeyUnique) continue;
    const ek = def.endpointKey;
    let set = keys.get(other);
    if (set === undefined) keys.set(other, (set = new Set(entries[other].map((e) => e.rec[ek]))));
    if (set.has(value)) return `; '${value}' is ${withArticle(def.singular)} ${ek}, not ${withArticle(ENTITY_DEFS[entity].singular)}`;
  }
  return '';
}

/** id (lowercase) or unique endpoint key → index, for references written as values. */
function keyIndex(entity: EntityName, entries: Entries): Map<string, number> {
  const def = ENTITY_DEFS[entity];
  const m = new Map<string, number>();
  for (const e of entries[entity]) {
    if (typeof e.rec.id === 'string') m.set(e.rec.id.toLowerCase(), e.index);
  }
  // Endpoint keys win over ids, as in Kong's find_entity.
  if (def.endpointKey && def.endpointKeyUnique) {
    for (const e of entries[entity]) {
      const k = e.rec[def.endpointKey];
      if (typeof k === 'string') m.set(k, e.index);
    }
  }
  return m;
}

/** Entries of entities without foreign keys all carry this one (never written to). */
const NONE_RESOLVED: Record<string, number> = Object.freeze({}) as Record<string, number>;

export function resolveReferences(entries: Entries, pr: Problems): void {
  // Built for an entity only once a reference names one of its entries by value: nested entries
  // (the bulk of a large file) refer to their parent by index.
  const byKey = new Map<EntityName, Map<string, number>>();
  const endpointKeys = new Map<EntityName, Set<unknown>>();
  // Each entry's indexes are gathered here, then made one object of its entity's shape (shapes.ts).
  const vals: number[] = [];
  for (const entity of ENTITY_ORDER) {
    const foreign = Object.entries(ENTITY_DEFS[entity].foreign);
    const make = foreign.length === 0 ? undefined : resolvedShapes.factory(foreign.map(([field]) => field));
    for (const e of entries[entity] as ResolvedEntry[]) {
      if (make === undefined) {
        e.resolved = NONE_RESOLVED;
        continue;
      }
      for (let f = 0; f < foreign.length; f++) {
        const [field, target] = foreign[f];
        const ref = e.refs[field];
        if (!ref) vals[f] = -1;
        else if ('parent' in ref) vals[f] = ref.parent;
        else {
          let m = byKey.get(target!);
          if (m === undefined) byKey.set(target!, (m = keyIndex(target!, entries)));
          const idx = m.get(ref.value) ?? m.get(ref.value.toLowerCase());
          if (idx === undefined) {
            pr.err(ref.path, `invalid reference '${field}: ${ref.value}' (no such entry in '${target}')${describe(target!, ref.value, entries, endpointKeys)}`);
            vals[f] = -1;
          } else {
            vals[f] = idx;
          }
        }
      }
      e.resolved = make(vals) as Record<string, number>;
    }
  }
}

export function crossChecks(entries: Entries, pr: Problems): void {
  const r = (e: Entry): Record<string, number> => (e as ResolvedEntry).resolved;
  // Entries whose key field is invalid (already reported) take no part in uniqueness.
  dupCheck(pr, entries.targets, 'target', (e) => (r(e).upstream >= 0 && typeof e.rec.target === 'string' ? `${r(e).upstream}/${e.rec.target}` : null), (k) => `target set to '${k.slice(k.indexOf('/') + 1)}' for the same upstream`);
  dupCheck(pr, entries.acls, 'group', (e) => (r(e).consumer >= 0 && typeof e.rec.group === 'string' ? `${r(e).consumer}/${e.rec.group}` : null), (k) => `group set to '${k.slice(k.indexOf('/') + 1)}' for the same consumer`);
  dupCheck(
    pr,
    entries.plugins,
    'name',
    (e) => (typeof e.rec.name === 'string' ? [e.rec.name, r(e).route, r(e).service, r(e).consumer].join('/') : null),
    (k) => `name set to '${k.split('/')[0]}' for the same route, service and consumer`,
  );
  for (const e of entries.plugins) {
    const name = e.rec.name;
    if (typeof name !== 'string' || r(e).consumer < 0) continue;
    const s = pluginStatus(name);
    if (s.kind === 'implemented' && s.def.noConsumer) {
      pr.err([...entryPath(e), 'consumer'], `plugin '${name}' cannot be applied to a consumer`);
    }
  }
  checkTlsReferences(entries, pr);
  const hosts = new Set(entries.services.map((s) => String(s.rec.host).toLowerCase()));
  for (const u of entries.upstreams) {
    if (typeof u.rec.name === 'string' && !hosts.has(u.rec.name.toLowerCase())) {
      pr.warn([...entryPath(u), 'name'], `upstream '${u.rec.name}' is not used by any service (a service uses it by setting host: ${u.rec.name})`);
    }
  }
}
