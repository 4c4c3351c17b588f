/**
 * Kong's route priority for traditional_compatible (`kong/router/transform.lua get_priority`,
 * `split_routes_and_services_by_path`). Computed once per Snapshot; the hot path only sees ranks.
 *
 * Kong packs the fields below into one 64-bit number (most significant first):
 *   match weight (3 bits) | plain-host bit | header count (8 bits) | regex bit |
 *   regex_priority (32 bits, regex routes only) | prefix length (19 bits)
 * and atc-router walks matchers by descending (priority, route UUID). We compare the fields as a
 * tuple instead of building the number, which also keeps a negative regex_priority ordered as an
 * integer.
 */
import type { RouteSnap } from '../../shared/snapshot';

const MAX_HEADER_COUNT = 255;
const MAX_LENGTH_MASK = 0x7ffff;

export interface RoutePriority {
  /** Number of non-empty fields among methods, hosts, headers, paths, snis. */
  weight: number;
  /** 1 when the route has hosts and none contains `*`. */
  plainHost: number;
  /** Number of header names, capped at 255. */
  headerCount: number;
  /** 1 when the (sub-)route's paths are regexes. */
  regex: number;
  /** regex_priority for regex (sub-)routes, else 0. */
  regexPriority: number;
  /** Byte length of the (sub-)route's prefix paths (all equal after the split), else 0. */
  maxLength: number;
  /** Route UUID: equal priorities are won by the larger one. */
  id: string;
  /** Index of the path group within its route (split order), for a total order. */
  group: number;
}

export function isRegexPath(path: string): boolean {
  return path.charCodeAt(0) === 126; // `~`
}

function nonEmpty<T>(v: readonly T[] | null | undefined): v is readonly T[] {
  return v !== null && v !== undefined && v.length > 0;
}

/**
 * Splits a route's paths into groups, one per prefix byte length and one for all regexes, in
 * order of first appearance (Kong's group_by_regex_or_length). A route with zero or one group is
 * returned as one group (`[null]` when it has no paths).
 */
export function splitPathGroups(paths: readonly string[] | null): (string[] | null)[] {
  if (!nonEmpty(paths)) return [null];
  const keys: number[] = [];
  const groups: string[][] = [];
  // A duplicate is dropped; many paths are checked through a Set (a scan per path was quadratic).
  const seen = paths.length > 16 ? new Set<string>() : null;
  for (const p of paths) {
    const key = isRegexPath(p) ? -1 : Buffer.byteLength(p, 'utf8');
    const at = keys.indexOf(key);
    if (at === -1) {
      keys.push(key);
      groups.push([p]);
      seen?.add(p);
    } else if (seen !== null ? !seen.has(p) : !groups[at].includes(p)) {
      groups[at].push(p);
      seen?.add(p);
    }
  }
  return groups;
}

/** The priority of a route restricted to one path group (null: the route has no paths). */
export function getPriority(route: RouteSnap, paths: readonly string[] | null, group = 0): RoutePriority {
  const headerNames = route.headers === null ? 0 : Object.keys(route.headers).length;
  let weight = 0;
  if (nonEmpty(route.methods)) weight++;
  if (nonEmpty(route.hosts)) weight++;
  if (headerNames > 0) weight++;
  if (nonEmpty(route.snis)) weight++;
  if (nonEmpty(paths)) weight++;

  let plainHost = 0;
  if (nonEmpty(route.hosts)) plainHost = route.hosts.some((h) => h.includes('*')) ? 0 : 1;

  let regex = 0;
  let maxLength = 0;
  if (nonEmpty(paths)) {
    if (isRegexPath(paths[0])) regex = 1;
    else maxLength = Buffer.byteLength(paths[0], 'utf8') & MAX_LENGTH_MASK;
  }

  return {
    weight,
    plainHost,
    headerCount: Math.min(headerNames, MAX_HEADER_COUNT),
    regex,
    regexPriority: regex === 1 ? route.regexPriority : 0,
    maxLength,
    id: route.id,
    group,
  };
}

/** Negative when `a` is evaluated before `b` (higher priority, then larger UUID). */
export function comparePriority(a: RoutePriority, b: RoutePriority): number {
  return (
    b.weight - a.weight ||
    b.plainHost - a.plainHost ||
    b.headerCount - a.headerCount ||
    b.regex - a.regex ||
    b.regexPriority - a.regexPriority ||
    b.maxLength - a.maxLength ||
    (a.id === b.id ? a.group - b.group : a.id < b.id ? 1 : -1)
  );
}
