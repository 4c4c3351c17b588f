/**
 * Endpoints about the API rather than entities: `GET /schemas/plugins/{name}` (Kong's
 * `{fields: [...]}` shape, from the plugin schema data), `GET /tags`, `GET /tags/{tag}`.
 */
import type http from 'node:http';
import { ENTITY_ORDER } from '../config';
import { IMPLEMENTED_PLUGINS, pluginNameProblem } from '../../plugins';
import type { Field } from '../config/schema';
import type { AdminContext } from './context';
import type { AdminResponse } from './server';
import type { Params } from './entity-router';
import { paginate } from './crud';

/** One field in Kong's schema notation (`one_of`, `between`, `fields: [{name: def}]` …). */
function kongField(f: Field): Record<string, unknown> {
  const out: Record<string, unknown> = { type: f.type };
  if (f.required) out.required = true;
  if (f.default !== undefined) out.default = f.default;
  if (f.oneOf) out.one_of = f.oneOf;
  if (f.between) out.between = f.between;
  if (f.lenMin !== undefined) out.len_min = f.lenMin;
  if (f.elements) out.elements = kongField(f.elements);
  if (f.keys) out.keys = kongField(f.keys);
  if (f.values) out.values = kongField(f.values);
  if (f.fields) out.fields = kongFields(f.fields);
  return out;
}

const kongFields = (fields: Record<string, Field>): Array<Record<string, unknown>> => Object.entries(fields).map(([k, f]) => ({ [k]: kongField(f) }));

const PROTOCOLS = ['grpc', 'grpcs', 'http', 'https'];

export function pluginSchema(_ctx: AdminContext, _req: http.IncomingMessage, params: Params): AdminResponse {
  const name = params.name;
  const def = Object.prototype.hasOwnProperty.call(IMPLEMENTED_PLUGINS, name) ? IMPLEMENTED_PLUGINS[name] : undefined;
  if (def === undefined) return { status: 404, body: { message: pluginNameProblem(name) ?? `No plugin named '${name}'` } };
  const protocols = def.protocols ?? PROTOCOLS;
  return {
    status: 200,
    body: {
      fields: [
        { consumer: def.noConsumer ? { type: 'foreign', reference: 'consumers', eq: null } : { type: 'foreign', reference: 'consumers' } },
        { protocols: { type: 'set', required: true, default: protocols, elements: { type: 'string', one_of: protocols } } },
        { config: { type: 'record', required: true, fields: kongFields(def.fields) } },
      ],
    },
  };
}

/** Every tag of every entity, as Kong lists them: `{entity_name, entity_id, tag}`. */
function tagRows(ctx: AdminContext, only: string | null): Array<{ entity_name: string; entity_id: string; tag: string }> {
  const rows: Array<{ entity_name: string; entity_id: string; tag: string }> = [];
  for (const entity of ENTITY_ORDER) {
    for (const r of ctx.writer.store.list(entity)) {
      if (!Array.isArray(r.tags)) continue;
      for (const tag of r.tags as string[]) if (only === null || tag === only) rows.push({ entity_name: entity, entity_id: r.id, tag });
    }
  }
  return rows;
}

export function listTags(ctx: AdminContext, _req: http.IncomingMessage, params: Params, query: URLSearchParams): AdminResponse {
  const tag = params.tag ?? null;
  return paginate(tagRows(ctx, tag), query, tag === null ? '/tags' : `/tags/${encodeURIComponent(tag)}`);
}
