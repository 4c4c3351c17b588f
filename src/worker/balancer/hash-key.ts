/**
 * What consistent-hashing hashes (Kong's get_value_to_hash, kong/runloop/balancer/init.lua):
 * `hash_on` and then, when that finds nothing, `hash_fallback`, each one of consumer (the
 * authenticated consumer's id, else the credential's), ip (the client address after
 * trusted_ips/real_ip_header), header (all values of the header, comma-joined), cookie, path
 * (the normalized request path), query_arg (the decoded argument; repeated ones sorted and
 * comma-joined; a bare `?a` is "true"), uri_capture (a named or numbered capture of the route's
 * regex path). Nothing found: the empty string, so such requests all go to one target, as in Kong.
 *
 * hash_on cookie: a client without the cookie gets a fresh UUID as its key and the response
 * sets it (`Set-Cookie: <name>=<uuid>; Path=<hash_on_cookie_path>; Same-Site=Lax; HttpOnly`,
 * Kong's exact attributes), so its next requests stick to the same target.
 */
import { randomUUID } from 'node:crypto';
import type { UpstreamSnap } from '../../shared/snapshot';
import type { RunContext } from '../pipeline/run-context';
import type { BalanceContext } from './peer';
import { normalizePath } from '../../lib/uri-normalize';

export const HASH = { NONE: 0, CONSUMER: 1, IP: 2, HEADER: 3, COOKIE: 4, PATH: 5, QUERY_ARG: 6, URI_CAPTURE: 7 } as const;
const BY_NAME: Record<string, number> = {
  none: HASH.NONE, consumer: HASH.CONSUMER, ip: HASH.IP, header: HASH.HEADER, cookie: HASH.COOKIE,
  path: HASH.PATH, query_arg: HASH.QUERY_ARG, uri_capture: HASH.URI_CAPTURE,
};

/** An upstream's hashing settings, compiled once per snapshot. */
export interface HashRule {
  on: number;
  /** The header (lowercase), query argument or capture hash_on names; the cookie's name for COOKIE. */
  onName: string;
  fallback: number;
  fallbackName: string;
  cookiePath: string;
}

export function hashRule(u: UpstreamSnap): HashRule {
  const on = BY_NAME[u.hashOn] ?? HASH.NONE;
  const fallback = BY_NAME[u.hashFallback] ?? HASH.NONE;
  return {
    on,
    onName: nameFor(on, u.hashOnHeader, u.hashOnCookie, u.hashOnQueryArg, u.hashOnUriCapture),
    fallback,
    fallbackName: nameFor(fallback, u.hashFallbackHeader, u.hashOnCookie, u.hashFallbackQueryArg, u.hashFallbackUriCapture),
    cookiePath: u.hashOnCookiePath || '/',
  };
}

function nameFor(mode: number, header: string | null, cookie: string | null, arg: string | null, capture: string | null): string {
  if (mode === HASH.HEADER) return (header ?? '').toLowerCase();
  if (mode === HASH.COOKIE) return cookie ?? '';
  if (mode === HASH.QUERY_ARG) return arg ?? '';
  if (mode === HASH.URI_CAPTURE) return capture ?? '';
  return '';
}

/** The request's value to hash ('' when neither hash_on nor hash_fallback finds one). */
export function hashKey(ctx: BalanceContext, rule: HashRule): string {
  const first = valueOf(ctx, rule.on, rule.onName, rule);
  if (first !== null) return first;
  if (rule.fallback === HASH.NONE) return '';
  return valueOf(ctx, rule.fallback, rule.fallbackName, rule) ?? '';
}

function valueOf(ctx: BalanceContext, mode: number, name: string, rule: HashRule): string | null {
  switch (mode) {
    case HASH.CONSUMER: {
      const run = ctx.pipeline as RunContext | null;
      if (run === null) return null;
      return run.consumer?.id ?? run.credential?.id ?? null;
    }
    case HASH.IP: return ctx.realIp;
    case HASH.HEADER: return headerValues(ctx.headers, name);
    case HASH.COOKIE: {
      const v = cookieValue(ctx.headers, name);
      if (v !== null) return v;
      const fresh = randomUUID();
      ctx.balancerCookie = `${name}=${fresh}; Path=${rule.cookiePath}; Same-Site=Lax; HttpOnly`;
      return fresh;
    }
    case HASH.PATH: return normalizePath(ctx.url);
    case HASH.QUERY_ARG: return queryArg(ctx.search, name);
    case HASH.URI_CAPTURE: {
      const captures = ctx.match === null ? null : ctx.match.captures;
      if (captures === null) return null;
      const named = captures.groups?.[name];
      if (named !== undefined) return named;
      const v = /^\d+$/.test(name) ? captures[Number(name)] : undefined;
      return v === undefined ? null : v;
    }
    default: return null;
  }
}

/** nginx's $http_<name> since 1.23: every value of the header, joined with ", ". */
function headerValues(h: readonly string[], name: string): string | null {
  let v: string | null = null;
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) v = v === null ? h[i + 1] : `${v}, ${h[i + 1]}`;
  return v;
}

/** nginx's $cookie_<name>: the first cookie of that name (compared case-insensitively) in any Cookie header. */
export function cookieValue(h: readonly string[], name: string): string | null {
  const want = name.toLowerCase();
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] !== 'cookie') continue;
    for (const part of h[i + 1].split(';')) {
      const eq = part.indexOf('=');
      if (eq === -1) continue;
      if (part.slice(0, eq).trim().toLowerCase() === want) return part.slice(eq + 1).trim();
    }
  }
  return null;
}

/** ngx.req.get_uri_args()[name], as Kong normalises it: decoded, repeated values sorted and comma-joined, a bare key "true". */
export function queryArg(search: string, name: string): string | null {
  if (search.length < 2) return null;
  const found: string[] = [];
  for (const pair of search.slice(1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq === -1 ? pair : pair.slice(0, eq));
    if (key !== name) continue;
    found.push(eq === -1 ? 'true' : decode(pair.slice(eq + 1)));
  }
  if (found.length === 0) return null;
  if (found.length === 1) return found[0];
  return found.sort().join(',');
}

function decode(s: string): string {
  const plain = s.indexOf('+') === -1 ? s : s.replace(/\+/g, ' ');
  if (plain.indexOf('%') === -1) return plain;
  try {
    return decodeURIComponent(plain);
  } catch {
    return plain;
  }
}
