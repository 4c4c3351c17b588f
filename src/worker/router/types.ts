/** Shapes shared by the router's build and match halves. */

/**
 * What a match returns. For a plain prefix (or pathless) route this object is built once per
 * (route, path) and shared by every request: treat it as read-only.
 */
export interface RouteMatch {
  /** Index into the `routes` array the Router was built from. */
  readonly routeIndex: number;
  /**
   * The matched text strip_path removes: the prefix path itself, the full regex match, or `/`
   * for a route without paths (Kong's `match_t.prefix or "/"`). Feed it to joinUpstreamPath.
   */
  readonly prefix: string;
  /**
   * Regex captures (Kong's `uri_captures`): [0] is the full match, [1..] the numbered groups,
   * `.groups` the named ones. null unless a regex path with at least one group matched.
   */
  readonly captures: RegExpExecArray | null;
}

export const HOST_EXACT = 0;
export const HOST_SUFFIX = 1; // `*.b.c`: text is `.b.c`
export const HOST_PREFIX = 2; // `a.*`: text is `a.`

export interface HostMatcher {
  readonly kind: number;
  /** Lowercase text to compare (without the `*`). */
  readonly text: string;
  /** Required port, or -1 when the route host has none (any port). */
  readonly port: number;
}

export interface HeaderMatcher {
  /** Lowercase request header name, `_` folded to `-`. */
  readonly name: string;
  /** Lowercased plain values (compared case-insensitively). */
  readonly values: readonly string[];
  /** `~*` values, compiled from the lowercased pattern as Kong does; unanchored. */
  readonly regexes: readonly RegExp[];
}

/**
 * One Kong sub-route: a route restricted to one path group (split by prefix length / regex).
 * All constraint fields are null when the route does not set them.
 */
export interface CompiledRoute {
  readonly rank: number;
  /** Index into the `routes` array the Router was built from. */
  readonly routeIndex: number;
  readonly methods: readonly string[] | null;
  readonly hosts: readonly HostMatcher[] | null;
  readonly headers: readonly HeaderMatcher[] | null;
  /** SNIs without a trailing dot; only checked when the request carries one (https). */
  readonly snis: readonly string[] | null;
}
