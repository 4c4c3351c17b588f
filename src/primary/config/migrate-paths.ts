/**
 * `_format_version: "1.1"` / `"2.1"` files: Kong 3.x rewrites their route paths before validating
 * (`kong/db/declarative/migrations/route_path.lua` → `kong/db/migrations/migrate_path_280_300.lua`).
 * 2.x had no `~` marker: any path with a character outside `[a-zA-Z0-9.\-_~/%]` was a regex, so it
 * becomes `~<path>` (percent-escapes decoded once, as 2.x matched them); the others are normalized.
 * Only `routes[]` and `services[].routes[]` are migrated, as in Kong. Each rewrite is a warning.
 */
import { normalizePath } from '../../lib/uri-normalize';
import { isRecord, type Path, type Problems } from './problems';

const PLAIN = /^[a-zA-Z0-9.\-_~/%]*$/;
const RESERVED = new Set([...'!#$%&\'()*+,/:;=?@[]'].map((c) => c.charCodeAt(0)));
const REGEX_META = new Set([...'.^-{}\\|'].map((c) => c.charCodeAt(0)));
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Kong's `normalize_regex`: decode `%XX`, keeping reserved ones encoded and escaping regex metas. */
function normalizeRegex(re: string): string {
  return re.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    const bytes = run.match(/%../g)!.map((h) => parseInt(h.slice(1), 16));
    let out = '';
    let high: number[] = [];
    const flushHigh = (): void => {
      if (high.length === 0) return;
      try {
        out += utf8.decode(Uint8Array.from(high));
      } catch {
        out += high.map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
      }
      high = [];
    };
    for (const b of bytes) {
      if (b >= 0x80) {
        high.push(b);
        continue;
      }
      flushHigh();
      const ch = String.fromCharCode(b);
      if (RESERVED.has(b)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
      else out += REGEX_META.has(b) ? `\\${ch}` : ch;
    }
    flushHigh();
    return out;
  });
}

/** Kong's `migrate_path`: the 3.x form of a 2.x path. */
export function migratePath(path: string): string {
  if (PLAIN.test(path)) {
    // Paths the worker cannot normalize (no leading `/`, bad escapes) are left to validation.
    return path.startsWith('/') ? (normalizePath(path) ?? path) : path;
  }
  return `~${normalizeRegex(path)}`;
}

function migrateRoutes(routes: unknown, at: Path, version: string, pr: Problems): unknown {
  if (!Array.isArray(routes)) return routes;
  return routes.map((route: unknown, i) => {
    if (!isRecord(route) || !Array.isArray(route.paths)) return route;
    const paths = route.paths.map((p: unknown, j) => {
      if (typeof p !== 'string') return p;
      const migrated = migratePath(p);
      if (migrated !== p) {
        pr.warn([...at, i, 'paths', j], `path '${p}' was migrated to '${migrated}' (_format_version "${version}" paths are rewritten as Kong 3.x does; write '${migrated}' and use _format_version "3.0")`);
      }
      return migrated;
    });
    return { ...route, paths };
  });
}

/** A copy of the document with its route paths migrated; the input itself for "3.0". */
export function migrateRoutePaths(doc: Record<string, unknown>, version: string | undefined, pr: Problems): Record<string, unknown> {
  if (version !== '1.1' && version !== '2.1') return doc;
  const out = { ...doc };
  if ('routes' in doc) out.routes = migrateRoutes(doc.routes, ['routes'], version, pr);
  if (Array.isArray(doc.services)) {
    out.services = doc.services.map((s: unknown, i) =>
      isRecord(s) && 'routes' in s ? { ...s, routes: migrateRoutes(s.routes, ['services', i, 'routes'], version, pr) } : s,
    );
  }
  return out;
}
