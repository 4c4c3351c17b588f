/**
 * Kong's generic entity endpoints (`kong/api/endpoints.lua`) over the entity store: list with
 * pagination and tags, one by id or endpoint key, POST, PUT (upsert), PATCH (merge), DELETE. A
 * write edits a draft of the store; the writer then validates it exactly as a file, rolls it out
 * to every worker with acks and persists it, and only then is it answered.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type http from 'node:http';
import { ENTITY_DEFS, type EntityName, type EntityRecord } from '../config';
import { pluginStatus } from '../../plugins';
import type { EntityView } from '../store/types';
import type { AdminContext } from './context';
import type { AdminResponse } from './server';
import { coerceForm, readBody } from './body';
import { kongError, luaKey, NOT_FOUND, schemaViolation } from './kong-errors';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Scope {
  entity: EntityName;
  /** The enclosing entity of a nested path (`/services/{s}/routes`): its foreign field and id. */
  parent?: { field: string; id: string };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nowSec = (): number => Math.floor(Date.now() / 1000);
const foreignId = (rec: Record<string, unknown>, field: string): string | undefined => (isRecord(rec[field]) ? (rec[field] as { id?: string }).id : undefined);

function inScope(rec: EntityRecord, scope: Scope): boolean {
  return scope.parent === undefined || foreignId(rec, scope.parent.field) === scope.parent.id;
}

/** By id (a UUID) or by the entity's endpoint key (name, username, target …), as Kong's select_by. */
export function findByKey(view: EntityView, entity: EntityName, key: string, scope?: Scope): EntityRecord | undefined {
  const list = view.list(entity).filter((r) => scope === undefined || inScope(r, scope));
  if (UUID_RE.test(key)) {
    const byId = list.find((r) => r.id.toLowerCase() === key.toLowerCase());
    if (byId) return byId;
  }
  const ek = ENTITY_DEFS[entity].endpointKey;
  return ek ? list.find((r) => r[ek] === key) : undefined;
}

/** The entity's fields for form coercion; a plugin's `config` takes its plugin's schema. */
function coerce(entity: EntityName, body: Record<string, unknown>): Record<string, unknown> {
  const out = coerceForm(ENTITY_DEFS[entity].fields, body);
  if (entity === 'plugins' && typeof out.name === 'string' && isRecord(out.config)) {
    const s = pluginStatus(out.name);
    if (s.kind === 'implemented') out.config = coerceForm(s.def.fields, out.config);
  }
  return out;
}

async function bodyOf(req: http.IncomingMessage, entity: EntityName): Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; res: AdminResponse }> {
  const b = await readBody(req);
  if (!b.ok) return b;
  return { ok: true, value: b.form ? coerce(entity, b.value) : b.value };
}

/** Foreign keys given as an id, an endpoint key or `{ id }` / `{ name }` → `{ id }` of an existing entity. */
function resolveForeign(view: EntityView, entity: EntityName, rec: Record<string, unknown>): AdminResponse | null {
  for (const [field, target] of Object.entries(ENTITY_DEFS[entity].foreign)) {
    const v = rec[field];
    if (v === undefined || v === null) continue;
    const ek = ENTITY_DEFS[target!].endpointKey;
    const key = typeof v === 'string' ? v : isRecord(v) ? (v.id ?? (ek ? v[ek] : undefined)) : undefined;
    const found = typeof key === 'string' ? findByKey(view, target!, key) : undefined;
    if (!found) {
      const shown = typeof key === 'string' ? key : JSON.stringify(v);
      return kongError(400, 'FOREIGN_KEY_VIOLATION', `the foreign key '${luaKey({ id: shown })}' does not reference an existing '${target}' entity.`, { [field]: { id: shown } });
    }
    rec[field] = { id: found.id };
  }
  return null;
}

function uniqueViolation(view: EntityView, entity: EntityName, rec: EntityRecord): AdminResponse | null {
  const def = ENTITY_DEFS[entity];
  const others = view.list(entity).filter((r) => r.id !== rec.id);
  /** `nullable`: an unset field is part of the key (a global plugin vs one on a route). */
  const clash = (fields: string[], nullable = false): AdminResponse | null => {
    const hit = others.find((r) => fields.every((f) => JSON.stringify(r[f] ?? null) === JSON.stringify(rec[f] ?? null)));
    if (!hit || (!nullable && fields.some((f) => rec[f] === undefined || rec[f] === null))) return null;
    const key = Object.fromEntries(fields.map((f) => [f, isRecord(rec[f]) ? String((rec[f] as { id: string }).id) : String(rec[f] ?? 'null')]));
    return kongError(409, 'UNIQUE_VIOLATION', `UNIQUE violation detected on '${luaKey(key)}'`, Object.fromEntries(fields.map((f) => [f, rec[f] ?? null])));
  };
  if (others.some((r) => r.id.toLowerCase() === rec.id.toLowerCase())) {
    return kongError(409, 'PRIMARY_KEY_VIOLATION', `primary key violation on key '${luaKey({ id: rec.id })}'`, { id: rec.id });
  }
  if (def.endpointKey && def.endpointKeyUnique) return clash([def.endpointKey]);
  if (entity === 'consumers') return clash(['custom_id']);
  if (entity === 'targets') return clash(['upstream', 'target']);
  if (entity === 'acls') return clash(['consumer', 'group']);
  if (entity === 'plugins') return clash(['name', 'route', 'service', 'consumer'], true);
  return null;
}

/** Kong fills these on insert: auto timestamps, and the secrets a credential may leave out. */
function autoFields(entity: EntityName, rec: Record<string, unknown>, created: number | null): void {
  const f = ENTITY_DEFS[entity].fields;
  const now = nowSec();
  if ('created_at' in f) rec.created_at = created ?? now;
  if ('updated_at' in f) rec.updated_at = now;
  if (entity === 'keyauth_credentials' && (rec.key === undefined || rec.key === null)) rec.key = randomBytes(16).toString('hex');
  if (entity === 'jwt_secrets') {
    if (rec.key === undefined || rec.key === null) rec.key = randomBytes(16).toString('hex');
    if (rec.secret === undefined || rec.secret === null) rec.secret = randomBytes(16).toString('hex');
  }
}

/** Validates + rolls out + persists `draft`; answers with the stored entity or Kong's error. */
async function commit(ctx: AdminContext, draft: EntityView, entity: EntityName, id: string | null, status: number): Promise<AdminResponse> {
  const index = id === null ? -1 : draft.list(entity).findIndex((r) => r.id === id);
  const out = await ctx.writer.applyDraft(draft);
  if (!out.ok) {
    if (out.kind === 'invalid') return schemaViolation(out.problems, entity, index);
    if (out.kind === 'unavailable') return { status: 503, body: { message: out.reason } };
    if (out.kind === 'conflict') return kongError(409, 'UNIQUE_VIOLATION', `UNIQUE violation detected on '${luaKey(out.key)}'`, out.key);
    return { status: 500, body: { message: `the change was rolled back: ${out.reason}` } };
  }
  if (id === null) return { status, body: null };
  return { status, body: out.entities[entity].find((r) => r.id === id) ?? null };
}

function tagFilter(query: URLSearchParams): ((r: EntityRecord) => boolean) | AdminResponse | null {
  const tags = query.get('tags');
  if (tags === null) return null;
  const tagsOf = (r: EntityRecord): string[] => (Array.isArray(r.tags) ? (r.tags as string[]) : []);
  if (tags.includes(',') && tags.includes('/')) return { status: 400, body: { message: "invalid option (tags: cannot mix 'and' and 'or')" } };
  if (tags.includes('/')) {
    const any = tags.split('/');
    return (r) => tagsOf(r).some((t) => any.includes(t));
  }
  const all = tags.split(',');
  return (r) => all.every((t) => tagsOf(r).includes(t));
}

export function listEntities(ctx: AdminContext, scope: Scope, query: URLSearchParams, basePath: string): AdminResponse {
  const tags = tagFilter(query);
  if (tags !== null && typeof tags !== 'function') return tags;
  const all = ctx.writer.store.list(scope.entity).filter((r) => inScope(r, scope) && (tags === null || tags(r)));
  return paginate(all, query, basePath);
}

/** Kong's pagination: `size` (1..1000, default 100), an opaque `offset`, and `next`. */
export function paginate(all: readonly unknown[], query: URLSearchParams, basePath: string): AdminResponse {
  const sizeText = query.get('size');
  const size = sizeText === null ? 100 : Number(sizeText);
  if (!Number.isInteger(size) || size < 1 || size > 1000) return { status: 400, body: { message: 'size must be an integer between 1 and 1000' } };
  const offsetText = query.get('offset');
  let start = 0;
  if (offsetText !== null) {
    const decoded = /^[A-Za-z0-9_-]+$/.test(offsetText) ? Buffer.from(offsetText, 'base64url').toString('utf8') : '';
    const n = /^\d+$/.test(decoded) ? Number(decoded) : -1;
    if (n < 0) return kongError(400, 'INVALID_OFFSET', `'${offsetText}' is not a valid offset: bad base64 encoding`);
    start = n;
  }
  const data = all.slice(start, start + size);
  const body: Record<string, unknown> = { data, next: null };
  if (start + size < all.length) {
    const offset = Buffer.from(String(start + size)).toString('base64url');
    const extra = [sizeText !== null ? `&size=${size}` : '', query.get('tags') !== null ? `&tags=${encodeURIComponent(query.get('tags')!)}` : ''].join('');
    body.next = `${basePath}?offset=${offset}${extra}`;
    body.offset = offset;
  }
  return { status: 200, body };
}

export function getEntity(ctx: AdminContext, scope: Scope, key: string): AdminResponse {
  const rec = findByKey(ctx.writer.store, scope.entity, key, scope);
  return rec ? { status: 200, body: rec } : NOT_FOUND;
}

export async function createEntity(ctx: AdminContext, req: http.IncomingMessage, scope: Scope): Promise<AdminResponse> {
  // Read before queueing: a slow client never holds up other changes.
  const b = await bodyOf(req, scope.entity);
  if (!b.ok) return b.res;
  return ctx.writer.serial(async () => {
    const draft = ctx.writer.store.draft();
    const rec = { ...b.value } as EntityRecord;
    if (scope.parent) rec[scope.parent.field] = { id: scope.parent.id };
    if (typeof rec.id !== 'string') rec.id = randomUUID();
    return write(ctx, draft, scope.entity, rec, null, 201);
  });
}

async function write(ctx: AdminContext, draft: EntityView, entity: EntityName, rec: EntityRecord, created: number | null, status: number): Promise<AdminResponse> {
  const fk = resolveForeign(draft, entity, rec);
  if (fk) return fk;
  autoFields(entity, rec, created);
  const dup = uniqueViolation(draft, entity, rec);
  if (dup) return dup;
  draft.put(entity, rec);
  return commit(ctx, draft, entity, rec.id, status);
}

/** PUT: replace the entity named by the path, or create it under that id or endpoint key. */
export async function upsertEntity(ctx: AdminContext, req: http.IncomingMessage, scope: Scope, key: string): Promise<AdminResponse> {
  // Read before queueing: a slow client never holds up other changes.
  const b = await bodyOf(req, scope.entity);
  if (!b.ok) return b.res;
  return ctx.writer.serial(async () => {
    const draft = ctx.writer.store.draft();
    const existing = findByKey(draft, scope.entity, key, scope);
    const rec = { ...b.value } as EntityRecord;
    if (scope.parent) rec[scope.parent.field] = { id: scope.parent.id };
    const ek = ENTITY_DEFS[scope.entity].endpointKey;
    if (existing) rec.id = existing.id;
    else if (UUID_RE.test(key)) rec.id = key;
    else {
      rec.id = randomUUID();
      if (ek) rec[ek] = key;
    }
    if (!existing && !UUID_RE.test(key) && !ek) return NOT_FOUND;
    return write(ctx, draft, scope.entity, rec, typeof existing?.created_at === 'number' ? existing.created_at : null, 200);
  });
}

/** Nested records (a plugin's config) merge field by field, as Kong's update does; arrays replace. */
function merge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = isRecord(v) && isRecord(base[k]) && k !== 'service' && k !== 'route' && k !== 'consumer' && k !== 'upstream' ? merge(base[k] as Record<string, unknown>, v) : v;
  return out;
}

export async function patchEntity(ctx: AdminContext, req: http.IncomingMessage, scope: Scope, key: string): Promise<AdminResponse> {
  // Read before queueing: a slow client never holds up other changes.
  const b = await bodyOf(req, scope.entity);
  if (!b.ok) return b.res;
  return ctx.writer.serial(async () => {
    const draft = ctx.writer.store.draft();
    const existing = findByKey(draft, scope.entity, key, scope);
    if (!existing) return NOT_FOUND;
    const rec = merge(existing, b.value) as EntityRecord;
    rec.id = existing.id;
    return write(ctx, draft, scope.entity, rec, typeof existing.created_at === 'number' ? existing.created_at : null, 200);
  });
}

/** What a delete takes with it (Kong's on_delete = cascade); routes of a service restrict. */
const CASCADES: Partial<Record<EntityName, Array<[EntityName, string]>>> = {
  services: [['plugins', 'service']],
  routes: [['plugins', 'route']],
  upstreams: [['targets', 'upstream']],
  consumers: [['plugins', 'consumer'], ['keyauth_credentials', 'consumer'], ['basicauth_credentials', 'consumer'], ['jwt_secrets', 'consumer'], ['acls', 'consumer']],
};

export function deleteEntity(ctx: AdminContext, scope: Scope, key: string): Promise<AdminResponse> {
  return ctx.writer.serial(async () => {
    const draft = ctx.writer.store.draft();
    const existing = findByKey(draft, scope.entity, key, scope);
    // Kong answers 204 for an entity that is not there: DELETE is idempotent.
    if (!existing) return { status: 204, body: null };
    if (scope.entity === 'services' && draft.list('routes').some((r) => foreignId(r, 'service') === existing.id)) {
      return kongError(400, 'FOREIGN_KEY_VIOLATION', "an existing 'routes' entity references this 'services' entity", { '@referenced_by': 'routes' });
    }
    // One pass per child list: a delete per child was a scan per child (40,000 acls: 1.8 s).
    for (const [child, field] of CASCADES[scope.entity] ?? []) draft.deleteWhere(child, (r) => foreignId(r, field) === existing.id);
    draft.delete(scope.entity, existing.id);
    return commit(ctx, draft, scope.entity, null, 204);
  });
}
