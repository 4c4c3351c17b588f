/**
 * Snapshot routes → the structures match.ts walks. Runs once per Snapshot, so it may allocate
 * freely; everything a lookup needs (regexes, lowercase texts, RouteMatch objects) is made here.
 */
import type { RouteSnap, ServiceSnap } from '../../shared/snapshot';
import { RadixNode } from './node';
import { regexLiteralPrefix } from './regex-literal';
import { comparePriority, getPriority, isRegexPath, splitPathGroups, type RoutePriority } from './priority';
import {
  HOST_EXACT,
  HOST_PREFIX,
  HOST_SUFFIX,
  type CompiledRoute,
  type HeaderMatcher,
  type HostMatcher,
  type RouteMatch,
} from './types';

export interface SkippedRoute {
  routeIndex: number;
  reason: string;
}

export interface RouterTable {
  /** Radix tree of every path (see TreeEntry); root label is empty. */
  root: RadixNode;
  /** Most tree nodes with entries on one walk (size of the lookup's candidate stack). */
  stackSize: number;
  /** Sub-routes in evaluation order (rank = index). */
  ordered: CompiledRoute[];
  /** Routes left out because they could not be compiled (Kong logs and skips them too). */
  skipped: SkippedRoute[];
}

interface Pending {
  priority: RoutePriority;
  routeIndex: number;
  snap: RouteSnap;
  paths: string[] | null;
}

/** Kong's split_host_port: `host:port` only when everything after the first `:` is digits. */
export function splitHostPort(value: string): [string, number] {
  const colon = value.indexOf(':');
  if (colon === -1 || !/^\d+$/.test(value.slice(colon + 1))) return [value, -1];
  return [value.slice(0, colon), Number(value.slice(colon + 1))];
}

function compileHosts(hosts: readonly string[]): HostMatcher[] {
  return hosts.map((h) => {
    const [host, port] = splitHostPort(h.toLowerCase());
    if (host.startsWith('*')) return { kind: HOST_SUFFIX, text: host.slice(1), port };
    if (host.endsWith('*')) return { kind: HOST_PREFIX, text: host.slice(0, -1), port };
    return { kind: HOST_EXACT, text: host, port };
  });
}

function compileHeaders(headers: Record<string, string[]>): HeaderMatcher[] {
  return Object.entries(headers).map(([name, values]) => {
    const plain: string[] = [];
    const regexes: RegExp[] = [];
    for (const v of values) {
      // Kong lowercases the whole value, `~*` regex source included (transform.lua).
      if (v.startsWith('~*')) regexes.push(new RegExp(v.slice(2).toLowerCase()));
      else plain.push(v.toLowerCase());
    }
    return { name: name.toLowerCase().replace(/_/g, '-'), values: plain, regexes };
  });
}

/**
 * `~<re>` → a JS RegExp anchored the way Kong anchors it: `^` is prepended to the source text
 * (so a top-level alternation is only anchored in its first branch, as in Kong). Rust's
 * `(?P<n>` is accepted as JS's `(?<n>`, and a leading `(?i)` becomes the `i` flag.
 */
export function compilePathRegex(path: string): RegExp {
  let source = path.slice(1).replace(/\(\?P</g, '(?<');
  let flags = '';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags = 'i';
  }
  return new RegExp('^' + source, flags);
}

function isHttpRoute(route: RouteSnap): boolean {
  return route.protocols.includes('http') || route.protocols.includes('https');
}

function compileRoute(p: Pending, rank: number): CompiledRoute {
  const { snap } = p;
  return {
    rank,
    routeIndex: p.routeIndex,
    methods: snap.methods !== null && snap.methods.length > 0 ? snap.methods : null,
    hosts: snap.hosts !== null && snap.hosts.length > 0 ? compileHosts(snap.hosts) : null,
    headers: snap.headers !== null && Object.keys(snap.headers).length > 0 ? compileHeaders(snap.headers) : null,
    snis:
      snap.snis !== null && snap.snis.length > 0
        ? snap.snis.map((s) => (s.length > 1 && s.endsWith('.') ? s.slice(0, -1) : s).toLowerCase())
        : null,
  };
}

/** Throws the reason a route cannot be compiled (an invalid regex), before anything is built. */
function checkCompiles(snap: RouteSnap): void {
  for (const path of snap.paths ?? []) if (isRegexPath(path)) compilePathRegex(path);
  if (snap.headers !== null) compileHeaders(snap.headers);
}

/**
 * @param services when given, routes whose service is disabled (`enabled: false`) are left out,
 *        as Kong leaves them out of its router.
 */
export function buildRouterTable(routes: readonly RouteSnap[], services?: readonly ServiceSnap[]): RouterTable {
  const pending: Pending[] = [];
  const skipped: SkippedRoute[] = [];
  routes.forEach((snap, index) => {
    if (!isHttpRoute(snap)) return;
    if (services !== undefined && snap.service >= 0 && services[snap.service]?.enabled === false) return;
    try {
      checkCompiles(snap);
    } catch (err) {
      skipped.push({ routeIndex: index, reason: (err as Error).message });
      return;
    }
    splitPathGroups(snap.paths).forEach((paths, group) => {
      pending.push({ priority: getPriority(snap, paths, group), routeIndex: index, snap, paths });
    });
  });
  pending.sort((a, b) => comparePriority(a.priority, b.priority));

  const root = new RadixNode('');
  const ordered: CompiledRoute[] = [];
  let key = 0;
  for (const p of pending) {
    const compiled = compileRoute(p, ordered.length);
    ordered.push(compiled);
    if (p.paths === null) {
      const match: RouteMatch = { routeIndex: p.routeIndex, prefix: '/', captures: null };
      root.addEntry({ key: key++, route: compiled, regex: null, match });
      continue;
    }
    for (const path of p.paths) {
      if (isRegexPath(path)) {
        const regex = compilePathRegex(path);
        root.insert(regexLiteralPrefix(regex), { key: key++, route: compiled, regex, match: null });
      } else {
        const match: RouteMatch = { routeIndex: p.routeIndex, prefix: path, captures: null };
        root.insert(path, { key: key++, route: compiled, regex: null, match });
      }
    }
  }
  root.indexHosts();
  return { root, stackSize: root.entryDepth(), ordered, skipped };
}
