/**
 * Request bodies as Kong's Admin API takes them: JSON, or application/x-www-form-urlencoded with
 * Kong's array and nested forms (`paths[]=/x`, `paths[1]=/y`, `config.minute=5`, repeated keys).
 * Form values are strings: coerceForm() turns them into the schema's types, as Kong's form
 * decoding does; multipart/form-data is read the same way. Other types answer 415; bodies above ADMIN_BODY_LIMIT answer 413.
 */
import type http from 'node:http';
import type { AdminResponse } from './server';
import type { Field } from '../config/schema';

export const ADMIN_BODY_LIMIT = 8 * 1024 * 1024;

export type Body = { ok: true; value: Record<string, unknown>; form: boolean; raw: string; type: string } | { ok: false; res: AdminResponse };

export async function readBody(req: http.IncomingMessage, limit = ADMIN_BODY_LIMIT): Promise<Body> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) {
      req.resume();
      return { ok: false, res: { status: 413, body: { message: `request body too large (limit ${limit} bytes)` } } };
    }
    chunks.push(c);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (raw.trim() === '') return { ok: true, value: {}, form: type !== 'application/json', raw, type };
  if (type === 'application/json' || type.endsWith('+json')) {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      return { ok: false, res: { status: 400, body: { message: 'Cannot parse JSON body' } } };
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, res: { status: 400, body: { message: 'Cannot parse JSON body' } } };
    return { ok: true, value: v as Record<string, unknown>, form: false, raw, type };
  }
  if (type === 'application/x-www-form-urlencoded' || type === '') return { ok: true, value: parseForm(raw), form: true, raw, type };
  if (type === 'multipart/form-data') {
    // Node's own multipart parser (undici's Response.formData); fields read as Kong's form fields,
    // files (`curl -F config=@kong.yml`) as their text.
    const fields = new URLSearchParams();
    try {
      const form = await new Response(Buffer.concat(chunks), { headers: { 'content-type': String(req.headers['content-type']) } }).formData();
      for (const [k, v] of form) fields.append(k, typeof v === 'string' ? v : await v.text());
    } catch {
      return { ok: false, res: { status: 400, body: { message: 'Cannot parse multipart/form-data body' } } };
    }
    return { ok: true, value: parseForm(fields.toString()), form: true, raw, type };
  }
  return { ok: false, res: { status: 415, body: { message: `Unsupported Content-Type '${type}': send application/json, application/x-www-form-urlencoded or multipart/form-data` } } };
}

/** `a.b[]=1&a.b[]=2&c[1]=x` → `{ a: { b: ['1', '2'] }, c: [, 'x'] }`; repeated plain keys make arrays. */
export function parseForm(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const segs: (string | number | null)[] = [];
    for (const m of key.matchAll(/([^.[\]]+)|\[(\d*)\]/g)) {
      if (m[1] !== undefined) segs.push(m[1]);
      else segs.push(m[2] === '' ? null : Number(m[2]));
    }
    if (segs.length === 0 || typeof segs[0] !== 'string') continue;
    let node: Record<string | number, unknown> = out;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i];
      const last = i === segs.length - 1;
      if (seg === null) {
        // `x[]` appends; only meaningful last
        if (Array.isArray(node)) (node as unknown[]).push(value);
        break;
      }
      if (last) {
        const prev = node[seg];
        if (prev === undefined) node[seg] = value;
        else if (Array.isArray(prev)) prev.push(value);
        else node[seg] = [prev, value];
        break;
      }
      const nextIsArray = segs[i + 1] === null || typeof segs[i + 1] === 'number';
      let child = node[seg];
      if (typeof child !== 'object' || child === null) {
        child = nextIsArray ? [] : {};
        node[seg] = child;
      }
      node = child as Record<string | number, unknown>;
    }
  }
  return compactArrays(out) as Record<string, unknown>;
}

/** `c[1]=x` alone gives a sparse array: Kong's tables have no holes. */
function compactArrays(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== undefined).map(compactArrays);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, compactArrays(x)]));
  return v;
}

/** Form strings → the schema's types. An empty value means "unset" (null), as in Kong. */
export function coerceForm(fields: Record<string, Field>, v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    const f = Object.prototype.hasOwnProperty.call(fields, k) ? fields[k] : undefined;
    out[k] = f ? coerceValue(f, val) : val;
  }
  return out;
}

function coerceValue(f: Field, v: unknown): unknown {
  if (v === '' && f.type !== 'string') return null;
  switch (f.type) {
    case 'integer':
    case 'number':
      return typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
    case 'boolean':
      return v === 'true' ? true : v === 'false' ? false : v;
    case 'array':
    case 'set': {
      const arr = Array.isArray(v) ? v : [v];
      return f.elements ? arr.map((x) => coerceValue(f.elements!, x)) : arr;
    }
    case 'record':
      return typeof v === 'object' && v !== null && !Array.isArray(v) && f.fields ? coerceForm(f.fields, v as Record<string, unknown>) : v;
    case 'map':
      if (typeof v === 'object' && v !== null && !Array.isArray(v) && f.values) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, coerceValue(f.values!, x)]));
      }
      return v;
    default:
      return v;
  }
}
