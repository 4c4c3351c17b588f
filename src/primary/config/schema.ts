/**
 * A small declarative field schema, shaped like Kong's (`type`, `required`, `default`, `one_of`,
 * `between`, `elements`, `fields`, `custom_validator`). Validation returns a copy holding only the
 * known fields with defaults filled in; the input is never mutated.
 */
import { isRecord, type Path, type Problems, type Seg } from './problems';
import { ShapeCache } from './shapes';

export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'set' | 'map' | 'record' | 'any';

export interface Field {
  type: FieldType;
  required?: boolean;
  /** Used when the field is absent or null; cloned on every use. */
  default?: unknown;
  oneOf?: readonly (string | number)[];
  between?: readonly [number, number];
  /** Minimum length for strings/arrays; strings default to 1 as in Kong. */
  lenMin?: number;
  match?: { re: RegExp; err: string };
  elements?: Field;
  keys?: Field;
  values?: Field;
  fields?: Record<string, Field>;
  /** Record only: messages for known-misplaced keys, used instead of plain `unknown field`. */
  hints?: Record<string, string>;
  /** Runs on a value that passed the type checks: an error message, or null when fine. */
  check?: (v: unknown) => string | null;
}

/** Kong accepts these in every record and ignores them. */
const IGNORED_KEYS = new Set(['_comment', '_ignore']);

/**
 * Kong reads kong.yml with lyaml (YAML 1.1), where these plain scalars are booleans; the yaml
 * package (1.2 core schema) leaves them strings. Accepted only where a boolean is expected, so
 * the parser can stay on 1.2 (no sexagesimal `12:30`, no `no` country codes turned false).
 */
const YAML11_BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map((s) => [s, true] as const),
  ...['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map((s) => [s, false] as const),
]);

/** The boolean a YAML 1.1 parser would have read from this plain scalar, or undefined. */
export function yaml11Boolean(v: unknown): boolean | undefined {
  return typeof v === 'string' ? YAML11_BOOLEANS.get(v) : undefined;
}

/**
 * A deep copy of plain data (what YAML gives and validation produces): objects and arrays copied,
 * anything else kept; a value of another kind goes through structuredClone. structuredClone on
 * every default and every record cost most of a 200,000-entity load.
 */
export function clone<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = clone(v[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = clone((v as Record<string, unknown>)[k]);
  return out as T;
}

/**
 * The walk carries a field's place as its parent's path and its own key: the path array itself is
 * built only when a problem is reported there or the walk enters a container (a record, array or
 * map), never for a scalar that passes. Validating 200,000 entities built millions of them.
 */
function at(parent: Path, key: Seg): Path {
  const out = new Array<Seg>(parent.length + 1);
  for (let i = 0; i < parent.length; i++) out[i] = parent[i];
  out[parent.length] = key;
  return out;
}

export function validateField(f: Field, v: unknown, path: Path, pr: Problems): unknown {
  return path.length === 0 ? checkField(f, v, path, undefined, pr) : checkField(f, v, path.slice(0, -1), path[path.length - 1], pr);
}

/** validateField for the value at `parent` + `key` (`key` undefined: at `parent` itself). */
function checkField(f: Field, v: unknown, parent: Path, key: Seg | undefined, pr: Problems): unknown {
  switch (f.type) {
    case 'string':
      if (typeof v !== 'string') return typeError(pr, parent, key, 'expected a string');
      if (v.length < (f.lenMin ?? 1)) return typeError(pr, parent, key, `length must be at least ${f.lenMin ?? 1}`);
      break;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) return typeError(pr, parent, key, 'expected an integer');
      break;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) return typeError(pr, parent, key, 'expected a number');
      break;
    case 'boolean':
      if (typeof v !== 'boolean') {
        const b = yaml11Boolean(v);
        if (b === undefined || pr.quotedScalar?.(here(parent, key)) === true) return typeError(pr, parent, key, 'expected a boolean');
        return b;
      }
      break;
    case 'array':
    case 'set':
      return validateArray(f, v, parent, key, pr);
    case 'map':
      return validateMap(f, v, parent, key, pr);
    case 'record':
      return validateRecord(f.fields ?? {}, v, here(parent, key), pr, f.hints);
    case 'any':
      return clone(v);
  }
  if (f.oneOf && !f.oneOf.includes(v as string | number)) {
    return typeError(pr, parent, key, `expected one of: ${f.oneOf.join(', ')}`);
  }
  if (f.between && ((v as number) < f.between[0] || (v as number) > f.between[1])) {
    return typeError(pr, parent, key, `value should be between ${f.between[0]} and ${f.between[1]}`);
  }
  if (f.match && !f.match.re.test(v as string)) return typeError(pr, parent, key, f.match.err);
  const msg = f.check?.(v);
  if (msg) return typeError(pr, parent, key, msg);
  return v;
}

function here(parent: Path, key: Seg | undefined): Path {
  return key === undefined ? parent : at(parent, key);
}

function typeError(pr: Problems, parent: Path, key: Seg | undefined, message: string): undefined {
  pr.err(here(parent, key), message);
  return undefined;
}

function validateArray(f: Field, v: unknown, parent: Path, key: Seg | undefined, pr: Problems): unknown[] | undefined {
  if (!Array.isArray(v)) return typeError(pr, parent, key, f.type === 'set' ? 'expected a set' : 'expected an array');
  if (f.lenMin !== undefined && v.length < f.lenMin) return typeError(pr, parent, key, `length must be at least ${f.lenMin}`);
  const before = pr.count;
  const out = new Array<unknown>(v.length);
  const el = f.elements;
  if (el) {
    const path = here(parent, key);
    for (let i = 0; i < v.length; i++) out[i] = checkField(el, v[i], path, i, pr);
  } else {
    for (let i = 0; i < v.length; i++) out[i] = clone(v[i]);
  }
  if (pr.count !== before) return undefined;
  // Kong's sets drop repeated elements silently (a set without repeats stays the exact-length array).
  if (f.type !== 'set' || out.length < 2) return out;
  const unique = new Set(out);
  return unique.size === out.length ? out : [...unique];
}

function validateMap(f: Field, v: unknown, parent: Path, key: Seg | undefined, pr: Problems): Record<string, unknown> | undefined {
  if (!isRecord(v)) return typeError(pr, parent, key, 'expected a map');
  const out: Record<string, unknown> = {};
  const before = pr.count;
  const path = here(parent, key);
  for (const k of Object.keys(v)) {
    const val = v[k];
    if (f.keys) checkField(f.keys, k, path, k, pr);
    out[k] = f.values ? checkField(f.values, val, path, k, pr) : clone(val);
  }
  return pr.count === before ? out : undefined;
}

/** validateRecord's keys and values, one pair of arrays per nesting depth. */
const keyStack: string[][] = [];
const valStack: unknown[][] = [];
let depth = 0;
const recordShapes = new ShapeCache();

export interface RecordOptions {
  /** Keys handled by the caller (nested entities, foreign keys): neither validated nor copied. */
  skip?: ReadonlySet<string>;
}

/**
 * Validates a record; every problem is reported. Returns the cleaned copy even when some fields
 * were invalid (those are left out) so later checks can still run; callers look at `pr.count`.
 */
export function validateRecord(
  fields: Record<string, Field>,
  v: unknown,
  path: Path,
  pr: Problems,
  hints?: Record<string, string>,
  opts?: RecordOptions,
): Record<string, unknown> | undefined {
  if (!isRecord(v)) return typeError(pr, path, undefined, 'expected a record');
  // The copy's keys and values are gathered first and made one object of their sequence's shape
  // (shapes.ts); nested records gather at their own depth.
  const keys = (keyStack[depth] ??= []);
  const vals = (valStack[depth] ??= []);
  let n = 0;
  depth++;
  try {
    const skip = opts?.skip;
    for (const k of Object.keys(v)) {
      if (IGNORED_KEYS.has(k) || skip?.has(k)) continue;
      const f = Object.prototype.hasOwnProperty.call(fields, k) ? fields[k] : undefined;
      if (!f) {
        pr.err(at(path, k), hints?.[k] ?? 'unknown field', 'key');
        continue;
      }
      const val = v[k];
      if (val === null || val === undefined) continue;
      const r = checkField(f, val, path, k, pr);
      if (r !== undefined) {
        keys[n] = k;
        vals[n++] = r;
      }
    }
    // for-in, not Object.entries: no pair arrays per record (field lists are plain object literals).
    for (const k in fields) {
      // Given: copied above, or invalid and already reported.
      if (v[k] !== null && v[k] !== undefined) continue;
      const f = fields[k];
      if (f.required) {
        pr.err(at(path, k), 'required field missing');
        continue;
      }
      keys[n] = k;
      if (f.default !== undefined) vals[n++] = clone(f.default);
      else if (f.type === 'record' && f.fields) vals[n++] = validateRecord(f.fields, {}, at(path, k), pr);
      else vals[n++] = null;
    }
    return recordShapes.build(keys, vals, n);
  } finally {
    depth--;
    // The stacks keep no value of this record alive.
    vals.fill(undefined, 0, n);
  }
}
