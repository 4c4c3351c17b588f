/**
 * The hot path: find the best-ranked sub-route that accepts a request.
 *
 * Candidates are the entries of the tree nodes whose prefix the request path starts with (one
 * walk; each node's list is sorted by key). The lists are merged by key, so the first candidate
 * whose constraints hold is Kong's answer. A prefix-route hit MUST NOT allocate: the walk reuses a preallocated stack and cursor
 * array, host and header checks compare char codes in place, and the RouteMatch returned is the
 * one built for that (route, path) at build time.
 */
import type { RouteSnap, ServiceSnap } from '../../shared/snapshot';
import { buildRouterTable, type SkippedRoute } from './build';
import type { RadixNode, TreeEntry } from './node';
import { HOST_EXACT, HOST_SUFFIX, type CompiledRoute, type RouteMatch } from './types';

/** ASCII case-insensitive compare of `s[from, from + t.length)` with lowercase `t`. */
function equalsLower(s: string, from: number, t: string): boolean {
  for (let k = 0; k < t.length; k++) {
    const a = s.charCodeAt(from + k);
    const b = t.charCodeAt(k);
    if (a !== b && !(a >= 65 && a <= 90 && a + 32 === b)) return false;
  }
  return true;
}

function hostMatches(r: CompiledRoute, host: string, hostEnd: number, port: number): boolean {
  const hosts = r.hosts!;
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i];
    if (h.port !== -1 && h.port !== port) continue;
    const t = h.text;
    if (h.kind === HOST_EXACT) {
      if (hostEnd === t.length && equalsLower(host, 0, t)) return true;
    } else if (h.kind === HOST_SUFFIX) {
      if (hostEnd >= t.length && equalsLower(host, hostEnd - t.length, t)) return true;
    } else if (hostEnd >= t.length && equalsLower(host, 0, t)) {
      return true;
    }
  }
  return false;
}

/** `host[0, hostEnd)` in lowercase; no new string when it is lowercase ASCII already and has no port. */
function lowerHostOf(host: string, hostEnd: number): string {
  for (let i = 0; i < hostEnd; i++) {
    const c = host.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c > 127) return host.slice(0, hostEnd).toLowerCase();
  }
  return hostEnd === host.length ? host : host.slice(0, hostEnd);
}

/** Every configured header name must be present with at least one accepted value. */
function headersMatch(r: CompiledRoute, headers: readonly string[]): boolean {
  const wanted = r.headers!;
  for (let w = 0; w < wanted.length; w++) {
    const m = wanted[w];
    let ok = false;
    for (let i = 0; i < headers.length && !ok; i += 2) {
      if (headers[i] !== m.name) continue;
      const v = headers[i + 1];
      for (let k = 0; k < m.values.length; k++) {
        if (v.length === m.values[k].length && equalsLower(v, 0, m.values[k])) {
          ok = true;
          break;
        }
      }
      if (!ok && m.regexes.length > 0) {
        const lower = v.toLowerCase();
        for (let k = 0; k < m.regexes.length; k++) {
          if (m.regexes[k].test(lower)) {
            ok = true;
            break;
          }
        }
      }
    }
    if (!ok) return false;
  }
  return true;
}

export class Router {
  /** Routes left out because a regex in them does not compile (index + reason). */
  readonly skipped: readonly SkippedRoute[];
  readonly #root: RadixNode;
  readonly #stack: (readonly TreeEntry[])[];
  readonly #cursors: Int32Array;

  /**
   * Builds the router once per Snapshot. Only routes whose protocols include http or https take
   * part. When `services` is given, routes pointing at a service with `enabled: false` never
   * match (Kong leaves them out of its router).
   */
  constructor(routes: readonly RouteSnap[], services?: readonly ServiceSnap[]) {
    const table = buildRouterTable(routes, services);
    this.skipped = table.skipped;
    this.#root = table.root;
    this.#stack = new Array(table.stackSize).fill(null);
    this.#cursors = new Int32Array(table.stackSize);
  }

  /**
   * @param method uppercase request method
   * @param host raw Host header value (may carry `:port`, may be empty)
   * @param path the NORMALIZED request path (normalizePath), without query string
   * @param headers flat `[name0, value0, …]`, lowercase names, repeated names repeated
   * @param listenerPort port the request arrived on: used for `host:port` routes when the Host
   *        header carries no port
   * @param sni the TLS SNI for https requests; leave undefined for plain http (snis not checked)
   */
  match(
    method: string,
    host: string,
    path: string,
    headers: readonly string[],
    listenerPort: number,
    sni?: string,
  ): RouteMatch | null {
    // Kong's split_host_port: a port only when all of what follows the first `:` is digits.
    let hostEnd = host.length;
    let port = listenerPort;
    const colon = host.indexOf(':');
    if (colon !== -1 && colon + 1 < host.length) {
      let p = 0;
      let i = colon + 1;
      for (; i < host.length; i++) {
        const c = host.charCodeAt(i);
        if (c < 48 || c > 57) break;
        p = p * 10 + (c - 48);
      }
      if (i === host.length) {
        hostEnd = colon;
        port = p;
      }
    }

    // Walk the tree, stacking every node's entries whose prefix the path starts with.
    const stack = this.#stack;
    let depth = 0;
    let node = this.#root;
    let at = 0;
    let lowerHost: string | null = null;
    for (;;) {
      if (node.hostIndex !== null) {
        // Only where many routes have hosts: one lowercase copy of the host per lookup.
        lowerHost ??= lowerHostOf(host, hostEnd);
        depth = node.hostIndex.stack(stack, depth, lowerHost);
      } else if (node.entries !== null) stack[depth++] = node.entries;
      if (at >= path.length) break;
      const child = node.childFor(path.charCodeAt(at));
      if (child === undefined || !path.startsWith(child.label, at)) break;
      at += child.label.length;
      node = child;
    }

    // Merge the stacked lists by key; the first accepted candidate wins.
    const cursors = this.#cursors;
    for (let j = 0; j < depth; j++) cursors[j] = 0;
    for (;;) {
      let best = -1;
      let bestKey = Infinity;
      for (let j = 0; j < depth; j++) {
        const list = stack[j];
        const c = cursors[j];
        if (c < list.length && list[c].key < bestKey) {
          bestKey = list[c].key;
          best = j;
        }
      }
      if (best === -1) return null;
      const entry = stack[best][cursors[best]++];
      if (!accepts(entry.route, method, host, hostEnd, port, headers, sni)) continue;
      if (entry.regex === null) return entry.match;
      const m = entry.regex.exec(path);
      if (m !== null) {
        // Kong's has_capture: captures only when there is more than the full match.
        const captures = m.length > 1 || m.groups !== undefined ? m : null;
        return { routeIndex: entry.route.routeIndex, prefix: m[0], captures };
      }
    }
  }
}

function accepts(
  r: CompiledRoute,
  method: string,
  host: string,
  hostEnd: number,
  port: number,
  headers: readonly string[],
  sni: string | undefined,
): boolean {
  if (r.methods !== null && !r.methods.includes(method)) return false;
  if (r.hosts !== null && !hostMatches(r, host, hostEnd, port)) return false;
  if (r.headers !== null && !headersMatch(r, headers)) return false;
  if (r.snis !== null && sni !== undefined && !r.snis.includes(sni.toLowerCase())) return false;
  return true;
}
