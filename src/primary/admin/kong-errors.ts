/**
 * Kong's Admin API error answers (`kong/db/errors.lua`): a numeric code, a name, a message and a
 * `fields` tree shaped like the entity, so Kong clients (decK, scripts) read them unchanged.
 */
import type { ConfigProblem } from '../../lib/errors';
import type { AdminResponse } from './server';

export const KONG_ERR = {
  SCHEMA_VIOLATION: [2, 'schema violation'],
  PRIMARY_KEY_VIOLATION: [3, 'primary key violation'],
  FOREIGN_KEY_VIOLATION: [4, 'foreign key violation'],
  UNIQUE_VIOLATION: [5, 'unique constraint violation'],
  INVALID_OFFSET: [7, 'invalid offset'],
} as const;

export const NOT_FOUND: AdminResponse = { status: 404, body: { message: 'Not found' } };

export function kongError(status: number, kind: keyof typeof KONG_ERR, message: string, fields: unknown = {}): AdminResponse {
  const [code, name] = KONG_ERR[kind];
  return { status, body: { code, name, message, fields } };
}

/** `{name="x"}`, Kong's spelling of a key in its messages. */
export function luaKey(key: Record<string, string>): string {
  return `{${Object.entries(key).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
}

type Seg = string | number;

/** `routes[3].paths[0]` → ['routes', 3, 'paths', 0]. */
export function parseProblemPath(path: string): Seg[] {
  const out: Seg[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[1] !== undefined ? m[1] : Number(m[2]));
  return out;
}

function setIn(tree: Record<string | number, unknown>, segs: Seg[], message: string): void {
  let node = tree;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i];
    let child = node[seg];
    if (typeof child !== 'object' || child === null) {
      child = typeof segs[i + 1] === 'number' ? [] : {};
      node[seg] = child;
    }
    node = child as Record<string | number, unknown>;
  }
  const last = segs[segs.length - 1];
  node[last] = message;
}

/**
 * Problems of a declarative load → Kong's schema-violation answer for one entity: problems under
 * `<entity>[<index>]` become its `fields` tree; any other (a check across entities) goes under
 * `@entity`, as Kong reports entity checks.
 */
export function schemaViolation(problems: ConfigProblem[], entity: string, index: number): AdminResponse {
  const fields: Record<string, unknown> = {};
  const parts: string[] = [];
  const other: string[] = [];
  for (const p of problems) {
    const segs = parseProblemPath(p.path);
    if (segs[0] === entity && segs[1] === index && segs.length > 2) {
      const rest = segs.slice(2);
      setIn(fields, rest, p.message);
      parts.push(`${rest.map((s) => (typeof s === 'number' ? String(s + 1) : s)).join('.')}: ${p.message}`);
    } else {
      other.push(p.path && !(segs[0] === entity && segs[1] === index) ? `${p.path}: ${p.message}` : p.message);
      parts.push(other[other.length - 1]);
    }
  }
  if (other.length > 0) fields['@entity'] = other;
  const n = parts.length;
  const message = `${n === 1 ? 'schema violation' : `${n} schema violations`} (${parts.join('; ')})`;
  return kongError(400, 'SCHEMA_VIOLATION', message, fields);
}
