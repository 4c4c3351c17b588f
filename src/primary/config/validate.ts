/**
 * Kong's declarative format (kong-reference a): the top level, entity arrays, nesting. Every
 * entity becomes an Entry in one flat list per entity with its references kept apart, the way
 * Kong's `flatten` does; references.ts then gives ids, checks uniqueness and resolves them.
 */
import { ENTITY_DEFS, ENTITY_ORDER, UNSUPPORTED_ENTITIES, type EntityName, type Entry, type Ref } from './entities';
import { isRecord, withArticle, type Path, type Problems, type Seg } from './problems';
import { assignIds, checkUniqueness, resolveReferences, crossChecks } from './references';
import { migrateRoutePaths } from './migrate-paths';
import { yaml11Boolean } from './schema';
import { ShapeCache } from './shapes';

export const FORMAT_VERSIONS = ['1.1', '2.1', '3.0'];

export interface Model {
  formatVersion: string;
  /** The `hyperway:` block as written (settings.ts reads it). */
  settingsBlock: unknown;
  entries: Record<EntityName, Entry[]>;
}

const TOP_LEVEL = new Set(['_format_version', '_transform', '_comment', '_ignore', 'hyperway']);

export function validateDeclarative(input: unknown, pr: Problems): Model | undefined {
  if (!isRecord(input)) {
    pr.err([], input === null || input === undefined ? 'expected a declarative config, the file is empty' : 'expected a record at the top level');
    return undefined;
  }
  const formatVersion = checkFormatVersion(input, pr);
  const value = migrateRoutePaths(input, formatVersion, pr);
  if (value._transform !== undefined && typeof value._transform !== 'boolean' && (yaml11Boolean(value._transform) === undefined || pr.quotedScalar?.(['_transform']))) {
    pr.err(['_transform'], 'expected a boolean');
  }
  if (value._comment !== undefined && typeof value._comment !== 'string') pr.err(['_comment'], 'expected a string');
  if (value._ignore !== undefined && !Array.isArray(value._ignore)) pr.err(['_ignore'], 'expected an array');

  const entries = Object.fromEntries(ENTITY_ORDER.map((e) => [e, [] as Entry[]])) as Record<EntityName, Entry[]>;
  for (const [key, v] of Object.entries(value)) {
    if (TOP_LEVEL.has(key)) continue;
    if (Object.prototype.hasOwnProperty.call(ENTITY_DEFS, key)) {
      if (v !== null && v !== undefined) walk(key as EntityName, v, [key], undefined, entries, pr);
    } else if (UNSUPPORTED_ENTITIES.includes(key)) {
      if (v === null || (Array.isArray(v) && v.length === 0)) continue;
      pr.err([key], `'${key}' entities are not supported by Hyperway yet`, 'key');
    } else if (isRecord(v) && ENTITY_ORDER.some((e) => e in v)) {
      pr.err([key], `unknown field: top-level keys are _format_version and entity lists (services, routes, plugins …); move the ${ENTITY_ORDER.filter((e) => e in v).join(', ')} of '${key}' to the top level`, 'key');
    } else {
      pr.err([key], 'unknown field', 'key');
    }
  }
  assignIds(entries);
  checkUniqueness(entries, pr);
  resolveReferences(entries, pr);
  crossChecks(entries, pr);
  return { formatVersion: formatVersion ?? '3.0', settingsBlock: value.hyperway, entries };
}

function checkFormatVersion(value: Record<string, unknown>, pr: Problems): string | undefined {
  const fv = value._format_version;
  if (fv === undefined || fv === null) {
    pr.err(['_format_version'], 'required field missing (a declarative config starts with _format_version: "3.0")');
    return undefined;
  }
  if (typeof fv !== 'string') {
    pr.err(['_format_version'], `expected a string (quote it: _format_version: "${String(fv)}")`);
    return undefined;
  }
  if (!FORMAT_VERSIONS.includes(fv)) {
    pr.err(['_format_version'], `expected one of: ${FORMAT_VERSIONS.join(', ')}`);
    return undefined;
  }
  return fv;
}

interface Parent {
  entity: EntityName;
  index: number;
  entry: Entry;
  /** The reference every child of this entry carries (one object, shared: refs are only read). */
  ref: Ref;
}

/** What the walk needs of an entity's definition, computed once per entity, not once per array. */
interface WalkPlan {
  skip: ReadonlySet<string>;
  foreign: ReadonlyArray<[string, EntityName]>;
  required: ReadonlySet<string>;
  /** An entry's refs object, its foreign keys in order (shapes.ts). */
  makeRefs: (vals: readonly unknown[]) => Record<string, unknown>;
}

const plans = new Map<EntityName, WalkPlan>();
const refShapes = new ShapeCache();
/** readRef()'s results for one entry, before they are made its refs object. */
const refVals: Array<Ref | null> = [];

function planOf(entity: EntityName): WalkPlan {
  let plan = plans.get(entity);
  if (plan === undefined) {
    const def = ENTITY_DEFS[entity];
    plan = {
      skip: new Set<string>([...def.children, ...Object.keys(def.foreign)]),
      foreign: Object.entries(def.foreign) as Array<[string, EntityName]>,
      required: new Set(def.requiredForeign ?? []),
      makeRefs: refShapes.factory(Object.keys(def.foreign)),
    };
    plans.set(entity, plan);
  }
  return plan;
}

/** Entries of entities without foreign keys all carry this one (never written to). */
const NO_REFS: Record<string, Ref | null> = Object.freeze({}) as Record<string, Ref | null>;

/**
 * No path array is built per field: an entry's own path (kept in the Entry, for later problems)
 * is the only one per entity; field paths are built by schema.ts only when one is reported.
 */
function walk(entity: EntityName, arr: unknown, path: Path, parent: Parent | undefined, entries: Record<EntityName, Entry[]>, pr: Problems): void {
  if (!Array.isArray(arr)) {
    pr.err(path, 'expected an array');
    return;
  }
  const def = ENTITY_DEFS[entity];
  const { skip, foreign, required, makeRefs } = planOf(entity);
  const list = entries[entity];
  for (let i = 0; i < arr.length; i++) {
    const raw: unknown = arr[i];
    const itemPath = append(path, i);
    if (!isRecord(raw)) {
      pr.err(itemPath, 'expected a record');
      continue;
    }
    let refs = NO_REFS;
    if (foreign.length > 0) {
      for (let f = 0; f < foreign.length; f++) {
        const [field, target] = foreign[f];
        refVals[f] = readRef(field, target, raw[field], itemPath, parent, required.has(field), pr);
      }
      refs = makeRefs(refVals) as Record<string, Ref | null>;
      refVals.fill(null);
    }
    const rec = def.validate(raw, itemPath, pr, skip) ?? {};
    // Every field the later passes set is in the literal: added afterwards, they took one more
    // (out-of-object) property array per entry.
    const entry: Entry = { entity, index: list.length, under: parent?.entry ?? null, at: i, rec, refs, idGenerated: false, resolved: undefined };
    list.push(entry);
    let asParent: Parent | undefined;
    for (const child of def.children) {
      const v = raw[child];
      if (v === null || v === undefined) continue;
      asParent ??= { entity, index: entry.index, entry, ref: { parent: entry.index } };
      walk(child, v, append(itemPath, child), asParent, entries, pr);
    }
  }
}

/**
 * `[...path, seg]` in an array of exactly that length. A spread builds a growable array (room for
 * 17 elements, ~200 bytes): every entry keeps its path, and 320,000 of them (100,000 consumers
 * with a credential each) were ~45 MB of the load's survivors, copied by every scavenge.
 */
function append(path: Path, seg: Seg): Path {
  const out = new Array<Seg>(path.length + 1);
  for (let i = 0; i < path.length; i++) out[i] = path[i];
  out[path.length] = seg;
  return out;
}

function readRef(field: string, target: EntityName, v: unknown, itemPath: Path, parent: Parent | undefined, required: boolean, pr: Problems): Ref | null {
  if (parent && parent.entity === target) {
    if (v !== undefined && v !== null) {
      pr.err([...itemPath, field], `value must be null (nested under a ${ENTITY_DEFS[target].singular}, it takes its ${field} from there)`, 'key');
    }
    return parent.ref;
  }
  if (v === undefined || v === null) {
    if (required) pr.err([...itemPath, field], `required field missing (set ${field} to the id or ${ENTITY_DEFS[target].endpointKey ?? 'id'} of ${withArticle(ENTITY_DEFS[target].singular)}, or nest this entry under it)`);
    return null;
  }
  const path = [...itemPath, field];
  if (typeof v === 'string' && v !== '') return { value: v, path };
  if (isRecord(v) && typeof v.id === 'string') return { value: v.id, path };
  pr.err(path, `expected a string (the id or ${ENTITY_DEFS[target].endpointKey ?? 'id'} of ${withArticle(ENTITY_DEFS[target].singular)})`);
  return null;
}
