/**
 * Path patterns of the entity endpoints, declared one file per resource (services.ts, routes.ts
 * …) and matched here: `:name` matches one segment (percent-decoded), the first pattern that
 * matches wins. A collection answers GET and POST, an item GET, PUT, PATCH and DELETE.
 */
import type http from 'node:http';
import type { EntityName } from '../config';
import type { AdminContext } from './context';
import type { AdminResponse } from './server';
import { createEntity, deleteEntity, findByKey, getEntity, listEntities, patchEntity, upsertEntity, type Scope } from './crud';
import { NOT_FOUND } from './kong-errors';

export type Params = Record<string, string>;
type Custom = (ctx: AdminContext, req: http.IncomingMessage, params: Params, query: URLSearchParams) => AdminResponse | Promise<AdminResponse>;

export interface EntityRoute {
  pattern: readonly string[];
  entity?: EntityName;
  /** Nested under another entity: the path parameter naming it and the foreign field pointing at it. */
  parent?: { param: string; entity: EntityName; field: string };
  /** The path parameter naming one entity; absent for a collection. */
  item?: string;
  /** Endpoints that are not plain CRUD (`/routes/{r}/service`, `/plugins/enabled`). */
  methods?: Partial<Record<string, Custom>>;
}

function match(pattern: readonly string[], segs: string[]): Params | null {
  if (pattern.length !== segs.length) return null;
  const params: Params = {};
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(':')) params[pattern[i].slice(1)] = segs[i];
    else if (pattern[i] !== segs[i]) return null;
  }
  return params;
}

/** The answer for `path`, or null when no entity endpoint has that path. */
export function routeEntity(ctx: AdminContext, req: http.IncomingMessage, path: string, routes: readonly EntityRoute[]): AdminResponse | Promise<AdminResponse> | null {
  let segs: string[];
  try {
    segs = path.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return null;
  }
  const url = req.url ?? '';
  const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  for (const r of routes) {
    const params = match(r.pattern, segs);
    if (params === null) continue;
    if (r.methods) {
      const h = r.methods[method];
      return h ? h(ctx, req, params, query) : { status: 405, body: { message: 'Method not allowed' } };
    }
    const entity = r.entity!;
    const scope: Scope = { entity };
    if (r.parent) {
      const parent = findByKey(ctx.writer.store, r.parent.entity, params[r.parent.param]);
      if (!parent) return NOT_FOUND;
      scope.parent = { field: r.parent.field, id: parent.id };
    }
    if (r.item === undefined) {
      if (method === 'GET') return listEntities(ctx, scope, query, path);
      if (method === 'POST') return createEntity(ctx, req, scope);
    } else {
      const key = params[r.item];
      if (method === 'GET') return getEntity(ctx, scope, key);
      if (method === 'PUT') return upsertEntity(ctx, req, scope, key);
      if (method === 'PATCH') return patchEntity(ctx, req, scope, key);
      if (method === 'DELETE') return deleteEntity(ctx, scope, key);
    }
    return { status: 405, body: { message: 'Method not allowed' } };
  }
  return null;
}
