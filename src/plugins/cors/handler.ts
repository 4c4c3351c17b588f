/**
 * Kong 3.10 `kong/plugins/cors/handler.lua`: the preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) is answered here with 200 unless `preflight_continue`; every other
 * response, the gateway's own errors included, gets its CORS headers in headerFilter.
 */
import { KONG_COMPAT_VERSION } from '../../shared/version';
import type { PluginContext, PluginHandler } from '../types';

/** One `origins` entry, classified once per snapshot as Kong does on first use. */
type OriginEntry =
  | { kind: 'flat'; domain: string }
  /** Kong anchors regexes at both ends (`$` appended, PCRE_ANCHORED): a sticky JS regex. */
  | { kind: 'regex'; re: RegExp; byHost: boolean };

export interface CorsConf {
  /** No origins, or exactly `['*']`: ACAO `*` without Vary. */
  allowAll: boolean;
  /** One entry that does not look like a regex: sent verbatim whatever the request's Origin. */
  single: string | null;
  /** A `*` among several entries: any request with an Origin is allowed (Kong's loop returns there). */
  hasStar: boolean;
  entries: readonly OriginEntry[];
  allowHeaders: string | null;
  exposeHeaders: string | null;
  methods: string;
  maxAge: string | null;
  credentials: boolean;
  privateNetwork: boolean;
  preflightContinue: boolean;
  allowOriginAbsent: boolean;
}

/** The scratch key marking a preflight handled (or delegated) in access: headerFilter adds nothing then. */
const SKIP = 'cors.skip_response_headers';

/** Characters of a flat origin; anything else makes the entry a regex (Kong's `[^A-Za-z0-9.:/-]`). */
const FLAT = /^[A-Za-z0-9.:/-]+$/;

interface Normalized { domain: string; host: string }

/**
 * LuaSocket's url.parse as Kong's normalize_origin uses it: `scheme://host[:port]` with the default
 * port dropped; a value without an authority is kept whole.
 */
export function normalizeOrigin(origin: string): Normalized {
  let rest = origin;
  for (const sep of ['#', '?', ';']) {
    const i = rest.indexOf(sep);
    if (i >= 0) rest = rest.slice(0, i);
  }
  const scheme = /^([A-Za-z0-9][A-Za-z0-9+\-.]*):/.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  if (!rest.startsWith('//')) return { domain: origin, host: origin };
  let authority = rest.slice(2);
  const slash = authority.indexOf('/');
  if (slash >= 0) authority = authority.slice(0, slash);
  const at = authority.indexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  let port: string | null = null;
  const portMatch = /:([^:\]]*)$/.exec(authority);
  if (portMatch) {
    port = portMatch[1];
    authority = authority.slice(0, portMatch.index);
  }
  if (authority === '') return { domain: origin, host: origin };
  const host = /^\[(.+)\]$/.exec(authority)?.[1] ?? authority;
  const s = scheme?.[1];
  if ((s === 'http' && port === '80') || (s === 'https' && port === '443')) port = null;
  return { domain: (s ? `${s}://` : '') + host + (port !== null ? `:${port}` : ''), host };
}

/** Per-worker cache of normalized request origins (Kong keeps 10e3 in an LRU). */
const NORMALIZED = new Map<string, Normalized>();
const NORMALIZED_MAX = 10_000;

function normalizedRequestOrigin(origin: string): Normalized {
  let n = NORMALIZED.get(origin);
  if (n === undefined) {
    if (NORMALIZED.size >= NORMALIZED_MAX) NORMALIZED.clear();
    n = normalizeOrigin(origin);
    NORMALIZED.set(origin, n);
  }
  return n;
}

function compileEntry(entry: string): OriginEntry {
  const byHost = !entry.includes(':');
  if (FLAT.test(entry)) return { kind: 'flat', domain: normalizeOrigin(entry).domain };
  let text = entry.endsWith('$') ? entry : `${entry}$`;
  if (text.startsWith('^')) text = text.slice(1);
  try {
    return { kind: 'regex', re: new RegExp(text, 'y'), byHost };
  } catch {
    // The schema compiled the entry as written; should the anchored form still fail, the entry
    // matches nothing rather than taking the worker's configure down (Kong logs and skips it).
    return { kind: 'regex', re: /(?!)/y, byHost };
  }
}

function join(list: unknown): string | null {
  return Array.isArray(list) && list.length > 0 ? list.join(',') : null;
}

function configure(config: Record<string, unknown>): CorsConf {
  const origins = (config.origins as string[] | null) ?? [];
  const allowAll = origins.length === 0 || (origins.length === 1 && origins[0] === '*');
  const single = origins.length === 1 && FLAT.test(origins[0]) ? origins[0] : null;
  const hasStar = origins.includes('*');
  return {
    allowAll,
    single,
    hasStar,
    entries: allowAll || single !== null ? [] : origins.filter((o) => o !== '*').map(compileEntry),
    allowHeaders: join(config.headers),
    exposeHeaders: join(config.exposed_headers),
    // Kong joins the list even when empty (an empty header); the schema's default fills it.
    methods: ((config.methods as string[] | null) ?? []).join(','),
    maxAge: typeof config.max_age === 'number' ? String(config.max_age) : null,
    credentials: config.credentials === true,
    privateNetwork: config.private_network === true,
    preflightContinue: config.preflight_continue === true,
    allowOriginAbsent: config.allow_origin_absent !== false,
  };
}

/**
 * Kong's `configure_origin`; returns true when ACAO is `*`. `inFilter`: Vary is added to what the
 * upstream sent (header_filter) rather than set (the preflight answer).
 */
function configureOrigin(ctx: PluginContext, conf: CorsConf, inFilter: boolean, reqOrigin: string | null): boolean {
  if (conf.allowAll) {
    ctx.setResponseHeader('access-control-allow-origin', '*');
    return true;
  }
  // Always vary on Origin: the answer depends on it (a cache key, rs/cors#10).
  addVary(ctx, inFilter);
  if (conf.single !== null) {
    ctx.setResponseHeader('access-control-allow-origin', conf.single);
    return false;
  }
  if (reqOrigin !== null) {
    if (conf.hasStar) {
      ctx.setResponseHeader('access-control-allow-origin', '*');
      return true;
    }
    const req = normalizedRequestOrigin(reqOrigin);
    for (const e of conf.entries) {
      let found: boolean;
      if (e.kind === 'flat') {
        found = req.domain === e.domain;
      } else {
        e.re.lastIndex = 0;
        found = e.re.test(e.byHost ? req.host : req.domain);
      }
      if (found) {
        ctx.setResponseHeader('access-control-allow-origin', req.domain);
        return false;
      }
    }
  }
  ctx.removeResponseHeader('access-control-allow-origin');
  return false;
}

function addVary(ctx: PluginContext, inFilter: boolean): void {
  if (inFilter) ctx.addResponseHeader('vary', 'Origin');
  else ctx.setResponseHeader('vary', 'Origin');
}

function configureCredentials(ctx: PluginContext, conf: CorsConf, allowAll: boolean, inFilter: boolean, reqOrigin: string | null): void {
  if (!conf.credentials) return;
  if (!allowAll) {
    ctx.setResponseHeader('access-control-allow-credentials', 'true');
    return;
  }
  // ACAC cannot be `true` with ACAO `*`: the request's Origin is echoed instead. A `*` among
  // several origins already added Vary (Kong adds it twice then; once is enough).
  if (reqOrigin !== null) {
    if (conf.allowAll) addVary(ctx, inFilter);
    ctx.setResponseHeader('access-control-allow-origin', reqOrigin);
    ctx.setResponseHeader('access-control-allow-credentials', 'true');
  }
}

function access(ctx: PluginContext, conf: CorsConf): void {
  if (ctx.method !== 'OPTIONS') return;
  const reqOrigin = ctx.requestHeader('origin');
  if (reqOrigin === null || ctx.requestHeader('access-control-request-method') === null) return;
  // Either the upstream answers the preflight, or the answer below carries every header already.
  ctx.shared[SKIP] = true;
  if (conf.preflightContinue) return;

  const allowAll = configureOrigin(ctx, conf, false, reqOrigin);
  configureCredentials(ctx, conf, allowAll, false, reqOrigin);
  if (conf.allowHeaders !== null) {
    ctx.setResponseHeader('access-control-allow-headers', conf.allowHeaders);
  } else {
    const requested = ctx.requestHeader('access-control-request-headers');
    if (requested !== null) ctx.setResponseHeader('access-control-allow-headers', requested);
    else ctx.removeResponseHeader('access-control-allow-headers');
  }
  ctx.setResponseHeader('access-control-allow-methods', conf.methods);
  if (conf.maxAge !== null) ctx.setResponseHeader('access-control-max-age', conf.maxAge);
  if (conf.privateNetwork && ctx.requestHeader('access-control-request-private-network') === 'true') {
    ctx.setResponseHeader('access-control-allow-private-network', 'true');
  }
  ctx.exit(200);
}

function headerFilter(ctx: PluginContext, conf: CorsConf): void {
  if (ctx.shared[SKIP] === true) return;
  const reqOrigin = ctx.requestHeader('origin');
  if (reqOrigin === null && !conf.allowOriginAbsent) return;
  const allowAll = configureOrigin(ctx, conf, true, reqOrigin);
  configureCredentials(ctx, conf, allowAll, true, reqOrigin);
  if (conf.exposeHeaders !== null) ctx.setResponseHeader('access-control-expose-headers', conf.exposeHeaders);
}

export const handler: PluginHandler<CorsConf> = {
  name: 'cors',
  priority: 2000,
  version: KONG_COMPAT_VERSION,
  configure,
  access,
  headerFilter,
};
