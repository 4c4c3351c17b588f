/**
 * `GET /config`: what the gateway would load now (kong.yml as written, or the state file's
 * entities with kong.yml's `hyperway:` block), as `{ config: "<yaml>" }`. `POST /config`:
 * replace every entity at once, all or nothing (JSON or YAML body, or a `config` field);
 * `?check_hash=1` answers 304 and changes nothing when the document is the running configuration.
 */
import type http from 'node:http';
import { yaml } from '../../lib/optional-packages';
import { readSource } from '../store/source';
import type { AdminContext } from './context';
import type { AdminResponse } from './server';
import { readBody } from './body';

/** Kong's answer to /config in DB mode (kong/api/routes/config.lua). */
const DB_MODE = { status: 400, body: { message: 'this endpoint is only available when Kong is configured to not use a database' } };

export function getConfig(ctx: AdminContext): AdminResponse {
  if (ctx.settings.database === 'postgres') return DB_MODE;
  const source = readSource(ctx.configFile);
  const text = source.fromState ? yaml().stringify(JSON.parse(source.text)) : source.text;
  return { status: 200, body: { config: text } };
}

export async function postConfig(ctx: AdminContext, req: http.IncomingMessage): Promise<AdminResponse> {
  if (ctx.settings.database === 'postgres') return DB_MODE;
  const yamlBody = /yaml/i.test(String(req.headers['content-type'] ?? ''));
  if (yamlBody) req.headers['content-type'] = 'application/x-www-form-urlencoded';
  const b = await readBody(req);
  if (!b.ok) return b.res;
  const text = yamlBody ? b.raw : typeof b.value.config === 'string' ? b.value.config : isDoc(b.value) ? JSON.stringify(b.value) : null;
  if (text === null) return { status: 400, body: { message: "expected a declarative configuration (the body, or a 'config' field)" } };
  if (yamlBody) {
    try {
      yaml().parse(text, { uniqueKeys: false });
    } catch (e) {
      return { status: 400, body: { code: 14, name: 'invalid declarative configuration', message: (e as Error).message, fields: {} } };
    }
  }
  return ctx.writer.serial(async () => {
    const checkHash = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('check_hash') === '1';
    const out = await ctx.writer.applyText(text, 'POST /config', checkHash);
    if (out.ok && out.unchanged) return { status: 304, body: null };
    if (out.ok) return { status: 201, body: out.entities };
    // POST /config answers Kong's DB-mode 400 before it writes anything, so a conflict is a failure here.
    if (out.kind === 'failed' || out.kind === 'conflict') return { status: 500, body: { message: `the change was rolled back: ${out.reason}` } };
    if (out.kind === 'unavailable') return { status: 503, body: { message: out.reason } };
    const fields = Object.fromEntries(out.problems.map((p) => [p.path || '@entity', p.message]));
    return { status: 400, body: { code: 14, name: 'invalid declarative configuration', message: `declarative config is invalid: ${JSON.stringify(fields)}`, fields } };
  });
}

function isDoc(v: Record<string, unknown>): boolean {
  return typeof v._format_version === 'string';
}
