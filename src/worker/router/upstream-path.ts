/**
 * The upstream path Kong builds from the service path and the matched request
 * (`kong/router/atc.lua set_upstream_uri`, `kong/router/utils.lua get_upstream_uri_v0`).
 * traditional_compatible always joins with the v0 rules, whatever the route's path_handling says.
 */

const SLASH = 47;

/** Drops a leading `./` or `../` (or an exact `.`/`..`) from the part after the prefix. */
export function sanitizeUriPostfix(postfix: string): string {
  if (postfix.length === 0) return postfix;
  if (postfix === '.' || postfix === '..') return '';
  if (postfix.startsWith('./')) return postfix.slice(2);
  if (postfix.startsWith('../')) return postfix.slice(3);
  return postfix;
}

/**
 * Joins service path and request path with Kong's v0 rules.
 * @param servicePath the service's path, null meaning `/`
 * @param stripPath the route's strip_path
 * @param requestPath the NORMALIZED request path, without query string
 * @param matchedPrefix RouteMatch.prefix: the matched prefix path, the full regex match, or `/`
 *        for a route without paths
 */
export function joinUpstreamPath(
  servicePath: string | null,
  stripPath: boolean,
  requestPath: string,
  matchedPrefix: string,
): string {
  const base = servicePath === null || servicePath.length === 0 ? '/' : servicePath;
  // Kong: `match_t.prefix or "/"`, and prefix is only set when strip_path is on.
  const prefixLength = stripPath ? matchedPrefix.length : 1;
  const postfix = sanitizeUriPostfix(requestPath.slice(prefixLength));

  if (base.charCodeAt(base.length - 1) === SLASH) {
    if (!stripPath) return base + requestPath.slice(1);
    if (postfix.length === 0) {
      if (base === '/') return '/';
      if (requestPath.charCodeAt(requestPath.length - 1) === SLASH) return base;
      return base.slice(0, -1);
    }
    if (postfix.charCodeAt(0) === SLASH) return base.slice(0, -1) + postfix;
    return base + postfix;
  }

  if (!stripPath) return requestPath === '/' ? base : base + requestPath;
  if (postfix.length === 0) {
    return requestPath.length > 1 && requestPath.charCodeAt(requestPath.length - 1) === SLASH
      ? base + '/'
      : base;
  }
  if (postfix.charCodeAt(0) === SLASH) return base + postfix;
  return base + '/' + postfix;
}
