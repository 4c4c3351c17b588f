/**
 * Kong 3.10 `kong/plugins/request-termination/handler.lua`: answers every request (or, with
 * `trigger`, those carrying that header or query argument) without reaching the upstream.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { KONG_COMPAT_VERSION } from '../../shared/version';
import type { PluginContext, PluginHandler } from '../types';

/** Kong's DEFAULT_RESPONSE: the message when none is configured; other statuses get no body. */
export const DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  404: 'Not found',
  405: 'Method not allowed',
  500: 'An unexpected error occurred',
  502: 'Bad Gateway',
  503: 'Service unavailable',
};

export interface RequestTerminationConf {
  status: number;
  /** The configured message or the status's default; null: no body. */
  message: string | null;
  body: string | null;
  contentType: string | null;
  echo: boolean;
  /** As configured (query arguments are matched by this exact name) and lowercased for headers. */
  trigger: string | null;
  triggerKey: string | null;
}

/**
 * Request facts `echo` reports that PluginContext does not offer yet: every header, the listener
 * port. Used when the context has them; until then `headers` is built from none and `port` is the
 * Host header's port or the scheme's default.
 */
interface EchoFacts {
  requestHeaders?(): Record<string, string | string[]>;
  readonly serverPort?: number;
}

/** The largest body `echo` reads back (Kong leaves bodies that overflow its buffer out too). */
const ECHO_BODY_LIMIT = 1 << 20;

/** Kong's node id is per node, shared by its workers: here derived from the host and the primary's pid. */
const NODE_ID = (() => {
  const h = createHash('sha1').update(`${hostname()}/${process.ppid}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
})();

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function configure(config: Record<string, unknown>): RequestTerminationConf {
  const status = config.status_code as number;
  const trigger = str(config.trigger);
  return {
    status,
    message: str(config.message) ?? DEFAULT_MESSAGES[status] ?? null,
    body: str(config.body),
    contentType: str(config.content_type),
    echo: config.echo === true,
    trigger,
    triggerKey: trigger?.toLowerCase() ?? null,
  };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** kong.request.get_query(): a value, a list for a repeated name, `true` for a name without `=`. */
export function parseQuery(query: string): Record<string, string | string[] | true> {
  const out: Record<string, string | string[] | true> = {};
  if (query === '') return out;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    if (name === '') continue;
    const value: string | true = eq < 0 ? true : decode(part.slice(eq + 1));
    const prev = Object.prototype.hasOwnProperty.call(out, name) ? out[name] : undefined;
    if (prev === undefined) out[name] = value;
    else if (value !== true) out[name] = Array.isArray(prev) ? [...prev, value] : prev === true ? value : [prev, value];
  }
  return out;
}

function triggered(ctx: PluginContext, conf: RequestTerminationConf): boolean {
  if (ctx.requestHeader(conf.triggerKey!) !== null) return true;
  return Object.prototype.hasOwnProperty.call(parseQuery(ctx.query), conf.trigger!);
}

/** kong.request.get_body(): JSON and url-encoded forms are decoded; other types are left out. */
function parsedBody(ctx: PluginContext, raw: Buffer): unknown {
  const type = (ctx.requestHeader('content-type') ?? '').toLowerCase();
  if (type.includes('application/json')) {
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      return undefined;
    }
  }
  if (type.includes('application/x-www-form-urlencoded')) return parseQuery(raw.toString('latin1'));
  return undefined;
}

function uriCaptures(ctx: PluginContext): { unnamed: string[]; named: Record<string, string> } {
  const unnamed: string[] = [];
  const named: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.uriCaptures ?? {})) {
    if (/^\d+$/.test(k)) {
      // Capture 0 is the whole match, which Kong's array encoding leaves out.
      if (k !== '0') unnamed[Number(k) - 1] = v;
    } else {
      named[k] = v;
    }
  }
  return { unnamed, named };
}

async function echo(ctx: PluginContext, conf: RequestTerminationConf): Promise<void> {
  let raw: Buffer | null = null;
  if (ctx.requestBodyLength !== 0) {
    try {
      raw = await ctx.readRequestBody(ECHO_BODY_LIMIT);
    } catch (e) {
      if ((e as { code?: string }).code !== 'HW_ERR_BODY_TOO_LARGE') throw e;
    }
    if (ctx.exited) return;
  }
  const facts = ctx as PluginContext & EchoFacts;
  const hostHeader = ctx.requestHeader('host') ?? '';
  const portMatch = /:(\d+)$/.exec(hostHeader);
  const host = (portMatch ? hostHeader.slice(0, portMatch.index) : hostHeader).toLowerCase();
  const port = facts.serverPort ?? (portMatch ? Number(portMatch[1]) : ctx.scheme === 'https' ? 443 : 80);
  ctx.exit(conf.status, {
    message: conf.message ?? undefined,
    kong: { node_id: NODE_ID, worker_pid: process.pid, hostname: hostname() },
    request: {
      scheme: ctx.scheme,
      host,
      port,
      headers: facts.requestHeaders?.() ?? {},
      query: parseQuery(ctx.query),
      body: raw === null ? undefined : parsedBody(ctx, raw),
      raw_body: raw === null ? undefined : raw.toString('utf8'),
      method: ctx.method,
      path: ctx.path,
      uri_captures: uriCaptures(ctx),
    },
    matched_route: ctx.routeId === null ? undefined : { id: ctx.routeId, name: ctx.routeName ?? undefined },
    matched_service: ctx.serviceId === null ? undefined : { id: ctx.serviceId, name: ctx.serviceName ?? undefined },
  });
}

function access(ctx: PluginContext, conf: RequestTerminationConf): void | Promise<void> {
  if (conf.trigger !== null && !triggered(ctx, conf)) return;
  if (conf.echo) return echo(ctx, conf);
  if (conf.body !== null) {
    ctx.exit(conf.status, conf.body, conf.contentType !== null ? { 'Content-Type': conf.contentType } : null);
    return;
  }
  ctx.exit(conf.status, conf.message !== null ? { message: conf.message } : null);
}

export const handler: PluginHandler<RequestTerminationConf> = {
  name: 'request-termination',
  priority: 2,
  version: KONG_COMPAT_VERSION,
  configure,
  access,
};
