/**
 * Kong's response-transformer. Headers change in header_filter (remove → rename → replace when
 * present → add when absent → append); JSON body edits (top-level keys) happen once the whole
 * body is in, and only for JSON responses, whose Content-Length then goes (the response is sent
 * chunked). `json_types` gives each value's type, position by position, as in Kong.
 */
import type { PluginContext, PluginHandler } from '../types';
import { splitColon } from '../lib/colon-list';

type JsonValue = string | number | boolean;
interface Op { name: string; value: string }
interface JsonOp { name: string; value: JsonValue }
interface Conf {
  headers: { remove: string[]; rename: [string, string][]; replace: Op[]; add: Op[]; append: Op[] };
  json: { remove: string[]; rename: [string, string][]; replace: JsonOp[]; add: JsonOp[]; append: JsonOp[] } | null;
}

/** Bodies above this are passed through unchanged (a transformer must not hold a download). */
const JSON_LIMIT = 8 * 1024 * 1024;
const BODY_KEY = 'response-transformer.body';
const SIZE_KEY = 'response-transformer.size';

function typed(value: string, type: string | undefined): JsonValue {
  if (type === 'boolean') return value === 'true';
  if (type === 'number') {
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  }
  return value;
}

function jsonOps(rec: Record<string, unknown>): JsonOp[] {
  const types = (rec.json_types as string[] | undefined) ?? [];
  return ((rec.json as string[] | undefined) ?? []).map((s, i) => {
    const [name, v] = splitColon(s);
    return { name, value: typed(v, types[i]) };
  });
}

const pairs = (list: unknown): [string, string][] => ((list as string[] | undefined) ?? []).map(splitColon);

function isJson(ctx: PluginContext): boolean {
  const t = ctx.responseHeader('content-type');
  return t !== null && t.toLowerCase().includes('json');
}

function transformJson(body: Buffer, j: NonNullable<Conf['json']>): Buffer {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return body;
  const o = doc as Record<string, unknown>;
  for (const k of j.remove) delete o[k];
  for (const [from, to] of j.rename) {
    if (!(from in o)) continue;
    o[to] = o[from];
    delete o[from];
  }
  for (const r of j.replace) if (r.name in o) o[r.name] = r.value;
  for (const a of j.add) if (!(a.name in o)) o[a.name] = a.value;
  for (const a of j.append) {
    const cur = o[a.name];
    o[a.name] = cur === undefined ? [a.value] : Array.isArray(cur) ? [...cur, a.value] : [cur, a.value];
  }
  return Buffer.from(JSON.stringify(o));
}

export const handler: PluginHandler<Conf> = {
  name: 'response-transformer',
  priority: 800,
  version: '3.10.0',
  configure(config) {
    const c = config as Record<string, Record<string, unknown>>;
    const lower = (l: unknown): string[] => ((l as string[] | undefined) ?? []).map((s) => s.toLowerCase());
    const headerOps = (rec: Record<string, unknown>): Op[] => pairs(rec.headers).map(([name, value]) => ({ name: name.toLowerCase(), value }));
    const json = {
      remove: (c.remove.json as string[] | undefined) ?? [],
      rename: pairs(c.rename.json),
      replace: jsonOps(c.replace),
      add: jsonOps(c.add),
      append: jsonOps(c.append),
    };
    const anyJson = json.remove.length + json.rename.length + json.replace.length + json.add.length + json.append.length > 0;
    return {
      headers: {
        remove: lower(c.remove.headers),
        rename: pairs(c.rename.headers).map(([a, b]) => [a.toLowerCase(), b]),
        replace: headerOps(c.replace),
        add: headerOps(c.add),
        append: headerOps(c.append),
      },
      json: anyJson ? json : null,
    };
  },
  headerFilter(ctx, conf) {
    const h = conf.headers;
    for (const name of h.remove) ctx.removeResponseHeader(name);
    for (const [from, to] of h.rename) {
      const v = ctx.responseHeader(from);
      if (v === null) continue;
      ctx.removeResponseHeader(from);
      ctx.setResponseHeader(to, v);
    }
    for (const o of h.replace) if (ctx.responseHeader(o.name) !== null) ctx.setResponseHeader(o.name, o.value);
    for (const o of h.add) if (ctx.responseHeader(o.name) === null) ctx.setResponseHeader(o.name, o.value);
    for (const o of h.append) ctx.addResponseHeader(o.name, o.value);
    if (conf.json !== null && isJson(ctx)) {
      ctx.removeResponseHeader('content-length');
      ctx.shared[BODY_KEY] = [] as Buffer[];
    }
  },
  bodyFilter(ctx, conf, chunk, last) {
    const parts = ctx.shared[BODY_KEY] as Buffer[] | undefined;
    if (parts === undefined || conf.json === null) return chunk;
    parts.push(chunk);
    const size = (ctx.shared[SIZE_KEY] = ((ctx.shared[SIZE_KEY] as number | undefined) ?? 0) + chunk.length) as number;
    if (size > JSON_LIMIT) {
      // Too big to edit: what was held goes out as is, and the rest streams through.
      ctx.shared[BODY_KEY] = undefined;
      return Buffer.concat(parts);
    }
    if (!last) return EMPTY;
    ctx.shared[BODY_KEY] = undefined;
    return transformJson(Buffer.concat(parts), conf.json);
  },
};

const EMPTY = Buffer.alloc(0);
