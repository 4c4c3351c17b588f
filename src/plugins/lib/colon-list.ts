/**
 * The transformer plugins' list values (Kong's `colon_string_array`): `name:value` strings split
 * at the first colon, and the `$(…)` templates request-transformer allows in values.
 */
import type { Field } from '../schema-types';

export const colonStrings: Field = {
  type: 'array',
  default: [],
  elements: { type: 'string', match: { re: /^[^:]+:.*$/s, err: "invalid value: expected 'name:value'" } },
};
export const plainStrings: Field = { type: 'array', default: [], elements: { type: 'string' } };

export function splitColon(s: string): [string, string] {
  const i = s.indexOf(':');
  return [s.slice(0, i), s.slice(i + 1)];
}

/** A template part: literal text, or a value taken from the request. */
export type TemplatePart = string | { from: 'headers' | 'query_params' | 'uri_captures'; name: string };

const TEMPLATE = /\$\((.*?)\)/g;
const ACCESSOR = /^\s*(headers|query_params|uri_captures)\s*(?:\.\s*([A-Za-z_][\w-]*)|\[\s*(?:"([^"]*)"|'([^']*)'|(\d+))\s*\])\s*$/;

/**
 * `a $(headers.x) b` → parts; null when the text holds no template. Throws (with the reason) on
 * an expression Hyperway cannot evaluate: Kong evaluates Lua there.
 */
export function parseTemplate(text: string): TemplatePart[] | null {
  if (!text.includes('$(')) return null;
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of text.matchAll(TEMPLATE)) {
    const a = ACCESSOR.exec(m[1]);
    if (a === null) throw new Error(`template '$(${m[1]})' is not supported: only $(headers.name), $(query_params.name) and $(uri_captures.name) forms`);
    if (m.index > last) parts.push(text.slice(last, m.index));
    const name = a[2] ?? a[3] ?? a[4] ?? a[5];
    parts.push({ from: a[1] as 'headers', name: a[1] === 'headers' ? name.toLowerCase().replace(/_/g, '-') : name });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}
