/** Kong `kong/db/schema/entities/routes.lua` + typedefs, traditional_compatible flavor. */
import { validateRecord, type Field } from '../schema';
import * as t from '../typedefs';
import type { Path, Problems } from '../problems';
import { normalizePath } from '../../../lib/uri-normalize';
import { pcreToJs, RegexError } from '../regex';
import type { EntityDef } from './types';

export { pcreToJs } from '../regex';

function checkRegex(re: string): string | null {
  try {
    const { source, flags } = pcreToJs(re);
    new RegExp(source, flags);
    return null;
  } catch (e) {
    if (e instanceof RegexError) return `invalid regex: '${re}' (${e.message})`;
    // V8 says `Invalid regular expression: /<re>/<flags>: <why>`; keep only <why>.
    const why = e instanceof Error ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') : String(e);
    return `invalid regex: '${re}' (PCRE returned: ${why})`;
  }
}

function checkRouterPath(v: unknown): string | null {
  const p = v as string;
  if (!p.startsWith('/') && !p.startsWith('~/')) return 'should start with: / (fixed path) or ~/ (regex path)';
  if (p.includes('//')) return 'must not have empty segments';
  if (p.startsWith('~')) return checkRegex(p.slice(1));
  // Kong's validate_path_with_regexes: for a prefix path only a bad %-escape is an error; other
  // characters (`/users/{id}`, `/café`) are fine once the path is in normalized form.
  const pct = t.checkPercentEncoding(p);
  if (pct) return pct;
  // The worker's own normalization: a path that differs from it can never match a request.
  const normalized = normalizePath(p);
  if (normalized === null) return `invalid path: '${p}' (${/%00/.test(p) ? '%00' : "a '..' above the root"} can never match a request)`;
  if (normalized !== p) return `non-normalized path, consider use '${normalized}' instead`;
  return null;
}

function checkWildcardHost(v: unknown): string | null {
  const h = v as string;
  const stars = h.split('*').length - 1;
  if (stars > 1) return 'invalid wildcard: must have at most one wildcard';
  let probe = h;
  if (stars === 1) {
    const hostPart = t.parseHostPort(h.replace('*', 'x'))?.host ?? h;
    const leftmost = hostPart.startsWith('x.') && h.startsWith('*.');
    // Kong's match_any: `^%*%.` or `%.%*$` — a rightmost wildcard ends the value, so
    // `example.*:8080` is refused (a port only goes with a leftmost wildcard or none).
    const rightmost = /\.x$/.test(hostPart) && h.endsWith('.*');
    if (!leftmost && !rightmost) return 'invalid wildcard: must be placed at leftmost or rightmost label';
    probe = h.replace('*', 'x');
  }
  return t.parseHostPort(probe) ? null : `invalid hostname: ${h}`;
}

function checkHeaderValue(v: unknown): string | null {
  const s = v as string;
  return s.startsWith('~*') ? checkRegex(s.slice(2)) : null;
}

const WS_PROTOCOLS = ['ws', 'wss'] as const;

const fields: Record<string, Field> = {
  id: t.uuid,
  created_at: t.autoTimestamp,
  updated_at: t.autoTimestamp,
  name: t.utf8Name,
  // ws/wss are Kong Enterprise's WebSocket route protocols (constants.lua "EE websockets").
  protocols: { type: 'set', elements: { type: 'string', oneOf: [...t.KONG_PROTOCOLS, ...WS_PROTOCOLS] }, lenMin: 1, default: ['http', 'https'] },
  methods: { type: 'set', elements: { type: 'string', check: (v) => (/^[A-Z]+$/.test(v as string) ? null : `invalid value: ${String(v)} (methods are uppercase, e.g. ${String(v).toUpperCase()})`) } },
  hosts: { type: 'array', elements: { type: 'string', check: checkWildcardHost } },
  paths: { type: 'array', elements: { type: 'string', check: checkRouterPath } },
  headers: {
    type: 'map',
    keys: {
      ...t.headerName,
      check: (v) =>
        String(v).toLowerCase() === 'host'
          ? "cannot contain 'host' header, which must be specified in the 'hosts' attribute"
          : t.headerName.check!(v),
    },
    values: { type: 'array', elements: { type: 'string', check: checkHeaderValue } },
  },
  https_redirect_status_code: { type: 'integer', oneOf: [426, 301, 302, 307, 308], default: 426 },
  regex_priority: { type: 'integer', default: 0 },
  strip_path: { type: 'boolean', default: true },
  path_handling: { type: 'string', oneOf: ['v0', 'v1'], default: 'v0' },
  preserve_host: { type: 'boolean', default: false },
  request_buffering: { type: 'boolean', default: true },
  response_buffering: { type: 'boolean', default: true },
  snis: { type: 'set', elements: t.sni },
  sources: { type: 'array', elements: { type: 'any' } },
  destinations: { type: 'array', elements: { type: 'any' } },
  tags: t.tags,
};

const MUTUALLY_EXCLUSIVE = [['http', 'https'], ['tcp', 'tls', 'udp'], ['tls_passthrough'], ['grpc', 'grpcs'], ['ws', 'wss']];
const EXCLUSIVE_MESSAGE = "these sets are mutually exclusive: ('http', 'https'), ('tcp', 'tls', 'udp'), ('tls_passthrough'), ('grpc', 'grpcs')";

const HINTS: Record<string, string> = {
  expression: "unknown field: 'expression' needs router_flavor = expressions; Hyperway uses traditional_compatible",
  priority: "unknown field: 'priority' needs router_flavor = expressions; use regex_priority",
  enabled: 'unknown field: routes have no enabled flag in Kong 3.x (disable the service instead)',
};

function nonEmpty(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : v !== null && typeof v === 'object' && Object.keys(v).length > 0;
}

const at = (path: Path, f: string): Path => [...path, f];
const HTTP_MATCHERS = ['methods', 'hosts', 'headers', 'paths'];
const WS_MATCHERS = ['hosts', 'headers', 'paths'];
const STREAM_ONLY = ['sources', 'destinations'];
const NOT_ON_WS = ['sources', 'destinations', 'methods'];

/** Whether one of `fields` is set (or was given and is invalid, already reported). */
function hasMatcher(rec: Record<string, unknown>, raw: Record<string, unknown>, fields: readonly string[]): boolean {
  for (const f of fields) if (nonEmpty(rec[f]) || (raw[f] != null && rec[f] === undefined)) return true;
  return false;
}

/** How many of the mutually exclusive groups the protocols touch. */
function exclusiveGroups(protocols: readonly string[]): number {
  let n = 0;
  for (const g of MUTUALLY_EXCLUSIVE) {
    for (const p of protocols) {
      if (g.includes(p)) {
        n++;
        break;
      }
    }
  }
  return n;
}

function validate(raw: Record<string, unknown>, path: Path, pr: Problems, skip: ReadonlySet<string>): Record<string, unknown> | undefined {
  const rec = validateRecord(fields, raw, path, pr, HINTS, { skip });
  if (!rec) return undefined;
  const protocols = rec.protocols as string[] | undefined;
  if (!protocols) return rec;
  if (exclusiveGroups(protocols) > 1) {
    const ws = protocols.includes('ws') || protocols.includes('wss');
    pr.err(at(path, 'protocols'), ws ? `${EXCLUSIVE_MESSAGE}, ('ws', 'wss')` : EXCLUSIVE_MESSAGE);
    return rec;
  }
  if (protocols.includes('ws') || protocols.includes('wss')) return validateWebSocket(rec, raw, path, pr, protocols);
  let unsupported: string[] | null = null;
  for (const p of protocols) if (!t.HTTP_PROTOCOLS.has(p)) (unsupported ??= []).push(p);
  if (unsupported !== null) {
    pr.err(at(path, 'protocols'), `Hyperway supports only 'http' and 'https' routes (got '${unsupported.join("', '")}')`);
    return rec;
  }
  if (nonEmpty(rec.snis) && !protocols.includes('https')) {
    pr.err(at(path, 'snis'), "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'");
  }
  for (const f of STREAM_ONLY) {
    if (nonEmpty(rec[f])) pr.err(at(path, f), `'${f}' can only be set when 'protocols' is 'grpc', 'grpcs', 'tcp', 'tls', 'tls_passthrough' or 'udp'`);
  }
  if (!hasMatcher(rec, raw, HTTP_MATCHERS)) {
    if (protocols.includes('http')) {
      pr.err(path, "must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'");
    } else if (!nonEmpty(rec.snis)) {
      pr.err(path, "must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'");
    }
  }
  if (rec.path_handling === 'v1') {
    pr.warn(at(path, 'path_handling'), "path_handling 'v1' is ignored by the traditional_compatible router (Kong 3.x default): this route behaves as 'v0'");
  }
  return rec;
}

/**
 * Kong EE's websocket subschema: no methods (the handshake is always a GET), sources or
 * destinations; a matcher among hosts, headers and paths (or snis for wss). The worker routes
 * only WebSocket handshakes to these routes (server/websocket-routing.ts).
 */
function validateWebSocket(rec: Record<string, unknown>, raw: Record<string, unknown>, path: Path, pr: Problems, protocols: string[]): Record<string, unknown> {
  for (const f of NOT_ON_WS) {
    if (nonEmpty(rec[f])) pr.err(at(path, f), `cannot set '${f}' when 'protocols' is 'ws' or 'wss'`);
  }
  const wss = protocols.includes('wss');
  if (nonEmpty(rec.snis) && !wss) pr.err(at(path, 'snis'), "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls', 'tls_passthrough' or 'wss'");
  if (!hasMatcher(rec, raw, WS_MATCHERS) && !(wss && nonEmpty(rec.snis))) {
    pr.err(path, wss
      ? "must set one of 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'wss'"
      : "must set one of 'hosts', 'headers', 'paths' when 'protocols' is 'ws'");
  }
  return rec;
}

export const routes: EntityDef = {
  name: 'routes',
  singular: 'route',
  fields,
  endpointKey: 'name',
  endpointKeyUnique: true,
  foreign: { service: 'services' },
  children: ['plugins'],
  validate,
};
