/**
 * A small declarative field schema, shaped like Kong's (`type`, `required`, `default`, `one_of`,
 * `between`, `elements`, `fields`, `custom_validator`). Validation returns a copy holding only the
 * known fields with defaults filled in; the input is never mutated.
 */
import { isRecord, type Path, type Problems } from './problems';

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

export function validateField(f: Field, v: unknown, path: Path, pr: Problems): unknown {
  switch (f.type) {
    case 'string':
      if (typeof v !== 'string') return typeError(pr, path, 'expected a string');
      if (v.length < (f.lenMin ?? 1)) return typeError(pr, path, `length must be at least ${f.lenMin ?? 1}`);
      break;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) return typeError(pr, path, 'expected an integer');
      break;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) return typeError(pr, path, 'expected a number');
      break;
    case 'boolean':
      if (typeof v !== 'boolean') {
        const b = yaml11Boolean(v);
        if (b === undefined || pr.quotedScalar?.(path) === true) return typeError(pr, path, 'expected a boolean');
        return b;
      }
      break;
    case 'array':
    case 'set':
      return validateArray(f, v, path, pr);
    case 'map':
      return validateMap(f, v, path, pr);
    case 'record':
      return validateRecord(f.fields ?? {}, v, path, pr, f.hints);
    case 'any':
      return clone(v);
  }
  if (f.oneOf && !f.oneOf.includes(v as string | number)) {
    return typeError(pr, path, `expected one of: ${f.oneOf.join(', ')}`);
  }
  if (f.between && ((v as number) < f.between[0] || (v as number) > f.between[1])) {
    return typeError(pr, path, `value should be between ${f.between[0]} and ${f.between[1]}`);
  }
  if (f.match && !f.match.re.test(v as string)) return typeError(pr, path, f.match.err);
  const msg = f.check?.(v);
  if (msg) return typeError(pr, path, msg);
  return v;
}

function typeError(pr: Problems, path: Path, message: string): undefined {
  pr.err(path, message);
  return undefined;
}

function validateArray(f: Field, v: unknown, path: Path, pr: Problems): unknown[] | undefined {
  if (!Array.isArray(v)) return typeError(pr, path, f.type === 'set' ? 'expected a set' : 'expected an array');
  if (f.lenMin !== undefined && v.length < f.lenMin) return typeError(pr, path, `length must be at least ${f.lenMin}`);
  const before = pr.count;
  const out = v.map((el, i) => (f.elements ? validateField(f.elements, el, [...path, i], pr) : clone(el)));
  if (pr.count !== before) return undefined;
  // Kong's sets drop repeated elements silently.
  return f.type === 'set' ? [...new Set(out)] : out;
}

function validateMap(f: Field, v: unknown, path: Path, pr: Problems): Record<string, unknown> | undefined {
  if (!isRecord(v)) return typeError(pr, path, 'expected a map');
  const out: Record<string, unknown> = {};
  const before = pr.count;
  for (const [k, val] of Object.entries(v)) {
    if (f.keys) validateField(f.keys, k, [...path, k], pr);
    out[k] = f.values ? validateField(f.values, val, [...path, k], pr) : clone(val);
  }
  return pr.count === before ? out : undefined;
}

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
  opts: RecordOptions = {},
): Record<string, unknown> | undefined {
  if (!isRecord(v)) return typeError(pr, path, 'expected a record');
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    if (IGNORED_KEYS.has(k) || opts.skip?.has(k)) continue;
    const f = Object.prototype.hasOwnProperty.call(fields, k) ? fields[k] : undefined;
    if (!f) {
      pr.err([...path, k], hints?.[k] ?? 'unknown field', 'key');
      continue;
    }
    if (val === null || val === undefined) continue;
    const r = validateField(f, val, [...path, k], pr);
    if (r !== undefined) out[k] = r;
  }
  for (const [k, f] of Object.entries(fields)) {
    if (k in out) continue;
    const given = v[k] !== null && v[k] !== undefined;
    if (given) continue; // present but invalid: already reported
    if (f.required) {
      pr.err([...path, k], 'required field missing');
    } else if (f.default !== undefined) {
      out[k] = clone(f.default);
    } else if (f.type === 'record' && f.fields) {
      out[k] = validateRecord(f.fields, {}, [...path, k], pr);
    } else {
      out[k] = null;
    }
  }
  return out;
}
